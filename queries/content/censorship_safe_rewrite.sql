/*---
id: censorship_safe_rewrite
title: Censorship-safe rewrites of politically sensitive topics
family: content
level: medium
status: test
description: >
  Detects accounts whose requests combine, in the same request, a politically sensitive topic
  (Tiananmen, dissidents, party leaders, authoritarianism, Falun Gong, Uyghurs …; signal
  censorship_topic, English and Chinese) with an instruction to rewrite it into a safe,
  neutral or compliant alternative ("safe alternative", "politically safe", "remove politically
  sensitive", "符合社会主义核心价值观", "改写…安全/中立/合规"; signal safe_rewrite). Either
  signal alone is ordinary; the pair in one request is what counts.
rationale: >
  Anthropic (2026-02-23) reports DeepSeek generating "censorship-safe alternatives to
  politically sensitive queries" about dissidents, party leaders and authoritarianism: data to
  train a model to deflect such questions. Journalists and historians ask about the topics;
  editors ask for neutral rewrites of their own copy; asking for the censorship-compliant
  version of the sensitive answer, repeatedly, is neither.
falsepositives:
  - Content-compliance or moderation vendors serving platforms in censored markets (declared business, one org)
  - Researchers studying censorship and model refusals (moderate volume, declared affiliation)
  - Newsrooms or NGOs asking for neutral-tone rewrites of their own coverage of these topics
references:
  - anthropic-2026
  - queries/lexicons/signals.csv (signals censorship_topic, safe_rewrite)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 20, description: Fewest requests an account needs before its share is judged}
  min_hits: {type: INTEGER, default: 5, description: Fewest requests pairing a sensitive topic with a safe-rewrite instruction}
  min_share: {type: DOUBLE, default: 0.03, description: Share of such paired requests that fires; low because the pair is rare in benign traffic and a campaign spreads this target thinly over modest accounts (Anthropic 2026-02-23)}
weight: 0.6
---*/
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql: requests per
-- account, and the flagged requests carrying either signal (not every request).
WITH flagged AS (
    SELECT
        account_id,
        request_id,
        list_contains(signals, 'censorship_topic') AS topic,
        list_contains(signals, 'safe_rewrite') AS rewrite
    FROM flagged_requests
    WHERE list_contains(signals, 'censorship_topic') OR list_contains(signals, 'safe_rewrite')
),
per_flagged_account AS (
    SELECT
        account_id,
        count(*) FILTER (WHERE topic AND rewrite) AS hits,
        count(*) FILTER (WHERE topic) AS topic_requests,
        count(*) FILTER (WHERE rewrite) AS rewrite_requests,
        max(request_id, 10) FILTER (WHERE topic AND rewrite) AS evidence
    FROM flagged
    GROUP BY account_id
),
per_account AS (
    SELECT
        a.account_id,
        a.requests,
        coalesce(f.hits, 0) AS hits,
        coalesce(f.topic_requests, 0) AS topic_requests,
        coalesce(f.rewrite_requests, 0) AS rewrite_requests,
        coalesce(f.evidence, CAST([] AS VARCHAR[])) AS evidence
    FROM account_activity AS a
    LEFT JOIN per_flagged_account AS f USING (account_id)
)
SELECT
    account_id,
    -- Strength grows with the share and, because the pair is rare, with the count as well.
    fired_score(share_term(hits / requests, $min_share, 0.5), 0.05 * log2(hits / $min_hits))
        AS score,
    round(hits / requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) ask for a safe or compliant rewrite of a politically '
           || 'sensitive topic in the same request ({:d} mention such a topic, {:d} ask for a safe '
           || 'rewrite)',
           hits, requests, 100 * hits / requests, topic_requests, rewrite_requests) AS detail,
    evidence
FROM per_account
WHERE requests >= $min_requests AND hits >= $min_hits AND hits / requests >= $min_share
ORDER BY account_id
