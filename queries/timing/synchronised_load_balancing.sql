/*---
id: synchronised_load_balancing
title: Activity synchronised minute by minute with linked, unrelated owners
family: timing
level: medium
status: test
description: >
  Detects accounts whose active minutes coincide with the active minutes of other, unrelated
  owners that are linked to them (a prompt template or an IP /24 prefix that makes up a real
  share of both their traffic) far more often than the overall minute-by-minute activity of
  the whole log predicts. Fires when most of the account's active minutes are shared with at
  least k linked owners and the observed coincidences exceed the expected ones by a large
  factor (the lift).
rationale: >
  Anthropic (2026-02-23) lists among DeepSeek's signatures "synchronized traffic across
  accounts. Identical patterns, shared payment methods, and coordinated timing" (load
  balancing), which shows as correlated per-minute counts across accounts, round-robin rotation
  and simultaneous start/stop. One scheduler feeding many accounts switches them on and off
  together. Busy hours make unrelated customers coincide too, so coincidence is compared with
  chance: a linked account b of another owner is expected to be active in minute m with
  probability (b's active minutes) × (accounts active in m outside the linked group + 1) /
  (their sum over all minutes), which carries the daily and weekly rhythm of the log; observed
  co-activity counts distinct other owners, so an owner with several accounts is not counted
  twice. The linked group is left out of its own baseline (a hydra that is a large part of the
  traffic, like the 20,000-account proxy network Anthropic describes, would otherwise set its
  own baseline and hide), and the one account added to every minute keeps an otherwise empty
  minute from being infinitely surprising. Accounts active every minute coincide by construction
  and get a lift near 1: only intermittent, jointly switched activity stands out. Only owners
  linked by a template or /24 prefix that is a real share of their traffic are compared
  (aggregated per key and minute, never pairwise), and one organisation's accounts are one
  owner.
falsepositives:
  - Unrelated customers of one scheduled integration (a cron-driven SaaS connector) that share
    its template and start on the hour together
  - Tenants behind one corporate or cloud egress /24 running jobs triggered by the same event
  - Accounts of one company that did not declare its organisation
references:
  - anthropic-2026
requires:
  requests: [account_id, ts, prompt]
params:
  min_active_minutes: {type: INTEGER, default: 20, description: Fewest active minutes an account needs before it is judged}
  min_link_share: {type: DOUBLE, default: 0.2, description: Share of an account's requests on a template or /24 prefix for the account to be linked through it}
  min_co_owners: {type: INTEGER, default: 2, description: Fewest other linked owners active in the same minute for the minute to count as shared}
  min_shared_share: {type: DOUBLE, default: 0.5, description: Share of the account's active minutes that must be shared}
  min_lift: {type: DOUBLE, default: 5.0, description: Observed linked co-activity over the co-activity expected from the overall minute activity}
weight: 0.6
provides: [sync_minutes, network_timing]
---*/
-- Costs kept down (this reads every request; the result is the same as the plain form):
-- (1) accounts, owners and link keys are grouped and joined on dense integers, not strings:
--     account_no from the features, owners and keys numbered here (never output: the account
--     id is joined back for the fired accounts). Not on hash(): DuckDB's hash() of a string
--     is not injective on structured ids (see features/50_request_features.sql);
-- (2) the chance factors that depend only on the key and minute are joined once per
--     (key, minute), not once per (account, key, minute);
-- (3) the evidence reads only the fired accounts' requests.
WITH activity AS MATERIALIZED (
    SELECT DISTINCT account_no, minute FROM request_features
),
accounts_seen AS (
    SELECT
        u.account_id,
        u.account_no,
        dense_rank() OVER (ORDER BY u.owner) AS owner_no,
        u.requests,
        a.active_minutes
    FROM (
        -- per-account owner and volume from the features stage's shared aggregate
        SELECT account_id, account_no,
               coalesce(org_id, 'no-org:' || account_id) AS owner, requests
        FROM account_activity
        WHERE account_id IS NOT NULL
    ) AS u
    JOIN (SELECT account_no, count(*) AS active_minutes FROM activity GROUP BY account_no) AS a
        USING (account_no)
),
link_use AS (
    -- A link key: a template or an IP prefix.
    SELECT account_id, 'template' AS key_kind, template_id AS key_value, first_turns AS n
    FROM account_templates
    WHERE first_turns > 0
    UNION ALL
    SELECT account_id, 'prefix', ip_prefix, CAST(sum(requests) AS BIGINT)
    FROM account_network
    WHERE ip_prefix IS NOT NULL
    GROUP BY ALL
),
members AS MATERIALIZED (
    SELECT a.account_no, dense_rank() OVER (ORDER BY l.key_kind, l.key_value) AS key_no,
           a.owner_no, a.active_minutes
    FROM link_use AS l
    JOIN accounts_seen AS a USING (account_id)
    WHERE l.n / a.requests >= $min_link_share
),
keys AS (
    SELECT key_no, sum(active_minutes) AS key_minutes
    FROM members
    GROUP BY key_no
    HAVING count(DISTINCT owner_no) > $min_co_owners
),
owner_key AS (
    SELECT m.key_no, m.owner_no, sum(m.active_minutes) AS owner_minutes
    FROM members AS m
    JOIN keys AS k USING (key_no)
    GROUP BY ALL
),
linked AS (
    -- other_minutes: active account-minutes of the other owners linked through the key
    SELECT m.account_no, m.key_no, m.owner_no, k.key_minutes - o.owner_minutes AS other_minutes
    FROM members AS m
    JOIN keys AS k USING (key_no)
    JOIN owner_key AS o USING (key_no, owner_no)
),
minute_load AS MATERIALIZED (
    -- overall activity per minute, in active accounts
    SELECT minute, count(*) AS accounts_active FROM activity GROUP BY minute
),
total_load AS (
    SELECT sum(accounts_active) AS account_minutes, count(*) AS minutes FROM minute_load
),
linked_activity AS MATERIALIZED (
    SELECT a.account_no, a.minute, l.key_no, l.owner_no, l.other_minutes
    FROM activity AS a
    JOIN linked AS l USING (account_no)
),
key_minute AS MATERIALIZED (
    -- distinct owners per key and minute, counted from per-owner groups (one aggregate, no
    -- DISTINCT)
    SELECT key_no, minute, count(*) AS owners_active,
           CAST(sum(accounts) AS BIGINT) AS accounts_active
    FROM (
        SELECT key_no, minute, owner_no, count(*) AS accounts
        FROM linked_activity
        GROUP BY key_no, minute, owner_no
    )
    GROUP BY key_no, minute
),
key_load AS (
    SELECT key_no, sum(accounts_active) AS key_account_minutes
    FROM key_minute
    GROUP BY key_no
),
key_chance AS (
    -- Per key and minute: the other owners active, and the two factors of the chance that
    -- an account of another linked owner is active then (the traffic outside the linked
    -- group in that minute plus one account, over its sum over all minutes).
    SELECT
        km.key_no,
        km.minute,
        km.owners_active - 1 AS others,
        g.accounts_active - km.accounts_active + 1 AS outside_active,
        t.account_minutes - kl.key_account_minutes + t.minutes AS outside_total
    FROM key_minute AS km
    JOIN key_load AS kl USING (key_no)
    JOIN minute_load AS g USING (minute)
    CROSS JOIN total_load AS t
),
account_minute AS MATERIALIZED (
    SELECT
        a.account_no,
        a.minute,
        max(c.others) AS others,
        sum(c.others) AS observed,
        -- chance: the minutes of the other linked owners, spread like the traffic outside
        -- the linked group (plus one account in every minute)
        kahan_sum(a.other_minutes * c.outside_active / c.outside_total) AS expected
    FROM linked_activity AS a
    JOIN key_chance AS c USING (key_no, minute)
    GROUP BY a.account_no, a.minute
),
per_account AS (
    SELECT
        account_no,
        count(*) AS minutes,
        count(*) FILTER (WHERE others >= $min_co_owners) AS shared,
        sum(others) FILTER (WHERE others >= $min_co_owners) AS shared_others,
        sum(observed) AS observed,
        kahan_sum(expected) AS expected
    FROM account_minute
    GROUP BY account_no
),
fired AS MATERIALIZED (
    SELECT a.account_id, p.*, p.observed / greatest(p.expected, 1e-9) AS lift
    FROM per_account AS p
    JOIN accounts_seen AS a USING (account_no)
    WHERE p.minutes >= $min_active_minutes
      AND p.shared / p.minutes >= $min_shared_share
      AND p.observed / greatest(p.expected, 1e-9) >= $min_lift
),
evidence AS (
    SELECT f.account_id, max_by(r.request_id, (am.others, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN fired AS f USING (account_no)
    JOIN account_minute AS am ON am.account_no = f.account_no AND am.minute = r.minute
    GROUP BY f.account_id
)
SELECT
    f.account_id,
    fired_score(share_term(f.shared / f.minutes, $min_shared_share, 0.25),
                0.25 * least(1.0, ln(f.lift / $min_lift) / ln(10))) AS score,
    round(f.lift, 4) AS metric,
    format('{:d} of {:d} active minutes ({:.0f} %) coincide with at least {:d} other owners '
           || 'linked by template or IP prefix ({:.1f} on average in those minutes); linked '
           || 'co-activity is {:.1f} times what the overall minute activity predicts',
           f.shared, f.minutes, 100 * f.shared / f.minutes, $min_co_owners,
           coalesce(f.shared_others / nullif(f.shared, 0), 0), f.lift) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
