-- Who is one customer: accounts of one declared organisation are one owner; an account with
-- no organisation is its own owner. Coordination only counts across owners.
CREATE OR REPLACE TABLE account_owners AS
WITH active AS (
    SELECT account_id, any_value(org_id) AS request_org, count(*) AS requests,
           kahan_sum(input_tokens + output_tokens) AS tokens,
           min(ts) AS first_seen, max(ts) AS last_seen
    FROM request_features
    GROUP BY account_id
)
SELECT
    active.account_id,
    coalesce(a.org_id, active.request_org) AS org_id,
    coalesce(a.org_id, active.request_org, 'no-org:' || active.account_id) AS owner,
    active.requests,
    CAST(active.tokens AS BIGINT) AS tokens,
    active.first_seen,
    active.last_seen
FROM active
LEFT JOIN accounts AS a USING (account_id);
