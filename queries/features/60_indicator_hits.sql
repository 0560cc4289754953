-- Analyst indicators matched against accounts, once: read by the analyst_indicator_match
-- heuristic and by attribution in linking. Request IPs, sign-up IPs, IPv4 CIDR containment
-- (done arithmetically: no inet extension offline), e-mail domains with their subdomains,
-- payment fingerprints, account ids and exact user agents.
CREATE OR REPLACE TABLE indicator_hits AS
WITH indicator AS (
    SELECT DISTINCT
        lower(trim(indicator_type)) AS indicator_type,
        trim(value) AS value,
        coalesce(nullif(trim(actor), ''), 'an unnamed actor') AS actor
    FROM indicators
    WHERE nullif(trim(value), '') IS NOT NULL
),
request_ips AS MATERIALIZED (
    -- Every distinct address as written in the requests, normalised once per address rather
    -- than once per request; the request side below joins on the address as written.
    SELECT ip AS raw_ip, lower(trim(ip)) AS ip
    FROM (SELECT DISTINCT ip FROM request_features)
    WHERE nullif(trim(ip), '') IS NOT NULL
),
request_agents AS MATERIALIZED (
    SELECT user_agent AS raw_agent, trim(user_agent) AS agent
    FROM (SELECT DISTINCT user_agent FROM request_features)
    WHERE user_agent IS NOT NULL
),
ip_values AS (
    -- Every distinct address seen: request IPs and sign-up IPs (matched once, not per row).
    SELECT DISTINCT ip FROM request_ips
    UNION
    SELECT lower(trim(signup_ip))
    FROM accounts
    WHERE nullif(trim(signup_ip), '') IS NOT NULL
),
v4_values AS (
    SELECT ip, o[1] * 16777216 + o[2] * 65536 + o[3] * 256 + o[4] AS ip_number
    FROM (SELECT ip, list_transform(string_split(ip, '.'), lambda x: TRY_CAST(x AS BIGINT)) AS o
          FROM ip_values
          WHERE regexp_full_match(ip, '\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}'))
    WHERE list_max(o) <= 255
),
cidr AS (
    SELECT actor, value, bits,
           (o[1] * 16777216 + o[2] * 65536 + o[3] * 256 + o[4]) >> (32 - bits) AS network
    FROM (SELECT actor, value,
                 list_transform(string_split(split_part(value, '/', 1), '.'),
                                lambda x: TRY_CAST(x AS BIGINT)) AS o,
                 CASE WHEN contains(value, '/') THEN TRY_CAST(split_part(value, '/', 2) AS BIGINT)
                      ELSE 32 END AS bits
          FROM indicator
          WHERE indicator_type = 'cidr'
            AND regexp_full_match(value, '\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(/\d{1,2})?'))
    WHERE list_max(o) <= 255 AND bits BETWEEN 0 AND 32
),
ip_hits AS (
    -- Addresses that match an ip indicator exactly or lie inside a cidr block.
    SELECT v.ip, 'ip' AS indicator_type, i.value, i.actor
    FROM ip_values AS v
    JOIN indicator AS i ON i.indicator_type = 'ip' AND lower(i.value) = v.ip
    UNION ALL
    SELECT v.ip, 'cidr', c.value, c.actor
    FROM v4_values AS v
    CROSS JOIN (SELECT DISTINCT bits FROM cidr) AS b
    JOIN cidr AS c ON c.bits = b.bits AND c.network = v.ip_number >> (32 - b.bits)
),
request_hits AS (
    -- Requests carrying a matched address or user agent, per account.
    SELECT r.account_id, h.indicator_type, h.value, h.actor, count(*) AS requests,
           h.ip AS matched_ip, NULL AS matched_agent
    FROM request_features AS r
    JOIN (SELECT v.raw_ip, h.* FROM request_ips AS v JOIN ip_hits AS h USING (ip)) AS h
      ON h.raw_ip = r.ip
    GROUP BY ALL
    UNION ALL
    SELECT r.account_id, 'user_agent', i.value, i.actor, count(*), NULL, r.user_agent
    FROM request_features AS r
    JOIN (SELECT g.raw_agent, i.value, i.actor
          FROM request_agents AS g
          JOIN indicator AS i ON i.indicator_type = 'user_agent' AND g.agent = i.value) AS i
      ON i.raw_agent = r.user_agent
    GROUP BY ALL
),
matches AS (
    SELECT account_id, indicator_type, value, actor, 'request' AS origin, requests
    FROM request_hits
    UNION ALL
    SELECT a.account_id, h.indicator_type, h.value, h.actor, 'sign-up', NULL
    FROM accounts AS a
    JOIN ip_hits AS h ON h.ip = lower(trim(a.signup_ip))
    UNION ALL
    SELECT a.account_id, 'email_domain', i.value, i.actor, 'sign-up', NULL
    FROM accounts AS a
    JOIN indicator AS i
      ON i.indicator_type = 'email_domain'
     AND (lower(trim(a.email_domain)) = lower(i.value)
          OR ends_with(lower(trim(a.email_domain)), '.' || lower(i.value)))
    UNION ALL
    SELECT a.account_id, 'payment_fingerprint', i.value, i.actor, 'account', NULL
    FROM accounts AS a
    JOIN indicator AS i
      ON i.indicator_type = 'payment_fingerprint' AND trim(a.payment_fingerprint) = i.value
    UNION ALL
    SELECT a.account_id, 'account_id', i.value, i.actor, 'account', NULL
    FROM accounts AS a
    JOIN indicator AS i ON i.indicator_type = 'account_id' AND a.account_id = i.value
)
SELECT m.account_id, m.indicator_type, m.value, m.actor, m.origin, m.requests,
       r.matched_ip, r.matched_agent
FROM (SELECT account_id, indicator_type, value, actor, origin,
             CAST(sum(requests) AS BIGINT) AS requests
      FROM matches
      GROUP BY ALL) AS m
LEFT JOIN (SELECT DISTINCT account_id, indicator_type, value, matched_ip, matched_agent
           FROM request_hits) AS r USING (account_id, indicator_type, value)
ORDER BY ALL;
