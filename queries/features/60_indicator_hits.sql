-- Analyst indicators matched against accounts, once, for the heuristic that reports them and
-- for attribution. IPv4 CIDR containment is done arithmetically (no inet extension offline).
CREATE OR REPLACE TABLE indicator_hits AS
WITH ind AS (
    SELECT lower(trim(indicator_type)) AS indicator_type, trim(value) AS value,
           actor, coalesce(source, '') AS source
    FROM indicators
    WHERE value IS NOT NULL AND actor IS NOT NULL
),
account_ips AS (
    SELECT DISTINCT account_id, ip FROM request_features WHERE ip IS NOT NULL
    UNION
    SELECT account_id, signup_ip FROM accounts WHERE signup_ip IS NOT NULL
),
ipv4 AS (
    SELECT account_id, ip,
           list_reduce(list_transform(string_split(ip, '.'), lambda p: TRY_CAST(p AS BIGINT)),
                       lambda acc, p: acc * 256 + p) AS n
    FROM account_ips
    WHERE regexp_full_match(ip, '\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}')
),
cidrs AS (
    SELECT ind.*,
           list_reduce(list_transform(string_split(split_part(value, '/', 1), '.'),
                                      lambda p: TRY_CAST(p AS BIGINT)),
                       lambda acc, p: acc * 256 + p) AS net,
           CAST(split_part(value, '/', 2) AS INTEGER) AS bits
    FROM ind
    WHERE indicator_type = 'cidr'
      AND regexp_full_match(value, '\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/\d{1,2}')
),
hits AS (
    SELECT i.account_id, c.actor, c.indicator_type, c.value, c.source
    FROM cidrs AS c
    JOIN ipv4 AS i ON i.n // CAST(pow(2, 32 - c.bits) AS BIGINT)
                      = c.net // CAST(pow(2, 32 - c.bits) AS BIGINT)
    UNION
    SELECT a.account_id, ind.actor, ind.indicator_type, ind.value, ind.source
    FROM ind JOIN account_ips AS a ON ind.indicator_type = 'ip' AND a.ip = ind.value
    UNION
    SELECT a.account_id, ind.actor, ind.indicator_type, ind.value, ind.source
    FROM ind JOIN accounts AS a ON ind.indicator_type = 'email_domain'
                                   AND lower(a.email_domain) = lower(ind.value)
    UNION
    SELECT a.account_id, ind.actor, ind.indicator_type, ind.value, ind.source
    FROM ind JOIN accounts AS a ON ind.indicator_type = 'payment_fingerprint'
                                   AND a.payment_fingerprint = ind.value
    UNION
    SELECT f.account_id, ind.actor, ind.indicator_type, ind.value, ind.source
    FROM ind JOIN (SELECT DISTINCT account_id FROM request_features) AS f
        ON ind.indicator_type = 'account_id' AND f.account_id = ind.value
    UNION
    SELECT u.account_id, ind.actor, ind.indicator_type, ind.value, ind.source
    FROM ind JOIN (SELECT DISTINCT account_id, user_agent FROM request_features
                   WHERE user_agent IS NOT NULL) AS u
        ON ind.indicator_type = 'user_agent' AND u.user_agent = ind.value
)
SELECT DISTINCT * FROM hits;
