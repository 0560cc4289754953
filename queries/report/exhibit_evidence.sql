-- The evidence request ids named by the fired rows of one cluster, in id order, the first
-- $limit: the requests whose text the cluster's evidence exhibit shows.
SELECT DISTINCT request_id
FROM (SELECT unnest(s.evidence) AS request_id
      FROM signals AS s
      JOIN cluster_members AS m USING (account_id)
      WHERE m.cluster_id = $cluster)
WHERE request_id IS NOT NULL AND request_id <> ''
ORDER BY request_id
LIMIT $limit;
