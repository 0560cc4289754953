/*---
id: fast_ramp_to_volume
title: Fast ramp from account creation to high daily volume
family: infrastructure
level: medium
status: experimental
description: >
  Detects accounts whose traffic reaches a high rolling 24-hour volume within a short time of
  the account's creation. Accounts of an established organisation (one whose first account is
  older than established_org_days at this account's creation) are left out: a known customer
  opening a new project account and starting a batch job is not a new identity.
rationale: >
  Anthropic (2026-02-23): "When one account is banned, a new one takes its place"; later reports
  (unverified) describe a second account pool taking over within hours of a ban. A fresh account
  that goes from nothing to harvest volume within a day or two has no history of ordinary use.
  Weak alone (an eval company may run a benchmark on day one): it counts with the other
  families.
falsepositives:
  - Benchmark / eval companies running a whole test set on a new account (bounded totals, one org)
  - A developer load-testing a new integration on day one
  - A start-up's first production launch from a newly created account without an organisation
references:
  - anthropic-2026
  - later-reports-2026
requires:
  accounts: [account_id, created_at]
params:
  min_daily_requests: {type: INTEGER, default: 300, description: Rolling 24-hour request count that counts as high volume}
  max_ramp_hours: {type: DOUBLE, default: 48.0, description: Most hours from account creation to the first high-volume day that fire}
  established_org_days: {type: DOUBLE, default: 30.0, description: An organisation whose first account is at least this many days older is established}
weight: 0.4
---*/
-- Costs kept down (the same result as rolling every account's whole traffic): the first hour
-- at which the rolling volume is reached fires only if it comes at most max_ramp_hours after
-- the account's creation, and the 24-hour sum ending at an hour reads only earlier hours, so
-- only the hours up to that limit (plus one hour of margin against rounding) are rolled for
-- every account; the whole traffic is rolled only for the fired accounts, for their peak.
-- Requests are grouped and joined on the integer account_no, not the account id string.
WITH org_age AS (
    SELECT org_id, min(created_at) AS first_created
    FROM accounts
    WHERE org_id IS NOT NULL
    GROUP BY org_id
),
candidates AS MATERIALIZED (
    -- Accounts not of an established organisation, with the last hour to roll; only those
    -- with requests in the window (the accounts of account_activity) can ramp.
    SELECT
        a.account_id,
        v.account_no,
        a.created_at,
        CAST(floor((epoch(a.created_at) + $max_ramp_hours * 3600) / 3600) AS BIGINT) + 1
            AS last_hour
    FROM accounts AS a
    JOIN account_activity AS v USING (account_id)
    LEFT JOIN org_age AS o ON o.org_id = a.org_id
    WHERE o.first_created IS NULL
       OR o.first_created > a.created_at - to_seconds(CAST($established_org_days * 86400 AS BIGINT))
),
hourly AS (
    SELECT r.account_no, epoch_us(r.ts) // 3600000000 AS hour_no, count(*) AS requests
    FROM request_features AS r
    JOIN candidates AS c USING (account_no)
    WHERE epoch_us(r.ts) // 3600000000 <= c.last_hour
    GROUP BY ALL
),
rolling AS (
    -- Requests in the 24 hours ending with each active hour.
    SELECT
        account_no,
        hour_no,
        sum(requests) OVER (PARTITION BY account_no ORDER BY hour_no
                            RANGE BETWEEN 23 PRECEDING AND CURRENT ROW) AS day_requests
    FROM hourly
),
first_high AS (
    SELECT
        account_no,
        min(hour_no) FILTER (WHERE day_requests >= $min_daily_requests) AS high_hour
    FROM rolling
    GROUP BY account_no
),
ramps AS (
    SELECT
        c.account_id,
        c.account_no,
        c.created_at,
        greatest(0.0, ((f.high_hour + 1) * 3600 - epoch(c.created_at)) / 3600) AS ramp_hours,
        to_timestamp((f.high_hour + 1) * 3600) AS high_at
    FROM first_high AS f
    JOIN candidates AS c USING (account_no)
    WHERE f.high_hour IS NOT NULL
),
fired_ramps AS MATERIALIZED (
    SELECT * FROM ramps WHERE ramp_hours <= $max_ramp_hours
),
peaks AS (
    -- The highest rolling 24-hour volume over the fired accounts' whole traffic.
    SELECT account_no, max(day_requests) AS peak_day_requests
    FROM (
        SELECT
            account_no,
            sum(requests) OVER (PARTITION BY account_no ORDER BY hour_no
                                RANGE BETWEEN 23 PRECEDING AND CURRENT ROW) AS day_requests
        FROM (
            SELECT r.account_no, epoch_us(r.ts) // 3600000000 AS hour_no,
                   count(*) AS requests
            FROM request_features AS r
            SEMI JOIN fired_ramps USING (account_no)
            GROUP BY ALL
        )
    )
    GROUP BY account_no
),
fired AS (
    SELECT f.*, p.peak_day_requests
    FROM fired_ramps AS f
    JOIN peaks AS p USING (account_no)
),
evidence AS (
    -- The first requests after creation: the ramp itself.
    SELECT f.account_id, min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN fired AS f USING (account_no)
    WHERE r.ts <= f.high_at
    GROUP BY f.account_id
)
SELECT
    f.account_id,
    -- the share of the allowed ramp time left unused, and the peak's doublings over the minimum
    fired_score(ratio_term($max_ramp_hours, f.ramp_hours, 0.25),
                0.25 * least(1.0, log2(f.peak_day_requests / $min_daily_requests) / 3))
        AS score,
    round(f.ramp_hours, 2) AS metric,
    format('reached {:d} requests in 24 hours {:.1f} hours after the account was created '
           || '({}); peak {:d} requests in 24 hours',
           $min_daily_requests, f.ramp_hours, strftime(f.created_at, '%Y-%m-%d %H:%M UTC'),
           CAST(f.peak_day_requests AS BIGINT)) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
