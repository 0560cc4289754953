-- Features, the one full scan of the log text: one row per analysed request, no raw text.
-- Everything a heuristic needs from the prompt, system prompt and response is derived here
-- once; heuristics never re-read text.
-- $lexicon_pattern: one case-insensitive alternation of every lexicon phrase (signals and
-- capabilities), built from queries/lexicons/*.csv. lexicon_labels() (a function the features
-- stage registers) maps a row's lower-cased matched phrases to their labels
-- ('signal:<name>' / 'capability:<priority>:<name>'), sorted and distinct; it is computed once
-- per distinct phrase and cached. $scan_chars bounds the text scanned per field (adversarial
-- megabyte prompts); of a longer prompt the last $scan_tail_chars are scanned too.
-- Costs kept down because this runs over every request:
-- (1) system prompts repeat (a few distinct per thousand requests): their id and lexicon
--     matches are computed once per distinct text, then joined back;
-- (2) the prompt tail is scanned only when the head did not already cover it;
-- (3) script detection skips the five Unicode-class regexes for pure-ASCII heads;
-- (4) the template skeleton is looked up by the prompt head for the $frequent_heads most
--     used heads (frequent_heads, below), and computed (prompt_skeleton, 10_prompt_heads.sql)
--     for the requests with any other head; the template only looked up for skeletons
--     grouped under another's template (40); every other skeleton is its own;
-- (5) requests without a lexicon match (most) skip the label lookup.
-- account_no, api_key_no: dense integers standing for account_id and api_key_id (1 = the
-- smallest id; NULL for no API key), for heuristics that group or join millions of requests
-- by account or key: as cheap to group as hash() of the id, and exact. hash() is not: DuckDB's
-- hash of a string collides on structured ids ('org-0001-key-0000-prod' and
-- 'org-0008-key-0050-prod' share one; the 90,000 ids 'org-%04d-key-%04d-prod' for 0–299 give
-- 12,120 fewer hashes than ids). Numbering the pairs costs one more read of the two columns.
CREATE OR REPLACE TABLE request_features AS
WITH principals AS MATERIALIZED (
    -- Every (account, API key) pair the requests name, with both numbers and the org of the
    -- account's accounts row (an account missing from accounts has none).
    SELECT
        p.account_id,
        p.api_key_id,
        CAST(dense_rank() OVER (ORDER BY p.account_id) AS INTEGER) AS account_no,
        CASE WHEN p.api_key_id IS NOT NULL
             THEN CAST(dense_rank() OVER (ORDER BY p.api_key_id) AS INTEGER) END AS api_key_no,
        a.org_id
    FROM (SELECT DISTINCT account_id, api_key_id FROM requests) AS p
    LEFT JOIN accounts AS a USING (account_id)
),
system_prompts AS (
    SELECT system_prompt,
           left(md5(regexp_replace(lower(left(system_prompt, 2000)), '\s+', ' ', 'g')), 16)
               AS system_id,
           regexp_extract_all(left(system_prompt, $scan_chars), $lexicon_pattern)
               AS system_matches
    FROM (SELECT DISTINCT system_prompt FROM requests WHERE length(system_prompt) > 0)
),
frequent_heads AS (
    -- The most used prompt heads and their skeletons. Looking a head up here is cheaper than
    -- computing its skeleton (lower-casing, two RE2 replacements and an md5, a large part of
    -- the scan), and a few of the most used heads open most requests. The table is capped
    -- because a join whose table outgrows the memory limit writes the requests that probe it
    -- to disk: with every head (millions in a large log) it spilled without bound, with
    -- $frequent_heads heads nothing beyond what the scan spills anyway (bench/README.md has
    -- the figures).
    SELECT head, skeleton_id
    FROM prompt_heads
    WHERE skeleton_id IS NOT NULL
    ORDER BY requests DESC, head
    LIMIT $frequent_heads
),
moved_skeletons AS (
    SELECT skeleton_id, template_id FROM template_groups WHERE template_id <> skeleton_id
),
scanned AS (
    SELECT
        r.request_id,
        r.ts,
        -- Calendar minute since the epoch (floor; integer microseconds, as epoch(ts) is a
        -- DOUBLE and // on it does not floor).
        epoch_us(r.ts) // 60000000 AS minute,
        CAST((isodow(r.ts) - 1) * 24 + hour(r.ts) AS INTEGER) AS hour_of_week,
        r.account_id,
        a.account_no,
        r.api_key_id,
        a.api_key_no,
        coalesce(r.org_id, a.org_id) AS org_id,
        r.ip,
        network_prefix(r.ip) AS ip_prefix,  -- its /24, or /48 (05_functions.sql)
        r.user_agent,
        r.access_channel,
        r.model,
        r.conversation_id,
        r.turn_index,
        r.input_tokens,
        r.output_tokens,
        r.max_tokens,
        r.tool_count,
        r.temperature,
        r.thinking,
        r.stop_reason,
        length(r.prompt) AS prompt_chars,
        length(r.response) AS response_chars,
        CASE WHEN length(r.response) <= 300 THEN regexp_matches(r.response,
            '(?i)(\[\[\s*\d+(\.\d+)?\s*\]\]|\[\[[abc]\]\]|rating:\s*\d|\[result\]\s*\d|score:\s*\d)')
        END AS score_shaped,
        CASE
            WHEN strlen(left(r.prompt, 300)) = length(left(r.prompt, 300)) THEN 'latin'
            WHEN regexp_matches(left(r.prompt, 300), '\p{Hiragana}|\p{Katakana}') THEN 'ja'
            WHEN regexp_matches(left(r.prompt, 300), '\p{Han}') THEN 'zh'
            WHEN regexp_matches(left(r.prompt, 300), '\p{Hangul}') THEN 'ko'
            WHEN regexp_matches(left(r.prompt, 300), '\p{Arabic}') THEN 'ar'
            WHEN regexp_matches(left(r.prompt, 300), '\p{Cyrillic}') THEN 'ru'
            ELSE 'latin'
        END AS script,
        r.skeleton_id,
        s.system_id,
        CASE WHEN r.skeleton_id IS NOT NULL THEN coalesce(m.template_id, r.skeleton_id) END
            AS template_id,
        -- Both lists coalesced: DuckDB's list_concat skips a NULL list, Spark's concat
        -- would make the whole NULL (a request without a prompt).
        list_concat(coalesce(s.system_matches, CAST([] AS VARCHAR[])), coalesce(regexp_extract_all(
            CASE WHEN length(r.prompt) > $scan_chars + $scan_tail_chars
                 THEN left(r.prompt, $scan_chars) || chr(10) || right(r.prompt, $scan_tail_chars)
                 ELSE r.prompt END,  -- not left(): a copy of every prompt costs seconds
            $lexicon_pattern), CAST([] AS VARCHAR[]))) AS lexicon_matches
    FROM (SELECT q.*,
                 -- computed only for the requests whose head is not a frequent one
                 CASE WHEN f.skeleton_id IS NOT NULL THEN f.skeleton_id
                      ELSE left(md5(prompt_skeleton(q.head)), 16) END AS skeleton_id
          FROM (SELECT *, left(prompt, 240) AS head FROM requests) AS q
          LEFT JOIN frequent_heads AS f ON f.head = q.head) AS r
    -- Every request has its principal (principals is drawn from requests), so a LEFT JOIN
    -- keeps the same rows; it also keeps the requests, with their prompts, on the probe
    -- side: as an inner join, a filtered requests view (rows excluded at ingest) looked
    -- small enough to the planner to be hashed whole, and ran out of memory.
    LEFT JOIN principals AS a
        ON a.account_id = r.account_id AND a.api_key_id IS NOT DISTINCT FROM r.api_key_id
    LEFT JOIN system_prompts AS s ON s.system_prompt = r.system_prompt
    LEFT JOIN moved_skeletons AS m ON m.skeleton_id = r.skeleton_id
),
labelled AS (
    SELECT
        * EXCLUDE (lexicon_matches),
        CASE WHEN array_length(lexicon_matches) = 0 THEN CAST([] AS VARCHAR[])
             ELSE lexicon_labels(list_transform(lexicon_matches, lambda m: lower(m)))
        END AS labels
    FROM scanned
)
SELECT
    * EXCLUDE (labels),
    -- labels come sorted and distinct from lexicon_labels(), so the signals do too
    list_transform(list_filter(labels, lambda l: starts_with(l, 'signal:')),
                   lambda l: substr(l, 8)) AS signals,
    coalesce(substr(list_min(list_filter(labels, lambda l: starts_with(l, 'capability:'))), 14),
             'other') AS capability
FROM labelled;
