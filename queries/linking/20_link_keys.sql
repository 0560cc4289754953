-- Everything two accounts can share, as (account, kind, key). A request attribute counts for
-- an account only when it carries a real part of its traffic ($min_key_share), so one stray
-- request through a shared NAT does not link two customers.
CREATE OR REPLACE TABLE link_keys AS
WITH traffic AS (
    SELECT account_id, requests AS n FROM account_activity
),
request_keys AS (
    SELECT account_id, 'ip_prefix' AS kind, ip_prefix AS key, CAST(sum(requests) AS BIGINT) AS n
    FROM account_network WHERE ip_prefix IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT account_id, 'user_agent', user_agent, CAST(sum(requests) AS BIGINT)
    FROM account_network WHERE user_agent IS NOT NULL GROUP BY ALL
    UNION ALL
    -- First turns only: follow-ups and tool results are shared by everybody.
    SELECT t.account_id, 'template', t.template_id, t.first_turns
    FROM account_templates AS t
    JOIN skeletons AS s ON s.skeleton_id = t.template_id
    WHERE length(s.head) >= $min_template_chars AND t.first_turns > 0
)
SELECT k.account_id, k.kind, k.key
FROM request_keys AS k
JOIN traffic AS t USING (account_id)
WHERE k.n >= $min_key_requests AND k.n >= $min_key_share * t.n
UNION ALL
SELECT account_id, 'payment', payment_fingerprint FROM accounts
WHERE payment_fingerprint IS NOT NULL
UNION ALL
SELECT account_id, 'email_domain', lower(email_domain) FROM accounts
WHERE email_domain IS NOT NULL
UNION ALL
-- IPv4 sign-ups only (a /24; an IPv6 sign-up's /48 is no link key).
SELECT account_id, 'signup_prefix', signup_prefix FROM account_signups
WHERE signup_prefix LIKE '%/24'
UNION ALL
-- Creation burst: created in the same $burst_hours window with the same e-mail domain, for
-- domains that are not common among all accounts (a burst of webmail sign-ups is ordinary).
SELECT account_id, 'creation_burst',
       strftime(time_bucket(to_hours($burst_hours), created_at), '%Y-%m-%dT%H') || ' '
           || lower(email_domain)
FROM (SELECT *, count(*) OVER (PARTITION BY lower(email_domain)) / count(*) OVER () AS share
      FROM accounts WHERE email_domain IS NOT NULL)
WHERE share <= $max_burst_domain_share
UNION ALL
-- An analyst indicator of identity (a card, an account) ties its accounts to the actor. One of
-- a network or a client (an IP, a CIDR, a user agent, an e-mail domain) names something others
-- can share, a residential-proxy range above all: it links like the network it names, by its
-- own value and weighed by how rare it is, never by the actor it is filed under.
SELECT account_id, 'indicator', actor FROM indicator_hits
WHERE indicator_type IN ('payment_fingerprint', 'account_id')
UNION ALL
SELECT account_id, 'indicator_network', indicator_type || ' ' || value FROM indicator_hits
WHERE indicator_type NOT IN ('payment_fingerprint', 'account_id');
