/*---
id: capability_concentration
title: Traffic concentrated on one high-value capability
family: content
level: low
status: test
description: >
  Detects accounts whose traffic is concentrated on one high-value capability area
  (reasoning_math, coding, agentic_tool_use, computer_use, data_analysis: the capability
  column, from the capabilities lexicon) — the top area's share of all the account's
  requests, unclassified requests included in the denominator. Never strong alone.
rationale: >
  Anthropic (2026-02-23) describes distillation traffic as "massive volume concentrated in a few
  areas" whose content "maps directly onto what is most valuable for training an AI model" and
  names agentic reasoning, tool use, coding, data analysis and computer use among the campaigns'
  targets. A general-purpose user spreads over writing, questions, code and chores. But vertical
  products (an IDE agent, a maths tutor) are concentrated too, so this only corroborates other
  families: low weight.
falsepositives:
  - Agent / IDE products and coding assistants (coding or tool use by design)
  - Tutoring apps specialised in maths
  - Analytics products (data analysis by design)
  - Benchmark / eval companies running one domain's benchmark
references:
  - anthropic-2026
  - queries/lexicons/capabilities.csv
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 100, description: Fewest requests an account needs before its concentration is judged}
  min_share: {type: DOUBLE, default: 0.7, description: Share of all requests in the top high-value capability that fires}
  high_value_capabilities: {type: VARCHAR, default: "reasoning_math,coding,agentic_tool_use,computer_use,data_analysis", description: Comma-separated capability names counted as high-value}
weight: 0.15
---*/
-- Reads the shared per-(account, capability) counts of
-- queries/features/55_account_aggregates.sql; only the fired accounts' evidence comes from
-- request_features.
WITH per_capability AS (
    SELECT account_id, capability, requests AS n
    FROM account_capabilities
),
per_account AS (
    SELECT
        account_id,
        sum(n) AS requests,
        count(*) FILTER (WHERE capability <> 'other') AS areas,
        arg_max(capability, (n, capability))
            FILTER (WHERE list_contains(string_split($high_value_capabilities, ','), capability))
            AS top_area,
        max(n)
            FILTER (WHERE list_contains(string_split($high_value_capabilities, ','), capability))
            AS top_n
    FROM per_capability
    GROUP BY account_id
),
fired AS (
    SELECT *
    FROM per_account
    WHERE requests >= $min_requests AND top_n / requests >= $min_share
),
evidence AS (
    -- every request is read: joined on the integer account_no, not the account id string
    SELECT f.account_id, max_by(r.request_id, r.request_id, 10) AS evidence
    FROM request_features AS r
    JOIN (SELECT f.account_id, a.account_no, f.top_area
          FROM fired AS f
          JOIN account_activity AS a USING (account_id)) AS f
        ON f.account_no = r.account_no AND f.top_area = r.capability
    GROUP BY f.account_id
)
SELECT
    f.account_id,
    fired_score(share_term(f.top_n / f.requests, $min_share, 0.5), 0) AS score,
    round(f.top_n / f.requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) are in one high-value capability area ({}); the '
           || 'account''s classified traffic spans {:d} area(s) in all',
           CAST(f.top_n AS BIGINT), CAST(f.requests AS BIGINT), 100 * f.top_n / f.requests,
           f.top_area, f.areas) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
