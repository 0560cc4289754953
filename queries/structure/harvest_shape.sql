/*---
id: harvest_shape
title: Harvest-shaped traffic (one-shot, fixed sampling settings, long outputs)
family: structure
level: medium
status: test
description: >
  Detects accounts whose requests are mostly harvest-shaped: single-turn (turn 0 or no
  conversation), sent at the account's one constant temperature and max_tokens setting, and
  answered with far more tokens than were sent (output/input token ratio). The share of
  generations cut off at max_tokens (stop_reason, when exported) raises the score.
rationale: >
  Single-turn requests, constant temperature and max_tokens near the maximum, a high
  output/input token ratio and many max-token stops are the shape of output harvesting: a script
  sends one short question at a time and keeps the long answer, with nothing conversational
  about it. The public long-CoT recipes were run at temperature 0 and max_tokens 8000 (Sky-T1 /
  OpenThoughts). Each part alone is common (every programmatic client fixes its settings), so a
  request counts only when all parts hold at once. Enterprise batch jobs are one-shot with fixed
  settings too, but send their own documents and get short summaries or labels back (low
  output/input ratio), so they stay below the threshold; tutoring apps and agent products are
  multi-turn.
falsepositives:
  - Benchmark / eval companies generating long answers to short test questions (see
    benchmark_test_overlap)
  - One-shot content-generation products (product descriptions, stories from a title)
  - Academic researchers generating a synthetic data set of moderate size
references:
  - sky-t1-2025 (system prompt)
  - bespoke-stratos-2025 (system prompt)
  - openthoughts-2025 (system prompt)
  - still-2-2024 (the system prompt they follow)
  - anthropic-2026
requires:
  requests: [account_id, conversation_id, turn_index, temperature, max_tokens, input_tokens, output_tokens]
params:
  min_requests: {type: INTEGER, default: 50, description: Fewest requests an account needs before its share is judged}
  min_share: {type: DOUBLE, default: 0.6, description: Share of harvest-shaped requests that fires}
  min_output_ratio: {type: DOUBLE, default: 4.0, description: Output tokens per input token for a request to count as harvest-shaped}
  max_tokens_stops: {type: VARCHAR, default: "max_tokens,length", description: Comma-separated stop_reason values meaning the output hit max_tokens}
  strong_max_stop_share: {type: DOUBLE, default: 0.25, description: Share of max_tokens stops at which that part of the score saturates}
weight: 0.5
---*/
WITH cells AS (
    -- One pass: counts per account and (temperature, max_tokens) setting, on the integer
    -- account_no (cheaper to group on than the id string; the id is joined back at the end).
    SELECT
        account_no,
        temperature,
        max_tokens,
        count(*) AS n,
        count(*) FILTER (WHERE single_turn) AS single_turn,
        count(*) FILTER (WHERE max_stop) AS max_stops,
        count(*) FILTER (WHERE single_turn AND ratio >= $min_output_ratio) AS candidates
    FROM (
        SELECT
            account_no,
            temperature,
            max_tokens,
            output_tokens / greatest(input_tokens, 1) AS ratio,
            (conversation_id IS NULL OR coalesce(turn_index, 0) = 0) AS single_turn,
            list_contains(string_split($max_tokens_stops, ','), stop_reason) AS max_stop
        FROM request_features
    )
    GROUP BY ALL
),
per_temperature AS (
    SELECT account_no, temperature, sum(n) AS setting_n
    FROM cells
    GROUP BY account_no, temperature
    QUALIFY row_number() OVER (PARTITION BY account_no
                               ORDER BY setting_n DESC, temperature NULLS FIRST) = 1
),
per_max_tokens AS (
    SELECT account_no, max_tokens, sum(n) AS setting_n
    FROM cells
    GROUP BY account_no, max_tokens
    QUALIFY row_number() OVER (PARTITION BY account_no
                               ORDER BY setting_n DESC, max_tokens NULLS FIRST) = 1
),
counted AS (
    SELECT
        c.account_no,
        any_value(t.temperature) AS temperature,
        any_value(m.max_tokens) AS max_tokens,
        sum(c.n) AS requests,
        sum(c.single_turn) AS single_turn,
        sum(c.n) FILTER (WHERE c.temperature IS NOT DISTINCT FROM t.temperature)
            AS usual_temperature,
        sum(c.n) FILTER (WHERE c.max_tokens IS NOT DISTINCT FROM m.max_tokens)
            AS usual_max_tokens,
        sum(c.max_stops) AS max_stops,
        sum(c.candidates) FILTER (WHERE c.temperature IS NOT DISTINCT FROM t.temperature
                                   AND c.max_tokens IS NOT DISTINCT FROM m.max_tokens)
            AS shaped
    FROM cells AS c
    JOIN per_temperature AS t USING (account_no)
    JOIN per_max_tokens AS m USING (account_no)
    GROUP BY c.account_no
),
per_account AS (
    SELECT
        account_no,
        temperature,
        max_tokens,
        CAST(requests AS BIGINT) AS requests,
        CAST(single_turn AS BIGINT) AS single_turn,
        CAST(coalesce(usual_temperature, 0) AS BIGINT) AS usual_temperature,
        CAST(coalesce(usual_max_tokens, 0) AS BIGINT) AS usual_max_tokens,
        CAST(max_stops AS BIGINT) AS max_stops,
        CAST(coalesce(shaped, 0) AS BIGINT) AS shaped
    FROM counted
    WHERE requests >= $min_requests AND coalesce(shaped, 0) / requests >= $min_share
),
evidence AS (
    -- Only the fired accounts' requests are read again, for the median and the evidence.
    SELECT
        r.account_no,
        median(r.output_tokens / greatest(r.input_tokens, 1)) AS median_ratio,
        max_by(r.request_id,
               ((r.conversation_id IS NULL OR coalesce(r.turn_index, 0) = 0)
                    AND r.temperature IS NOT DISTINCT FROM a.temperature
                    AND r.max_tokens IS NOT DISTINCT FROM a.max_tokens
                    AND r.output_tokens / greatest(r.input_tokens, 1) >= $min_output_ratio,
                coalesce(list_contains(string_split($max_tokens_stops, ','), r.stop_reason),
                         false),
                r.output_tokens / greatest(r.input_tokens, 1),
                r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN per_account AS a USING (account_no)
    GROUP BY r.account_no
)
SELECT
    account_id,
    fired_score(share_term(shaped / requests, $min_share, 0.3),
                0.2 * least(1.0, max_stops / requests / $strong_max_stop_share)) AS score,
    round(shaped / requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) are harvest-shaped: {:.0f} % single-turn, '
           || 'temperature {} in {:.0f} %, max_tokens {} in {:.0f} %, median output/input '
           || 'token ratio {:.1f}, {:.0f} % stopped at max_tokens',
           shaped, requests, 100 * shaped / requests, 100 * single_turn / requests,
           coalesce(CAST(temperature AS VARCHAR), 'default'), 100 * usual_temperature / requests,
           coalesce(CAST(max_tokens AS VARCHAR), 'default'), 100 * usual_max_tokens / requests,
           median_ratio, 100 * max_stops / requests) AS detail,
    evidence
FROM per_account
JOIN evidence USING (account_no)
JOIN (SELECT account_no, account_id FROM account_activity) AS ids USING (account_no)
ORDER BY account_id
