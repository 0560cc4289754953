-- Every raw identifier of the inputs with its kind, for pseudonymisation and the public
-- profile's leak check. Request identifiers come from the feature table (no log text read).
-- Cluster ids are included: they are an md5 prefix of a member's account id.
SELECT DISTINCT kind, value FROM (
    SELECT 'account' AS kind, account_id AS value FROM accounts
    UNION ALL SELECT 'account', account_id FROM request_features
    UNION ALL SELECT 'api_key', api_key_id FROM request_features
    UNION ALL SELECT 'org', org_id FROM request_features
    UNION ALL SELECT 'org', org_id FROM accounts
    UNION ALL SELECT 'email_domain', email_domain FROM accounts
    UNION ALL SELECT 'payment', payment_fingerprint FROM accounts
    UNION ALL SELECT 'ip', signup_ip FROM accounts
    UNION ALL SELECT 'ip', ip FROM request_features
    UNION ALL SELECT 'user_agent', user_agent FROM request_features
    UNION ALL SELECT 'ip_prefix', ip_prefix FROM request_features
    -- Every sign-up network, IPv6 /48 included: heuristics name them in detail lines.
    UNION ALL SELECT 'ip_prefix', signup_prefix FROM account_signups
    UNION ALL SELECT 'ip', value FROM indicators WHERE lower(indicator_type) IN ('ip', 'cidr')
    UNION ALL SELECT 'email_domain', value FROM indicators
        WHERE lower(indicator_type) = 'email_domain'
    UNION ALL SELECT 'payment', value FROM indicators
        WHERE lower(indicator_type) = 'payment_fingerprint'
    UNION ALL SELECT 'account', value FROM indicators WHERE lower(indicator_type) = 'account_id'
    UNION ALL SELECT 'user_agent', value FROM indicators
        WHERE lower(indicator_type) = 'user_agent'
    UNION ALL SELECT 'cluster', cluster_id FROM cluster_members
)
WHERE value IS NOT NULL
ORDER BY kind, value;
