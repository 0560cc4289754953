-- Template skeletons: one row per distinct masked prompt head, with how widely it is used.
CREATE OR REPLACE TABLE skeletons AS
SELECT
    skeleton_id,
    any_value(skeleton_head) AS head,
    count(*) AS requests,
    count(DISTINCT account_id) AS accounts
FROM request_features_raw
GROUP BY ALL;
