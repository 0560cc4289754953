-- Pairs of accounts, among those the synchronised-timing heuristic fired, whose active minutes
-- coincide: the load-balancing signature ("synchronized traffic across accounts … coordinated
-- timing", Anthropic 2026-02-23). Restricted to fired accounts, so the self-join stays small.
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
)
SELECT s.account_a, s.account_b, s.together
FROM shared AS s
JOIN sizes AS sa ON sa.account_id = s.account_a
JOIN sizes AS sb ON sb.account_id = s.account_b
WHERE s.together >= $sync_min_minutes
  AND s.together >= $sync_min_overlap * least(sa.minutes, sb.minutes);
