-- MinHash-LSH over the distinct skeletons (not every request): word 3-gram shingles,
-- $permutations hash functions, bands of $rows_per_band rows. Two skeletons that share a
-- band key are candidate near-duplicates; connected groups become templates.
--
-- Every number here is one both engines compute alike (DuckDB's hash() and Spark's are
-- different functions, and DuckDB's changes between its versions), so template groups are the
-- same on DuckDB and on Spark, and from one DuckDB version to the next:
-- - a shingle is hashed once, with portable_hash() (05_functions.sql: 60 bits of its md5),
--   taken modulo the prime P = 2^31 - 1;
-- - the $permutations hash functions are the universal family h_p(x) = (a_p * x + b_p) mod P
--   (Carter and Wegman), the usual stand-in for random permutations in MinHash (Broder's
--   min-wise hashing): for distinct shingles x, y < P, h_p(x) = h_p(y) only if a_p = 0,
--   and a_p is at least 1, so each h_p is a permutation of 0 … P - 1. a_p and b_p are fixed
--   numbers, derived from md5 of 'az<p>' and 'bz<p>' (well spread, and the same for every
--   run): one draw of the family. Which draw moves borderline skeletons between groups, and
--   with them what the template heuristics and attribution by template find: of the four
--   draws tried on the detection benchmark and the bundled sample, this is the one that
--   lost nothing against the DuckDB hash() it replaced (README, Features on Spark, has the
--   others). Arithmetic, not an md5 per shingle and permutation: one md5 per shingle, then
--   a multiply-add per permutation, for the cost of hashing every (shingle, permutation)
--   pair. No intermediate leaves BIGINT: a_p, x < 2^31, so a_p * x + b_p < 2^62 + 2^31;
-- - reducing a shingle's 60 bits modulo P gives two different shingles one value with
--   probability about 2^-31 per pair: skeletons of a few dozen shingles each rarely meet one
--   by chance, and one only makes two skeletons look a shingle more alike;
-- - a band key is portable_hash() of the band's values written out: two different values of
--   one band share a key with probability 2^-60 per pair.
-- Band keys never leave the run. The signature is computed with list lambdas per skeleton,
-- not by unnesting shingles × permutations into rows and grouping them back: same values,
-- several times faster. The shingle hashes are a table of their own (skeleton_shingles,
-- dropped at the end): an engine that inlines a column into the expressions reading it
-- (Spark) would otherwise hash every shingle again for each permutation.
CREATE OR REPLACE TABLE skeleton_shingles AS
WITH words AS (
    SELECT skeleton_id, string_split(trim(regexp_replace(head, '[^\w]+', ' ', 'g')), ' ') AS w
    FROM skeletons
    WHERE length(head) >= $min_chars
)
SELECT skeleton_id,
       list_transform(range(1, array_length(w) - 1),
                      lambda i: portable_hash(w[i] || ' ' || w[i + 1] || ' ' || w[i + 2])
                                % 2147483647) AS hs
FROM words
WHERE array_length(w) >= 3;  -- fewer than three words: no shingle, no signature

CREATE OR REPLACE TABLE skeleton_bands AS
WITH permutations AS (
    -- The coefficients (a_p, b_p) of every permutation p, in the order of p.
    SELECT list({'a': 1 + portable_hash('az' || CAST(p AS VARCHAR)) % 2147483646,
                 'b': portable_hash('bz' || CAST(p AS VARCHAR)) % 2147483647}
                ORDER BY p) AS coefficients
    FROM range(0, $permutations) AS t(p)
),
signed AS (
    SELECT skeleton_id,
           list_transform(coefficients,
                          lambda c: list_min(list_transform(hs,
                                                            lambda h: (c.a * h + c.b) % 2147483647)))
               AS sig
    FROM skeleton_shingles
    CROSS JOIN permutations
)
-- Each band's key computed in the signature's row and unnested: a cross join with the band
-- numbers would carry the signature into every band's row.
SELECT skeleton_id, k.band, k.band_key
FROM (SELECT skeleton_id,
             unnest(list_transform(
                 range(0, $permutations // $rows_per_band),
                 lambda band: {'band': band,
                               'band_key': portable_hash(array_to_string(
                                   list_transform(sig[band * $rows_per_band + 1:
                                                      (band + 1) * $rows_per_band],
                                                  lambda v: CAST(v AS VARCHAR)), ' '))})) AS k
      FROM signed);

DROP TABLE skeleton_shingles;
