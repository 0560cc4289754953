/*---
id: shared_system_prompt_across_owners
title: One harvest system prompt used by many unrelated owners for one-shot traffic
family: structure
level: medium
status: test
description: >
  Detects accounts that use, in earnest, a system prompt (system_id) which is also used by many
  unrelated owners, when the traffic under that system prompt is one-shot and tool-free (not a
  product's conversations) and a real share of it carries harvest content (reasoning-trace
  elicitation, post-hoc rationales, task generation, language lock, public distillation-pipeline
  system prompts). The more owners, the higher the score.
rationale: >
  Distillation pipelines drive every worker account with the same system prompt: the public
  recipes are system prompts (Orca's 16 system messages, the long-CoT "systematic long thinking
  process" prompt of STILL-2 / Sky-T1 / OpenThoughts), and a later, unverified report describes
  fake "debug mode" or fake system prompts to elicit reasoning. Anthropic (2026-02-23) describes
  "identical patterns" across hydra clusters. The benign look-alike is the agent / IDE product
  whose one system prompt is shared by thousands of users; what separates it is real multi-turn
  tool traffic, so only one-shot, tool-free use counts here, and only when harvest content is
  present; one organisation's accounts are one owner.
falsepositives:
  - Unrelated academic groups reproducing the same public recipe's system prompt (moderate
    volume, declared affiliations, no account farm)
  - A thin single-turn wrapper product built on a public prompt that happens to ask for step-by-
    step reasoning traces, used with users' own keys
references:
  - anthropic-2026
  - orca-2023 (system messages)
  - sky-t1-2025 (system prompt)
  - bespoke-stratos-2025 (system prompt)
  - openthoughts-2025 (system prompt)
  - still-2-2024 (the system prompt they follow)
  - later-reports-2026
  - queries/lexicons/signals.csv
requires:
  requests: [account_id, system_prompt, prompt, conversation_id, turn_index, tool_count]
params:
  min_owners: {type: INTEGER, default: 3, description: Fewest distinct owners using the system prompt in earnest}
  min_owner_requests: {type: INTEGER, default: 10, description: Requests an account needs with the system prompt to count as using it}
  min_one_shot_share: {type: DOUBLE, default: 0.8, description: Share of the system prompt's requests that are single-turn and offer no tools}
  min_harvest_share: {type: DOUBLE, default: 0.3, description: Share of the system prompt's requests carrying a harvest signal}
  harvest_signals: {type: VARCHAR, default: "cot_strong,posthoc_rationale,lang_lock,reasoning_translate,rl_taskgen,safe_rewrite,rubric_judge,pipeline_alpaca,pipeline_selfinstruct,pipeline_orca,pipeline_longcot,pipeline_evol,pipeline_camel", description: Comma-separated lexicon signals that mark harvest content}
weight: 0.6
---*/
WITH owners AS (
    -- account_activity's org_id is the smallest org the account's requests name
    SELECT account_no, account_id, coalesce(org_id, 'no-org:' || account_id) AS owner
    FROM account_activity
),
usage AS (
    -- on the integer account_no: cheaper to group and join on than the id string
    SELECT account_no, system_id, count(*) AS n
    FROM request_features
    WHERE system_id IS NOT NULL
    GROUP BY account_no, system_id
    HAVING count(*) >= $min_owner_requests
),
prompts AS (
    SELECT
        system_id,
        count(*) AS requests,
        count(*) FILTER (WHERE (conversation_id IS NULL OR coalesce(turn_index, 0) = 0)
                         AND coalesce(tool_count, 0) = 0) AS one_shot,
        count(*) FILTER (WHERE list_has_any(signals, string_split($harvest_signals, ',')))
            AS harvest
    FROM request_features
    WHERE system_id IN (SELECT system_id FROM usage)
    GROUP BY system_id
),
shared AS (
    SELECT p.system_id, p.requests, p.one_shot, p.harvest,
           count(DISTINCT o.owner) AS owners, count(*) AS accounts
    FROM prompts AS p
    JOIN usage AS u USING (system_id)
    JOIN owners AS o USING (account_no)
    GROUP BY ALL
    HAVING count(DISTINCT o.owner) >= $min_owners
       AND p.one_shot / p.requests >= $min_one_shot_share
       AND p.harvest / p.requests >= $min_harvest_share
),
fired AS (
    SELECT o.account_id, u.account_no, u.system_id, u.n, s.owners, s.accounts, s.requests,
           s.one_shot, s.harvest
    FROM usage AS u
    JOIN shared AS s USING (system_id)
    JOIN owners AS o USING (account_no)
    QUALIFY row_number() OVER (PARTITION BY u.account_no
                               ORDER BY s.owners DESC, u.n DESC, u.system_id) = 1
),
evidence AS (
    SELECT f.account_id,
           max_by(r.request_id, (list_has_any(r.signals, string_split($harvest_signals, ',')),
                                 r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN fired AS f ON f.account_no = r.account_no AND f.system_id = r.system_id
    GROUP BY f.account_id
)
SELECT
    f.account_id,
    fired_score(ratio_term(f.owners, $min_owners, 0.3),
                share_term(f.harvest / f.requests, $min_harvest_share, 0.2)) AS score,
    f.owners AS metric,
    format('{:d} requests use system prompt {}, which {:d} different owners ({:d} accounts) use; '
           || 'of its {:d} requests {:.0f} % are one-shot without tools and {:.0f} % carry '
           || 'harvest signals',
           f.n, f.system_id, f.owners, f.accounts, f.requests, 100 * f.one_shot / f.requests,
           100 * f.harvest / f.requests) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
