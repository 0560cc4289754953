/*---
id: established_organisation
title: Established customer organisation with its own payment method
family: infrastructure
level: informational
status: experimental
benign: true
description: >
  A benign indicator. Fires on accounts of a declared organisation of at least
  $min_org_accounts accounts whose accounts pay with at most $max_cards payment methods that no
  account outside the organisation uses, and whose oldest account predates the account's first
  request here by at least $min_age_days days.
rationale: >
  Benchmark companies, enterprise batch jobs, agent products and research groups differ from
  campaigns by one verified org, stable payment and no cross-org payment sharing; campaigns use
  fresh or throw-away accounts and cards shared across them (Anthropic 2026-02-23: "shared
  payment methods"). An established, self-paying organisation lowers, but never clears, the
  suspicion its content raises. An organisation of one account is no evidence of establishment:
  anyone can type an organisation name on a sign-up form, and a campaign that gives every
  account its own organisation and card (an agentic campaign that shares no infrastructure)
  would otherwise be discounted account by account. Customer organisations that vouch for their
  accounts have several.
falsepositives:
  - A campaign run from an aged organisation account with its own card (the indicator only
    lowers the score; coordination with other owners still flags the cluster)
references:
  - anthropic-2026
requires:
  accounts: [account_id, created_at, org_id, payment_fingerprint]
params:
  max_cards: {type: INTEGER, default: 2, description: Most payment methods one organisation may use}
  min_org_accounts: {type: INTEGER, default: 2, description: Fewest accounts a declared organisation needs to count as established}
  min_age_days: {type: INTEGER, default: 30, description: Age of the organisation's oldest account at the account's first request}
weight: 0.5
---*/
WITH orgs AS (
    SELECT org_id, min(created_at) AS oldest,
           count(DISTINCT payment_fingerprint) AS cards
    FROM accounts
    WHERE org_id IS NOT NULL
    GROUP BY ALL
    HAVING count(*) >= $min_org_accounts
),
shared_cards AS (
    -- Cards that pay for accounts of more than one owner (an org, or an account with none).
    SELECT payment_fingerprint
    FROM accounts
    WHERE payment_fingerprint IS NOT NULL
    GROUP BY ALL
    HAVING count(DISTINCT coalesce(org_id, 'no-org:' || account_id)) > 1
),
org_sharing AS (
    SELECT DISTINCT a.org_id
    FROM accounts AS a
    JOIN shared_cards USING (payment_fingerprint)
    WHERE a.org_id IS NOT NULL
),
candidates AS MATERIALIZED (
    -- Accounts of an organisation with 1 to max_cards cards of its own, decided before any
    -- request is read (an account with no request has no first request: it cannot fire).
    -- Requests are read on the integer account_no, not the account id string: candidates
    -- can send a large share of all requests.
    SELECT a.account_id, act.account_no, a.org_id, o.oldest, o.cards
    FROM accounts AS a
    JOIN orgs AS o USING (org_id)
    JOIN account_activity AS act USING (account_id)
    ANTI JOIN org_sharing AS s ON s.org_id = a.org_id
    WHERE o.cards BETWEEN 1 AND $max_cards
),
fired AS MATERIALIZED (
    -- The five earliest request times of each account: the first, and for the evidence the
    -- fifth, so that only the requests up to it are ordered by (ts, request_id) below.
    SELECT c.*, list_min(t.times) AS first_ts, list_max(t.times) AS last_ts
    FROM candidates AS c
    JOIN (SELECT account_no, min(ts, 5) AS times
          FROM request_features
          WHERE account_no IN (SELECT account_no FROM candidates)
          GROUP BY account_no) AS t USING (account_no)
    WHERE date_diff('day', c.oldest, list_min(t.times)) >= $min_age_days
),
evidence AS (
    SELECT f.account_id, min_by(r.request_id, (r.ts, r.request_id), 5) AS evidence
    FROM request_features AS r
    JOIN fired AS f ON f.account_no = r.account_no AND r.ts <= f.last_ts
    GROUP BY f.account_id
)
SELECT
    f.account_id,
    1.0 AS score,
    round(date_diff('day', f.oldest, f.first_ts), 4) AS metric,
    format('declared organisation {} has paid with {:d} payment method(s) of its own and its '
           'oldest account is {:d} days older than this account''s first request',
           f.org_id, f.cards, date_diff('day', f.oldest, f.first_ts)) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
