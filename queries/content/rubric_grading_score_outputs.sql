/*---
id: rubric_grading_score_outputs
title: Rubric grading with score-shaped outputs (model used as a reward model)
family: content
level: medium
status: test
description: >
  Detects accounts where a large share of the answered requests are judge or rubric prompts
  (MT-Bench, UltraFeedback, Prometheus templates and rubric wording: signals rubric_judge and
  rubric_weak) whose response is a short score and little else (score_shaped: at most 300
  characters shaped like "[[8]]", "Rating: 4", "[RESULT] 3", "Score: 7"). The share is taken
  over requests whose response was exported.
rationale: >
  Anthropic (2026-02-23) reports DeepSeek using "rubric-based grading" to make "Claude function
  as a reward model for reinforcement learning": the harvested product is the score, so the
  response is a bare number in the template's format (the judge formats of MT-Bench,
  UltraFeedback and Prometheus). Users asking for feedback on their own work get prose, not a
  bracketed score.
falsepositives:
  - Benchmark / eval companies running LLM-as-a-judge benchmarks (MT-Bench, AlpacaEval) — bounded totals, one verified org
  - Academic researchers using a judge template at moderate volume
  - Content-moderation or quality-scoring products that output a bare score by design
references:
  - anthropic-2026
  - mt-bench-2023
  - ultrafeedback-2023
  - prometheus-2023
  - queries/lexicons/signals.csv (signals rubric_judge, rubric_weak)
requires:
  requests: [account_id, prompt, response]
params:
  min_requests: {type: INTEGER, default: 30, description: Fewest requests with an exported response an account needs before its share is judged}
  min_share: {type: DOUBLE, default: 0.3, description: Share of answered requests that are judge prompts with a score-shaped response that fires}
weight: 0.6
---*/
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql: answered requests
-- per account, and the graded ones among the flagged requests (not every request).
WITH graded AS (
    SELECT
        account_id,
        request_id,
        response_chars,
        list_contains(signals, 'rubric_judge') AS is_public_template
    FROM flagged_requests
    WHERE response_chars IS NOT NULL
      AND coalesce(score_shaped, false)
      AND (list_contains(signals, 'rubric_judge') OR list_contains(signals, 'rubric_weak'))
),
per_graded_account AS (
    SELECT
        account_id,
        count(*) AS hits,
        count(*) FILTER (WHERE is_public_template) AS public_template_hits,
        median(response_chars) AS median_chars,
        max_by(request_id, (is_public_template, request_id), 10) AS evidence
    FROM graded
    GROUP BY account_id
),
per_account AS (
    SELECT
        a.account_id,
        a.answered AS requests,
        coalesce(g.hits, 0) AS hits,
        coalesce(g.public_template_hits, 0) AS public_template_hits,
        g.median_chars,
        coalesce(g.evidence, CAST([] AS VARCHAR[])) AS evidence
    FROM account_activity AS a
    LEFT JOIN per_graded_account AS g USING (account_id)
    WHERE a.answered > 0
)
SELECT
    account_id,
    fired_score(share_term(hits / requests, $min_share, 0.5), 0) AS score,
    round(hits / requests, 4) AS metric,
    format('{:d} of {:d} answered requests ({:.0f} %) are judge or rubric prompts answered with '
           || 'a bare score (median {:.0f} characters); {:d} use a public judge template',
           hits, requests, 100 * hits / requests, median_chars, public_template_hits) AS detail,
    evidence
FROM per_account
WHERE requests >= $min_requests AND hits / requests >= $min_share
ORDER BY account_id
