-- Decisions and confidence (ICD-203 confidence levels):
--   cluster flagged: score ≥ $flag_threshold, ≥ 2 families, and either coordination across
--     owners, or a single owner (one declared customer) with one account showing ≥ 2 families
--     and a score ≥ $high_threshold: a distiller need not hide, but a customer's several
--     single-purpose accounts (a research group's judge jobs here, its tutoring there) do not
--     add up to a campaign;
--   high confidence: flagged, coordinated, ≥ 2 families, score ≥ $high_threshold;
--   moderate: flagged otherwise; low: not flagged but of interest (score ≥ $interest_threshold).
--   account flagged: its own score ≥ $flag_threshold with ≥ 2 families, or a member of a
--     flagged cluster with a fired heuristic of its own or a coordination link of its own.
CREATE OR REPLACE TABLE cluster_decisions AS
WITH widest AS (
    SELECT m.cluster_id, max(len(s.families)) AS families
    FROM cluster_members AS m
    JOIN account_scores AS s USING (account_id)
    GROUP BY ALL
),
decided AS (
    SELECT
        c.cluster_id, c.score, c.coordinated, len(c.families) AS families,
        c.score >= $flag_threshold AND len(c.families) >= 2
            AND (c.coordinated OR (c.owners = 1 AND w.families >= 2
                                   AND c.score >= $high_threshold)) AS flagged
    FROM clusters AS c
    JOIN widest AS w USING (cluster_id)
)
SELECT
    cluster_id,
    flagged,
    CASE
        WHEN flagged AND coordinated AND score >= $high_threshold THEN 'high'
        WHEN flagged THEN 'moderate'
        WHEN score >= $interest_threshold THEN 'low'
        ELSE 'none'
    END AS confidence
FROM decided;

CREATE OR REPLACE TABLE account_decisions AS
WITH own_links AS (
    SELECT account_a AS account_id FROM pair_weights WHERE weight >= $min_link_weight
    UNION
    SELECT account_b FROM pair_weights WHERE weight >= $min_link_weight
)
SELECT
    s.account_id,
    m.cluster_id,
    (s.score >= $flag_threshold AND len(s.families) >= 2)
        OR (d.flagged AND (len(s.heuristics) > 0 OR l.account_id IS NOT NULL)) AS flagged,
    CASE
        WHEN d.flagged AND (len(s.heuristics) > 0 OR l.account_id IS NOT NULL)
            THEN d.confidence
        WHEN s.score >= $flag_threshold AND len(s.families) >= 2 THEN 'moderate'
        WHEN s.score >= $interest_threshold THEN 'low'
        ELSE 'none'
    END AS confidence
FROM account_scores AS s
JOIN cluster_members AS m USING (account_id)
JOIN cluster_decisions AS d USING (cluster_id)
LEFT JOIN own_links AS l USING (account_id);
