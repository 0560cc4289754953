/*---
id: ip_subnet_colocation
title: Unrelated owners sending from the same subnet at the same time
family: infrastructure
level: medium
status: experimental
description: >
  Detects accounts that send direct traffic from a /24 (IPv6 /48) on which several unrelated
  owners are active in the same time window. Owners are organisations (accounts without one are
  their own owner), so a company NAT or a university network used by one organisation never
  fires. A prefix used by very many owners over the whole log (carrier NAT, public cloud egress)
  is not informative and is left out; below that cap the score is weighted by how dedicated the
  prefix is (owners active at the peak / all owners ever seen on it). Windows are fixed and
  clock-aligned. Only direct traffic counts (direct_channels, or no channel recorded): requests
  through a cloud platform or reseller carry the intermediary's address.
rationale: >
  Anthropic (2026-02-23) attributes campaigns "through IP address correlation, request metadata,
  infrastructure indicators" and describes proxy services running "hydra cluster" networks of
  accounts; later reports (unverified) describe proxy pools shared between labs. Unrelated
  customers rarely share one small network at the same moment; a proxy exit subnet carrying many
  accounts does.
falsepositives:
  - A university, coworking space or conference network used by many individual accounts
    without a declared organisation (human volume, one billing country, diurnal rhythm)
  - Small hosting or cloud subnets shared by unrelated customers' servers
  - A contracted reseller or gateway sending with its customers' own accounts
references:
  - anthropic-2026
  - later-reports-2026
requires:
  requests: [account_id, ip]
params:
  window_minutes: {type: INTEGER, default: 60, description: Length of the time window in which owners count as co-located}
  min_owners: {type: INTEGER, default: 5, description: Fewest different owners active on one prefix in one window}
  min_owner_requests: {type: INTEGER, default: 20, description: Fewest requests an owner must send from the prefix to count}
  max_prefix_owners: {type: INTEGER, default: 200, description: A prefix used by more owners over the whole log is a public NAT or cloud egress and is ignored}
  direct_channels: {type: VARCHAR, default: "api,direct", description: "Comma-separated access_channel values of direct traffic (requests without a channel count as direct); other channels (cloud platforms, resellers) carry the address of the intermediary and are ignored"}
weight: 0.6
provides: [network_event]
---*/
-- Costs kept down: which owners count on which prefix is decided from requests grouped by
-- (prefix, account, organisation, channel), so the channel test and the owner are computed per
-- group, not per request; only the requests from the prefixes that pass are read again.
WITH prefix_use AS (
    SELECT ip_prefix, account_id, org_id, access_channel,
           CAST(sum(requests) AS BIGINT) AS requests
    FROM account_network
    WHERE ip_prefix IS NOT NULL
    GROUP BY ALL
),
owner_prefix AS (
    -- Owners with enough direct traffic from the prefix to count.
    SELECT ip_prefix, coalesce(org_id, 'no-org:' || account_id) AS owner
    FROM prefix_use
    WHERE access_channel IS NULL
       OR list_contains(list_transform(string_split(lower($direct_channels), ','),
                                       lambda c: trim(c)),
                        lower(trim(access_channel)))
    GROUP BY ALL
    HAVING sum(requests) >= $min_owner_requests
),
prefix_owners AS (
    SELECT ip_prefix, count(*) AS prefix_owners
    FROM owner_prefix
    GROUP BY ip_prefix
    HAVING count(*) BETWEEN $min_owners AND $max_prefix_owners
),
counted AS MATERIALIZED (
    -- The direct requests from those prefixes, of the owners that count there.
    SELECT d.*
    FROM (
        SELECT
            r.request_id,
            r.account_id,
            coalesce(r.org_id, 'no-org:' || r.account_id) AS owner,
            r.ip_prefix,
            r.minute // $window_minutes AS bucket
        FROM request_features AS r
        SEMI JOIN prefix_owners AS p USING (ip_prefix)
        WHERE r.access_channel IS NULL
           OR list_contains(list_transform(string_split(lower($direct_channels), ','),
                                           lambda c: trim(c)),
                            lower(trim(r.access_channel)))
    ) AS d
    SEMI JOIN owner_prefix AS o USING (ip_prefix, owner)
),
buckets AS (
    SELECT ip_prefix, bucket, count(DISTINCT owner) AS owners
    FROM counted
    GROUP BY ALL
    HAVING count(DISTINCT owner) >= $min_owners
),
peaks AS (
    SELECT
        b.ip_prefix,
        max(b.owners) AS peak_owners,
        count(*) AS shared_windows,
        any_value(p.prefix_owners) AS prefix_owners
    FROM buckets AS b
    JOIN prefix_owners AS p USING (ip_prefix)
    GROUP BY b.ip_prefix
),
per_account AS (
    SELECT
        c.account_id,
        arg_max({'prefix': c.ip_prefix, 'peak': k.peak_owners, 'windows': k.shared_windows,
                 'prefix_owners': k.prefix_owners},
                (k.peak_owners / k.prefix_owners, k.peak_owners, c.ip_prefix)) AS best,
        count(*) AS colocated_requests,
        max_by(c.request_id, (b.owners, c.request_id), 10) AS evidence
    FROM counted AS c
    JOIN buckets AS b USING (ip_prefix, bucket)
    JOIN peaks AS k USING (ip_prefix)
    GROUP BY c.account_id
)
SELECT
    account_id,
    fired_score(ratio_term(best.peak, $min_owners, 0.5) * (best.peak / best.prefix_owners), 0)
        AS score,
    CAST(best.peak AS DOUBLE) AS metric,
    format('{:d} requests sent from {} while up to {:d} different owners were active on it in '
           || 'the same {:d}-minute window ({:d} such window(s); {:d} owners on that prefix in the '
           || 'whole log)',
           colocated_requests, best.prefix, best.peak, $window_minutes, best.windows,
           best.prefix_owners) AS detail,
    evidence
FROM per_account
ORDER BY account_id
