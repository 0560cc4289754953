-- Functions the linking SQL shares (temporary: they live as long as the connection).

-- P(Poisson(lam) >= k), summed term by term in log space (no cancellation for tiny tails);
-- terms past lam + 12 sqrt(lam) + 40 are below double precision.
CREATE OR REPLACE TEMP MACRO poisson_tail(k, lam) AS (
    CASE WHEN k <= 0 THEN 1.0
         WHEN lam <= 0 THEN 0.0
         ELSE least(1.0, list_sum(list_transform(
             range(k, k + 40 + CAST(ceil(lam + 12 * sqrt(lam)) AS BIGINT)),
             lambda j: exp(-lam + j * ln(lam) - lgamma(j + 1)))))
    END
);

-- Benjamini–Hochberg q-value of the i-th smallest of the m p-values of one family of tests:
-- the smallest m * p_(j) / j from rank i on, capped at 1 (a window over the family's rows).
CREATE OR REPLACE TEMP MACRO bh_q(p, i, m, family) AS (
    least(1.0, min(m * p / i) OVER (PARTITION BY family ORDER BY i DESC
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
);
