-- For each series, the share of its requests carried by its top three prompt templates
-- (MinHash template groups), and how many distinct templates it used. The series of the
-- clusters the dossier charts ($clusters) come from their members' rows of account_templates;
-- everything else ('') is the whole log's requests per template (skeletons: one row per
-- distinct prompt skeleton) less theirs, so no row of the other accounts is grouped here.
WITH members AS (
    SELECT account_id, cluster_id FROM cluster_members
    WHERE list_contains(CAST($clusters AS VARCHAR[]), cluster_id)
),
charted AS (
    SELECT m.cluster_id AS series, t.template_id, sum(t.requests) AS requests
    FROM account_templates AS t
    JOIN members AS m USING (account_id)
    GROUP BY ALL
),
everything_else AS (
    SELECT '' AS series, s.template_id, s.requests - coalesce(c.requests, 0) AS requests
    FROM (SELECT template_id, sum(requests) AS requests FROM skeletons GROUP BY ALL) AS s
    LEFT JOIN (SELECT template_id, sum(requests) AS requests FROM charted GROUP BY ALL) AS c
        USING (template_id)
),
per_template AS (
    SELECT * FROM charted
    UNION ALL
    SELECT * FROM everything_else WHERE requests > 0
),
ranked AS (
    SELECT series, template_id, requests,
           requests / sum(requests) OVER (PARTITION BY series) AS share,
           row_number() OVER (PARTITION BY series ORDER BY requests DESC, template_id) AS rank,
           count(*) OVER (PARTITION BY series) AS templates
    FROM per_template
)
SELECT series, rank, template_id, requests, round(share, 4) AS share, templates
FROM ranked
WHERE rank <= 3
ORDER BY series, rank;
