-- Exhibit: every account of one cluster with its sign-up attributes, traffic and decision.
-- $limit: NULL for the exhibit; the dossier's member table reads only its first rows.
-- core_hops: links between the account and the cluster's core (0: in the core).
SELECT
    f.account_id, f.cluster_id, f.flagged, f.confidence, f.score, f.core_hops,
    array_to_string(f.families, ';') AS families,
    array_to_string(f.heuristics, ';') AS heuristics,
    array_to_string(f.benign_heuristics, ';') AS benign_heuristics,
    f.actor, f.org_id, a.created_at, a.email_domain, a.payment_fingerprint,
    a.billing_country, a.tier, a.signup_ip, f.requests, f.tokens, f.first_seen, f.last_seen
FROM account_findings AS f
LEFT JOIN report_accounts AS a USING (account_id)  -- member_accounts.sql
WHERE f.cluster_id = $cluster
ORDER BY f.score DESC, f.requests DESC, f.account_id
LIMIT $limit;
