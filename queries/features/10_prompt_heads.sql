-- Features, step 1: the distinct prompt heads and their template skeletons. Files run in
-- order (forensics/features.py): 10 prompt heads, 20 skeletons, 30 MinHash bands, 40 template
-- groups (repeated), 50 the one full scan of the log text into request_features, 55 shared
-- aggregates, 60 indicator hits. Template groups come before the scan so that the scan writes
-- each request's final row once; a second pass copying ten million rows to add columns cost
-- as much as the scan's own writing.
-- The template skeleton is computed once per distinct prompt head (a third as many as
-- requests at 1 M; a quarter at 10 M), not per request; the scan joins it back by the head.
-- requests: how many requests open with the head (summed per skeleton in 20).
-- head_key: the 128-bit md5 of the head, the key the scan (50) joins on. Joined by the head
-- strings themselves (up to 240 characters; 2.3 M distinct at 10 M requests, 4.2 M at 20 M),
-- the join's hash table outgrew the memory limit at 20 M and DuckDB spilled every request's
-- text with it (18 GB; the scan took 214 s against 57 s at 10 M).
CREATE OR REPLACE TABLE prompt_heads AS
SELECT
    head,
    md5_number(head) AS head_key,
    -- Template skeleton: lower-cased head, each run of digits as one 0 and each run of white
    -- space as one space. The white-space pattern is '\s+' rewritten to match only where the
    -- text changes (two or more white-space characters, or one that is not a space): every
    -- RE2 match costs a call, single spaces are most of a head, and '\s+' took 5.4 s of
    -- 2.3 M heads at 10 M requests against 0.8 s.
    left(regexp_replace(regexp_replace(lower(head), '[0-9]+', '0', 'g'),
                        '\s\s+|[\t\n\f\r]', ' ', 'g'), 160)
        AS skeleton_head,
    left(md5(skeleton_head), 16) AS skeleton_id,
    requests
FROM (SELECT left(prompt, 240) AS head, count(*) AS requests FROM requests GROUP BY ALL);
