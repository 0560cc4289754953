/*---
id: new_model_pivot
title: Traffic redirected to a newly released model within a day and kept there
family: timing
level: low
status: test
description: >
  Detects established accounts (traffic in the weeks before a model release) that moved a
  large share of their traffic to the new model right after its release and kept it there:
  the share of requests on the new model 24–72 h after the release, minus the share it had
  before the release (early access), is compared with a threshold.
rationale: >
  Anthropic (2026-02-23): when a new model was released mid-campaign MiniMax "pivoted within 24
  hours, redirecting nearly half their traffic" to it, with timings matching their product
  roadmap. A harvester wants the newest outputs and moves its existing pipeline over at once.
  Eval companies also use a new model on day one, but as a bounded test batch beside their
  ongoing work: measuring the share from 24 h to 72 h after the release, rather than on the
  first day, lets the test batch pass and catches the redirected stream that stays. Accounts
  created after the release are not judged (no established traffic to redirect). Campaign
  accounts are deliberately modest (≈690 exchanges each, Anthropic 2026-02-23), so the count
  thresholds are low and the weight is low; the pivot of a whole cluster is clearer than any one
  account's and is left to linking.
falsepositives:
  - A product team switching its production traffic to the new model on launch day
  - An eval company running a long, multi-day evaluation of the new model
  - A developer who only used the API lightly before and starts building on the new model
references:
  - anthropic-2026
requires:
  requests: [account_id, ts, model]
  model_releases: [model, released_at]
params:
  baseline_days: {type: INTEGER, default: 28, description: Days before the release that form the account's baseline}
  min_baseline_requests: {type: INTEGER, default: 30, description: Fewest baseline requests for the account to count as established (campaign accounts are deliberately modest)}
  window_start_hours: {type: INTEGER, default: 24, description: "Start of the measured window, in hours after the release (skips the day-one test batch)"}
  window_end_hours: {type: INTEGER, default: 72, description: "End of the measured window, in hours after the release"}
  min_window_requests: {type: INTEGER, default: 10, description: Fewest requests on the new model in the window (campaign accounts are deliberately modest)}
  min_share_shift: {type: DOUBLE, default: 0.3, description: Rise of the new model's share of traffic (window minus baseline) that fires}
weight: 0.35
---*/
WITH per_release AS (
    -- Grouped and joined on the integer account_no, cheaper than the id string over every
    -- request; the account id is joined back for the pivots alone.
    SELECT
        r.account_no,
        m.model AS new_model,
        m.released_at,
        count(*) FILTER (WHERE r.ts < m.released_at) AS baseline,
        count(*) FILTER (WHERE r.ts < m.released_at AND r.model = m.model) AS baseline_new,
        count(*) FILTER (WHERE r.ts >= m.released_at
                         AND r.ts < m.released_at + to_hours($window_start_hours)
                         AND r.model = m.model) AS first_day_new,
        count(*) FILTER (WHERE r.ts >= m.released_at + to_hours($window_start_hours)) AS in_window,
        count(*) FILTER (WHERE r.ts >= m.released_at + to_hours($window_start_hours)
                         AND r.model = m.model) AS window_new
    FROM request_features AS r
    JOIN model_releases AS m
        ON r.ts >= m.released_at - to_days($baseline_days)
       AND r.ts < m.released_at + to_hours($window_end_hours)
    GROUP BY r.account_no, m.model, m.released_at
),
pivots AS (
    SELECT a.account_id, per_release.*,
           window_new / in_window - baseline_new / greatest(baseline, 1) AS shift
    FROM per_release
    JOIN (SELECT account_no, account_id FROM account_activity) AS a USING (account_no)
    WHERE baseline >= $min_baseline_requests
      AND window_new >= $min_window_requests
      AND window_new / in_window - baseline_new / greatest(baseline, 1) >= $min_share_shift
    QUALIFY row_number() OVER (PARTITION BY account_no
                               ORDER BY shift DESC, released_at, new_model) = 1
),
evidence AS (
    SELECT p.account_id, min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN pivots AS p
        ON p.account_no = r.account_no AND r.model = p.new_model
       AND r.ts >= p.released_at + to_hours($window_start_hours)
       AND r.ts < p.released_at + to_hours($window_end_hours)
    GROUP BY p.account_id
)
SELECT
    p.account_id,
    fired_score(share_term(p.shift, $min_share_shift, 0.5), 0) AS score,
    round(p.shift, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) went to {} {:d}–{:d} h after its release on {}, '
           || 'against {:.0f} % of {:d} requests before; {:d} requests used it in the first 24 h',
           p.window_new, p.in_window, 100 * p.window_new / p.in_window, p.new_model,
           $window_start_hours, $window_end_hours,
           strftime(p.released_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M UTC'),
           100 * p.baseline_new / p.baseline, p.baseline, p.first_day_new) AS detail,
    e.evidence
FROM pivots AS p
JOIN evidence AS e USING (account_id)
ORDER BY p.account_id
