/*---
id: cot_elicitation_weak
title: Weak step-by-step elicitation in one-shot traffic
family: content
level: low
status: test
description: >
  Detects accounts where most requests carry a weak step-by-step phrase of the signals
  lexicon ("step by step", "show your work", "一步一步", "paso a paso" …; signal cot_weak) and
  nearly all of the account's requests open a conversation (turn_index 0): one-shot prompts
  asking for worked reasoning, with no follow-up questions.
rationale: >
  Chain-of-thought elicitation is a named countermeasure target (Anthropic 2026-02-23; Google
  GTIG 2026-02), but "step by step" alone is weak because tutoring apps and eval harnesses use
  it. What a reasoning harvest adds is shape: every request a fresh, single-turn prompt, where a
  tutoring app's students ask follow-ups. Low weight: it only corroborates other families.
falsepositives:
  - Eval harnesses ("Think step by step before answering." templates, single-turn by design)
  - Benchmark / eval companies running reasoning benchmarks
  - Batch generation of worked solutions by an edtech publisher (one org, own documents)
references:
  - anthropic-2026
  - gtig-2026
  - queries/lexicons/signals.csv (signal cot_weak)
requires:
  requests: [account_id, prompt, turn_index]
params:
  min_requests: {type: INTEGER, default: 50, description: Fewest requests (with a known turn_index) an account needs before its shares are judged}
  min_share: {type: DOUBLE, default: 0.5, description: Share of requests with a weak step-by-step phrase that fires}
  min_first_turn_share: {type: DOUBLE, default: 0.9, description: Share of requests that open a conversation (turn_index 0) needed; tutoring traffic has follow-ups}
weight: 0.2
---*/
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql: per-account turn
-- counts, and the weak-phrase requests among the flagged ones (not every request).
WITH weak AS (
    SELECT
        account_id,
        count(*) FILTER (WHERE turn_index IS NOT NULL) AS hits,
        -- Evidence: weak-phrase requests that open a conversation.
        max(request_id, 10) FILTER (WHERE turn_index = 0) AS evidence
    FROM flagged_requests
    WHERE list_contains(signals, 'cot_weak')
    GROUP BY account_id
),
per_account AS (
    SELECT
        a.account_id,
        a.with_turn_index AS requests,
        coalesce(w.hits, 0) AS hits,
        a.first_turns,
        coalesce(w.evidence, CAST([] AS VARCHAR[])) AS evidence
    FROM account_activity AS a
    LEFT JOIN weak AS w USING (account_id)
)
SELECT
    account_id,
    fired_score(share_term(hits / requests, $min_share, 0.5), 0) AS score,
    round(hits / requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) ask for step-by-step reasoning (weak phrases such as '
           || '"step by step") and {:.0f} % open a new conversation (no follow-up turns)',
           hits, requests, 100 * hits / requests, 100 * first_turns / requests) AS detail,
    evidence
FROM per_account
WHERE requests >= $min_requests
  AND hits / requests >= $min_share
  AND first_turns / requests >= $min_first_turn_share
ORDER BY account_id
