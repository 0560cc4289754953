-- One weight per linked pair: the strongest key of each kind, the strongest kind of each group
-- of correlated kinds ($network_kinds are one network, $software_kinds one piece of software,
-- so an IP prefix and the sign-up prefix of the same network, or a client and its template,
-- are one fact, not two), and the groups combined as a noisy-OR (independent facts add up).
-- Every other kind is a group of its own.
CREATE OR REPLACE TABLE pair_weights AS
WITH per_kind AS (
    SELECT account_a, account_b, kind, max(weight) AS weight
    FROM links
    GROUP BY ALL
),
per_group AS (
    SELECT account_a, account_b,
           CASE WHEN list_contains(string_split($network_kinds, ','), kind) THEN 'network'
                WHEN list_contains(string_split($software_kinds, ','), kind) THEN 'software'
                ELSE kind END AS fact,
           max(weight) AS weight, list(kind) AS kinds
    FROM per_kind
    GROUP BY ALL
)
SELECT account_a, account_b,
       round(1 - product(1 - weight), 4) AS weight,
       list_sort(flatten(list(kinds))) AS kinds
FROM per_group
GROUP BY ALL;
