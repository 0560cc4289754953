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
  GTIG 2026-02), but domain.md §3 marks "step by step" alone as weak because tutoring apps and
  eval harnesses use it. What a reasoning harvest adds is shape: every request a fresh,
  single-turn prompt (domain.md §3 harvest shape), where a tutoring app's students ask
  follow-ups (domain.md §5). Low weight: it only corroborates other families.
falsepositives:
  - Eval harnesses ("Think step by step before answering." templates, single-turn by design)
  - Benchmark / eval companies running reasoning benchmarks
  - Batch generation of worked solutions by an edtech publisher (one org, own documents)
references:
  - Anthropic, Detecting and preventing distillation attacks (2026-02-23)
  - Google GTIG AI threat tracker (2026-02)
  - domain.md §3 CoT elicitation (strong vs weak phrases), §5 tutoring apps and eval harnesses
  - queries/lexicons/signals.csv (signal cot_weak)
requires:
  requests: [account_id, prompt, turn_index]
params:
  min_requests: {type: INTEGER, default: 50, description: Fewest requests (with a known turn_index) an account needs before its shares are judged}
  min_share: {type: DOUBLE, default: 0.5, description: Share of requests with a weak step-by-step phrase that fires}
  min_first_turn_share: {type: DOUBLE, default: 0.9, description: Share of requests that open a conversation (turn_index 0) needed; tutoring traffic has follow-ups}
weight: 0.2
---*/
WITH per_account AS (
    SELECT
        account_id,
        count(turn_index) AS requests,
        count(*) FILTER (WHERE turn_index IS NOT NULL AND list_contains(signals, 'cot_weak'))
            AS hits,
        count(*) FILTER (WHERE turn_index = 0) AS first_turns,
        max_by(request_id, (list_contains(signals, 'cot_weak') AND turn_index = 0, request_id),
               10) AS evidence
    FROM request_features
    GROUP BY account_id
)
SELECT
    account_id,
    least(1.0, (hits / requests - $min_share) / (1 - $min_share) * 0.5 + 0.5) AS score,
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
