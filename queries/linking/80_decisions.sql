-- Cluster decisions and confidence (ICD-203 confidence levels). A cluster is an attribution
-- hypothesis, never evidence against a member: each account's flag and confidence come from
-- 62_account_decisions.sql and are only given their final cluster here.
--   cluster flagged: score ≥ $flag_threshold, ≥ 2 families, coordination across owners or
--     flagged members put together by a harvest template (65_attribution.sql) (or a single
--     owner whose one account shows ≥ 2 families and a score ≥ $high_threshold), and at
--     least one member flagged on its own evidence. Its confidence is its best member's.
--   Each of the four conditions is a column of cluster_decisions (strong_score, two_families,
--   joined_by, member_on_own_evidence), so that the dossier says why a cluster was or was not
--   flagged from what was decided here, not from a second statement of the rule.
CREATE OR REPLACE TABLE account_decisions AS
SELECT f.account_id, m.cluster_id, f.flagged, f.confidence, f.facts, f.own_evidence,
       f.hard_linked
FROM account_flags AS f
JOIN cluster_members AS m USING (account_id);

CREATE OR REPLACE TABLE cluster_decisions AS
WITH widest AS (
    SELECT m.cluster_id, max(array_length(s.families)) AS families
    FROM cluster_members AS m
    JOIN account_scores AS s USING (account_id)
    GROUP BY ALL
),
best AS (
    -- The cluster's members flagged on their own evidence, and their best confidence.
    SELECT cluster_id,
           count(*) FILTER (WHERE own_evidence) AS own_members,
           max(CASE confidence WHEN 'high' THEN 2 WHEN 'moderate' THEN 1 ELSE 0 END)
               FILTER (WHERE flagged) AS best_rank
    FROM account_decisions
    GROUP BY ALL
),
conditions AS (
    SELECT
        c.cluster_id, c.score, b.best_rank,
        c.score >= $flag_threshold AS strong_score,
        array_length(c.families) >= 2 AS two_families,
        -- What joins the cluster's owners, the first that holds: 'coordination' across
        -- owners, flagged members' 'harvest_template', or 'one_owner' evidence; NULL if none.
        CASE
            WHEN c.coordinated THEN 'coordination'
            WHEN c.attributed THEN 'harvest_template'
            WHEN c.owners = 1 AND w.families >= 2 AND c.score >= $high_threshold
                THEN 'one_owner'
        END AS joined_by,
        b.own_members > 0 AS member_on_own_evidence
    FROM clusters AS c
    JOIN widest AS w USING (cluster_id)
    JOIN best AS b USING (cluster_id)
),
decided AS (
    SELECT *,
           strong_score AND two_families AND joined_by IS NOT NULL
               AND member_on_own_evidence AS flagged
    FROM conditions
)
SELECT
    cluster_id,
    flagged,
    CASE
        WHEN flagged AND best_rank = 2 THEN 'high'
        WHEN flagged THEN 'moderate'
        WHEN score >= $interest_threshold THEN 'low'
        ELSE 'none'
    END AS confidence,
    strong_score,
    two_families,
    joined_by,
    member_on_own_evidence
FROM decided;
