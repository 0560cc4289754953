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
    -- How many values of each kind an account holds: the union bound's multiplier.
    SELECT account_id, kind, count(DISTINCT key) AS n_values FROM link_keys GROUP BY ALL
),
pair_tests AS (
    SELECT l.account_a, l.account_b, l.kind, count(DISTINCT l.key) AS shared,
           least(1.0, min(greatest(s.owners - 1, 1) / greatest(t.owners - 1, 1))
                      * least(any_value(ha.n_values), any_value(hb.n_values))) AS p_value
    FROM links AS l
    SEMI JOIN kinds AS k ON k.kind = l.kind AND k.test = 'pair'
    JOIN link_key_stats AS s USING (kind, key)
    JOIN held AS ha ON ha.account_id = l.account_a AND ha.kind = l.kind
    JOIN held AS hb ON hb.account_id = l.account_b AND hb.kind = l.kind
    CROSS JOIN totals AS t
    GROUP BY ALL
),
starts AS (
    SELECT DISTINCT f.account_no, f.minute
    FROM request_features AS f
    WHERE coalesce(f.turn_index, 0) = 0
),
timing_links AS (
    SELECT DISTINCT account_a, account_b, kind FROM links
    SEMI JOIN kinds AS k ON k.kind = links.kind AND k.test = 'timing'
),
timing_starts AS (
    SELECT a.account_id, s.minute
    FROM account_activity AS a
    JOIN starts AS s USING (account_no)
    WHERE a.account_id IN (SELECT account_a FROM timing_links
                           UNION SELECT account_b FROM timing_links)
),
start_hours AS (
    SELECT account_id, minute // 60 AS hour, count(*) AS n
    FROM timing_starts
    GROUP BY ALL
),
expected AS (
    SELECT l.account_a, l.account_b, sum(ha.n * hb.n) / 60.0 AS lam
    FROM (SELECT DISTINCT account_a, account_b FROM timing_links) AS l
    JOIN start_hours AS ha ON ha.account_id = l.account_a
    JOIN start_hours AS hb ON hb.account_id = l.account_b AND hb.hour = ha.hour
    GROUP BY ALL
),
together AS (
    SELECT l.account_a, l.account_b, count(*) AS together
    FROM (SELECT DISTINCT account_a, account_b FROM timing_links) AS l
    JOIN timing_starts AS x ON x.account_id = l.account_a
    JOIN timing_starts AS y ON y.account_id = l.account_b AND y.minute = x.minute
    GROUP BY ALL
),
timing_tests AS (
    SELECT l.account_a, l.account_b, l.kind, coalesce(t.together, 0) AS together,
           coalesce(e.lam, 0.0) AS lam
    FROM timing_links AS l
    LEFT JOIN together AS t USING (account_a, account_b)
    LEFT JOIN expected AS e USING (account_a, account_b)
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
    SELECT l.account_a, l.account_b, l.kind, count(DISTINCT l.key) AS observed,
           NULL::DOUBLE AS expected, min(v.p) AS p_value, min(v.q) AS q_value
    FROM links AS l
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
