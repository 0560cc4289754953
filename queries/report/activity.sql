-- The report's one scan of request_features: requests per (series, hour, model, capability),
-- where series is the cluster id for the clusters the dossier charts or reports ($clusters)
-- and '' for everything else. The traffic, hour-of-week, capability, pivot and per-cluster
-- timeline charts all read this table instead of scanning every request again: at 10 M
-- requests each scan costs about a second, and the table has at most a few hundred thousand
-- rows whatever the input size. Every other query of this folder that reads it sums whole
-- hours, so their buckets must be whole hours too (they are: see assemble._bucket_hours).
CREATE OR REPLACE TEMP TABLE report_activity AS
SELECT
    CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
         THEN m.cluster_id ELSE '' END AS series,
    date_trunc('hour', f.ts) AS hour,
    f.model,
    f.capability,
    count(*) AS requests,
    min(f.ts) AS first_ts,
    max(f.ts) AS last_ts
FROM request_features AS f
-- joined on the integer account_no, not the id string: a quarter faster at 10 M requests
JOIN (SELECT a.account_no, m.cluster_id
      FROM cluster_members AS m
      JOIN account_activity AS a USING (account_id)) AS m USING (account_no)
GROUP BY ALL;
