-- One round of label propagation: each account takes the smallest label among itself, the
-- accounts of its owner and the accounts it is strongly linked to. Repeated until stable, this
-- gives connected components over strong links (accounts of one owner always together).
-- Then each account also takes its label's own label when smaller (pointer jumping): a label
-- is an account of the same component, so the fixed point is the same, reached in fewer
-- rounds on the long chains of a proxy network.
CREATE OR REPLACE TABLE cluster_labels_next AS
WITH strong AS (
    SELECT account_a, account_b FROM pair_weights WHERE weight >= $min_link_weight
),
neighbour AS (
    SELECT s.account_a AS account_id, l.label FROM strong AS s
    JOIN cluster_labels AS l ON l.account_id = s.account_b
    UNION ALL
    SELECT s.account_b, l.label FROM strong AS s
    JOIN cluster_labels AS l ON l.account_id = s.account_a
    UNION ALL
    SELECT o.account_id, min(l.label) OVER (PARTITION BY o.owner)
    FROM account_owners AS o
    JOIN cluster_labels AS l USING (account_id)
),
stepped AS MATERIALIZED (
    SELECT l.account_id, least(l.label, coalesce(min(n.label), l.label)) AS label
    FROM cluster_labels AS l
    LEFT JOIN neighbour AS n USING (account_id)
    GROUP BY l.account_id, l.label
)
SELECT s.account_id, least(s.label, coalesce(j.label, s.label)) AS label
FROM stepped AS s
LEFT JOIN stepped AS j ON j.account_id = s.label;
