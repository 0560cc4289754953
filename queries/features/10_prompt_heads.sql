-- Features, step 1: the distinct prompt heads and their template skeletons. Files run in
-- order (forensics/features.py): 10 prompt heads, 20 skeletons, 30 MinHash bands, 40 template
-- groups (repeated), 50 the one full scan of the log text into request_features, 55 shared
-- aggregates, 60 indicator hits. Template groups come before the scan so that the scan writes
-- each request's final row once; a second pass copying every row to add columns costs as
-- much as the scan's own writing.
-- prompt_skeleton(head), the template skeleton of a prompt head: lower-cased, each run of
-- digits as one 0 and each run of white space as one space, cut to 160 characters. The
-- white-space pattern is '\s+' rewritten to match only where the text changes (two or more
-- white-space characters, or one that is not a space): every RE2 match costs a call, and
-- single spaces are most of a head, so '\s+' took several times as long. One definition, used
-- here and by the scan (50).
-- prompt_heads: the distinct heads (millions in a large log) and their skeletons, from which
-- 20 builds the skeletons. The scan does not join every head's skeleton back: that hash table
-- holds every distinct head, so it grows with the log; when it outgrew the memory limit DuckDB
-- spilled every request that went through the join, joined by the head text or by its md5,
-- until the disk was full (bench/README.md has the figures). The scan looks up only the
-- most used heads (a capped table) and computes the skeleton of every other request, and
-- this grouping spills gracefully when it must.
-- requests: how many requests open with the head (summed per skeleton in 20).
CREATE OR REPLACE TEMP MACRO prompt_skeleton(head) AS
    left(regexp_replace(regexp_replace(lower(head), '[0-9]+', '0', 'g'),
                        '\s\s+|[\t\n\f\r]', ' ', 'g'), 160);

CREATE OR REPLACE TABLE prompt_heads AS
SELECT
    head,
    prompt_skeleton(head) AS skeleton_head,
    left(md5(skeleton_head), 16) AS skeleton_id,
    requests
FROM (SELECT left(prompt, 240) AS head, count(*) AS requests FROM requests GROUP BY ALL);
