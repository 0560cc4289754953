-- Accounts tied to another account by coordination (pair_weights.coordinated: a shared card,
-- an analyst indicator, synchronised sessions, a creation burst outside one sign-up network).
-- The cluster-scope heuristics sum and fire only these accounts: a template or a pivot used
-- almost only by a class, team or venue is what doing one task together looks like, and says
-- something only about accounts tied in ways unrelated customers are not.
CREATE OR REPLACE TABLE coordinated_accounts AS
SELECT DISTINCT account_id
FROM pair_weights
CROSS JOIN LATERAL (SELECT unnest([account_a, account_b]) AS account_id)
WHERE coordinated;
