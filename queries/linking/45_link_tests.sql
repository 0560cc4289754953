-- Coordination tested against chance: one test per linked pair and kind of link, with the
-- kind's null model (link_kinds.test and .null_model), its p-value, and a Benjamini–Hochberg
-- q-value within the kind's family of tests.
--
-- value (a card, a creation burst): such values are personal, so under independence the
--   number of owners of one value is Poisson with the kind's mean owners per value in the
--   log; the p-value of a value held by k owners is P(Poisson >= k). The family is every
--   value of the kind. A pair's test is its most significant shared value.
-- pair (templates, networks, clients, domains): popularity is intrinsic (a popular client is
--   used by thousands), so the test is of the pair: the second owner holds each value
--   independently of the first with the share of the other owners that hold it,
--   pi_v = (owners_v - 1) / (owners - 1). The statistic is the rarest shared value; its
--   p-value is that pi times the number of values the smaller side holds (a union bound over
--   the first owner's values). Further shared values are not multiplied in: one client sends
--   several templates, one office uses several prefixes. The family is every pair of owners:
--   all of them were looked at.
-- timing: each account opens its sessions (first turns) at random minutes within the hours
--   in which it opens any, so busy hours shared by everybody (office hours, a deadline) are
--   explained and only same-minute starts beyond them count; two accounts with n_a(h) and
--   n_b(h) start minutes in hour h coincide in lam = sum_h n_a(h) * n_b(h) / 60 minutes on
--   average, and k coincident minutes have p = P(Poisson(lam) >= k) (the null of
--   co_launched_sessions). Uniform within the hour: the log's own minute profile would
--   include the pair's own starts. The family is every pair of owners.
-- none (an analyst's indicator): an assertion, not a chance event; no p-value.
--
-- q-values: q_(i) = min over j >= i of (M * p_(j) / j), capped at 1, for the M tests of the
-- family (tests not listed, of pairs that share nothing, have p = 1 and only count in M).
-- poisson_tail and bh_q: 05_functions.sql.
-- The timing test's inputs are tables of their own, not steps of the statement below: there
-- the planner cannot know their sizes, and on a log of ten million requests (thousands of
-- accounts in timing links) it built its hash table on the hours of every linked pair and ran
-- out of memory. Each pair's hours are walked from the account active in fewer hours
-- (as in features/59_session_start_pairs.sql); `together` is the minutes both opened a
-- session in, `lam` what chance predicts.
CREATE OR REPLACE TABLE timing_starts AS
WITH timing_accounts AS (
    SELECT account_a AS account_id FROM links
    SEMI JOIN link_kinds AS k ON k.kind = links.kind AND k.test = 'timing'
    UNION
    SELECT account_b FROM links
    SEMI JOIN link_kinds AS k ON k.kind = links.kind AND k.test = 'timing'
)
SELECT DISTINCT a.account_id, f.minute
FROM request_features AS f
JOIN account_activity AS a USING (account_no)
SEMI JOIN timing_accounts AS t ON t.account_id = a.account_id
WHERE coalesce(f.turn_index, 0) = 0;

CREATE OR REPLACE TABLE timing_hours AS
SELECT account_id, minute // 60 AS hour, count(*) AS n FROM timing_starts GROUP BY ALL;

CREATE OR REPLACE TABLE timing_pairs AS
WITH pairs AS (
    SELECT DISTINCT account_a, account_b FROM links
    SEMI JOIN link_kinds AS k ON k.kind = links.kind AND k.test = 'timing'
),
active_hours AS (
    SELECT account_id, count(*) AS hours FROM timing_hours GROUP BY ALL
)
SELECT p.account_a, p.account_b,
       CASE WHEN ha.hours <= hb.hours THEN p.account_a ELSE p.account_b END AS walked,
       CASE WHEN ha.hours <= hb.hours THEN p.account_b ELSE p.account_a END AS looked_up
FROM pairs AS p
JOIN active_hours AS ha ON ha.account_id = p.account_a
JOIN active_hours AS hb ON hb.account_id = p.account_b;

CREATE OR REPLACE TABLE timing_pair_stats AS
WITH expected AS (
    SELECT j.account_a, j.account_b, sum(w.n * l.n) / 60.0 AS lam
    FROM timing_pairs AS j
    JOIN timing_hours AS w ON w.account_id = j.walked
    JOIN timing_hours AS l ON l.account_id = j.looked_up AND l.hour = w.hour
    GROUP BY ALL
),
together AS (
    SELECT j.account_a, j.account_b, count(*) AS together
    FROM timing_pairs AS j
    JOIN timing_starts AS x ON x.account_id = j.walked
    JOIN timing_starts AS y ON y.account_id = j.looked_up AND y.minute = x.minute
    GROUP BY ALL
)
SELECT e.account_a, e.account_b, coalesce(t.together, 0) AS together, e.lam
FROM expected AS e
LEFT JOIN together AS t USING (account_a, account_b);

CREATE OR REPLACE TABLE link_tests AS
WITH kinds AS (
    SELECT kind, test FROM link_kinds
),
totals AS (
    SELECT count(DISTINCT owner) AS owners FROM account_owners
),
value_stats AS (
    SELECT s.kind, s.key, s.owners,
           avg(s.owners) OVER (PARTITION BY s.kind) AS mean_owners,
           count(*) OVER (PARTITION BY s.kind) AS family_size
    FROM link_key_stats AS s
    SEMI JOIN kinds AS k ON k.kind = s.kind AND k.test = 'value'
),
value_tests AS (
    SELECT kind, key, p, bh_q(p, i, m, kind) AS q
    FROM (SELECT *, row_number() OVER (PARTITION BY kind ORDER BY p, key) AS i
          FROM (SELECT kind, key, poisson_tail(owners, mean_owners) AS p, family_size AS m
                FROM value_stats))
),
held AS (
    -- How many values of each kind an account holds: the union bound's multiplier. Distinct
    -- rows first, then counted: a DISTINCT aggregate keeps a set per group in memory, and on
    -- fifty million requests it ran out of memory where a DISTINCT spills.
    SELECT account_id, kind, count(*) AS n_values
    FROM (SELECT DISTINCT account_id, kind, key FROM link_keys)
    GROUP BY ALL
),
pair_keys AS (
    SELECT DISTINCT l.account_a, l.account_b, l.kind, l.key
    FROM links AS l
    SEMI JOIN kinds AS k ON k.kind = l.kind AND k.test = 'pair'
),
pair_rarest AS (
    SELECT p.account_a, p.account_b, p.kind, count(*) AS shared,
           min(greatest(s.owners - 1, 1)) AS rarest
    FROM pair_keys AS p
    JOIN link_key_stats AS s USING (kind, key)
    GROUP BY ALL
),
pair_tests AS (
    SELECT r.account_a, r.account_b, r.kind, r.shared,
           least(1.0, r.rarest / greatest(t.owners - 1, 1)
                      * least(ha.n_values, hb.n_values)) AS p_value
    FROM pair_rarest AS r
    JOIN held AS ha ON ha.account_id = r.account_a AND ha.kind = r.kind
    JOIN held AS hb ON hb.account_id = r.account_b AND hb.kind = r.kind
    CROSS JOIN totals AS t
),
timing_links AS (
    SELECT DISTINCT account_a, account_b, kind FROM links
    SEMI JOIN kinds AS k ON k.kind = links.kind AND k.test = 'timing'
),
timing_tests AS (
    SELECT l.account_a, l.account_b, l.kind, coalesce(t.together, 0) AS together,
           coalesce(t.lam, 0.0) AS lam
    FROM timing_links AS l
    LEFT JOIN timing_pair_stats AS t USING (account_a, account_b)
),
by_pair AS (
    SELECT account_a, account_b, kind, shared AS observed, NULL::DOUBLE AS expected, p_value,
           (t.owners * (t.owners - 1)) / 2 AS m
    FROM pair_tests
    CROSS JOIN totals AS t
    UNION ALL
    SELECT account_a, account_b, kind, together, lam, poisson_tail(together, lam),
           (t.owners * (t.owners - 1)) / 2
    FROM timing_tests
    CROSS JOIN totals AS t
),
pair_q AS (
    SELECT account_a, account_b, kind, observed, expected, p_value,
           bh_q(p_value, i, m, kind) AS q_value
    FROM (SELECT *,
                 row_number() OVER (PARTITION BY kind ORDER BY p_value, account_a, account_b)
                     AS i
          FROM by_pair)
),
by_value AS (
    SELECT l.account_a, l.account_b, l.kind, count(*) AS observed,
           NULL::DOUBLE AS expected, min(v.p) AS p_value, min(v.q) AS q_value
    FROM (SELECT DISTINCT account_a, account_b, kind, key FROM links) AS l
    JOIN value_tests AS v USING (kind, key)
    GROUP BY ALL
),
untested AS (
    SELECT DISTINCT l.account_a, l.account_b, l.kind, NULL::BIGINT AS observed,
           NULL::DOUBLE AS expected, NULL::DOUBLE AS p_value, NULL::DOUBLE AS q_value
    FROM links AS l
    SEMI JOIN kinds AS k ON k.kind = l.kind AND k.test = 'none'
)
-- observed: values shared (keys) or minutes both opened a session in (timing); expected: the
-- minutes they would share by chance (timing only).
SELECT * FROM pair_q
UNION ALL SELECT * FROM by_value
UNION ALL SELECT * FROM untested;

DROP TABLE timing_starts;
DROP TABLE timing_hours;
DROP TABLE timing_pairs;
DROP TABLE timing_pair_stats;
