/*---
id: co_launched_sessions
title: Sessions started in the same minute as unrelated owners' sessions, beyond chance
family: timing
level: high
status: test
description: >
  Detects accounts that start sessions (first turns) in the same minutes as an account of
  another owner far more often than chance allows. For each pair of accounts of different
  owners (each with at least 5 session starts), the minutes in which both started a session
  are counted and, where there are at least 3, each account's ten strongest pairs (the most
  shared minutes beyond the most chance could give) are compared with the number expected if
  each account's session starts fell at random within the hours in which it was active. The
  pair's Poisson p-value is corrected for the number of pairs that share a minute
  (Benjamini-Hochberg, the pairs not compared counting as not significant); the account fires
  when at least one of its pairs stays significant.
rationale: >
  Anthropic (2026-02-23) describes "synchronized traffic across accounts" and "coordinated
  timing" as signatures of distillation campaigns; a controller that launches batches of agentic
  sessions on many accounts at once starts them in the same minute, even when the accounts share
  no card, network, client or organisation. Ordinary customers who work the same hours, a class
  before a deadline or a hackathon through the night, are busy in the same hours but start
  sessions at their own minutes: the null model keeps each account's own hour-by-hour activity,
  so shared busy hours are expected and only same-minute starts beyond them count. Coordination
  is tested against chance with a stated null model and corrected for multiple testing (Saracco
  et al., arXiv 1607.02481; Pacheco et al., ICWSM 2021), and one organisation's accounts are one
  owner, so its own scheduled jobs are never compared with each other.
falsepositives:
  - Accounts of one company that did not declare its organisation, started by one scheduler
  - Unrelated customers of one integration that starts their jobs on the same event
references:
  - anthropic-2026
  - saracco-2016
  - pacheco-2021
  - benjamini-hochberg-1995
requires:
  requests: [account_id, ts, turn_index]
params:
  max_fdr: {type: DOUBLE, default: 0.001, description: Benjamini-Hochberg false discovery rate at which a pair is significant}
weight: 0.7
provides: [co_launches]
---*/
-- The session starts (first turns, one per account and minute) and the pairs of accounts of
-- different owners that started sessions in the same minutes, with the number chance predicts
-- for each, are feature tables (queries/features/57_session_starts.sql to
-- 59_session_start_pairs.sql): an account is compared once it has 5 session starts, and a
-- pair is judged once it shares 3 minutes and is among the 10 strongest of either account
-- (forensics/features.py, MIN_SESSION_STARTS, MIN_SHARED_START_MINUTES and
-- MAX_START_PARTNERS). A pair not judged counts as not significant, so every pair found is
-- one the test of every pair would find, at a q-value at least as small.
-- Chance (`expected`): within each hour both were active, n_a × n_b / 60 coincident minutes.
WITH owners AS (
    SELECT account_id, account_no FROM account_activity WHERE account_id IS NOT NULL
),
p_values AS (
    -- Poisson upper tail P(X >= shared), summed term by term in log space from `shared` on
    -- (the terms fall fast once k passes the expectation).
    SELECT *,
           least(1.0, list_sum(list_transform(
               range(shared, shared + 60 + CAST(ceil(expected + 10 * sqrt(expected)) AS BIGINT)),
               lambda k: exp(k * ln(expected) - expected - lgamma(k + 1))))) AS p
    FROM session_start_pairs
),
ranked AS (
    -- Benjamini-Hochberg over every pair compared (pairs with fewer shared minutes than
    -- judged count as tested and not significant).
    SELECT p.*,
           p.p * t.pairs / row_number() OVER (ORDER BY p.p, p.a_no, p.b_no) AS bh
    FROM p_values AS p
    CROSS JOIN session_start_pair_count AS t
),
adjusted AS (
    SELECT *, least(1.0, min(bh) OVER (ORDER BY p DESC, a_no DESC, b_no DESC
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS q
    FROM ranked
),
significant AS MATERIALIZED (
    SELECT a_no AS account_no, b_no AS partner, shared, expected, p, q FROM adjusted
    WHERE q <= $max_fdr
    UNION ALL
    SELECT b_no, a_no, shared, expected, p, q FROM adjusted
    WHERE q <= $max_fdr
),
per_account AS (
    SELECT account_no, count(*) AS partners, sum(shared) AS shared,
           kahan_sum(expected) AS expected, min(p) AS best_p, min(q) AS best_q
    FROM significant
    GROUP BY ALL
),
shared_starts AS (
    -- The account's session starts in minutes a significant partner started one too.
    SELECT DISTINCT j.account_no, j.request_id
    FROM (SELECT DISTINCT account_no, partner FROM significant) AS sg
    JOIN session_starts AS j ON j.account_no = sg.account_no
    SEMI JOIN session_starts AS o ON o.account_no = sg.partner AND o.minute = j.minute
),
evidence AS (
    SELECT account_no, max_by(request_id, request_id, 10) AS evidence
    FROM shared_starts
    GROUP BY ALL
)
SELECT
    o.account_id,
    fired_score(0.05 * least(10.0, -log10(greatest(a.best_p, 1e-300)) / 3), 0) AS score,
    round(-log10(greatest(a.best_p, 1e-300)), 2) AS metric,
    format('started sessions in the same minute as at least {:d} unrelated owner(s) {:d} '
           || 'times where '
           || 'their own hourly activity predicts {:.2f}; chance of the strongest pair p = '
           || '{:.1e} (Benjamini-Hochberg q = {:.1e} over the pairs compared)',
           a.partners, a.shared, a.expected, a.best_p, a.best_q) AS detail,
    e.evidence
FROM per_account AS a
JOIN owners AS o USING (account_no)
JOIN evidence AS e USING (account_no)
ORDER BY o.account_id
