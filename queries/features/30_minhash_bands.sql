-- MinHash-LSH over the distinct skeletons (not every request): word 3-gram shingles,
-- $permutations hash functions, bands of $rows_per_band rows. Two skeletons that share a
-- band key are candidate near-duplicates; connected groups become templates.
-- hash() is fine here: band keys never leave the run (STACK-NOTES: never persist hash()).
CREATE OR REPLACE TABLE skeleton_bands AS
WITH words AS (
    SELECT skeleton_id, string_split(trim(regexp_replace(head, '[^\w]+', ' ', 'g')), ' ') AS w
    FROM skeletons
    WHERE length(head) >= $min_chars
),
shingles AS (
    SELECT skeleton_id, hash(w[i] || ' ' || w[i + 1] || ' ' || w[i + 2]) AS h
    FROM words, range(1, greatest(len(w) - 1, 1)) AS t(i)
),
signatures AS (
    SELECT skeleton_id, p, min(hash(h + p)) AS v
    FROM shingles, range(0, $permutations) AS q(p)
    GROUP BY ALL
)
SELECT skeleton_id, p // $rows_per_band AS band,
       hash(list(v ORDER BY p)) AS band_key
FROM signatures
GROUP BY ALL;
