-- For each series, the share of its requests carried by its top three prompt templates
-- (MinHash template groups), and how many distinct templates it used.
WITH per_template AS (
    SELECT
        CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
             THEN m.cluster_id ELSE '' END AS series,
        t.template_id,
        sum(t.requests) AS requests
    FROM account_templates AS t
    JOIN cluster_members AS m USING (account_id)
    GROUP BY ALL
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
