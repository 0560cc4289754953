-- The evidence request ids named by the fired rows of each reported cluster ($clusters), in
-- id order, the first $limit of each: the requests whose text the cluster's evidence exhibit
-- shows. One query for all the clusters: each read of the signals costs time that grows
-- with the log, once per cluster.
WITH named AS (
    SELECT DISTINCT cluster_id, request_id
    FROM (SELECT m.cluster_id, unnest(s.evidence) AS request_id
          FROM signals AS s
          JOIN cluster_members AS m USING (account_id)
          WHERE list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id))
    WHERE request_id IS NOT NULL AND request_id <> ''
)
SELECT cluster_id, request_id
FROM named
QUALIFY row_number() OVER (PARTITION BY cluster_id ORDER BY request_id) <= $limit
ORDER BY cluster_id, request_id;
