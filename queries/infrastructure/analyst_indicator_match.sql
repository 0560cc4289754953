/*---
id: analyst_indicator_match
title: Match on analyst-supplied indicators
family: infrastructure
level: high
status: experimental
description: >
  Detects accounts that match indicators supplied by analysts or partners (the indicators
  table): an exact IP (request IP or sign-up IP), an IPv4 CIDR block containing one of them, the
  sign-up e-mail domain (or a subdomain of it), the payment fingerprint, the account id, or an
  exact user agent. The detail names the actor and the indicators matched. IPv4 CIDR containment
  is computed on the dotted quad as a 32-bit number (no inet extension offline); IPv6 addresses
  match exact ip indicators only (IPv6 CIDR blocks are not evaluated). Without an indicators
  table the heuristic is skipped.
rationale: >
  Anthropic (2026-02-23) names sharing indicators with other labs and authorities among its
  countermeasures and attributes campaigns "through IP address correlation, request metadata,
  infrastructure indicators", with corroboration from industry partners (domain.md §1). A match ties an account to infrastructure already attributed to an actor. Strength by type:
  account id 1.0, payment fingerprint 0.95, exact IP 0.9, CIDR block 0.75, e-mail domain 0.7,
  user agent 0.6 (broader indicators can cover innocent neighbours), plus 0.05 for each further
  indicator matched.
falsepositives:
  - Stale indicators (an IP or CIDR block reassigned since it was attributed; residential, cloud)
  - A broad indicator (public e-mail domain, common user agent, large CIDR block) supplied by mistake
references:
  - Anthropic, Detecting and preventing distillation attacks (2026-02-23)
  - domain.md §1 (countermeasures, sharing indicators), §3 Infrastructure
requires:
  indicators: [indicator_type, value, actor]
params: {}
weight: 0.9
---*/
WITH indicator AS (
    SELECT DISTINCT
        lower(trim(indicator_type)) AS indicator_type,
        trim(value) AS value,
        coalesce(nullif(trim(actor), ''), 'an unnamed actor') AS actor
    FROM indicators
    WHERE nullif(trim(value), '') IS NOT NULL
),
strength(indicator_type, strength) AS (
    VALUES ('account_id', 1.0), ('payment_fingerprint', 0.95), ('ip', 0.9), ('cidr', 0.75),
           ('email_domain', 0.7), ('user_agent', 0.6)
),
ip_values AS (
    -- Every distinct address seen: request IPs and sign-up IPs (matched once, not per row).
    SELECT DISTINCT lower(trim(ip)) AS ip
    FROM request_features
    WHERE nullif(trim(ip), '') IS NOT NULL
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
    JOIN ip_hits AS h ON h.ip = lower(trim(r.ip))
    GROUP BY ALL
    UNION ALL
    SELECT r.account_id, 'user_agent', i.value, i.actor, count(*), NULL, r.user_agent
    FROM request_features AS r
    JOIN indicator AS i ON i.indicator_type = 'user_agent' AND trim(r.user_agent) = i.value
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
),
described AS (
    SELECT
        m.*,
        s.strength,
        format('{} {}{}', m.indicator_type, m.value,
               CASE WHEN m.origin = 'sign-up' AND m.indicator_type = 'email_domain'
                        THEN ' (sign-up e-mail)'
                    WHEN m.origin = 'sign-up' THEN ' (sign-up IP)'
                    WHEN m.requests IS NOT NULL THEN format(' ({:d} requests)', m.requests)
                    ELSE '' END) AS description
    FROM (SELECT account_id, indicator_type, value, actor, origin,
                 CAST(sum(requests) AS BIGINT) AS requests
          FROM matches
          GROUP BY ALL) AS m
    JOIN strength AS s USING (indicator_type)
),
per_account AS (
    SELECT
        account_id,
        count(DISTINCT (indicator_type, value)) AS indicators,
        max(strength) AS strength,
        array_to_string(list_sort(list(DISTINCT actor))[1:3], ', ') AS actors,
        count(DISTINCT actor) AS actor_count,
        array_to_string(max_by(description, (strength, description), 3), '; ') AS matched
    FROM described
    GROUP BY account_id
),
evidence AS (
    -- Requests that carry a matched IP or user agent first, then the first requests.
    SELECT
        r.account_id,
        max_by(r.request_id,
               (h_ip.account_id IS NOT NULL OR h_ua.account_id IS NOT NULL,
                -epoch(r.ts), r.request_id), 10) AS evidence
    FROM request_features AS r
    SEMI JOIN per_account AS p USING (account_id)
    LEFT JOIN (SELECT DISTINCT account_id, matched_ip FROM request_hits
               WHERE matched_ip IS NOT NULL) AS h_ip
      ON h_ip.account_id = r.account_id AND h_ip.matched_ip = lower(trim(r.ip))
    LEFT JOIN (SELECT DISTINCT account_id, matched_agent FROM request_hits
               WHERE matched_agent IS NOT NULL) AS h_ua
      ON h_ua.account_id = r.account_id AND h_ua.matched_agent = r.user_agent
    GROUP BY r.account_id
)
SELECT
    p.account_id,
    least(1.0, p.strength + 0.05 * (p.indicators - 1)) AS score,
    CAST(p.indicators AS DOUBLE) AS metric,
    format('matches {:d} analyst indicator(s) attributed to {}{}: {}',
           p.indicators, p.actors,
           CASE WHEN p.actor_count > 3 THEN format(' and {:d} more actors', p.actor_count - 3)
                ELSE '' END,
           p.matched) AS detail,
    e.evidence
FROM per_account AS p
JOIN evidence AS e USING (account_id)
ORDER BY p.account_id
