/*---
id: relay_mixing
title: Relay key mixing unrelated traffic with a concentrated harvest stream
family: infrastructure
level: high
status: experimental
description: >
  Detects accounts with an API key, or whose own traffic as a whole, carries many
  unrelated prompt templates in several scripts, like a reseller or relay, and at the same time
  one concentrated stream: a single template or system prompt with a large share of the key's
  traffic whose requests mostly carry harvest content (a strong signal of the signals lexicon,
  such as reasoning-trace elicitation, rubric judging, task generation or a public distillation
  pipeline, or a score-shaped judge output) or have the agentic harvest shape (the first turn
  of a conversation offering several tools on a high-value capability: coding, agentic tool
  use, computer use, data analysis, reasoning), while at least min_other_share of all its
  traffic is other business with no harvest content. An authorised gateway has many templates too, but no
  dominant harvest stream; an agent product whose one system prompt is on every request is one
  stream, not a mixture.
rationale: >
  Anthropic (2026-02-23): one proxy network "managed more than 20,000 fraudulent accounts
  simultaneously, mixing distillation traffic with unrelated customer requests"; Google GTIG
  (2026-02) and OpenAI (2026-02-12) describe resold keys, One API / New API relays and "networks
  of unauthorized resellers". Relay mixing shows as one key carrying many unrelated skeletons
  and languages plus a harvest stream; an authorised reseller has no concentrated harvest
  stream. Agentic harvesting (Moonshot, MiniMax: "agentic reasoning, tool use, and coding")
  shows as single-turn tool episodes that never continue, unlike an agent product's multi-turn
  conversations.
falsepositives:
  - An authorised reseller one of whose customers runs an eval or judge workload at scale
    (contract and end-user ids; the stream is then that customer's, to be checked with them)
  - A gateway carrying a customer's agent benchmark (single-turn tool tasks; bounded totals, one org)
  - A research gateway serving several groups, one of them studying reasoning traces
references:
  - anthropic-2026
  - openai-memo-2026
  - gtig-2026
  - queries/lexicons/signals.csv (signals with a strong phrase)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 200, description: Fewest requests on a key before it is judged}
  min_templates: {type: INTEGER, default: 20, description: Fewest distinct prompt templates on the key}
  min_scripts: {type: INTEGER, default: 2, description: Fewest writing scripts each holding min_script_share of the key's traffic}
  min_script_share: {type: DOUBLE, default: 0.02, description: Share of the key's traffic a script needs to count}
  min_top_share: {type: DOUBLE, default: 0.2, description: Share of the key's traffic in its top harvest stream (template or system prompt) that fires}
  max_top_share: {type: DOUBLE, default: 0.8, description: "Largest share of the top stream: above it the key is one product (e.g. an agent whose system prompt is on every request), not a relay mixing streams"}
  min_agent_tools: {type: INTEGER, default: 2, description: Fewest tools offered for a first-turn request on a high-value capability to count as agentic harvest}
  min_harvest_share: {type: DOUBLE, default: 0.5, description: Share of the top stream's requests with harvest content that fires}
  min_other_share: {type: DOUBLE, default: 0.2, description: "Share of all the traffic with no harvest content (the unrelated business a relay mixes in): below it the key is a harvester with several streams, judged by the content heuristics"}
weight: 0.8
---*/
WITH strong AS (
    SELECT list(DISTINCT signal ORDER BY signal) AS names
    FROM lexicon_signals
    WHERE lower(strength) = 'strong'
),
tagged AS NOT MATERIALIZED (
    -- Templates and system prompts by portable_hash() of their ids (05_functions.sql: 60
    -- bits of an md5, the same number on DuckDB and Spark), which are md5 digests (features),
    -- so as unlikely to collide as random 60-bit numbers; accounts and API keys by their
    -- numbers from the features (a NULL id stays NULL). Grouping on integers is several times
    -- cheaper than on strings over every request; the ids that are output or ordered on are
    -- looked up for the fired units alone. Never a hash of an id from the log: DuckDB's hash()
    -- of a string is not injective on structured ids (see features/50_request_features.sql).
    SELECT
        r.request_id,
        r.account_no,
        r.api_key_no,
        r.api_key_id,
        r.template_id,
        r.system_id,
        CASE WHEN r.template_id IS NOT NULL THEN portable_hash(r.template_id) END AS template_h,
        CASE WHEN r.system_id IS NOT NULL THEN portable_hash(r.system_id) END AS system_h,
        r.script,
        -- Harvest content, or the agentic harvest shape: a first turn offering several tools
        -- on a high-value capability (turn_index must be known: NULL never counts).
        list_has_any(r.signals, s.names) OR coalesce(r.score_shaped, false)
            OR coalesce(r.tool_count >= $min_agent_tools AND r.turn_index = 0
                        AND r.capability IN ('agentic_tool_use', 'computer_use', 'coding',
                                             'data_analysis', 'reasoning_math'), false) AS harvest
    FROM request_features AS r
    CROSS JOIN strong AS s
),
unit_totals AS (
    -- Units judged: each API key, and each account as a whole (keys split a relay thinly).
    SELECT 'key:' AS unit_kind, api_key_no AS unit_h, count(*) AS requests,
           count(*) FILTER (WHERE harvest) AS harvest_requests
    FROM tagged
    WHERE api_key_no IS NOT NULL
    GROUP BY api_key_no
    UNION ALL
    SELECT 'account:', account_no, count(*), count(*) FILTER (WHERE harvest)
    FROM tagged
    GROUP BY account_no
),
candidates AS (
    -- For speed only: a unit too small, or with too little other business, cannot fire
    -- whatever its streams, so only the requests of the other units are broken down by stream
    -- and script (the same two tests are applied again in fired_units).
    SELECT unit_kind, unit_h
    FROM unit_totals
    WHERE requests >= $min_requests
      AND 1 - harvest_requests / requests >= $min_other_share
),
unit_cells AS MATERIALIZED (
    -- Requests per (candidate unit, template, system prompt, script).
    SELECT 'key:' AS unit_kind, api_key_no AS unit_h, template_h, system_h, script,
           count(*) AS requests, count(*) FILTER (WHERE harvest) AS harvest_requests
    FROM tagged
    WHERE api_key_no IN (SELECT unit_h FROM candidates WHERE unit_kind = 'key:')
    GROUP BY ALL
    UNION ALL
    SELECT 'account:', account_no, template_h, system_h, script,
           count(*), count(*) FILTER (WHERE harvest)
    FROM tagged
    WHERE account_no IN (SELECT unit_h FROM candidates WHERE unit_kind = 'account:')
    GROUP BY ALL
),
streams AS (
    -- Candidate streams: a prompt template, or a system prompt shared by many requests.
    SELECT unit_kind, unit_h, 'template' AS stream_type, template_h AS stream_h,
           sum(requests) AS requests, sum(harvest_requests) AS harvest_requests
    FROM unit_cells
    GROUP BY ALL
    UNION ALL
    SELECT unit_kind, unit_h, 'system prompt', system_h, sum(requests), sum(harvest_requests)
    FROM unit_cells
    WHERE system_h IS NOT NULL
    GROUP BY ALL
),
unit_scripts AS (
    SELECT unit_kind, unit_h, script, sum(requests) AS requests
    FROM unit_cells
    GROUP BY ALL
),
units AS (
    -- The top harvest stream: the template or system prompt with most harvest requests
    -- (ties: more requests, then stream type and id, a missing id lowest). Its two counts are
    -- found here as the largest of one integer, 2^64 * harvest requests + requests, far
    -- cheaper than the largest struct; which stream it is is resolved in fired_top.
    SELECT
        unit_kind,
        unit_h,
        requests,
        harvest_requests,
        templates,
        top_key // 18446744073709551616 AS top_harvest_requests,
        top_key % 18446744073709551616 AS top_requests
    FROM (
        SELECT
            unit_kind,
            unit_h,
            sum(requests) FILTER (WHERE stream_type = 'template') AS requests,
            sum(harvest_requests) FILTER (WHERE stream_type = 'template') AS harvest_requests,
            count(*) FILTER (WHERE stream_type = 'template') AS templates,
            max(harvest_requests * 18446744073709551616 + requests) AS top_key
        FROM streams
        GROUP BY unit_kind, unit_h
    )
),
script_counts AS (
    SELECT
        s.unit_kind,
        s.unit_h,
        count(*) AS scripts,
        array_to_string(list_sort(list(s.script))[1:6], ', ') AS script_list
    FROM unit_scripts AS s
    JOIN units AS u USING (unit_kind, unit_h)
    WHERE s.requests >= $min_script_share * u.requests
    GROUP BY s.unit_kind, s.unit_h
),
fired_units AS MATERIALIZED (
    SELECT
        u.*,
        u.top_requests / u.requests AS top_share,
        u.top_harvest_requests / u.top_requests AS harvest_share,
        (u.harvest_requests - u.top_harvest_requests)
            / greatest(u.requests - u.top_requests, 1) AS rest_harvest_share,
        c.scripts,
        c.script_list
    FROM units AS u
    JOIN script_counts AS c USING (unit_kind, unit_h)
    WHERE u.requests >= $min_requests
      AND u.templates >= $min_templates
      AND c.scripts >= $min_scripts
      AND u.top_requests / u.requests BETWEEN $min_top_share AND $max_top_share
      AND u.top_harvest_requests / u.top_requests >= $min_harvest_share
      AND 1 - u.harvest_requests / u.requests >= $min_other_share
),
unit_accounts AS MATERIALIZED (
    -- The accounts of each fired unit: an account is its own unit; a key's accounts are those
    -- that sent requests with it.
    SELECT unit_kind, unit_h, unit_h AS account_h
    FROM fired_units
    WHERE unit_kind = 'account:'
    UNION ALL
    SELECT DISTINCT 'key:', api_key_no, account_no
    FROM request_features
    WHERE api_key_no IN (SELECT unit_h FROM fired_units WHERE unit_kind = 'key:')
),
fired_requests AS MATERIALIZED (
    -- The requests of the fired units' accounts, read in one pass: each once, whatever the
    -- number of units it belongs to.
    SELECT
        request_id,
        account_no,
        api_key_no,
        api_key_id,
        template_id,
        system_id,
        template_h,
        system_h,
        harvest
    FROM tagged
    WHERE account_no IN (SELECT account_h FROM unit_accounts)
),
top_candidates AS (
    -- The streams of each fired unit with its top counts: usually one, and more only on a
    -- tie, which fired_top breaks by the streams' ids.
    SELECT s.*
    FROM streams AS s
    JOIN fired_units AS f USING (unit_kind, unit_h)
    WHERE s.harvest_requests = f.top_harvest_requests AND s.requests = f.top_requests
),
stream_ids AS (
    SELECT DISTINCT 'template' AS stream_type, template_h AS stream_h, template_id AS stream_id
    FROM fired_requests
    WHERE template_h IN (SELECT stream_h FROM top_candidates WHERE stream_type = 'template')
    UNION ALL
    SELECT DISTINCT 'system prompt', system_h, system_id
    FROM fired_requests
    WHERE system_h IN (SELECT stream_h FROM top_candidates WHERE stream_type = 'system prompt')
),
fired_top AS MATERIALIZED (
    -- The top harvest stream of each fired unit: most harvest requests, then most requests,
    -- then stream type and id (a missing id lowest); with its hash, which the evidence
    -- matches requests on.
    SELECT
        c.unit_kind,
        c.unit_h,
        max({'harvest_requests': c.harvest_requests, 'requests': c.requests,
             'stream_type': c.stream_type, 'has_id': i.stream_id IS NOT NULL,
             'stream_id': i.stream_id, 'stream_h': c.stream_h}) AS top
    FROM top_candidates AS c
    LEFT JOIN stream_ids AS i USING (stream_type, stream_h)
    GROUP BY c.unit_kind, c.unit_h
),
unit_ids AS (
    SELECT t.unit_kind, t.unit_h, t.top, 'account:' || a.account_id AS unit_id
    FROM fired_top AS t
    JOIN account_activity AS a ON a.account_no = t.unit_h
    WHERE t.unit_kind = 'account:'
    UNION ALL
    SELECT t.unit_kind, t.unit_h, t.top, 'key:' || k.api_key_id
    FROM fired_top AS t
    JOIN (SELECT api_key_no, any_value(api_key_id) AS api_key_id
          FROM fired_requests
          WHERE api_key_no IN (SELECT unit_h FROM fired_units WHERE unit_kind = 'key:')
          GROUP BY api_key_no) AS k ON k.api_key_no = t.unit_h
    WHERE t.unit_kind = 'key:'
),
per_account AS (
    -- An account may belong to several fired units (itself, and each key it used): report the
    -- strongest.
    SELECT
        u.account_h,
        arg_max({'unit_id': i.unit_id, 'requests': f.requests, 'templates': f.templates,
                 'scripts': f.scripts, 'script_list': f.script_list,
                 'top_requests': f.top_requests, 'top_share': f.top_share,
                 'harvest_share': f.harvest_share, 'rest_harvest_share': f.rest_harvest_share,
                 'stream_type': i.top.stream_type, 'stream_id': i.top.stream_id},
                (f.top_share * f.harvest_share, i.unit_id)) AS best
    FROM unit_accounts AS u
    JOIN fired_units AS f USING (unit_kind, unit_h)
    JOIN unit_ids AS i USING (unit_kind, unit_h)
    GROUP BY u.account_h
),
request_evidence AS (
    -- Evidence: the account's harvest requests in the top stream of a fired unit they belong
    -- to (the account's own, or their key's); each request once.
    SELECT
        r.account_no AS account_h,
        r.request_id,
        r.harvest AND coalesce(
            CASE ta.top.stream_type WHEN 'template' THEN r.template_h = ta.top.stream_h
                                    ELSE r.system_h = ta.top.stream_h END
            OR CASE tk.top.stream_type WHEN 'template' THEN r.template_h = tk.top.stream_h
                                       ELSE r.system_h = tk.top.stream_h END, false) AS in_stream
    FROM fired_requests AS r
    LEFT JOIN fired_top AS ta ON ta.unit_kind = 'account:' AND ta.unit_h = r.account_no
    LEFT JOIN fired_top AS tk ON tk.unit_kind = 'key:' AND tk.unit_h = r.api_key_no
),
account_evidence AS (
    SELECT account_h, max_by(request_id, (in_stream, request_id), 10) AS evidence
    FROM request_evidence
    GROUP BY account_h
)
SELECT
    a.account_id,
    fired_score(share_term(best.top_share, $min_top_share, 0.25),
                share_term(best.harvest_share, $min_harvest_share, 0.25)) AS score,
    round(best.top_share, 4) AS metric,
    format('{} carries {:d} requests over {:d} templates in {:d} scripts ({}), and one {} '
           || '({}) holds {:d} of them ({:.0f} %), {:.0f} % of which carry harvest content '
           || '(against {:.0f} % of the other traffic: a mixture, not a single product)',
           CASE WHEN starts_with(best.unit_id, 'account:') THEN 'the account'
                ELSE format('API key {}', substr(best.unit_id, 5)) END,
           CAST(best.requests AS BIGINT), best.templates, best.scripts, best.script_list,
           best.stream_type, best.stream_id, CAST(best.top_requests AS BIGINT),
           100 * best.top_share, 100 * best.harvest_share, 100 * best.rest_harvest_share)
        AS detail,
    e.evidence
FROM per_account AS p
JOIN account_evidence AS e USING (account_h)
JOIN account_activity AS a ON a.account_no = p.account_h
ORDER BY a.account_id
