-- Near-duplicate template skeletons: pairs of skeletons whose word 3-gram shingle sets have a
-- Jaccard similarity (resemblance) of at least $min_resemblance. MinHash-LSH only proposes
-- the candidates ($permutations hash functions, bands of $rows_per_band rows); every
-- candidate is then checked against the shingle sets themselves, so which pairs are
-- near-duplicates is a property of the text, not of the hash functions drawn. 40 groups the
-- pairs into templates.
--
-- Why a check and not the band collisions themselves: with bands alone, a pair is a
-- near-duplicate with a probability that climbs from about 0.1 at Jaccard 0.3 to 0.5 at 0.5,
-- and template groups (which chain pairs) hung on which pairs the draw of hash functions
-- happened to catch: two equally valid draws agreed on 16 % to 30 % of the skeleton pairs
-- they grouped (README, Template groups). Checked pairs at a stated threshold do not move
-- with the draw:
-- - the threshold: Broder's resemblance of at least one half, the level at which his web
--   clustering called two documents roughly the same (Broder, Glassman, Manasse and Zweig,
--   "Syntactic clustering of the Web", 1997). On masked prompt heads it means one template
--   with a few slots filled differently: n words have n - 2 shingles and one changed word
--   changes at most three of them on each side, so two fills of a head of n words stay at
--   or above one half while they differ in at most (n - 2) / 9 words;
-- - the bands: 24 bands of 2 rows catch a pair of resemblance 0.5 with probability
--   1 - (1 - 0.5^2)^24 = 0.999, and one of 0.6 or more with 0.99998, so the check sees
--   nearly every pair at or above the threshold whatever the draw. The price is more
--   candidates below it (a pair of 0.3 is one with probability 0.9), which the check drops;
-- - the candidates of a band bucket: each skeleton with the $bucket_window skeletons just
--   before it in the bucket (by skeleton id) and with the bucket's first $bucket_window, not
--   with all of them. A bucket of a large template holds thousands of skeletons, and all its
--   pairs would be quadratic. The skeletons just before chain a template's skeletons
--   together; the first ones carry the smallest ids, which name the groups (40 gives each
--   skeleton the smallest id within two pairs of it). The skeletons of one template meet in
--   many buckets (a pair of 0.5 in six of 24 on average), each time beside other
--   neighbours, so the groups come out nearly as if every pair had been checked (README,
--   Template groups, has the measurement: 97 % of the grouped pairs on the benchmark's
--   seed 1);
-- - the check is exact on the shingle hashes: |A ∩ B| ≥ $min_resemblance · |A ∪ B|, with
--   |A ∪ B| = |A| + |B| - |A ∩ B|.
--
-- Every number here is one both engines compute alike (DuckDB's hash() and Spark's are
-- different functions, and DuckDB's changes between its versions), so the pairs are the
-- same on DuckDB and on Spark, and from one DuckDB version to the next:
-- - a shingle is hashed once, with portable_hash() (05_functions.sql: 60 bits of its md5),
--   taken modulo the prime P = 2^31 - 1;
-- - the $permutations hash functions are the universal family h_p(x) = (a_p * x + b_p) mod P
--   (Carter and Wegman), the usual stand-in for random permutations in MinHash (Broder's
--   min-wise hashing): for distinct shingles x, y < P, h_p(x) = h_p(y) only if a_p = 0,
--   and a_p is at least 1, so each h_p is a permutation of 0 … P - 1. a_p and b_p are fixed
--   numbers, derived from md5 of 'az<p>' and 'bz<p>' (well spread, and the same for every
--   run). Arithmetic, not an md5 per shingle and permutation: one md5 per shingle, then a
--   multiply-add per permutation, for the cost of hashing every (shingle, permutation)
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
-- (Spark) would otherwise hash every shingle again for each permutation; the check reads
-- them too. A skeleton's shingles are kept once each (list_distinct), as sets.
-- Words: runs of letters, marks, digits and '_' of any script, and every character of the
-- scripts written without spaces between words (Chinese, Japanese kana, Thai, Lao, Khmer,
-- Myanmar) a word of its own, so that their shingles are three characters. Words of ASCII
-- letters only (RE2's \w) left a Chinese or Russian head with its digits and Latin words
-- alone: two unrelated Chinese prompts with the same masked numbers came out near-duplicates.
CREATE OR REPLACE TABLE skeleton_shingles AS
WITH words AS (
    SELECT skeleton_id,
           regexp_extract_all(
               regexp_replace(head,
                              '(\p{Han}|\p{Hiragana}|\p{Katakana}|\p{Thai}|\p{Lao}|\p{Khmer}|\p{Myanmar})',
                              ' \1 ', 'g'),
               '(?:\p{L}|\p{M}|\p{N}|_)+') AS w
    FROM skeletons
    WHERE length(head) >= $min_chars
)
SELECT skeleton_id,
       -- Numbers in skeleton id order: the candidate pairs below are many (hundreds per
       -- skeleton in a large log) and are kept as two integers, not two ids.
       CAST(row_number() OVER (ORDER BY skeleton_id) AS INTEGER) AS skeleton_no,
       list_distinct(list_transform(range(1, array_length(w) - 1),
                                    lambda i: portable_hash(w[i] || ' ' || w[i + 1] || ' '
                                                            || w[i + 2]) % 2147483647)) AS hs
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
    SELECT skeleton_no,
           list_transform(coefficients,
                          lambda c: list_min(list_transform(hs,
                                                            lambda h: (c.a * h + c.b) % 2147483647)))
               AS sig
    FROM skeleton_shingles
    CROSS JOIN permutations
)
-- Each band's key computed in the signature's row and unnested: a cross join with the band
-- numbers would carry the signature into every band's row.
SELECT skeleton_no, k.band, k.band_key
FROM (SELECT skeleton_no,
             unnest(list_transform(
                 range(0, $permutations // $rows_per_band),
                 lambda band: {'band': band,
                               'band_key': portable_hash(array_to_string(
                                   list_transform(sig[band * $rows_per_band + 1:
                                                      (band + 1) * $rows_per_band],
                                                  lambda v: CAST(v AS VARCHAR)), ' '))})) AS k
      FROM signed);

-- The candidate pairs of each band bucket (see the header), once each, the smaller number
-- first. A table of its own: the check below then joins numbers, not a plan of window,
-- joins and a distinct held in memory together.
CREATE OR REPLACE TABLE skeleton_candidates AS
WITH placed AS (
    SELECT band, band_key, skeleton_no,
           CAST(row_number() OVER (PARTITION BY band, band_key ORDER BY skeleton_no) AS INTEGER)
               AS place
    FROM skeleton_bands
),
shared AS (  -- only buckets of two skeletons or more propose anything
    SELECT p.band, p.band_key, p.skeleton_no, p.place
    FROM placed AS p
    JOIN (SELECT band, band_key FROM placed WHERE place = 2) AS b USING (band, band_key)
),
targets AS (  -- the places each skeleton is checked against: just before it, and first
    SELECT l.band, l.band_key, l.skeleton_no, l.place - back.steps AS target
    FROM shared AS l
    CROSS JOIN range(1, $bucket_window + 1) AS back(steps)
    WHERE back.steps < l.place
    UNION ALL
    SELECT l.band, l.band_key, l.skeleton_no, CAST(back.steps AS INTEGER)
    FROM shared AS l
    CROSS JOIN range(1, $bucket_window + 1) AS back(steps)
    WHERE back.steps < l.place
)
SELECT DISTINCT e.skeleton_no AS first_no, t.skeleton_no AS second_no
FROM targets AS t
JOIN shared AS e ON e.band = t.band AND e.band_key = t.band_key AND e.place = t.target;

-- The candidates checked against the shingle sets: skeleton_pairs holds each near-duplicate
-- pair once, the smaller id first.
CREATE OR REPLACE TABLE skeleton_pairs AS
SELECT first_id, second_id
FROM (
    -- list_filter with list_contains, not list_intersect: the same count for sets of a few
    -- dozen shingles, and several times faster on DuckDB.
    SELECT a.skeleton_id AS first_id, b.skeleton_id AS second_id,
           array_length(a.hs) AS first_n, array_length(b.hs) AS second_n,
           array_length(list_filter(a.hs, lambda h: list_contains(b.hs, h))) AS shared_n
    FROM skeleton_candidates AS c
    JOIN skeleton_shingles AS a ON a.skeleton_no = c.first_no
    JOIN skeleton_shingles AS b ON b.skeleton_no = c.second_no
) AS checked
WHERE shared_n >= $min_resemblance * (first_n + second_n - shared_n);

DROP TABLE skeleton_candidates;
DROP TABLE skeleton_bands;
DROP TABLE skeleton_shingles;
