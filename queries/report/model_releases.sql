-- Models released inside the analysed period or up to $lookback_days before its first request.
SELECT r.model, r.released_at
FROM model_releases AS r
WHERE r.released_at IS NOT NULL
  AND r.released_at >= (SELECT min(ts) FROM request_features) - to_days($lookback_days)
  AND r.released_at <= (SELECT max(ts) FROM request_features)
ORDER BY r.released_at, r.model;
