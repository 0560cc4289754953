-- Pairs of accounts whose timing is synchronised, on either of two grounds (the `sync` link
-- kind; "synchronized traffic across accounts … coordinated timing", Anthropic 2026-02-23):
--
-- co-active minutes: among accounts the load-balancing heuristic fired, pairs whose active
--   minutes coincide for a large share of the smaller one's minutes (one harvest spread
--   across accounts).
-- same-minute session starts: among accounts the co-launch heuristic fired, the pairs it
--   judged (features/59_session_start_pairs.sql: sharing at least three start minutes, among
--   each account's ten strongest partners) that opened sessions (first turns) in the same
--   minutes more often than chance allows, under the null model of the `sync` link kind
--   (starts at random minutes within the hours each account is active) and a
--   Benjamini-Hochberg false discovery rate of $fdr over every pair of owners. This is what
--   ties a controller's accounts that launch work together but share no card, network,
--   client or organisation.
--
-- Both are restricted to fired accounts, so the self-join stays small. The session-start
-- pairs are the heuristic's own, not counted again here: on a log of fifty million requests
-- the accounts it fires are tens of thousands, and every pair of them that ever started a
-- session in the same minute was billions of hour lookups. A pair not judged counts as not
-- significant in a family that still counts it (every pair of owners), so a link found is
-- one the test of every pair finds too.
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
launchers AS (
    SELECT a.account_id, a.account_no, o.owner
    FROM account_activity AS a
    JOIN account_owners AS o USING (account_id)
    SEMI JOIN signals AS s
        ON s.account_id = a.account_id AND s.heuristic_id = $co_launch_heuristic
),
start_tests AS (
    -- account_no follows account_id, so account_a < account_b as in the co-active pairs.
    SELECT la.account_id AS account_a, lb.account_id AS account_b, p.shared AS together,
           poisson_tail(p.shared, p.expected) AS p,
           (SELECT count(DISTINCT owner) * (count(DISTINCT owner) - 1) / 2
            FROM account_owners) AS m
    FROM session_start_pairs AS p
    JOIN launchers AS la ON la.account_no = p.a_no
    JOIN launchers AS lb ON lb.account_no = p.b_no
    WHERE la.owner <> lb.owner
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
