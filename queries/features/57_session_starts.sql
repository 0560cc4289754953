-- Session starts, the first of three files that find the pairs of accounts that start sessions
-- in the same minutes, with what chance predicts for each pair: read by the
-- co_launched_sessions heuristic, which tests them (its header gives the null model and why),
-- and by linking's synchronised-timing pairs (linking/25_sync_pairs.sql).
--
--   57_session_starts.sql (this file): the starts, each judged account's starts per hour, and
--     an empty table of pair counts;
--   58_session_start_pass.sql: the pairs of one share of the accounts, run once per pass
--     (forensics/features.py: as many passes as keep each within the memory limit);
--   59_session_start_pairs.sql: the pairs to judge and what chance predicts for each.
--
-- Why tables and not steps of one statement: the pairs are a self-join of every session start
-- on its minute, and what chance predicts for a pair is summed over the hours both accounts
-- were active. Inside one statement the planner sees these steps as common table expressions
-- whose sizes it cannot know, and it built its hash table on the hours of every judged pair
-- (billions of rows on a log of ten million requests) instead of on the hour counts. As
-- tables, each step is planned on its true size.
--
-- session_starts: an account's first turns (turn_index 0), one per account and minute, with
--   the earliest request of that minute (the evidence) and the account's owner: one
--   organisation's accounts are one owner, numbered by its first account, so pairs compare
--   integers.
-- session_start_hours: how many minutes with a session start each account has in each hour,
--   for the accounts with at least $min_sessions starts (the judged ones).
-- session_start_accounts: per judged account, its starts, the hours it started sessions in,
--   the most starts in one hour and the sum of squares of its starts per hour: what bounds a
--   pair's expectation without walking its hours (59_session_start_pairs.sql).
-- session_start_pair_counts: filled by the passes.
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

CREATE OR REPLACE TABLE session_start_accounts AS
SELECT account_no, CAST(sum(n) AS BIGINT) AS starts, count(*) AS hours, max(n) AS busiest,
       CAST(sum(n * n) AS BIGINT) AS squares
FROM session_start_hours
GROUP BY ALL;

-- a_no, b_no and shared are NULL on the one row per pass that counts the pairs sharing fewer
-- than $min_shared minutes.
CREATE OR REPLACE TABLE session_start_pair_counts (
    a_no INTEGER, b_no INTEGER, shared BIGINT, pairs BIGINT
);
