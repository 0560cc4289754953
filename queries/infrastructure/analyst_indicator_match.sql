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
  infrastructure indicators", with corroboration from industry partners. A match ties an account
  to infrastructure already attributed to an actor. Strength by type: account id 1.0, payment
  fingerprint 0.95, exact IP 0.9, CIDR block 0.75, e-mail domain 0.7, user agent 0.6 (broader
  indicators can cover innocent neighbours), plus 0.05 for each further indicator matched.
falsepositives:
  - Stale indicators (an IP or CIDR block reassigned since it was attributed; residential, cloud)
  - A broad indicator (public e-mail domain, common user agent, large CIDR block) supplied by mistake
references:
  - anthropic-2026
requires:
  indicators: [indicator_type, value, actor]
params: {}
weight: 0.9
---*/
WITH strength(indicator_type, strength) AS (
    VALUES ('account_id', 1.0), ('payment_fingerprint', 0.95), ('ip', 0.9), ('cidr', 0.75),
           ('email_domain', 0.7), ('user_agent', 0.6)
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
    FROM (SELECT DISTINCT account_id, indicator_type, value, actor, origin, requests
          FROM indicator_hits) AS m
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
    LEFT JOIN (SELECT DISTINCT account_id, matched_ip FROM indicator_hits
               WHERE matched_ip IS NOT NULL) AS h_ip
      ON h_ip.account_id = r.account_id AND h_ip.matched_ip = lower(trim(r.ip))
    LEFT JOIN (SELECT DISTINCT account_id, matched_agent FROM indicator_hits
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
