-- One row: how the flagged accounts of findings.parquet (account_findings.flagged) fall
-- against the flagged clusters and the clusters the dossier describes ($clusters), so that the
-- dossier states the same count as the findings (see queries/linking/80_decisions.sql for
-- why an account can be flagged outside a flagged cluster, or not flagged inside one).
-- Of the flagged accounts in clusters that were not flagged, how many stand on their own
-- evidence (62_account_decisions.sql: account_findings.own_evidence); the others were flagged
-- for one fact of their own and a hard link to another owner's account.
SELECT
    count(*) FILTER (WHERE f.flagged) AS flagged,
    count(*) FILTER (WHERE f.flagged AND d.flagged) AS in_flagged_clusters,
    count(*) FILTER (WHERE f.flagged AND NOT d.flagged) AS in_unflagged_clusters,
    count(*) FILTER (WHERE f.flagged AND NOT d.flagged AND f.own_evidence)
        AS in_unflagged_clusters_on_own_evidence,
    count(*) FILTER (WHERE d.flagged) AS flagged_cluster_members,
    count(*) FILTER (WHERE d.flagged AND NOT f.flagged) AS members_not_flagged,
    count(*) FILTER (WHERE f.flagged
                     AND NOT list_contains(CAST($clusters AS VARCHAR[]), f.cluster_id))
        AS outside_described
FROM account_findings AS f
JOIN cluster_decisions AS d USING (cluster_id);
