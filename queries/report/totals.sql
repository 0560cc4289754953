-- One row: the headline numbers of the analysed traffic (the denominator of every share).
SELECT
    count(*) AS requests,
    CAST(coalesce(kahan_sum(input_tokens + output_tokens), 0) AS BIGINT) AS tokens,
    count(DISTINCT account_id) AS accounts,
    min(ts) AS first_ts,
    max(ts) AS last_ts,
    count(DISTINCT model) AS models
FROM request_features;
