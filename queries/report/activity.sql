-- The charts' one table: requests per (series, hour, model, capability), where series is the
-- cluster id for the clusters the dossier charts or reports ($clusters) and '' for everything
-- else. The traffic, hour-of-week, capability, pivot and per-cluster timeline charts all read
-- this table instead of scanning every request again; it has at most a few hundred thousand
-- rows whatever the input size. Only the clusters' own requests are grouped here (joined on the
-- integer account_no); everything else is the features stage's hourly_traffic less theirs,
-- with no first or last time (only the clusters' series use them). Every other query of this
-- folder that reads it sums whole hours, so their buckets must be whole hours too (they are:
-- see assemble._bucket_hours).
CREATE OR REPLACE TEMP TABLE report_activity AS
WITH members AS (
    SELECT * FROM cluster_member_numbers($clusters)  -- queries/features/05_functions.sql
),
shown AS (
    SELECT
        m.cluster_id AS series,
        date_trunc('hour', f.ts) AS hour,
        f.model,
        f.capability,
        count(*) AS requests,
        min(f.ts) AS first_ts,
        max(f.ts) AS last_ts
    FROM request_features AS f
    JOIN members AS m USING (account_no)
    GROUP BY ALL
),
everything_else AS (
    SELECT '' AS series, t.hour, t.model, t.capability,
           CAST(t.requests - coalesce(s.requests, 0) AS BIGINT) AS requests
    FROM hourly_traffic AS t
    LEFT JOIN (SELECT hour, model, capability, sum(requests) AS requests
               FROM shown
               GROUP BY ALL) AS s USING (hour, model, capability)
)
SELECT * FROM shown
UNION ALL
SELECT series, hour, model, capability, requests, NULL, NULL
FROM everything_else
WHERE requests > 0;
