/*---
id: cluster_template_concentration
title: A prompt template used almost only by one cluster of linked accounts
family: structure
level: medium
status: experimental
scope: cluster
description: >
  For each multi-owner cluster, finds the prompt template (MinHash near-duplicate group) that
  carries the most traffic of the cluster's coordinated members (those tied to another owner by
  a card, an indicator, synchronised sessions or a creation burst) and fires each of those
  members that sends it itself, when coordinated accounts send most of that template's
  requests in the whole log. A member that is not tied by coordination never fires, whatever
  its cluster.
rationale: >
  Distillation campaigns show "highly repetitive structures" (Anthropic 2026-02-23), but a hydra
  network mixes its harvest stream with relayed customer traffic, so no single account is
  dominated by one template. Summed over the linked accounts, the harvest template stands out,
  and unlike an everyday template ("translate this e-mail") hardly anybody but coordinated
  accounts uses it. Exclusivity counts the coordinated accounts of every multi-owner cluster,
  not of this cluster alone: clusters are attribution hypotheses, and a campaign whose heads
  share no card or burst falls into several of them without its harvest becoming ordinary.
falsepositives:
  - A customer's own product template spread over several of its accounts (one owner, so excluded)
  - A public prompt that a few linked users happen to share (low volume, below min_requests)
  - A class, team or hackathon doing one task on one network (exclusive to the group, but its
    members are tied only by the network and its sign-ups, so none of them counts)
references:
  - anthropic-2026
requires:
  requests: [account_id, prompt]
params:
  min_owners: {type: INTEGER, default: 2, description: Fewest unrelated owners in the cluster}
  min_requests: {type: INTEGER, default: 30, description: Fewest cluster requests on the template}
  min_accounts: {type: INTEGER, default: 3, description: Fewest cluster accounts sending the template}
  min_exclusivity: {type: DOUBLE, default: 0.6, description: Share of the template's requests in the log that come from coordinated accounts of multi-owner clusters}
  min_template_chars: {type: INTEGER, default: 40, description: Shortest template opening considered (ignores greetings and one-word turns)}
weight: 0.5
---*/
WITH multi AS (
    SELECT cluster_id FROM cluster_sizes WHERE owners >= $min_owners
),
templates AS (
    SELECT t.template_id, sum(t.first_turns) AS requests
    FROM account_templates AS t
    JOIN skeletons AS s ON s.skeleton_id = t.template_id
    WHERE length(s.head) >= $min_template_chars AND t.first_turns > 0
    GROUP BY ALL
),
cluster_templates AS (
    -- account_templates has one row per (account, template): rows are distinct accounts.
    SELECT m.cluster_id, t.template_id, sum(t.first_turns) AS requests, count(*) AS accounts
    FROM account_templates AS t
    JOIN cluster_members AS m USING (account_id)
    SEMI JOIN multi USING (cluster_id)
    SEMI JOIN coordinated_accounts USING (account_id)  -- 47_coordinated_accounts.sql
    WHERE t.first_turns > 0
    GROUP BY ALL
),
coordinated_templates AS (
    SELECT template_id, sum(requests) AS requests FROM cluster_templates GROUP BY ALL
),
cluster_totals AS (
    SELECT cluster_id, sum(requests) AS requests FROM cluster_templates GROUP BY ALL
),
candidates AS (
    SELECT c.cluster_id, c.template_id, c.requests, c.accounts,
           k.requests / t.requests AS exclusivity,
           c.requests / ct.requests AS share
    FROM cluster_templates AS c
    JOIN templates AS t USING (template_id)
    JOIN coordinated_templates AS k USING (template_id)
    JOIN cluster_totals AS ct USING (cluster_id)
    WHERE c.requests >= $min_requests AND c.accounts >= $min_accounts
      AND k.requests / t.requests >= $min_exclusivity
),
best AS (
    SELECT cluster_id, arg_max(template_id, (requests, template_id)) AS template_id
    FROM candidates
    GROUP BY ALL
),
senders AS (
    -- The members of the clusters with a best template, with their account_no: every request
    -- is read below, and joined on the integer, not the account id string.
    SELECT m.account_id, a.account_no, m.cluster_id
    FROM cluster_members AS m
    JOIN account_activity AS a USING (account_id)
    SEMI JOIN best USING (cluster_id)
    SEMI JOIN coordinated_accounts USING (account_id)  -- 47_coordinated_accounts.sql
)
SELECT
    m.account_id,
    fired_score(share_term(any_value(c.exclusivity), $min_exclusivity, 0.5), 0) AS score,
    round(any_value(c.share), 4) AS metric,
    format('template {} carries {:d} first-turn requests ({:.0f} % of theirs) from {:d} '
           'coordinated accounts linked with this one, and {:.0f} % of all its first-turn '
           'requests in the log come from coordinated accounts; this account sent {:d}',
           any_value(c.template_id), any_value(c.requests),
           100 * any_value(c.share), any_value(c.accounts),
           100 * any_value(c.exclusivity), count(*)) AS detail,
    min_by(f.request_id, (f.ts, f.request_id), 10) AS evidence
FROM request_features AS f
JOIN senders AS m USING (account_no)
JOIN best AS b ON b.cluster_id = m.cluster_id AND b.template_id = f.template_id
JOIN candidates AS c ON c.cluster_id = b.cluster_id AND c.template_id = b.template_id
WHERE coalesce(f.turn_index, 0) = 0
GROUP BY m.account_id, m.cluster_id
ORDER BY m.account_id
