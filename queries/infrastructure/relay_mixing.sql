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
  (2026-02) and OpenAI (2026-02-12) describe resold keys, One API / New API relays and
  "networks of unauthorized resellers". domain.md §3 describes relay mixing as "one key
  carrying many unrelated skeletons and languages plus a harvest stream"; §5 separates
  authorised resellers by "no concentrated harvest stream". Agentic harvesting (Moonshot,
  MiniMax: "agentic reasoning, tool use, and coding") shows as single-turn tool episodes that
  never continue, unlike an agent product's multi-turn conversations.
falsepositives:
  - An authorised reseller one of whose customers runs an eval or judge workload at scale
    (contract and end-user ids; the stream is then that customer's, to be checked with them)
  - A gateway carrying a customer's agent benchmark (single-turn tool tasks; bounded totals, one org)
  - A research gateway serving several groups, one of them studying reasoning traces
references:
  - Anthropic, Detecting and preventing distillation attacks (2026-02-23)
  - OpenAI, memo to a US House committee (2026-02-12)
  - Google GTIG AI threat tracker (2026-02)
  - domain.md §3 Infrastructure (relay mixing), Structure (harvest shape), §5 (authorised resellers / gateways)
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
    SELECT
        r.request_id,
        r.account_id,
        r.api_key_id,
        r.template_id,
        r.system_id,
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
cells AS (
    SELECT account_id, api_key_id, template_id, system_id, script, count(*) AS requests,
           count(*) FILTER (WHERE harvest) AS harvest_requests
    FROM tagged
    GROUP BY ALL
),
unit_cells AS MATERIALIZED (
    -- Units judged: each API key, and each account as a whole (keys split a relay thinly).
    -- A unit is (unit_kind, unit_key); its id unit_kind || unit_key is built for fired units.
    SELECT 'key:' AS unit_kind, api_key_id AS unit_key, template_id, system_id, script,
           requests, harvest_requests
    FROM cells
    WHERE api_key_id IS NOT NULL
    UNION ALL
    SELECT 'account:', account_id, template_id, system_id, script, requests, harvest_requests
    FROM cells
),
streams AS (
    -- Candidate streams: a prompt template, or a system prompt shared by many requests.
    SELECT unit_kind, unit_key, 'template' AS stream_type, template_id AS stream_id,
           sum(requests) AS requests, sum(harvest_requests) AS harvest_requests
    FROM unit_cells
    GROUP BY ALL
    UNION ALL
    SELECT unit_kind, unit_key, 'system prompt', system_id, sum(requests), sum(harvest_requests)
    FROM unit_cells
    WHERE system_id IS NOT NULL
    GROUP BY ALL
),
unit_scripts AS (
    SELECT unit_kind, unit_key, script, sum(requests) AS requests
    FROM unit_cells
    GROUP BY ALL
),
units AS (
    SELECT
        unit_kind,
        unit_key,
        sum(requests) FILTER (WHERE stream_type = 'template') AS requests,
        sum(harvest_requests) FILTER (WHERE stream_type = 'template') AS harvest_requests,
        count(*) FILTER (WHERE stream_type = 'template') AS templates,
        -- The top harvest stream: the template or system prompt with most harvest requests
        -- (ties: more requests, then stream type and id, a missing id lowest).
        max({'harvest_requests': harvest_requests, 'requests': requests,
             'stream_type': stream_type, 'has_id': stream_id IS NOT NULL,
             'stream_id': stream_id}) AS top
    FROM streams
    GROUP BY unit_kind, unit_key
),
script_counts AS (
    SELECT
        s.unit_kind,
        s.unit_key,
        count(*) AS scripts,
        array_to_string(list_sort(list(s.script))[1:6], ', ') AS script_list
    FROM unit_scripts AS s
    JOIN units AS u USING (unit_kind, unit_key)
    WHERE s.requests >= $min_script_share * u.requests
    GROUP BY s.unit_kind, s.unit_key
),
fired_units AS MATERIALIZED (
    SELECT
        u.unit_kind || u.unit_key AS unit_id,
        u.*,
        u.top.requests / u.requests AS top_share,
        u.top.harvest_requests / u.top.requests AS harvest_share,
        (u.harvest_requests - u.top.harvest_requests)
            / greatest(u.requests - u.top.requests, 1) AS rest_harvest_share,
        c.scripts,
        c.script_list
    FROM units AS u
    JOIN script_counts AS c USING (unit_kind, unit_key)
    WHERE u.requests >= $min_requests
      AND u.templates >= $min_templates
      AND c.scripts >= $min_scripts
      AND u.top.requests / u.requests BETWEEN $min_top_share AND $max_top_share
      AND u.top.harvest_requests / u.top.requests >= $min_harvest_share
      AND 1 - u.harvest_requests / u.requests >= $min_other_share
),
unit_requests AS (
    -- The requests of fired units, each with the unit it belongs to.
    SELECT t.*, f.unit_id
    FROM tagged AS t
    JOIN fired_units AS f ON f.unit_kind = 'key:' AND f.unit_key = t.api_key_id
    UNION ALL
    SELECT t.*, f.unit_id
    FROM tagged AS t
    JOIN fired_units AS f ON f.unit_kind = 'account:' AND f.unit_key = t.account_id
),
per_account AS (
    -- An account may belong to several fired units: report the strongest. Evidence: the
    -- harvest stream of that unit.
    SELECT
        q.account_id,
        arg_max({'unit_id': f.unit_id, 'requests': f.requests, 'templates': f.templates,
                 'scripts': f.scripts, 'script_list': f.script_list,
                 'top_requests': f.top.requests, 'top_share': f.top_share,
                 'harvest_share': f.harvest_share, 'rest_harvest_share': f.rest_harvest_share,
                 'stream_type': f.top.stream_type,
                 'stream_id': f.top.stream_id},
                (f.top_share * f.harvest_share, f.unit_id)) AS best,
        max_by(q.request_id,
               (q.harvest AND CASE f.top.stream_type
                                  WHEN 'template' THEN q.template_id = f.top.stream_id
                                  ELSE q.system_id IS NOT DISTINCT FROM f.top.stream_id END,
                q.request_id), 10) AS evidence
    FROM unit_requests AS q
    JOIN fired_units AS f USING (unit_id)
    GROUP BY q.account_id
)
SELECT
    account_id,
    least(1.0, 0.5 + 0.25 * (best.top_share - $min_top_share) / (1 - $min_top_share)
                    + 0.25 * (best.harvest_share - $min_harvest_share) / (1 - $min_harvest_share))
        AS score,
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
    evidence
FROM per_account
ORDER BY account_id
