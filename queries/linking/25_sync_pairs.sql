-- Pairs of accounts whose timing is synchronised, on either of two grounds (the `sync` link
-- kind; "synchronized traffic across accounts … coordinated timing", Anthropic 2026-02-23):
--
-- co-active minutes: among accounts the load-balancing heuristic fired, pairs whose active
--   minutes coincide for a large share of the smaller one's minutes (one harvest spread
--   across accounts).
-- same-minute session starts: among accounts the co-launch heuristic fired, pairs that opened
--   sessions (first turns) in the same minutes more often than chance allows, under the null
--   model of the `sync` link kind (45_link_tests.sql: starts at random minutes within the
--   hours each account is active) and a Benjamini-Hochberg false discovery rate of $fdr over
--   every pair of owners. This is what ties a controller's accounts that launch work together
--   but share no card, network, client or organisation.
--
-- Both are restricted to fired accounts, so the self-joins stay small.
-- The same-minute session starts of the accounts the co-launch heuristic fired, their pairs
-- and each account's starts per hour are tables of their own, not steps of one statement:
-- there the planner cannot know their sizes, and it built its hash table on the hours of
-- every pair (billions of rows on a log of ten million requests, where the heuristic fires
-- thousands of accounts) and ran out of memory. Each pair's hours are walked from the account
-- active in fewer hours (as in features/57_session_start_pairs.sql).
CREATE OR REPLACE TABLE launch_starts AS
WITH launchers AS (
    SELECT a.account_id, a.account_no, o.owner
    FROM account_activity AS a
    JOIN account_owners AS o USING (account_id)
    SEMI JOIN signals AS s
        ON s.account_id = a.account_id AND s.heuristic_id = $co_launch_heuristic
)
SELECT DISTINCT l.account_id, l.owner, f.minute
FROM request_features AS f
JOIN launchers AS l USING (account_no)
WHERE coalesce(f.turn_index, 0) = 0;

CREATE OR REPLACE TABLE launch_hours AS
SELECT account_id, minute // 60 AS hour, count(*) AS n FROM launch_starts GROUP BY ALL;

CREATE OR REPLACE TABLE launch_pairs AS
WITH co_starts AS (
    SELECT a.account_id AS account_a, b.account_id AS account_b, count(*) AS together
    FROM launch_starts AS a
    JOIN launch_starts AS b ON b.minute = a.minute AND b.account_id > a.account_id
    WHERE a.owner <> b.owner
    GROUP BY ALL
),
active_hours AS (
    SELECT account_id, count(*) AS hours FROM launch_hours GROUP BY ALL
)
SELECT c.account_a, c.account_b, c.together,
       CASE WHEN ha.hours <= hb.hours THEN c.account_a ELSE c.account_b END AS walked,
       CASE WHEN ha.hours <= hb.hours THEN c.account_b ELSE c.account_a END AS looked_up
FROM co_starts AS c
JOIN active_hours AS ha ON ha.account_id = c.account_a
JOIN active_hours AS hb ON hb.account_id = c.account_b;

CREATE OR REPLACE TABLE sync_pairs AS
WITH fired AS (
    -- with their account_no: every request is read, and joined on the integer, not the id
    SELECT a.account_id, a.account_no
    FROM account_activity AS a
    SEMI JOIN signals AS s
        ON s.account_id = a.account_id AND s.heuristic_id = $sync_heuristic
),
active AS (
    SELECT DISTINCT f.account_id, r.minute
    FROM request_features AS r
    JOIN fired AS f USING (account_no)
),
sizes AS (
    SELECT account_id, count(*) AS minutes FROM active GROUP BY ALL
),
shared AS (
    SELECT a.account_id AS account_a, b.account_id AS account_b, count(*) AS together
    FROM active AS a
    JOIN active AS b ON a.minute = b.minute AND a.account_id < b.account_id
    GROUP BY ALL
),
co_active AS (
    SELECT s.account_a, s.account_b, s.together, 'co-active minutes' AS basis
    FROM shared AS s
    JOIN sizes AS sa ON sa.account_id = s.account_a
    JOIN sizes AS sb ON sb.account_id = s.account_b
    WHERE s.together >= $sync_min_minutes
      AND s.together >= $sync_min_overlap * least(sa.minutes, sb.minutes)
),
start_expected AS (
    SELECT j.account_a, j.account_b, j.together, sum(w.n * l.n) / 60.0 AS lam
    FROM launch_pairs AS j
    JOIN launch_hours AS w ON w.account_id = j.walked
    JOIN launch_hours AS l ON l.account_id = j.looked_up AND l.hour = w.hour
    GROUP BY ALL
),
start_tests AS (
    SELECT account_a, account_b, together, poisson_tail(together, lam) AS p,
           (SELECT count(DISTINCT owner) * (count(DISTINCT owner) - 1) / 2
            FROM account_owners) AS m
    FROM start_expected
),
co_launched AS (
    SELECT account_a, account_b, together, 'same-minute session starts' AS basis
    FROM (SELECT *, bh_q(p, i, m, 1) AS q
          FROM (SELECT *, row_number() OVER (ORDER BY p, account_a, account_b) AS i
                FROM start_tests))
    WHERE q <= $fdr
)
SELECT * FROM co_active
UNION ALL
SELECT * FROM co_launched;

DROP TABLE launch_starts;
DROP TABLE launch_hours;
DROP TABLE launch_pairs;
