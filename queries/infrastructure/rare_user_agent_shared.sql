/*---
id: rare_user_agent_shared
title: Rare user agent shared by unrelated owners
family: infrastructure
level: medium
status: experimental
description: >
  Detects accounts sending with a user agent that is rare in the whole log yet used by several
  unrelated owners. Rarity is judged on the user agent's family (the string with every number
  masked), so an old or unusual version of a popular SDK, HTTP library or browser is not rare:
  its family has many owners. A family is rare when it has at most max_family_owners owners and
  at most max_family_share of all owners in the log (in a small log nothing is rare unless very
  few use it). Owners are organisations (accounts without one are their own owner); an
  account counts for a user agent only with enough requests sent with it.
rationale: >
  Anthropic (2026-02-23) attributes campaigns through "request metadata" and describes one proxy
  network running thousands of accounts; the same harvesting client (a custom runner, a relay's
  own client string) then appears on accounts that claim to be unrelated. OpenAI (2026-02-12)
  describes "code to access US AI models and obtain outputs for distillation in programmatic
  ways".
falsepositives:
  - Users of a small open-source tool or niche framework that sets its own user agent
  - Customers of one small agency or integrator whose software they all run
  - Relay or gateway software (One API / New API) used by unrelated legitimate operators
references:
  - anthropic-2026
  - openai-memo-2026
requires:
  requests: [account_id, user_agent]
params:
  min_owners: {type: INTEGER, default: 3, description: Fewest different owners sharing the user agent}
  max_family_owners: {type: INTEGER, default: 50, description: Most owners of the user agent's family (numbers masked) in the whole log for it to count as rare}
  max_family_share: {type: DOUBLE, default: 0.02, description: Most share of all owners in the log that the family may have to count as rare (binds in small logs)}
  min_account_requests: {type: INTEGER, default: 10, description: Fewest requests an account must send with the user agent to count}
weight: 0.5
---*/
WITH account_agents AS MATERIALIZED (
    -- Requests per (account, organisation, user agent), from the features' per-account network
    -- aggregate; the owner and the agent family are computed on these few rows, not on every
    -- request.
    SELECT account_id, org_id, user_agent, CAST(sum(requests) AS BIGINT) AS requests
    FROM account_network
    GROUP BY ALL
),
usage AS (
    SELECT
        account_id,
        owner,
        user_agent,
        lower(regexp_replace(trim(user_agent), '[0-9]+', '0', 'g')) AS family,
        CAST(sum(requests) AS BIGINT) AS requests
    FROM (
        SELECT account_id, coalesce(org_id, 'no-org:' || account_id) AS owner, user_agent,
               requests
        FROM account_agents
        WHERE nullif(trim(user_agent), '') IS NOT NULL
    )
    GROUP BY account_id, owner, user_agent
),
all_owners AS (
    SELECT count(DISTINCT coalesce(org_id, 'no-org:' || account_id)) AS owners
    FROM account_agents
),
families AS (
    SELECT u.family, count(DISTINCT u.owner) AS family_owners
    FROM usage AS u
    GROUP BY u.family
    HAVING count(DISTINCT u.owner) <= least($max_family_owners,
                                            $max_family_share * (SELECT owners FROM all_owners))
),
counted AS (
    SELECT u.*, f.family_owners
    FROM usage AS u
    JOIN families AS f USING (family)
    WHERE u.requests >= $min_account_requests
),
agents AS (
    SELECT
        user_agent,
        count(DISTINCT owner) AS all_owners,
        count(DISTINCT owner) FILTER (WHERE requests >= $min_account_requests) AS owners
    FROM usage
    SEMI JOIN families USING (family)
    GROUP BY user_agent
    HAVING count(DISTINCT owner) FILTER (WHERE requests >= $min_account_requests) >= $min_owners
),
per_account AS (
    SELECT
        c.account_id,
        arg_max({'user_agent': c.user_agent, 'owners': a.owners, 'all_owners': a.all_owners,
                 'family_owners': c.family_owners, 'requests': c.requests},
                (a.owners, c.requests, c.user_agent)) AS best
    FROM counted AS c
    JOIN agents AS a USING (user_agent)
    GROUP BY c.account_id
),
evidence AS (
    SELECT r.account_id, min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN per_account AS p ON p.account_id = r.account_id AND p.best.user_agent = r.user_agent
    GROUP BY r.account_id
)
SELECT
    p.account_id,
    fired_score(ratio_term(p.best.owners, $min_owners, 0.5)
                * (1 - p.best.family_owners / ($max_family_owners + 1)), 0) AS score,
    CAST(p.best.owners AS DOUBLE) AS metric,
    format('{:d} requests with user agent "{}", used by only {:d} owners in the whole log '
           || '({:d} for its family with numbers masked); {:d} unrelated owners send with it '
           || 'at least {:d} requests each',
           p.best.requests, left(p.best.user_agent, 120), p.best.all_owners,
           p.best.family_owners, p.best.owners, $min_account_requests) AS detail,
    e.evidence
FROM per_account AS p
JOIN evidence AS e USING (account_id)
ORDER BY p.account_id
