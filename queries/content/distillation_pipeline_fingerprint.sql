/*---
id: distillation_pipeline_fingerprint
title: Public distillation-recipe fingerprints
family: content
level: high
status: test
description: >
  Detects accounts whose requests carry the verbatim prompts of public distillation and
  synthetic-data recipes (signals pipeline_* of the signals lexicon, typos kept as precise
  matchers): Stanford Alpaca and its Chinese BELLE variant, Self-Instruct, the Orca system
  messages, the long chain-of-thought system prompt of STILL-2 / Sky-T1 / Bespoke-Stratos /
  OpenThoughts, Evol-Instruct (WizardLM) and CAMEL role-play. Names the recipe (or recipes)
  found and how many requests carry each.
rationale: >
  These prompts exist to generate training data from a stronger model: instruction sets (Alpaca,
  Self-Instruct, Evol-Instruct), explanation traces (Orca), long reasoning traces (Sky-T1 /
  OpenThoughts, harvested at temperature 0 and max_tokens 8000) and dialogues (CAMEL). Sent at
  volume to a provider's API they are a distillation pipeline running against it — "content that
  maps directly onto what is most valuable for training an AI model" (Anthropic 2026-02-23).
  Ordinary users do not type "User will you give you a task" or "analisying questions".
  Campaigns keep per-account volume modest (Anthropic 2026-02-23): an account too small for
  min_requests still fires when most of what it sends (min_small_share) is recipe prompts, at
  least min_small_hits of them; a researcher trying a recipe does so among other work, or a
  handful of times.
falsepositives:
  - Academic researchers reproducing a recipe at moderate volume (declared affiliation, no account farm)
  - Agent frameworks built on CAMEL role-play prompts (real multi-turn traffic)
  - Apps that copied a public reasoning system prompt (Phi-4-reasoning reuses the Sky-T1 sentence "reflection, backtracing, and iteration")
  - Evaluations of a model trained on these recipes that replay the training prompts
references:
  - alpaca-2023 (prompt.txt)
  - belle-2023
  - self-instruct-2022
  - orca-2023 (system messages)
  - sky-t1-2025 (system prompt)
  - bespoke-stratos-2025 (system prompt)
  - openthoughts-2025 (system prompt)
  - still-2-2024 (the system prompt they follow)
  - wizardlm-2023 (Evol-Instruct)
  - camel-2023
  - anthropic-2026
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 20, description: Fewest requests an account needs before it is judged}
  min_hits: {type: INTEGER, default: 10, description: Fewest requests carrying a recipe fingerprint}
  min_share: {type: DOUBLE, default: 0.1, description: Share of requests carrying a recipe fingerprint that fires (low - a relay mixes them with other traffic)}
  min_small_hits: {type: INTEGER, default: 5, description: Fewest recipe requests of an account below min_requests or min_hits}
  min_small_share: {type: DOUBLE, default: 0.5, description: Share of its requests a smaller account must send as recipe prompts (most of what it does)}
weight: 0.8
---*/
WITH recipes (signal, recipe) AS (
    VALUES
        ('pipeline_alpaca', 'Stanford Alpaca self-instruct generation prompt (tatsu-lab/stanford_alpaca prompt.txt: "You are asked to come up with a set of 20 diverse task instructions", "List of 20 tasks:"; or its Chinese BELLE variant)'),
        ('pipeline_selfinstruct', 'Self-Instruct pipeline prompts (yizhongw/self-instruct: "Come up with a series of tasks:", the classification-task check, instance generation)'),
        ('pipeline_orca', 'Orca explanation-tuning system messages (Mukherjee et al. 2023: "User will you give you a task", typo kept; "so user don''t need to search outside")'),
        ('pipeline_longcot', 'long chain-of-thought trace-distillation system prompt (STILL-2 / Sky-T1 / Bespoke-Stratos / OpenThoughts: "systematic long thinking process", "analisying questions", <|begin_of_thought|> … <|end_of_solution|>)'),
        ('pipeline_evol', 'Evol-Instruct prompt evolution (nlpxucan/WizardLM: "I want you act as a Prompt Rewriter", "#The Given Prompt#:", "#Rewritten Prompt#:")'),
        ('pipeline_camel', 'CAMEL role-play data generation (camel-ai: "Never flip roles!", <CAMEL_TASK_DONE>)')
),
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql: requests per
-- account, per-signal hits, and the flagged requests (not every request).
per_hit_account AS (
    SELECT
        account_id,
        count(*) AS hits,
        max_by(request_id, (recipes, request_id), 10) AS evidence
    FROM (
        SELECT account_id, request_id,
               len(list_filter(signals, lambda s: starts_with(s, 'pipeline_'))) AS recipes
        FROM flagged_requests
    )
    WHERE recipes > 0
    GROUP BY account_id
),
per_recipe AS (
    SELECT account_id, signal, hits AS n
    FROM account_signals
    WHERE starts_with(signal, 'pipeline_')
),
-- A pipeline_* signal added to the lexicon later is named by its lexicon source.
lexicon_sources AS (
    SELECT signal, min(source) AS source
    FROM lexicon_signals
    WHERE starts_with(signal, 'pipeline_')
    GROUP BY signal
),
named AS (
    SELECT p.account_id, p.signal, p.n,
           coalesce(r.recipe, 'public recipe ' || p.signal || ' (' || l.source || ')',
                    'public recipe ' || p.signal) AS recipe
    FROM per_recipe AS p
    LEFT JOIN recipes AS r USING (signal)
    LEFT JOIN lexicon_sources AS l USING (signal)
),
-- At most one row per pipeline_* signal per account: bounded string_agg.
recipe_summary AS (
    SELECT
        account_id,
        arg_max(recipe, (n, signal)) AS top_recipe,
        max(n) AS top_n,
        count(*) AS recipe_count,
        string_agg(signal || ' ' || n, ', ' ORDER BY n DESC, signal) AS counts
    FROM named
    GROUP BY account_id
)
SELECT
    p.account_id,
    fired_score(share_term(p.hits / a.requests, $min_share, 0.5), 0.1 * (s.recipe_count - 1))
        AS score,
    round(p.hits / a.requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) carry the prompts of public distillation recipes; '
           || 'the most frequent is the {} ({:d} requests); per recipe: {}',
           p.hits, a.requests, 100 * p.hits / a.requests, s.top_recipe, s.top_n,
           s.counts) AS detail,
    p.evidence
FROM per_hit_account AS p
JOIN account_activity AS a USING (account_id)
JOIN recipe_summary AS s USING (account_id)
WHERE (a.requests >= $min_requests AND p.hits >= $min_hits
       AND p.hits / a.requests >= $min_share)
   -- A small account that does little but run a recipe: campaigns keep per-account volume
   -- modest and spread one pipeline over many accounts.
   OR (p.hits >= $min_small_hits AND p.hits / a.requests >= $min_small_share)
ORDER BY p.account_id
