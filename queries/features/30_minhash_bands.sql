-- MinHash-LSH over the distinct skeletons (not every request): word 3-gram shingles,
-- $permutations hash functions, bands of $rows_per_band rows. Two skeletons that share a
-- band key are candidate near-duplicates; connected groups become templates.
-- hash() is fine here: band keys never leave the run (hash() values change between DuckDB
-- versions, so they are never persisted or reported).
-- The signature is computed with list lambdas per skeleton, not by unnesting shingles ×
-- permutations into rows and grouping them back: same values, several times faster.
CREATE OR REPLACE TABLE skeleton_bands AS
WITH words AS (
    SELECT skeleton_id, string_split(trim(regexp_replace(head, '[^\w]+', ' ', 'g')), ' ') AS w
    FROM skeletons
    WHERE length(head) >= $min_chars
),
shingled AS (
    SELECT skeleton_id,
           list_transform(range(1, greatest(len(w) - 1, 1)),
                          lambda i: hash(w[i] || ' ' || w[i + 1] || ' ' || w[i + 2])) AS hs
    FROM words
),
signed AS (
    SELECT skeleton_id,
           list_transform(range(0, $permutations),
                          lambda p: list_min(list_transform(hs, lambda h: hash(h + p)))) AS sig
    FROM shingled
    WHERE len(hs) > 0  -- fewer than three words: no shingle, no signature
)
SELECT skeleton_id, band,
       hash(sig[band * $rows_per_band + 1:(band + 1) * $rows_per_band]) AS band_key
FROM signed, range(0, $permutations // $rows_per_band) AS b(band);
