-- One round of label propagation over the MinHash band graph: every skeleton takes the
-- smallest group id among skeletons it shares a band key with. Repeated until nothing changes
-- (the caller loops), this yields connected components without building pairwise edges.
-- Group ids are skeleton ids (md5-based), so they are stable across runs.
CREATE OR REPLACE TABLE template_groups_next AS
WITH band_min AS (
    SELECT b.band, b.band_key, min(g.template_id) AS template_id
    FROM skeleton_bands AS b
    JOIN template_groups AS g USING (skeleton_id)
    GROUP BY ALL
    HAVING count(*) > 1
),
proposals AS (
    SELECT b.skeleton_id, min(m.template_id) AS template_id
    FROM skeleton_bands AS b
    JOIN band_min AS m USING (band, band_key)
    GROUP BY ALL
)
SELECT g.skeleton_id, least(g.template_id, coalesce(p.template_id, g.template_id)) AS template_id
FROM template_groups AS g
LEFT JOIN proposals AS p USING (skeleton_id);
