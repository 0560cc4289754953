/*---
id: rl_task_generation
title: RL task generation (new problems with solutions and tests)
family: content
level: medium
status: test
description: >
  Detects accounts whose requests repeatedly ask the model to invent new, verifiable tasks:
  "generate N new problems", "with solutions and unit tests", "with reference solutions and
  test cases", "come up with a set of N diverse task instructions", "生成N道新题" (signal
  rl_taskgen of the signals lexicon), as a share of the account's traffic.
rationale: >
  Anthropic (2026-02-23) names "tens of thousands of unique tasks needed to run reinforcement
  learning" as one goal of the campaigns: a reinforcement-learning run needs a large supply of
  fresh problems with checkable answers (solutions, unit tests), which a strong model can write
  (the Stanford Alpaca and Self-Instruct recipes generate instructions the same way). A teacher
  writes a worksheet now and then; a task factory asks for new problems in most of its requests.
falsepositives:
  - Teachers and edtech platforms generating practice worksheets (small share, human cadence)
  - Benchmark / eval companies building private test sets (bounded totals, one verified org)
  - Coding-interview or competitive-programming platforms producing exercises (one org, own catalogue)
references:
  - anthropic-2026
  - alpaca-2023 (prompt.txt)
  - self-instruct-2022
  - queries/lexicons/signals.csv (signal rl_taskgen)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 20, description: Fewest requests an account needs before its share is judged}
  min_hits: {type: INTEGER, default: 10, description: Fewest task-generation requests needed}
  min_share: {type: DOUBLE, default: 0.2, description: Share of task-generation requests that fires}
weight: 0.6
---*/
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql: requests per
-- account and the accounts' rl_taskgen hits (through signal_share(), in
-- queries/features/05_functions.sql) and, for the capability area, the flagged requests.
-- Which capability area the generated tasks are in (deterministic tie-break by name).
WITH areas AS (
    SELECT account_id, arg_max(capability, (n, capability)) AS top_area,
           count(*) AS area_count
    FROM (
        SELECT account_id, capability, count(*) AS n
        FROM flagged_requests
        WHERE list_contains(signals, 'rl_taskgen')
        GROUP BY ALL
    )
    GROUP BY account_id
)
SELECT
    p.account_id,
    fired_score(share_term(p.hits / p.requests, $min_share, 0.5), 0) AS score,
    round(p.hits / p.requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) ask the model to generate new tasks with solutions '
           || 'or tests (most common capability area: {}; {:d} area(s))',
           p.hits, p.requests, 100 * p.hits / p.requests, a.top_area, a.area_count) AS detail,
    p.evidence
FROM signal_share('rl_taskgen') AS p
JOIN areas AS a USING (account_id)
WHERE p.requests >= $min_requests AND p.hits >= $min_hits AND p.hits / p.requests >= $min_share
ORDER BY p.account_id
