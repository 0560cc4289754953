-- Share of each series' requests per capability class (features lexicon), reported clusters
-- against all other traffic ('').
WITH tagged AS (
    SELECT
        f.capability,
        CASE WHEN list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id)
             THEN m.cluster_id ELSE '' END AS series
    FROM request_features AS f
    JOIN cluster_members AS m USING (account_id)
)
SELECT series, capability,
       round(count(*) / sum(count(*)) OVER (PARTITION BY series), 4) AS share
FROM tagged
GROUP BY series, capability
ORDER BY series, share DESC, capability;
