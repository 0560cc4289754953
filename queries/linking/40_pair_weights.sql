-- One weight per linked pair: the strongest key of each kind, the strongest kind of each fact
-- (link_kinds.fact: the network kinds are one network, the software kinds one piece of
-- software, so an IP prefix and the sign-up prefix of the same network, or a client and its
-- template, are one fact, not two), and the facts combined as a noisy-OR (independent facts
-- add up).
-- coordinated: the pair shares a kind unrelated customers do not (link_kinds.coordination: a
-- card, an analyst indicator, synchronised sessions, a creation burst), a creation burst
-- counting only outside one sign-up network: a class signing up on its campus is one event,
-- its network, not a plan. Only coordinated pairs join clusters: a network plus a piece of
-- software (an office /24 and a popular client, a campus and the assignment's prompt) is what
-- unrelated customers of one place share, so soft kinds alone never merge two clusters.
-- The noisy-OR multiplies its factors in one stated order (floating point multiplication is
-- not associative), so a weight is the same double on DuckDB and on Spark.
CREATE OR REPLACE TABLE pair_weights AS
WITH per_kind AS (
    SELECT account_a, account_b, kind, max(weight) AS weight
    FROM links
    GROUP BY ALL
),
per_group AS (
    SELECT p.account_a, p.account_b, k.fact, max(p.weight) AS weight, list(p.kind) AS kinds
    FROM per_kind AS p
    JOIN link_kinds AS k USING (kind)
    GROUP BY ALL
)
SELECT account_a, account_b, weight, kinds,
       list_has_any(list_filter(kinds, lambda k: k <> 'creation_burst'),
                    (SELECT list(kind) FROM link_kinds WHERE coordination))
           OR (list_contains(kinds, 'creation_burst')
               AND NOT list_contains(kinds, 'signup_prefix')) AS coordinated
FROM (SELECT account_a, account_b,
             round(1 - product(1 - weight ORDER BY weight), 4) AS weight,
             list_sort(flatten(list(kinds))) AS kinds
      FROM per_group
      GROUP BY ALL);
