-- One weight per linked pair: the strongest key of each kind, combined across kinds as a
-- noisy-OR (independent kinds of evidence add up; five shared templates are still one kind).
CREATE OR REPLACE TABLE pair_weights AS
WITH per_kind AS (
    SELECT account_a, account_b, kind, max(weight) AS weight
    FROM links
    GROUP BY ALL
)
SELECT account_a, account_b,
       round(1 - product(1 - weight), 4) AS weight,
       list(kind ORDER BY kind) AS kinds
FROM per_kind
GROUP BY ALL;
