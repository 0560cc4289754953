/*---
id: cross_account_near_duplicates
title: Near-duplicate prompt family spread over many unrelated owners (SEAT)
family: structure
level: medium
status: test
description: >
  Detects accounts that take part in a near-duplicate prompt family (a MinHash template group:
  identical masked skeletons or near-duplicates of them) which makes up a substantial part of
  the traffic of many unrelated owners. The more owners share the family, the higher the
  score. Unlike template_skeleton_share, the family need not dominate the account: an account
  mixing a harvest stream into other traffic (hydra proxies) takes part too.
rationale: >
  SEAT (2021) detects extraction by finding pairs of highly similar queries spread over Sybil
  accounts. Anthropic (2026-02-23) describes "identical patterns" across "hydra cluster"
  networks that "distribute traffic" and mix distillation traffic "with unrelated customer
  requests", and ≈690 exchanges per account: the family is only visible once accounts are
  grouped. Breadth alone is not coordination: a commonplace family ("explain what this code
  does…", "translate this email…") is used by ever more owners as the log grows, at every
  intensity. So an owner counts only when the family is a real share of its traffic, and a
  family counts only when those invested owners send most of its requests (a campaign's prompts
  are sent almost only by the campaign, each account heavily; a commonplace family has a long
  tail of light users). One organisation's accounts are one owner (an enterprise's batch jobs
  are one customer).
falsepositives:
  - Benchmark / eval companies and researchers using the same public test-set format (see
    benchmark_test_overlap)
  - Unrelated customers of the same open-source framework or prompt library whose hard-coded
    template is much of their traffic
  - Customers of one integrator or agency whose accounts were not put under one organisation
references:
  - seat-2021
  - anthropic-2026
requires:
  requests: [account_id, prompt]
params:
  min_owners: {type: INTEGER, default: 5, description: Fewest distinct owners invested in one near-duplicate family}
  min_account_requests: {type: INTEGER, default: 10, description: Fewest requests an account sends in the family to take part}
  min_account_share: {type: DOUBLE, default: 0.2, description: Share of an account's traffic the family must make up for the account to take part}
  min_head_chars: {type: INTEGER, default: 40, description: Shortest template head (masked prompt start) judged; shorter ones are everyone's}
  min_family_concentration: {type: DOUBLE, default: 0.6, description: Share of the family's requests sent by the accounts invested in it (a commonplace family has a long tail of light users)}
weight: 0.6
---*/
WITH owners AS (
    SELECT account_id, coalesce(org_id, 'no-org:' || account_id) AS owner, requests
    FROM account_activity
),
invested AS (
    SELECT u.account_id, u.template_id, u.n, o.owner, o.requests
    FROM (SELECT account_id, template_id, first_turns AS n FROM account_templates
          WHERE first_turns > 0) AS u
    JOIN owners AS o USING (account_id)
    WHERE u.n >= $min_account_requests AND u.n / o.requests >= $min_account_share
),
sizes AS (
    SELECT template_id, count(*) AS skeletons, sum(requests) AS total
    FROM skeletons
    GROUP BY template_id
),
families AS (
    SELECT i.template_id, count(DISTINCT i.owner) AS owners, count(*) AS accounts,
           sum(i.n) AS requests, any_value(z.total) AS total, any_value(z.skeletons) AS skeletons
    FROM invested AS i
    JOIN skeletons AS k ON k.skeleton_id = i.template_id
    JOIN sizes AS z ON z.template_id = i.template_id
    WHERE length(k.head) >= $min_head_chars
    GROUP BY i.template_id
    HAVING count(DISTINCT i.owner) >= $min_owners
       AND sum(i.n) / any_value(z.total) >= $min_family_concentration
),
per_account AS (
    SELECT
        i.account_id,
        any_value(i.requests) AS requests,
        sum(i.n) AS shared,
        count(*) AS families,
        max(f.owners) AS owners,
        arg_max(i.template_id, (f.owners, i.template_id)) AS template_id
    FROM invested AS i
    JOIN families AS f USING (template_id)
    GROUP BY i.account_id
),
evidence AS (
    -- every request is read: joined on the integer account_no, not the account id string
    SELECT p.account_id,
           min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN (SELECT p.account_id, a.account_no, p.template_id
          FROM per_account AS p
          JOIN account_activity AS a USING (account_id)) AS p
        ON p.account_no = r.account_no AND p.template_id = r.template_id
    GROUP BY p.account_id
)
SELECT
    p.account_id,
    fired_score(ratio_term(p.owners, $min_owners, 0.5), 0) AS score,
    p.owners AS metric,
    format('{:d} of {:d} requests ({:.0f} %) belong to near-duplicate prompt families shared '
           || 'in earnest by other owners; the widest ({}: {:d} distinct skeletons) is used '
           || 'by {:d} different owners ({:d} accounts) that send {:d} of its {:d} requests',
           p.shared, p.requests, 100 * p.shared / p.requests, p.template_id, f.skeletons,
           f.owners, f.accounts, f.requests, f.total) AS detail,
    e.evidence
FROM per_account AS p
JOIN families AS f USING (template_id)
JOIN evidence AS e USING (account_id)
ORDER BY p.account_id
