/*---
id: account_farm_creation_burst
title: Burst of account sign-ups sharing a subnet, e-mail domain, payment method or client
family: infrastructure
level: high
status: experimental
description: >
  Detects accounts created in a short window together with accounts of several other owners
  that share the same sign-up subnet (/24 of accounts.signup_ip, /48 for IPv6), e-mail domain,
  payment fingerprint or first user agent (that of the account's first request), when the burst
  is far above what that key's usual share of sign-ups predicts for the window (so a popular
  SDK or webmail domain needs a huge burst). Owners are organisations (accounts without one
  are their own owner), so one company onboarding its staff is one owner, not a farm.
rationale: >
  Anthropic (2026-02-23) describes "hydra cluster" networks of fraudulent accounts where "when
  one account is banned, a new one takes its place", and "synchronized traffic across accounts
  ... shared payment methods"; later reports (unverified) add disposable e-mail, virtual cards
  and a second account pool created within hours of a ban. An account farm shows as a creation
  burst sharing an IP /24, user agent or payment, with disposable or sequential e-mail. The
  expected count (the key's share of sign-ups outside the window times all sign-ups in the
  window) keeps a popular webmail domain, SDK or carrier subnet from firing on a busy day.
falsepositives:
  - A class, workshop or hackathon whose participants sign up together from one campus or venue
    network with the university's e-mail domain and no declared organisation (academic look-alike)
  - A company onboarding staff as individual accounts without declaring its organisation
  - An agency signing up client accounts on its own card (should be a contracted reseller)
references:
  - anthropic-2026
  - later-reports-2026
requires:
  accounts: [account_id, created_at]
params:
  window_hours: {type: DOUBLE, default: 6.0, description: Length of the sign-up window in hours}
  min_owners: {type: INTEGER, default: 5, description: Fewest different owners created within one window on one shared key}
  min_excess: {type: DOUBLE, default: 5.0, description: How many times the expected count (at least 1) the burst must reach}
weight: 0.7
provides: [network_event]
---*/
WITH agent_start AS (
    -- The first request with a user agent of each account: its time here, then the first of
    -- the requests at that time by request id (two cheap aggregates instead of ordering every
    -- request by the pair (ts, request_id); the same request). Both read every request, so
    -- they group and join on the integer account_no, not the account id string (grouped and
    -- joined on the string, they took a large part of the heuristic's time on a large log).
    SELECT account_no, min(ts) AS ts
    FROM request_features
    WHERE nullif(trim(user_agent), '') IS NOT NULL
    GROUP BY account_no
),
first_agent AS (
    -- The user agent of the first request of each account (the client it was set up with).
    SELECT a.account_id, f.user_agent
    FROM (SELECT r.account_no, arg_min(r.user_agent, r.request_id) AS user_agent
          FROM request_features AS r
          JOIN agent_start AS f ON f.account_no = r.account_no AND f.ts = r.ts
          WHERE nullif(trim(r.user_agent), '') IS NOT NULL
          GROUP BY r.account_no) AS f
    JOIN account_activity AS a USING (account_no)
),
keyed AS (
    -- One row per (account, shared key): sign-up subnet, e-mail domain, payment fingerprint,
    -- first user agent.
    SELECT a.account_id, a.created_at, a.org_id, 'sign-up subnet' AS key_type,
           s.signup_prefix AS key_value
    FROM accounts AS a
    JOIN account_signups AS s USING (account_id)
    UNION ALL
    SELECT account_id, created_at, org_id, 'e-mail domain',
           nullif(lower(trim(email_domain)), '')
    FROM accounts
    UNION ALL
    SELECT account_id, created_at, org_id, 'payment fingerprint',
           nullif(trim(payment_fingerprint), '')
    FROM accounts
    UNION ALL
    SELECT a.account_id, a.created_at, a.org_id, 'first user agent', f.user_agent
    FROM accounts AS a
    JOIN first_agent AS f USING (account_id)
),
signups AS (
    SELECT
        account_id,
        created_at,
        epoch(created_at) AS t,
        coalesce(org_id, 'no-org:' || account_id) AS owner,
        key_type,
        key_value
    FROM keyed
    WHERE key_value IS NOT NULL AND key_value <> '.0/24'
),
signup_times AS (
    -- The overall sign-up count of each window [t, t + window_hours]: the sign-ups at each
    -- creation time, summed over the times in the window. The frame runs over the distinct
    -- creation times, not over every account (counted per account, one partition of every
    -- account whose frame bounds DuckDB searched row by row re-read spilled blocks again and
    -- again on a large log), and it is not an as-of join of each account to the window's
    -- end: Spark has none, and its stand-in compares every account with every creation time.
    SELECT t, sum(n) OVER (ORDER BY t RANGE BETWEEN CURRENT ROW
                                      AND $window_hours * 3600 FOLLOWING) AS all_in_window
    FROM (SELECT epoch(created_at) AS t, count(*) AS n FROM accounts GROUP BY ALL)
),
all_signups AS (
    SELECT a.account_id, s.all_in_window
    FROM accounts AS a
    JOIN signup_times AS s ON s.t = epoch(a.created_at)
),
totals AS (
    SELECT count(*) AS all_accounts FROM accounts
),
key_sizes AS (
    SELECT key_type, key_value, count(*) AS key_accounts,
           count(DISTINCT owner) AS key_owners
    FROM signups
    GROUP BY ALL
),
windows AS (
    -- Each sign-up opens a window [created_at, created_at + window_hours]. For speed only, the
    -- windows are counted only on keys with at least min_owners owners in the whole log: no
    -- window of another key can reach min_owners, so none of them could qualify.
    SELECT
        s.*,
        count(*) OVER w AS burst_accounts,
        count(DISTINCT s.owner) OVER w AS burst_owners
    FROM signups AS s
    SEMI JOIN key_sizes AS k
        ON k.key_type = s.key_type AND k.key_value = s.key_value
       AND k.key_owners >= $min_owners
    WINDOW w AS (PARTITION BY s.key_type, s.key_value ORDER BY s.t
                 RANGE BETWEEN CURRENT ROW AND $window_hours * 3600 FOLLOWING)
),
bursts AS (
    -- Expected: the share of the key among the sign-ups outside the window, applied to all sign-ups
    -- in the window (0 when every sign-up of the log falls inside the window).
    SELECT
        w.*,
        coalesce((k.key_accounts - w.burst_accounts)
                 / nullif(t.all_accounts - g.all_in_window, 0), 0) * g.all_in_window AS expected
    FROM windows AS w
    JOIN key_sizes AS k USING (key_type, key_value)
    JOIN all_signups AS g USING (account_id)
    CROSS JOIN totals AS t
),
qualifying AS (
    SELECT
        b.*,
        CASE WHEN b.burst_owners >= $min_owners
                  AND b.burst_accounts >= $min_excess * greatest(b.expected, 1.0)
             THEN {'owners': b.burst_owners, 'accounts': b.burst_accounts,
                   'expected': b.expected}
        END AS burst
    FROM bursts AS b
),
members AS (
    -- An account belongs to every qualifying window that opened at most window_hours before it;
    -- it is reported with the strongest: most owners, then most accounts, then the fewest
    -- expected (a total order: windows with as many owners but other counts are common, and
    -- which of them a looser order picks would depend on the order rows arrive in).
    SELECT
        account_id,
        key_type,
        key_value,
        arg_max(burst, CASE WHEN burst IS NOT NULL
                            THEN (burst.owners, burst.accounts, -burst.expected) END) OVER (
            PARTITION BY key_type, key_value ORDER BY t
            RANGE BETWEEN $window_hours * 3600 PRECEDING AND CURRENT ROW) AS burst
    FROM qualifying
),
per_account AS (
    SELECT
        account_id,
        count(DISTINCT key_type) AS key_types,
        arg_max({'key_type': key_type, 'key_value': key_value, 'owners': burst.owners,
                 'accounts': burst.accounts, 'expected': burst.expected},
                (burst.owners, key_value, key_type)) AS best
    FROM members
    WHERE burst IS NOT NULL
    GROUP BY account_id
),
fired_requests AS MATERIALIZED (
    SELECT a.account_id, r.request_id, r.ts
    FROM request_features AS r
    JOIN (SELECT a.account_no, a.account_id
          FROM account_activity AS a
          SEMI JOIN per_account USING (account_id)) AS a USING (account_no)
),
evidence AS (
    -- The first requests of the account after sign-up. For speed, the tenth earliest time of
    -- each account is found first and only the requests up to it are ordered by
    -- (ts, request_id): the same ten requests.
    SELECT r.account_id, min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM fired_requests AS r
    JOIN (SELECT account_id, list_max(min(ts, 10)) AS last_ts
          FROM fired_requests
          GROUP BY account_id) AS c
        ON c.account_id = r.account_id AND r.ts <= c.last_ts
    GROUP BY r.account_id
)
SELECT
    p.account_id,
    fired_score(ratio_term(p.best.owners, $min_owners, 0.5), 0.1 * (p.key_types - 1)) AS score,
    CAST(p.best.owners AS DOUBLE) AS metric,
    format('created within {:g} h as one of {:d} accounts of {:d} different owners sharing {} {} '
           || '(about {:.2g} expected from its usual share of sign-ups){}',
           $window_hours, p.best.accounts, p.best.owners, p.best.key_type, p.best.key_value,
           p.best.expected,
           CASE WHEN p.key_types > 1
                THEN format('; bursts on {:d} kinds of shared key', p.key_types) ELSE '' END)
        AS detail,
    e.evidence
FROM per_account AS p
JOIN evidence AS e USING (account_id)
ORDER BY p.account_id
