-- One round of label propagation over the checked near-duplicate pairs (30): every skeleton
-- takes the smallest group id among itself and the skeletons it is a near-duplicate of. The
-- caller repeats it (forensics/features.py, TEMPLATE_ROUNDS). Group ids are skeleton ids
-- (md5-based), so they are stable across runs.
CREATE OR REPLACE TABLE template_groups_next AS
WITH neighbours AS (
    SELECT first_id AS skeleton_id, second_id AS neighbour_id FROM skeleton_pairs
    UNION ALL
    SELECT second_id, first_id FROM skeleton_pairs
),
proposals AS (
    SELECT n.skeleton_id, min(g.template_id) AS template_id
    FROM neighbours AS n
    JOIN template_groups AS g ON g.skeleton_id = n.neighbour_id
    GROUP BY n.skeleton_id
)
SELECT g.skeleton_id, least(g.template_id, coalesce(p.template_id, g.template_id)) AS template_id
FROM template_groups AS g
LEFT JOIN proposals AS p USING (skeleton_id);
