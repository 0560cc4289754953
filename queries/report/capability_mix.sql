-- Share of each series' requests per capability class (lexicon-based, see features).
WITH tagged AS (
    SELECT
        capability,
        CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), series) THEN series ELSE '' END
            AS series,
        requests
    FROM report_activity
)
SELECT series, capability,
       round(sum(requests) / sum(sum(requests)) OVER (PARTITION BY series), 4) AS share
FROM tagged
GROUP BY series, capability
ORDER BY series, share DESC, capability;
