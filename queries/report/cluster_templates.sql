-- The top templates of each reported cluster, with their masked head (digits masked,
-- lower-cased: a template exemplar) and how widely each is used across all owners.
WITH members AS (
    SELECT account_id, cluster_id FROM cluster_members
    WHERE list_contains(CAST($clusters AS VARCHAR[]), cluster_id)
),
-- account_templates (features stage) has one row per (account, template): rows are accounts.
per_cluster AS (
    SELECT m.cluster_id, t.template_id, sum(t.requests) AS requests, count(*) AS accounts
    FROM account_templates AS t
    JOIN members AS m USING (account_id)
    GROUP BY ALL
),
ranked AS (
    SELECT p.*, row_number() OVER (PARTITION BY p.cluster_id
                                   ORDER BY p.requests DESC, p.template_id) AS rank,
           p.requests / sum(p.requests) OVER (PARTITION BY p.cluster_id) AS share
    FROM per_cluster AS p
    QUALIFY rank <= $top
),
-- Measured only for the templates shown: a large cluster uses thousands.
overall AS (
    SELECT t.template_id, count(DISTINCT o.owner) AS owners_overall,
           count(*) AS accounts_overall
    FROM account_templates AS t
    JOIN account_owners AS o USING (account_id)
    WHERE t.template_id IN (SELECT template_id FROM ranked)
    GROUP BY ALL
),
heads AS (
    SELECT template_id, arg_max(head, (requests, skeleton_id)) AS head
    FROM skeletons
    WHERE template_id IN (SELECT template_id FROM ranked)
    GROUP BY ALL
)
SELECT r.cluster_id, r.rank, r.template_id, r.requests, round(r.share, 4) AS share, r.accounts,
       o.accounts_overall, o.owners_overall, h.head
FROM ranked AS r
JOIN overall AS o USING (template_id)
JOIN heads AS h USING (template_id)
ORDER BY r.cluster_id, r.rank;
