-- findings.parquet: one row per account seen in the logs, in a fixed order.
-- The actor is the one whose indicators the account matches, else its flagged cluster's.
-- core_hops: links between the account and its cluster's core (0: in the core).
CREATE OR REPLACE TABLE account_findings AS
WITH own_actor AS (
    SELECT account_id, min(actor) AS actor FROM indicator_hits GROUP BY ALL
),
cluster_actor AS (
    SELECT m.cluster_id, arg_max(h.actor, (n, h.actor)) AS actor
    FROM (SELECT account_id, actor, count(*) OVER (PARTITION BY actor) AS n
          FROM indicator_hits) AS h
    JOIN cluster_members AS m USING (account_id)
    GROUP BY ALL
)
SELECT
    d.account_id,
    d.cluster_id,
    s.score,
    d.confidence,
    d.flagged,
    s.families,
    d.facts,
    d.own_evidence,
    d.hard_linked,
    m.core_hops,
    s.heuristics,
    s.benign_heuristics,
    coalesce(oa.actor, CASE WHEN cd.flagged THEN ca.actor END) AS actor,
    o.org_id,
    o.requests,
    o.tokens,
    o.first_seen,
    o.last_seen
FROM account_decisions AS d
JOIN account_scores AS s USING (account_id)
JOIN account_owners AS o USING (account_id)
JOIN cluster_decisions AS cd USING (cluster_id)
JOIN cluster_members AS m USING (account_id, cluster_id)
LEFT JOIN own_actor AS oa USING (account_id)
LEFT JOIN cluster_actor AS ca USING (cluster_id)
ORDER BY d.flagged DESC, s.score DESC, d.account_id;
