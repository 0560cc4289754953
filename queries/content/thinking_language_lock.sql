/*---
id: thinking_language_lock
title: Thinking-language lock and reasoning translation
family: content
level: high
status: test
description: >
  Detects accounts whose requests pin the language of the model's thinking to the user's
  language ("the language used in the thinking content must be strictly consistent with the
  main language of the user input", "思考内容的语言"; signal lang_lock) or ask for earlier
  reasoning to be translated or a saved thinking block expanded (signal reasoning_translate):
  either as a large share of the account's traffic, or spread over many scripts (latin, zh,
  ja, ko, ar, ru) from one account even when diluted by other traffic. Lock requests must
  mostly open a conversation (turn_index 0 or unknown): a multilingual chat product with the
  lock in its system prompt carries its users' follow-up turns.
rationale: >
  Google GTIG (2026-02) describes a campaign of over 100,000 prompts coercing full reasoning
  traces with exactly this lock instruction, aiming to replicate reasoning "in non-English
  target languages"; a later, unverified report adds asking the model to "translate" earlier
  reasoning into another language and replaying a saved thinking block to have it expanded. The
  same lock sent in many languages from one account is a harvest of multilingual reasoning
  traces, not one user's preference.
falsepositives:
  - Multilingual assistant or agent products that show the model's thinking to users in their own language (one system prompt, real multi-turn traffic)
  - Localisation teams evaluating a model's reasoning in several languages (moderate volume, one org)
  - Researchers studying multilingual reasoning
references:
  - gtig-2026
  - later-reports-2026
  - queries/lexicons/signals.csv (signals lang_lock, reasoning_translate)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 20, description: Fewest requests an account needs before it is judged}
  min_hits: {type: INTEGER, default: 10, description: Fewest lock or translation requests needed}
  min_share: {type: DOUBLE, default: 0.2, description: Share of lock or translation requests that fires on its own}
  min_scripts: {type: INTEGER, default: 3, description: Distinct scripts among the lock or translation requests that fire even below min_share}
  max_followup_share: {type: DOUBLE, default: 0.5, description: Largest share of lock requests that are follow-up turns (turn_index > 0) still judged a harvest}
weight: 0.7
---*/
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql: requests per
-- account, and the lock or translation requests among the flagged ones (not every request).
WITH hits AS (
    SELECT
        account_id,
        request_id,
        script,
        list_contains(signals, 'lang_lock') AS is_lock,
        list_contains(signals, 'reasoning_translate') AS is_translate,
        coalesce(turn_index, 0) > 0 AS is_followup
    FROM flagged_requests
    WHERE list_contains(signals, 'lang_lock') OR list_contains(signals, 'reasoning_translate')
),
per_hit_account AS (
    SELECT
        account_id,
        count(*) AS hits,
        count(*) FILTER (WHERE is_lock) AS locks,
        count(*) FILTER (WHERE is_translate) AS translations,
        count(*) FILTER (WHERE is_lock AND is_followup) AS lock_followups,
        count(DISTINCT script) AS scripts,
        -- At most six distinct values (the script column's domain): bounded.
        string_agg(DISTINCT script, ', ' ORDER BY script) AS script_names,
        max_by(request_id, (NOT is_followup, request_id), 10) AS evidence
    FROM hits
    GROUP BY account_id
),
per_account AS (
    SELECT
        a.account_id,
        a.requests,
        coalesce(h.hits, 0) AS hits,
        coalesce(h.locks, 0) AS locks,
        coalesce(h.translations, 0) AS translations,
        coalesce(h.lock_followups, 0) AS lock_followups,
        coalesce(h.scripts, 0) AS scripts,
        h.script_names,
        coalesce(h.evidence, CAST([] AS VARCHAR[])) AS evidence
    FROM account_activity AS a
    LEFT JOIN per_hit_account AS h USING (account_id)
)
SELECT
    account_id,
    fired_score(greatest(0.0, share_term(hits / requests, $min_share, 0.5)), 0.1 * (scripts - 1))
        AS score,
    round(hits / requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) lock the thinking language or ask to translate '
           || 'reasoning ({:d} lock, {:d} translate), written in {:d} script(s): {}',
           hits, requests, 100 * hits / requests, locks, translations, scripts,
           script_names) AS detail,
    evidence
FROM per_account
WHERE requests >= $min_requests
  AND hits >= $min_hits
  AND (hits / requests >= $min_share OR scripts >= $min_scripts)
  AND (locks = 0 OR lock_followups / locks <= $max_followup_share)
ORDER BY account_id
