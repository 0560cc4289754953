-- Template skeletons: one row per distinct masked prompt head. Every head of one skeleton_id
-- has the same skeleton (the id is its md5), so any_value is deterministic. How widely each is
-- used (requests, accounts) and its template_id are added after the scan (55).
CREATE OR REPLACE TABLE skeletons AS
SELECT skeleton_id, any_value(skeleton_head) AS head
FROM prompt_heads
WHERE skeleton_id IS NOT NULL  -- a request without a prompt has no skeleton
GROUP BY ALL;
