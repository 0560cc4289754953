/*---
id: machine_cadence_flat_profile
title: Machine cadence around the clock (regular gaps, no quiet hours)
family: timing
level: low
status: test
description: >
  Detects accounts whose requests arrive at regular intervals (low coefficient of variation of
  the gaps between consecutive requests within a session) and around the clock (even the
  quietest 8 hours of the day carry close to a third of the traffic). Weak alone.
rationale: >
  Machine cadence (regular inter-arrival gaps, a flat 24/7 profile) is weak alone; Anthropic
  (2026-02-23) and OpenAI (2026-02-12) describe programmatic extraction ("code to access US AI
  models and obtain outputs for distillation in programmatic ways"). People type in bursts with
  long pauses (gap CV well above 1) and sleep; tutoring apps show a local-time diurnal rhythm.
  Flatness is measured as the share of traffic in the quietest 8 consecutive hours of the day
  (circular, so independent of the time zone), relative to the 8/24 a flat profile gives: a
  normalised hour-of-week entropy barely separates them (an office-hours profile still scores
  about 0.92 against 1.0 for a flat one), while the quietest-8-hours ratio is about 0.2 for
  office or consumer rhythms and about 1 for a machine. Enterprise batch jobs run 24/7 on a
  fixed schedule too, so the weight stays low: this only corroborates other families.
falsepositives:
  - Enterprise batch jobs and queue workers running around the clock
  - Monitoring or health-check scripts, scheduled integrations
  - Products whose users span all time zones, sending through one account at a fixed rate
references:
  - anthropic-2026
  - openai-memo-2026
requires:
  requests: [account_id, ts]
params:
  min_requests: {type: INTEGER, default: 200, description: Fewest requests an account needs before its cadence is judged}
  min_active_days: {type: INTEGER, default: 3, description: Fewest distinct UTC days with traffic (a one-day burst has no daily rhythm)}
  max_session_gap_seconds: {type: INTEGER, default: 3600, description: Longest gap counted as within a session (longer ones are pauses and are left out of the CV)}
  max_gap_cv: {type: DOUBLE, default: 0.5, description: Largest coefficient of variation of the within-session gaps that counts as regular (a Poisson stream gives 1)}
  quiet_window_hours: {type: INTEGER, default: 8, description: Length of the quietest consecutive window of the day that is measured}
  min_flatness: {type: DOUBLE, default: 0.6, description: Share of traffic in the quietest window relative to a flat profile (1 = flat) that fires}
weight: 0.2
---*/
-- Costs kept down (the same result as ordering every request): volume and active days need
-- no ordering, so only the requests of the accounts that pass both are ordered for the gaps;
-- accounts are grouped and joined on their integer account_no (never output: the account id
-- is read again with the regular accounts' requests), and every join to the requests is built
-- on the small side.
WITH volume AS (
    -- Active days are UTC days since 1970 (microseconds // 86,400,000,000): the same days as
    -- CAST(ts AS DATE) in the run's UTC session, without a time-zone conversion per request.
    SELECT
        account_no,
        count(*) AS requests,
        count(DISTINCT epoch_us(ts) // 86400000000) AS days
    FROM request_features
    GROUP BY account_no
    HAVING count(*) >= $min_requests
       AND count(DISTINCT epoch_us(ts) // 86400000000) >= $min_active_days
),
gaps AS (
    -- Ties in ts give a zero gap whichever request comes first, so ts alone orders the gaps.
    SELECT
        v.account_no,
        epoch(r.ts) - epoch(lag(r.ts) OVER (PARTITION BY v.account_no ORDER BY r.ts)) AS gap
    FROM request_features AS r
    JOIN volume AS v ON v.account_no = r.account_no
),
cadence AS (
    -- One pass: the within-session gap statistics per account.
    SELECT
        g.account_no,
        any_value(v.requests) AS requests,
        any_value(v.days) AS days,
        count(g.gap) FILTER (WHERE g.gap <= $max_session_gap_seconds) AS gaps,
        avg(g.gap) FILTER (WHERE g.gap <= $max_session_gap_seconds) AS mean_gap,
        stddev_pop(g.gap) FILTER (WHERE g.gap <= $max_session_gap_seconds)
            / nullif(avg(g.gap) FILTER (WHERE g.gap <= $max_session_gap_seconds), 0) AS cv
    FROM gaps AS g
    JOIN volume AS v USING (account_no)
    GROUP BY g.account_no
),
regular AS MATERIALIZED (
    SELECT *
    FROM cadence
    WHERE requests >= $min_requests
      AND days >= $min_active_days
      AND gaps >= $min_requests / 2
      AND cv <= $max_gap_cv
),
hours AS MATERIALIZED (
    -- Only the regular accounts' requests are read again, for the hour profile (and their ids).
    SELECT r.account_id, v.account_no, hour(r.ts) AS h, count(*) AS n
    FROM request_features AS r
    JOIN regular AS v ON v.account_no = r.account_no
    GROUP BY ALL
),
windows AS (
    SELECT v.account_no, s.start, coalesce(sum(h.n), 0) AS n
    FROM regular AS v
    CROSS JOIN range(0, 24) AS s(start)
    LEFT JOIN hours AS h
        ON h.account_no = v.account_no AND (h.h - s.start + 24) % 24 < $quiet_window_hours
    GROUP BY v.account_no, s.start
),
quiet AS (
    SELECT account_no, min(n) AS quiet_requests
    FROM windows
    GROUP BY account_no
),
fired AS (
    SELECT a.account_id, v.requests, v.days, v.gaps, v.mean_gap, v.cv, q.quiet_requests,
           q.quiet_requests / v.requests / ($quiet_window_hours / 24) AS flatness
    FROM regular AS v
    JOIN quiet AS q USING (account_no)
    JOIN (SELECT DISTINCT account_no, account_id FROM hours) AS a USING (account_no)
    WHERE q.quiet_requests / v.requests / ($quiet_window_hours / 24) >= $min_flatness
),
evidence AS (
    SELECT r.account_id, min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN fired AS f USING (account_id)
    GROUP BY r.account_id
)
SELECT
    f.account_id,
    -- the share of the allowed gap variation left unused, and the flatness past its threshold
    fired_score(ratio_term($max_gap_cv, f.cv, 0.25),
                0.25 * least(1.0, share_term(f.flatness, $min_flatness, 1))) AS score,
    round(f.cv, 4) AS metric,
    format('{:d} requests over {:d} days arrive every {:.0f} s on average with a gap '
           || 'coefficient of variation of {:.2f}; even the quietest {:d} hours of the day carry '
           || '{:.0f} % of the traffic ({:.0f} % for a flat 24/7 profile)',
           f.requests, f.days, f.mean_gap, f.cv, $quiet_window_hours,
           100 * f.quiet_requests / f.requests, 100 * $quiet_window_hours / 24) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
