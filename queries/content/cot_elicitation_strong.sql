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
  - anthropic-2026
  - gtig-2026
  - queries/lexicons/signals.csv (signal cot_strong)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 20, description: Fewest requests an account needs before its share is judged}
  min_share: {type: DOUBLE, default: 0.3, description: Share of requests with a strong phrase that fires}
weight: 0.8
---*/
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql, not every request,
-- through signal_share() (queries/features/05_functions.sql).
SELECT
    account_id,
    fired_score(share_term(hits / requests, $min_share, 0.5), 0) AS score,
    round(hits / requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) ask the model to write out its internal reasoning',
           hits, requests, 100 * hits / requests) AS detail,
    evidence
FROM signal_share('cot_strong')
WHERE requests >= $min_requests AND hits / requests >= $min_share
ORDER BY account_id
