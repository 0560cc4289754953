-- One pass over the pairs of judged accounts (57_session_starts.sql) that started a session
-- in the same minute: those whose first account falls in this pass ($pass of $passes). It
-- adds the pairs sharing at least $min_shared minutes, one row each, and one row (with no
-- accounts) counting the rest.
--
-- Why passes: on a log of fifty million requests the self-join on the minute is billions of
-- rows and its pairs over a billion; counting them at once holds every pair and spilled tens
-- of gigabytes. Each pass counts a disjoint share of the pairs (split on the first account),
-- so the union of the passes is the same rows whatever their number.
INSERT INTO session_start_pair_counts
WITH judged AS (
    SELECT s.account_no, s.minute, s.owner_no
    FROM session_starts AS s
    WHERE s.account_no IN (SELECT account_no FROM session_start_accounts)
),
co AS (
    SELECT a.account_no AS a_no, b.account_no AS b_no, count(*) AS shared
    FROM judged AS a
    JOIN judged AS b ON b.minute = a.minute AND b.account_no > a.account_no
    WHERE a.owner_no <> b.owner_no AND a.account_no % $passes = $pass
    GROUP BY ALL
)
SELECT CASE WHEN shared >= $min_shared THEN a_no END AS a_no,
       CASE WHEN shared >= $min_shared THEN b_no END AS b_no,
       CASE WHEN shared >= $min_shared THEN shared END AS shared,
       count(*) AS pairs
FROM co
GROUP BY ALL;
