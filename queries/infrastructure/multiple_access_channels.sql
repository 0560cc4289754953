/*---
id: multiple_access_channels
title: One payment group reaching us through several access channels
family: infrastructure
level: low
status: experimental
description: >
  Detects accounts whose payment group (the accounts sharing its payment fingerprint, or the
  account alone when it has none) sends meaningful traffic through several access channels
  (direct API, cloud platforms, resellers). It fires when the group spans min_channels channels
  and several unrelated owners, or when one owner alone spans min_channels_one_owner channels.
  A company using the direct API and one cloud platform on its own card is ordinary and does
  not fire.
rationale: >
  Anthropic (2026-02-23): Moonshot used "hundreds of fraudulent accounts spanning multiple
  access pathways" and "varied account types"; hydra clusters "distribute traffic across our API
  as well as third-party cloud platforms". OpenAI (2026-02-12) names "networks of unauthorized
  resellers". Spreading one paying identity over channels makes bans on any one channel cheap to
  route around.
falsepositives:
  - An enterprise buying through the direct API, a cloud marketplace and a reseller at once
    (one org, contracts; needs three channels to fire)
  - An agency paying for client accounts that reach us through different platforms
references:
  - anthropic-2026
  - openai-memo-2026
requires:
  requests: [account_id, access_channel]
params:
  min_channel_requests: {type: INTEGER, default: 10, description: Fewest requests a group must send through a channel for it to count}
  min_channels: {type: INTEGER, default: 2, description: Fewest channels for a group of several unrelated owners}
  min_owners: {type: INTEGER, default: 2, description: Fewest unrelated owners in a payment group for min_channels to apply}
  min_channels_one_owner: {type: INTEGER, default: 3, description: Fewest channels that fire for a group with a single owner}
weight: 0.4
---*/
WITH groups AS (
    SELECT
        a.account_id,
        coalesce(nullif(trim(a.payment_fingerprint), ''), 'account:' || a.account_id) AS payment_group,
        coalesce(a.org_id, 'no-org:' || a.account_id) AS owner
    FROM accounts AS a
),
account_channels AS MATERIALIZED (
    -- Requests per account and recorded channel value, from the features' per-account network
    -- aggregate; the channel is cleaned and the groups joined on these few rows, not on every
    -- request.
    SELECT account_id, access_channel, CAST(sum(requests) AS BIGINT) AS requests
    FROM account_network
    GROUP BY ALL
),
channel_use AS (
    SELECT g.payment_group, lower(trim(c.access_channel)) AS channel, sum(c.requests) AS requests
    FROM account_channels AS c
    JOIN groups AS g USING (account_id)
    WHERE nullif(trim(c.access_channel), '') IS NOT NULL
    GROUP BY ALL
    HAVING sum(c.requests) >= $min_channel_requests
),
group_channels AS (
    SELECT
        payment_group,
        count(*) AS channels,
        array_to_string(list_sort(list(channel))[1:6], ', ') AS channel_list
    FROM channel_use
    GROUP BY payment_group
),
group_owners AS (
    SELECT payment_group, count(*) AS accounts, count(DISTINCT owner) AS owners
    FROM groups
    SEMI JOIN (SELECT DISTINCT account_id FROM account_channels) AS active USING (account_id)
    GROUP BY payment_group
),
fired_groups AS (
    SELECT c.*, o.accounts, o.owners
    FROM group_channels AS c
    JOIN group_owners AS o USING (payment_group)
    WHERE (c.channels >= $min_channels AND o.owners >= $min_owners)
       OR c.channels >= $min_channels_one_owner
),
fired_accounts AS (
    SELECT g.account_id, g.payment_group
    FROM groups AS g
    SEMI JOIN fired_groups AS f USING (payment_group)
),
ranked AS (
    -- Requests of fired accounts, numbered within each channel (evidence: each channel first).
    -- Only the first ten of each channel can be among the ten with the lowest numbers, so each
    -- channel's first ten are taken in order (min_by lists them by (ts, request_id)) and
    -- numbered by their place, instead of numbering every request.
    SELECT
        account_id,
        unnest(firsts) AS request_id,
        generate_subscripts(firsts, 1) AS channel_rank
    FROM (
        -- on the integer account_no, cheaper than the id string
        SELECT any_value(f.account_id) AS account_id,
               min_by(r.request_id, (r.ts, r.request_id), 10) AS firsts
        FROM request_features AS r
        JOIN (SELECT DISTINCT f.account_id, a.account_no
              FROM fired_accounts AS f
              JOIN account_activity AS a USING (account_id)) AS f USING (account_no)
        WHERE nullif(trim(r.access_channel), '') IS NOT NULL
        GROUP BY r.account_no, r.access_channel
    )
),
own_channels AS (
    SELECT c.account_id, count(DISTINCT lower(trim(c.access_channel))) AS own_channels
    FROM account_channels AS c
    SEMI JOIN fired_accounts AS f USING (account_id)
    WHERE nullif(trim(c.access_channel), '') IS NOT NULL
    GROUP BY c.account_id
),
per_account AS (
    SELECT
        r.account_id,
        any_value(f.payment_group) AS payment_group,
        any_value(o.own_channels) AS own_channels,
        max_by(r.request_id, (-r.channel_rank, r.request_id), 10) AS evidence
    FROM ranked AS r
    JOIN fired_accounts AS f USING (account_id)
    JOIN own_channels AS o USING (account_id)
    GROUP BY r.account_id
)
SELECT
    p.account_id,
    fired_score(0.2 * (f.channels - CASE WHEN f.owners >= $min_owners THEN $min_channels
                                         ELSE $min_channels_one_owner END),
                0.05 * (f.owners - 1)) AS score,
    CAST(f.channels AS DOUBLE) AS metric,
    format('{} reaches us through {:d} access channels ({}), used by {:d} account(s) of {:d} '
           || 'unrelated owner(s); this account itself uses {:d} of them',
           CASE WHEN starts_with(f.payment_group, 'account:') THEN 'the account (no payment fingerprint)'
                ELSE format('payment fingerprint {}', f.payment_group) END,
           f.channels, f.channel_list, f.accounts, f.owners, p.own_channels) AS detail,
    p.evidence
FROM per_account AS p
JOIN fired_groups AS f USING (payment_group)
ORDER BY p.account_id
