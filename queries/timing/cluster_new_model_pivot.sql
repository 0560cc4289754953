/*---
id: cluster_new_model_pivot
title: Linked accounts redirect their traffic to a newly released model within two days
family: timing
level: medium
status: experimental
scope: cluster
description: >
  For each model released inside the analysed period, measures the share of a multi-owner
  cluster's traffic that goes to that model in the first $window_hours hours after release, summed
  over the cluster's coordinated members (those tied to another owner by a card, an indicator,
  synchronised sessions or a creation burst), and fires those of them that sent requests to it.
  A member that is not tied by coordination never fires, whatever its cluster.
rationale: >
  Anthropic (2026-02-23) reports that MiniMax "pivoted within 24 hours, redirecting nearly half
  their traffic" to a newly released model. Campaign accounts keep per-account volume modest, so
  the pivot only shows when the linked accounts are summed: an account sending three requests a
  day cannot show a pivot alone, a cluster of sixty can.
falsepositives:
  - Evaluation companies testing a new model on day one (one declared organisation, so not a
    multi-owner cluster; their bounded test batch rarely reaches the share)
  - A reseller switching every customer to a new default model (contract, end-user ids)
references:
  - anthropic-2026
requires:
  requests: [account_id, model, ts]
  model_releases: [model, released_at]
params:
  window_hours: {type: INTEGER, default: 48, description: Hours after release that are measured}
  min_owners: {type: INTEGER, default: 2, description: Fewest unrelated owners in the cluster}
  min_window_requests: {type: INTEGER, default: 20, description: Fewest cluster requests in the window}
  min_share: {type: DOUBLE, default: 0.3, description: Share of the cluster's window traffic on the new model that fires}
weight: 0.6
---*/
WITH span AS (
    SELECT min(ts) AS first_ts, max(ts) AS last_ts FROM request_features
),
releases AS (
    SELECT r.model, r.released_at
    FROM model_releases AS r, span
    WHERE r.released_at > span.first_ts AND r.released_at < span.last_ts
),
multi AS (
    SELECT cluster_id FROM cluster_sizes WHERE owners >= $min_owners
),
windowed AS (
    SELECT m.cluster_id, r.model AS new_model, r.released_at, f.account_id, f.request_id,
           f.ts, f.model = r.model AS on_new
    FROM request_features AS f
    JOIN cluster_members AS m USING (account_id)
    SEMI JOIN multi USING (cluster_id)
    SEMI JOIN coordinated_accounts USING (account_id)  -- 47_coordinated_accounts.sql
    JOIN releases AS r
      ON f.ts >= r.released_at AND f.ts < r.released_at + to_hours($window_hours)
),
pivots AS (
    SELECT cluster_id, new_model, count(*) AS requests,
           count(*) FILTER (WHERE on_new) AS on_new,
           count(DISTINCT account_id) FILTER (WHERE on_new) AS accounts_on_new,
           count(*) FILTER (WHERE on_new) / count(*) AS share
    FROM windowed
    GROUP BY ALL
    HAVING count(*) >= $min_window_requests
       AND count(*) FILTER (WHERE on_new) / count(*) >= $min_share
),
best AS (
    SELECT cluster_id, arg_max(new_model, (share, new_model)) AS new_model, max(share) AS share
    FROM pivots
    GROUP BY ALL
)
SELECT
    w.account_id,
    fired_score(share_term(any_value(p.share), $min_share, 0.5), 0) AS score,
    round(any_value(p.share), 4) AS metric,
    format('the coordinated accounts linked with it sent {:d} of {:d} requests ({:.0f} %) to '
           '{} in the {:d} h after its release, across {:d} accounts; this account sent {:d} '
           'of them', any_value(p.on_new), any_value(p.requests), 100 * any_value(p.share),
           any_value(p.new_model), $window_hours, any_value(p.accounts_on_new),
           count(*)) AS detail,
    min_by(w.request_id, (w.ts, w.request_id), 10) AS evidence
FROM windowed AS w
JOIN best AS b ON b.cluster_id = w.cluster_id AND b.new_model = w.new_model
JOIN pivots AS p ON p.cluster_id = b.cluster_id AND p.new_model = b.new_model
WHERE w.on_new
GROUP BY w.account_id, w.cluster_id
ORDER BY w.account_id
