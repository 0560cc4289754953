/*---
id: template_skeleton_share
title: One prompt template dominates the account and is shared by unrelated owners
family: structure
level: medium
status: test
description: >
  Detects accounts whose traffic is dominated by one prompt template (the MinHash
  near-duplicate group of masked prompt skeletons, template_id) when that same template is
  also used in earnest by other, unrelated owners (different organisations, or accounts with
  none). An account that is templated but alone on its template does not fire.
rationale: >
  Anthropic (2026-02-23) names "highly repetitive structures" and "identical patterns" across
  "sprawling networks of fraudulent accounts" as hallmarks: what counts is the top skeleton's
  share of an account's traffic and how many unrelated accounts and orgs share it. Concentration
  alone is what every templated product and every enterprise batch job produces (one org, huge
  templated volume), so this heuristic deliberately does not fire on a single owner, however
  high its share: the signal is the same template dominating the traffic of several owners that
  declare no common organisation, which is how one harvest workload looks once spread over Sybil
  accounts. The template is the user prompt's skeleton, not the system prompt: an agent
  product's shared system prompt does not make its users' prompts one template.
falsepositives:
  - Benchmark / eval companies and academic researchers running the same public test-set
    format (e.g. MMLU's header) at scale; see benchmark_test_overlap, which lowers suspicion
  - Unrelated customers built on the same open-source framework whose hard-coded prompt
    template (e.g. a RAG "rephrase the follow-up question" prompt) makes most of their traffic
  - An enterprise whose teams signed up separately without declaring the organisation
references:
  - anthropic-2026
  - queries/features/20_skeletons.sql
  - queries/features/30_minhash_bands.sql
  - queries/features/40_template_groups.sql
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 50, description: Fewest requests an account needs before its top template share is judged}
  min_share: {type: DOUBLE, default: 0.5, description: Share of the account's requests in its top template that fires}
  min_owners: {type: INTEGER, default: 3, description: Fewest distinct owners (the account's own included) that use the template in earnest}
  min_owner_requests: {type: INTEGER, default: 5, description: Requests an account needs on the template to count its owner as a user of it}
  min_head_chars: {type: INTEGER, default: 40, description: Shortest template head (masked prompt start) judged; shorter ones such as "hi" or "continue" are everyone's}
weight: 0.6
---*/
WITH owners AS (
    SELECT account_id, coalesce(org_id, 'no-org:' || account_id) AS owner, requests
    FROM account_activity
),
usage AS (
    SELECT account_id, template_id, first_turns AS n FROM account_templates
    WHERE first_turns > 0
),
spread AS (
    SELECT u.template_id, count(DISTINCT o.owner) AS owners, count(*) AS accounts
    FROM usage AS u
    JOIN owners AS o USING (account_id)
    WHERE u.n >= $min_owner_requests
    GROUP BY u.template_id
),
top AS (
    -- the account's top template (ties: the larger id), joined to its owner row afterwards
    SELECT t.account_id, t.top.template_id, t.top.n, o.requests
    FROM (
        SELECT account_id, max({'n': n, 'template_id': template_id}) AS top
        FROM usage
        GROUP BY account_id
    ) AS t
    JOIN owners AS o USING (account_id)
),
fired AS (
    SELECT t.account_id, t.template_id, t.n, t.requests, s.owners, s.accounts,
           t.n / t.requests AS share
    FROM top AS t
    JOIN spread AS s USING (template_id)
    JOIN skeletons AS k ON k.skeleton_id = t.template_id
    WHERE t.requests >= $min_requests
      AND t.n / t.requests >= $min_share
      AND s.owners >= $min_owners
      AND length(k.head) >= $min_head_chars
),
evidence AS (
    -- every request is read: joined on the integer account_no, not the account id string
    SELECT f.account_id,
           min_by(r.request_id, (r.ts, r.skeleton_id, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN (SELECT f.account_id, a.account_no, f.template_id
          FROM fired AS f
          JOIN account_activity AS a USING (account_id)) AS f
        ON f.account_no = r.account_no AND f.template_id = r.template_id
    GROUP BY f.account_id
)
SELECT
    f.account_id,
    fired_score(share_term(f.share, $min_share, 0.25), ratio_term(f.owners, $min_owners, 0.25))
        AS score,
    round(f.share, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) follow one prompt template ({}), which {:d} '
           || 'different owners ({:d} accounts) use in earnest',
           f.n, f.requests, 100 * f.share, f.template_id, f.owners, f.accounts) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
