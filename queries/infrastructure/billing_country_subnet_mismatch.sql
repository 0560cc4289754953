/*---
id: billing_country_subnet_mismatch
title: One network, many billing countries
family: infrastructure
level: medium
status: experimental
description: >
  Detects accounts that share a network (the /24 or IPv6 /48 their direct requests come from,
  or their sign-up subnet) with other unrelated owners who declare several different billing
  countries. A small network sits in one place, so when its owners claim to be billed in three
  or more countries, most of those declarations do not match where the traffic comes from.
  This is the offline form of "billing country vs IP geography": it needs no GeoIP database,
  only the fact that one /24 is one location. Owners are organisations (accounts without one
  are their own owner; an owner's country is the smallest of its accounts' countries), and
  prefixes used by very many owners (carrier NAT, cloud egress) are left out.
rationale: >
  A billing country that does not match the IP geography is an infrastructure signal; OpenAI
  (2026-02-12) describes access "through obfuscated third-party routers and other ways that mask
  their source"; later reports (unverified) describe residential proxies and virtual-card
  payments. Fabricated billing identities behind a shared proxy exit show up as one subnet
  claiming many countries. The activity-clock alternative (busiest UTC hours vs the billing
  country's time zone) was rejected: machine traffic has no diurnal rhythm, batch jobs are
  scheduled at night on purpose, and a business's traffic follows its end users' day, not its
  billing address, so it would accuse ordinary customers without telling us where they are.
falsepositives:
  - Small cloud or hosting subnets whose servers belong to customers billed in different countries
  - Conference, hotel or international-campus networks (human volume; should not reach min_owner_requests)
  - A corporate VPN concentrator used by staff billed in several countries but with no declared organisation
references:
  - openai-memo-2026
  - later-reports-2026
requires:
  accounts: [account_id, billing_country]
params:
  min_countries: {type: INTEGER, default: 3, description: Fewest different billing countries declared by owners of one network}
  min_owners: {type: INTEGER, default: 4, description: Fewest different owners on one network}
  min_owner_requests: {type: INTEGER, default: 20, description: Fewest requests an account must send from a request subnet to count there (sign-up subnets count every account)}
  max_prefix_owners: {type: INTEGER, default: 200, description: A network with more owners is a public NAT or cloud egress and is ignored}
  direct_channels: {type: VARCHAR, default: "api,direct", description: "Comma-separated access_channel values of direct traffic (requests without a channel count as direct); other channels (cloud platforms, resellers) carry the address of the intermediary and are ignored"}
weight: 0.4
---*/
WITH account_country AS (
    SELECT
        account_id,
        coalesce(a.org_id, 'no-org:' || account_id) AS owner,
        upper(trim(a.billing_country)) AS country,
        s.signup_prefix
    FROM accounts AS a
    JOIN account_signups AS s USING (account_id)
    WHERE nullif(trim(a.billing_country), '') IS NOT NULL
),
request_use AS (
    -- Accounts with enough direct traffic from a prefix.
    SELECT account_id, ip_prefix AS prefix, CAST(sum(requests) AS BIGINT) AS requests
    FROM account_network
    WHERE ip_prefix IS NOT NULL
      AND (access_channel IS NULL
           OR list_contains(list_transform(string_split(lower($direct_channels), ','),
                                           lambda c: trim(c)),
                            lower(trim(access_channel))))
    GROUP BY ALL
    HAVING sum(requests) >= $min_owner_requests
),
network_use AS (
    SELECT 'request subnet' AS network_type, u.prefix, c.account_id, c.owner, c.country
    FROM request_use AS u
    JOIN account_country AS c USING (account_id)
    UNION ALL
    SELECT 'sign-up subnet', signup_prefix, account_id, owner, country
    FROM account_country
    WHERE signup_prefix IS NOT NULL AND signup_prefix <> '.0/24'
),
owner_country AS (
    SELECT network_type, prefix, owner, min(country) AS country
    FROM network_use
    GROUP BY ALL
),
networks AS (
    SELECT
        network_type,
        prefix,
        count(*) AS owners,
        count(DISTINCT country) AS countries,
        array_to_string(list_sort(list(DISTINCT country))[1:8], ', ') AS country_list
    FROM owner_country
    GROUP BY ALL
    HAVING count(*) BETWEEN $min_owners AND $max_prefix_owners
       AND count(DISTINCT country) >= $min_countries
),
per_account AS (
    SELECT
        u.account_id,
        any_value(u.country) AS country,
        arg_max({'network_type': n.network_type, 'prefix': n.prefix, 'owners': n.owners,
                 'countries': n.countries, 'country_list': n.country_list},
                (n.countries, n.owners, n.network_type, n.prefix)) AS best,
        count(*) AS networks
    FROM network_use AS u
    JOIN networks AS n USING (network_type, prefix)
    GROUP BY u.account_id
),
fired_requests AS MATERIALIZED (
    -- Each request of a fired account with its place in the evidence order: sent from the
    -- offending request subnet first, then earliest first. rank_key orders like
    -- (from that subnet, -epoch(ts)) as one integer (2^62 for the subnet, minus the
    -- microseconds), so the ten best keys are found cheaply before ordering by the full key.
    -- The requests are joined on the integer account_no, cheaper than the id string.
    SELECT
        p.account_id,
        r.request_id,
        r.ts,
        r.ip_prefix IS NOT DISTINCT FROM p.best.prefix
            AND p.best.network_type = 'request subnet' AS from_subnet,
        CASE WHEN from_subnet THEN 4611686018427387904 ELSE 0 END - epoch_us(r.ts) AS rank_key
    FROM request_features AS r
    JOIN (SELECT p.account_id, a.account_no, p.best
          FROM per_account AS p
          JOIN account_activity AS a USING (account_id)) AS p USING (account_no)
),
evidence AS (
    -- Requests sent from the offending request subnet first, then the first requests of the
    -- account (only those up to the tenth best rank_key are ordered by the full key).
    SELECT
        r.account_id,
        max_by(r.request_id, (r.from_subnet, -epoch(r.ts), r.request_id), 10) AS evidence
    FROM fired_requests AS r
    JOIN (SELECT account_id, list_min(max(rank_key, 10)) AS last_key
          FROM fired_requests
          GROUP BY account_id) AS c
        ON c.account_id = r.account_id AND r.rank_key >= c.last_key
    GROUP BY r.account_id
)
SELECT
    p.account_id,
    fired_score(ratio_term(p.best.countries, $min_countries, 0.5),
                0.05 * (p.best.owners - $min_owners)) AS score,
    CAST(p.best.countries AS DOUBLE) AS metric,
    format('billed in {} but shares {} {} with {:d} other owners; together they declare {:d} '
           || 'different billing countries ({}), while one small network sits in one country',
           p.country, p.best.network_type, p.best.prefix, p.best.owners - 1,
           p.best.countries, p.best.country_list) AS detail,
    e.evidence
FROM per_account AS p
JOIN evidence AS e USING (account_id)
ORDER BY p.account_id
