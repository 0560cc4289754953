/*---
id: rl_group_grading
title: RL group grading (one judge template, k candidates within minutes)
family: content
level: medium
status: test
description: >
  Detects accounts that grade candidates in groups: judge-shaped requests (a judge or rubric
  phrase, signals rubric_judge / rubric_weak, or a score-shaped response) that share one
  template (template_id, else skeleton_id) and arrive as at least $k_candidates distinct
  prompts (distinct prompt lengths, so retries of one prompt do not count) within one
  $bucket_minutes-minute bucket — again and again across the account's traffic. Fires on the
  share of the account's requests inside such bursts and on the number of bursts.
rationale: >
  Anthropic (2026-02-23) reports rubric-based grading to make Claude "function as a reward model
  for reinforcement learning" and harvesting for the "tens of thousands of unique tasks needed
  to run reinforcement learning". Group-based RL (k sampled candidates per prompt, each scored)
  sends the same grading instruction with k different candidates within minutes, step after
  step. A person grading answers by hand works one at a time; a one-off benchmark run produces a
  handful of bursts, not a steady stream.
falsepositives:
  - Benchmark / eval companies batch-judging model outputs (bounded totals, one verified org)
  - Academic researchers running preference-data or judge experiments
  - Quality-assurance pipelines that score many generated drafts against one rubric
references:
  - anthropic-2026
  - deepseekmath-2024 (group relative policy optimisation, k samples per prompt)
  - queries/lexicons/signals.csv (signals rubric_judge, rubric_weak)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 30, description: Fewest requests an account needs before it is judged}
  k_candidates: {type: INTEGER, default: 4, description: Fewest distinct judge prompts of one template in one bucket that make a grading burst}
  bucket_minutes: {type: INTEGER, default: 5, description: Width of the time bucket in minutes}
  min_bursts: {type: INTEGER, default: 6, description: Fewest grading bursts (template × bucket) needed; a one-off benchmark run has few}
  min_share: {type: DOUBLE, default: 0.3, description: Share of the account's requests inside grading bursts that fires}
weight: 0.6
---*/
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql: the flagged
-- requests (every judge-shaped request is among them) and requests per account.
WITH judged AS (
    SELECT
        account_id,
        request_id,
        template,
        minute // $bucket_minutes AS bucket,
        prompt_chars
    FROM flagged_requests
    WHERE list_contains(signals, 'rubric_judge')
       OR list_contains(signals, 'rubric_weak')
       OR coalesce(score_shaped, false)
),
groups AS (
    SELECT account_id, template, bucket, count(*) AS requests,
           count(DISTINCT prompt_chars) AS candidates
    FROM judged
    GROUP BY ALL
    HAVING count(DISTINCT prompt_chars) >= $k_candidates
),
per_account_bursts AS (
    SELECT
        account_id,
        count(*) AS bursts,
        sum(requests) AS grouped,
        count(DISTINCT template) AS templates,
        max(candidates) AS max_candidates,
        CAST(median(candidates) AS DOUBLE) AS median_candidates
    FROM groups
    GROUP BY account_id
),
evidence AS (
    SELECT j.account_id,
           max_by(j.request_id, (g.candidates, g.bucket, j.request_id), 10) AS evidence
    FROM judged AS j
    JOIN groups AS g USING (account_id, template, bucket)
    GROUP BY j.account_id
)
SELECT
    b.account_id,
    fired_score(share_term(b.grouped / t.requests, $min_share, 0.5), 0) AS score,
    round(b.grouped / t.requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) are judge prompts graded in {:d} bursts of at least '
           || '{:d} distinct candidates sharing one template within {:d} minutes (median {:.0f}, '
           || 'largest {:d} candidates; {:d} template(s))',
           CAST(b.grouped AS BIGINT), t.requests, 100 * b.grouped / t.requests, b.bursts,
           $k_candidates, $bucket_minutes, b.median_candidates, b.max_candidates,
           b.templates) AS detail,
    e.evidence
FROM per_account_bursts AS b
JOIN account_activity AS t USING (account_id)
JOIN evidence AS e USING (account_id)
WHERE t.requests >= $min_requests
  AND b.bursts >= $min_bursts
  AND b.grouped / t.requests >= $min_share
ORDER BY b.account_id
