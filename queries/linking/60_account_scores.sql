-- Account scores from the heuristics that fired. Within a family the heuristics combine as a
-- noisy-OR of weight × score; families combine the same way; benign indicators (public test
-- sets …) then scale the result down. A family only counts as "independent evidence" when a
-- heuristic of at least $family_min_weight fired in it (weak hints do not make a family).
-- Each product multiplies its factors in one stated order (floating point multiplication is
-- not associative), so the score is the same double whatever order the rows arrive in, on
-- DuckDB and on Spark.
CREATE OR REPLACE TABLE account_scores AS
WITH family AS (
    SELECT account_id, family,
           1 - product(1 - weight * score ORDER BY weight * score) AS strength,
           max(weight) AS max_weight
    FROM signals
    WHERE NOT benign
    GROUP BY ALL
),
benign AS (
    SELECT account_id, product(1 - weight * score ORDER BY weight * score) AS factor,
           list(heuristic_id ORDER BY heuristic_id) AS benign_heuristics
    FROM signals
    WHERE benign
    GROUP BY ALL
),
fired AS (
    SELECT account_id, list(heuristic_id ORDER BY heuristic_id) AS heuristics
    FROM signals
    WHERE NOT benign
    GROUP BY ALL
),
combined AS (
    SELECT account_id,
           1 - product(1 - strength ORDER BY strength) AS raw,
           list(family ORDER BY family) FILTER (WHERE max_weight >= $family_min_weight)
               AS families
    FROM family
    GROUP BY ALL
)
SELECT
    o.account_id,
    round(coalesce(c.raw, 0) * coalesce(b.factor, 1), 4) AS score,
    round(coalesce(c.raw, 0), 4) AS score_before_benign,
    coalesce(c.families, CAST([] AS VARCHAR[])) AS families,
    coalesce(f.heuristics, CAST([] AS VARCHAR[])) AS heuristics,
    coalesce(b.benign_heuristics, CAST([] AS VARCHAR[])) AS benign_heuristics
FROM account_owners AS o
LEFT JOIN combined AS c USING (account_id)
LEFT JOIN benign AS b USING (account_id)
LEFT JOIN fired AS f USING (account_id);
