/*---
id: benchmark_test_overlap
title: Traffic is public benchmark test-set evaluation
family: structure
level: informational
status: test
benign: true
description: >
  Benign indicator. Detects accounts a large share of whose prompts carry public benchmark
  test-set formats (benchmark_marker signals of the lexicon, e.g. MMLU's "The following are
  multiple choice questions (with answers) about …") and which send almost no harvest content
  (no reasoning-trace elicitation, post-hoc rationales, task generation or pipeline
  fingerprints). When it fires it lowers the account's suspicion.
rationale: >
  Benchmark / eval companies fire templates, temperature 0, day-one use of new models and
  repeats; what separates them is prompts from public test sets, bounded totals, one verified
  org and no CoT extraction. Running a public test set measures a model; it harvests nothing a
  competitor could not download, and distillation pipelines need training-like tasks, not test
  items. A benchmark wrapper is cheap to fake, so requests that also carry a harvest signal are
  not counted, and an account with more than a small share of harvest content does not get the
  benign credit at all.
falsepositives:
  - A harvester wrapping its prompts in a benchmark format to look benign (mitigated by
    excluding requests and accounts with harvest signals; corroborate with one verified org)
  - Training on public test sets (contamination) is not distillation but is not benign either
references:
  - mmlu-2020 (MMLU prompt format)
  - queries/lexicons/signals.csv (signal benchmark_marker)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 50, description: Fewest requests an account needs before its share is judged}
  min_share: {type: DOUBLE, default: 0.3, description: Share of requests in a benchmark format (without harvest signals) that fires}
  max_harvest_share: {type: DOUBLE, default: 0.05, description: Largest share of requests with harvest signals an account may have and still get the benign credit}
  harvest_signals: {type: VARCHAR, default: "cot_strong,posthoc_rationale,lang_lock,reasoning_translate,rl_taskgen,safe_rewrite,pipeline_alpaca,pipeline_selfinstruct,pipeline_orca,pipeline_longcot,pipeline_evol,pipeline_camel", description: Comma-separated lexicon signals that mark harvest content (rubric judging is left out; eval companies use LLM judges)}
weight: 0.5
---*/
-- Reads the shared aggregates: benchmark markers and harvest signals are lexicon signals, so
-- only flagged_requests rows can count; the account's volume comes from account_activity.
WITH flagged AS (
    SELECT
        account_id,
        request_id,
        model,
        list_contains(signals, 'benchmark_marker') AS marked,
        list_has_any(signals, string_split($harvest_signals, ',')) AS harvest
    FROM flagged_requests
),
per_flagged AS (
    SELECT
        account_id,
        count(*) FILTER (WHERE marked AND NOT harvest) AS benchmark,
        count(*) FILTER (WHERE harvest) AS harvest,
        count(DISTINCT model) FILTER (WHERE marked AND NOT harvest) AS models,
        max_by(request_id, request_id, 10) FILTER (WHERE marked AND NOT harvest) AS evidence
    FROM flagged
    GROUP BY account_id
),
per_account AS (
    SELECT a.account_id, a.requests, coalesce(f.benchmark, 0) AS benchmark,
           coalesce(f.harvest, 0) AS harvest, coalesce(f.models, 0) AS models, f.evidence
    FROM account_activity AS a
    LEFT JOIN per_flagged AS f USING (account_id)
)
SELECT
    account_id,
    fired_score(share_term(benchmark / requests, $min_share, 0.5), 0) AS score,
    round(benchmark / requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) use a public benchmark test-set format, sent to '
           || '{:d} model(s); {:d} requests ({:.1f} %) carry harvest signals',
           benchmark, requests, 100 * benchmark / requests, models, harvest,
           100 * harvest / requests) AS detail,
    evidence
FROM per_account
WHERE requests >= $min_requests
  AND benchmark / requests >= $min_share
  AND harvest / requests <= $max_harvest_share
ORDER BY account_id
