-- One row: requests, tokens, accounts, first and last request, models of the analysed data.
-- Read from the per-account table of the linking stage (account_owners) and the report's
-- activity table rather than from every request again.
SELECT
    CAST(coalesce(sum(requests), 0) AS BIGINT) AS requests,
    CAST(coalesce(sum(tokens), 0) AS BIGINT) AS tokens,
    count(*) AS accounts,
    min(first_seen) AS first_ts,
    max(last_seen) AS last_ts,
    (SELECT count(DISTINCT model) FROM report_activity) AS models
FROM account_owners;
