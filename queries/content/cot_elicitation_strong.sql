/*---
id: cot_elicitation_strong
title: Strong chain-of-thought elicitation
family: content
level: high
status: test
description: >
  Detects accounts whose requests repeatedly ask the model to write out its internal
  reasoning, reasoning trace or thinking (strong phrases and thinking tags of the signals
  lexicon, English and Chinese), as a share of the account's traffic.
rationale: >
  Harvesting reasoning traces is the core of reasoning distillation: Anthropic (2026-02-23)
  describes prompts asking the model to "imagine and articulate the internal reasoning behind a
  completed response and write it out step by step"; Google GTIG (2026-02) a campaign coercing
  full reasoning traces. Ordinary users rarely ask for the model's internal reasoning at scale.
falsepositives:
  - Interpretability or safety researchers studying reasoning (moderate volume, declared org)
  - Prompt-engineering courses demonstrating thinking tags
references:
  - Anthropic, Detecting and preventing distillation attacks (2026-02-23)
  - Google GTIG AI threat tracker (2026-02)
  - queries/lexicons/signals.csv (signal cot_strong)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 20, description: Fewest requests an account needs before its share is judged}
  min_share: {type: DOUBLE, default: 0.3, description: Share of requests with a strong phrase that fires}
weight: 0.8
---*/
WITH per_account AS (
    SELECT
        account_id,
        count(*) AS requests,
        count(*) FILTER (WHERE list_contains(signals, 'cot_strong')) AS hits,
        max_by(request_id, (list_contains(signals, 'cot_strong'), request_id), 10) AS evidence
    FROM request_features
    GROUP BY account_id
)
SELECT
    account_id,
    least(1.0, (hits / requests - $min_share) / (1 - $min_share) * 0.5 + 0.5) AS score,
    round(hits / requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) ask the model to write out its internal reasoning',
           hits, requests, 100 * hits / requests) AS detail,
    evidence
FROM per_account
WHERE requests >= $min_requests AND hits / requests >= $min_share
ORDER BY account_id
