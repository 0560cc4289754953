-- The pairs of accounts judged for session starts launched together, and what chance predicts
-- for each (after 57_session_starts.sql and the passes of 58_session_start_pass.sql).
--
-- session_start_pair_count: how many pairs of judged accounts of different owners started a
--   session in at least one same minute: the family the heuristic's Benjamini-Hochberg
--   correction counts (pairs not judged are compared and not significant).
-- session_start_pairs: the pairs judged (a_no < b_no), with `shared` minutes and `expected`
--   = sum over hours of n_a(h) * n_b(h) / 60.
--
-- Which pairs are judged: those sharing at least $min_shared minutes that are among the
-- $max_partners strongest of either account. An account is fired by one significant pair,
-- and a controller's account launched with hundreds of others is shown by its strongest ten
-- as well as by all of them; judging every pair made the cost grow with the accounts times
-- the accounts starting sessions in each minute (on fifty million requests, over a hundred
-- million pairs, each summed over some 170 hours). Strength is ranked without walking the
-- hours: `excess`, the shared minutes beyond the most chance could give, an upper bound `top`
-- of what it predicts plus three standard deviations (sqrt(top)). `top` is the least of
-- starts_a * busiest_b, starts_b * busiest_a and sqrt(squares_a * squares_b) (Cauchy-Schwarz),
-- over 60. Two busy accounts that coincide by chance seldom have any excess, however many
-- minutes they share; two accounts launched together have an excess of nearly every shared
-- minute.
-- Leaving a pair out only makes the correction stricter: its p-value counts as 1 in a family
-- that still counts it, so every pair found significant is one the test of every pair finds
-- significant too, at a q-value at least as small.
-- The excess is sums, products, square roots and divisions: exactly rounded on every engine,
-- so the same pairs are judged on DuckDB and on Spark.
CREATE OR REPLACE TABLE session_start_pair_count AS
SELECT CAST(coalesce(sum(pairs), 0) AS BIGINT) AS pairs FROM session_start_pair_counts;

CREATE OR REPLACE TABLE session_start_judged_pairs AS
WITH bounds AS (
    SELECT c.a_no, c.b_no, c.shared,
           least(CAST(sa.starts * sb.busiest AS DOUBLE), CAST(sb.starts * sa.busiest AS DOUBLE),
                 sqrt(CAST(sa.squares AS DOUBLE) * CAST(sb.squares AS DOUBLE))) / 60.0 AS top
    FROM session_start_pair_counts AS c
    JOIN session_start_accounts AS sa ON sa.account_no = c.a_no
    JOIN session_start_accounts AS sb ON sb.account_no = c.b_no
),
candidates AS (
    SELECT a_no, b_no, shared, shared - top - 3 * sqrt(top) AS excess FROM bounds
),
sides AS (
    SELECT a_no AS account_no, a_no, b_no, excess FROM candidates
    UNION ALL
    SELECT b_no, a_no, b_no, excess FROM candidates
),
ranked AS (
    SELECT a_no, b_no,
           row_number() OVER (PARTITION BY account_no ORDER BY excess DESC, a_no, b_no) AS rank
    FROM sides
),
kept AS (
    SELECT DISTINCT a_no, b_no FROM ranked WHERE rank <= $max_partners
)
-- The hours two accounts share are found by looking each hour of one up in the other's;
-- walking the account active in fewer hours is the same sum for a fraction of the lookups
-- (a busy account pairs with many quiet ones).
SELECT c.a_no, c.b_no, c.shared,
       CASE WHEN sa.hours <= sb.hours THEN c.a_no ELSE c.b_no END AS walked,
       CASE WHEN sa.hours <= sb.hours THEN c.b_no ELSE c.a_no END AS looked_up
FROM candidates AS c
SEMI JOIN kept AS k ON k.a_no = c.a_no AND k.b_no = c.b_no
JOIN session_start_accounts AS sa ON sa.account_no = c.a_no
JOIN session_start_accounts AS sb ON sb.account_no = c.b_no;

CREATE OR REPLACE TABLE session_start_pairs AS
SELECT j.a_no, j.b_no, j.shared, sum(w.n * l.n) / 60.0 AS expected
FROM session_start_judged_pairs AS j
JOIN session_start_hours AS w ON w.account_no = j.walked
JOIN session_start_hours AS l ON l.account_no = j.looked_up AND l.hour = w.hour
GROUP BY ALL;

DROP TABLE session_start_pair_counts;
DROP TABLE session_start_judged_pairs;
