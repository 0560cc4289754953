-- Session starts and the pairs of accounts that start sessions in the same minutes, with what
-- chance predicts for each pair: read by the co_launched_sessions heuristic, which tests
-- them (its header gives the null model and why).
--
-- Why here and not in the heuristic: the pairs are a self-join of every session start on
-- its minute, tens of millions of pairs on a log of ten million requests, and what chance
-- predicts for a pair is summed over the hours both accounts were active. Inside one
-- statement the planner sees these steps as common table expressions whose sizes it cannot
-- know, and it built its hash table on the hours of every judged pair (billions of rows on
-- such a log) instead of on the hour counts: the heuristic ran out of memory or filled the
-- disk with spill. As tables, each step is planned on its true size.
--
-- session_starts: an account's first turns (turn_index 0), one per account and minute, with
--   the earliest request of that minute (the evidence) and the account's owner: one
--   organisation's accounts are one owner, numbered by its first account, so pairs compare
--   integers.
-- session_start_hours: how many minutes with a session start each account has in each hour,
--   for the accounts with at least $min_sessions starts (the judged ones).
-- session_start_pair_count: how many pairs of judged accounts of different owners started a
--   session in at least one same minute: the family the heuristic's Benjamini-Hochberg
--   correction counts (pairs sharing fewer than $min_shared minutes are compared and not
--   significant).
-- session_start_pairs: the pairs sharing at least $min_shared minutes (a_no < b_no), with
--   `shared` minutes and `expected` = sum over hours of n_a(h) * n_b(h) / 60.
CREATE OR REPLACE TABLE session_starts AS
WITH owners AS (
    SELECT account_no,
           CASE WHEN org_id IS NULL THEN account_no
                ELSE min(account_no) OVER (PARTITION BY org_id) END AS owner_no
    FROM account_activity
    WHERE account_id IS NOT NULL
)
SELECT f.account_no, f.minute, o.owner_no, min(f.request_id) AS request_id
FROM request_features AS f
JOIN owners AS o USING (account_no)
WHERE f.turn_index = 0
GROUP BY ALL;

CREATE OR REPLACE TABLE session_start_hours AS
SELECT account_no, minute // 60 AS hour, count(*) AS n
FROM session_starts
WHERE account_no IN (SELECT account_no FROM session_starts GROUP BY account_no
                     HAVING count(*) >= $min_sessions)
GROUP BY ALL;

-- One pass over the pairs: those sharing enough minutes to be judged, one row each, and one
-- row (with no accounts) counting the rest.
CREATE OR REPLACE TABLE session_start_pair_counts AS
WITH judged AS (
    SELECT s.account_no, s.minute, s.owner_no
    FROM session_starts AS s
    WHERE s.account_no IN (SELECT account_no FROM session_start_hours)
),
co AS (
    SELECT a.account_no AS a_no, b.account_no AS b_no, count(*) AS shared
    FROM judged AS a
    JOIN judged AS b ON b.minute = a.minute AND b.account_no > a.account_no
    WHERE a.owner_no <> b.owner_no
    GROUP BY ALL
)
SELECT CASE WHEN shared >= $min_shared THEN a_no END AS a_no,
       CASE WHEN shared >= $min_shared THEN b_no END AS b_no,
       CASE WHEN shared >= $min_shared THEN shared END AS shared,
       count(*) AS pairs
FROM co
GROUP BY ALL;

CREATE OR REPLACE TABLE session_start_pair_count AS
SELECT CAST(coalesce(sum(pairs), 0) AS BIGINT) AS pairs FROM session_start_pair_counts;

-- The hours two accounts share are found by looking each hour of one up in the other's;
-- walking the account active in fewer hours is the same sum for a fraction of the lookups
-- (a busy account pairs with many quiet ones).
CREATE OR REPLACE TABLE session_start_judged_pairs AS
WITH active AS (
    SELECT account_no, count(*) AS hours FROM session_start_hours GROUP BY ALL
)
SELECT c.a_no, c.b_no, c.shared,
       CASE WHEN ha.hours <= hb.hours THEN c.a_no ELSE c.b_no END AS walked,
       CASE WHEN ha.hours <= hb.hours THEN c.b_no ELSE c.a_no END AS looked_up
FROM session_start_pair_counts AS c
JOIN active AS ha ON ha.account_no = c.a_no
JOIN active AS hb ON hb.account_no = c.b_no;

CREATE OR REPLACE TABLE session_start_pairs AS
SELECT j.a_no, j.b_no, j.shared, sum(w.n * l.n) / 60.0 AS expected
FROM session_start_judged_pairs AS j
JOIN session_start_hours AS w ON w.account_no = j.walked
JOIN session_start_hours AS l ON l.account_no = j.looked_up AND l.hour = w.hour
GROUP BY ALL;

DROP TABLE session_start_pair_counts;
DROP TABLE session_start_judged_pairs;
