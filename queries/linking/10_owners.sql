-- Who is one customer: accounts of one declared organisation are one owner; an account with
-- no organisation is its own owner. Coordination only counts across owners.
CREATE OR REPLACE TABLE account_owners AS
WITH active AS (
    -- Per-account totals from the features stage (no second scan of every request).
    SELECT account_id, org_id AS request_org, requests, tokens,
           first_ts AS first_seen, last_ts AS last_seen
    FROM account_activity
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
