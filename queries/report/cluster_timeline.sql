-- Landmarks of each reported cluster's activity: first and last account creation, first and
-- last request, busiest UTC day, and its share of the cluster's requests.
WITH members AS (
    SELECT account_id, cluster_id FROM cluster_members
    WHERE list_contains(CAST($clusters AS VARCHAR[]), cluster_id)
),
created AS (
    SELECT m.cluster_id, min(a.created_at) AS first_created, max(a.created_at) AS last_created,
           count(a.created_at) AS with_creation
    FROM members AS m
    JOIN accounts AS a USING (account_id)
    GROUP BY ALL
),
days AS (
    SELECT series AS cluster_id, CAST(hour AS DATE) AS day, sum(requests) AS requests
    FROM report_activity
    WHERE list_contains(CAST($clusters AS VARCHAR[]), series)
    GROUP BY ALL
),
peak AS (
    SELECT cluster_id, arg_max(day, (requests, -epoch(day))) AS peak_day,
           max(requests) AS peak_requests, sum(requests) AS requests, count(*) AS active_days
    FROM days
    GROUP BY ALL
),
span AS (
    SELECT series AS cluster_id, min(first_ts) AS first_request, max(last_ts) AS last_request
    FROM report_activity
    WHERE list_contains(CAST($clusters AS VARCHAR[]), series)
    GROUP BY ALL
)
SELECT s.cluster_id, c.first_created, c.last_created, c.with_creation, s.first_request,
       s.last_request, p.peak_day, p.peak_requests, p.requests, p.active_days
FROM span AS s
JOIN peak AS p USING (cluster_id)
LEFT JOIN created AS c USING (cluster_id)
ORDER BY s.cluster_id;
