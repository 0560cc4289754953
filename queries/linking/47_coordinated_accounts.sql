-- Accounts tied to another account by coordination (link_kinds.coordination: a shared card,
-- an analyst indicator, synchronised sessions, a creation burst), a creation burst counting
-- only outside one sign-up network: a class signing up on its campus is one event, its
-- network, not a plan. The cluster-scope heuristics sum and fire only these accounts: a
-- template or a pivot used almost only by a class, team or venue is what doing one task
-- together looks like, and says something only about accounts tied in ways unrelated
-- customers are not.
CREATE OR REPLACE TABLE coordinated_accounts AS
WITH pair_kinds AS (
    SELECT account_a, account_b, list(DISTINCT kind) AS kinds FROM links GROUP BY ALL
)
SELECT DISTINCT account_id
FROM pair_kinds
CROSS JOIN LATERAL (SELECT unnest([account_a, account_b]) AS account_id)
WHERE list_has_any(list_filter(kinds, lambda k: k <> 'creation_burst'),
                   (SELECT list(kind) FROM link_kinds WHERE coordination))
   OR (list_contains(kinds, 'creation_burst') AND NOT list_contains(kinds, 'signup_prefix'));
