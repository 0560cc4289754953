/*---
id: shared_payment_fingerprint
title: Payment method shared across unrelated accounts
family: infrastructure
level: high
status: test
description: >
  Detects accounts whose payment fingerprint is also used by other accounts that declare no
  common organisation (different orgs, or none).
rationale: >
  Anthropic (2026-02-23) names "shared payment methods" among DeepSeek's signatures; one card
  paying for many supposedly unrelated accounts is a hallmark of an account farm. Accounts of
  one declared organisation sharing its corporate card are one customer, not a farm.
falsepositives:
  - A reseller or agency paying for several client accounts (should be a contracted reseller)
  - Family members or a small team sharing a card without declaring an organisation
references:
  - Anthropic, Detecting and preventing distillation attacks (2026-02-23)
  - domain.md §3 Infrastructure (shared payment fingerprints)
requires:
  accounts: [account_id, payment_fingerprint]
params:
  min_accounts: {type: INTEGER, default: 3, description: Fewest accounts sharing one fingerprint}
weight: 0.9
---*/
WITH active AS (
    SELECT DISTINCT account_id FROM request_features
),
cards AS (
    SELECT
        a.payment_fingerprint,
        count(*) AS accounts,
        count(DISTINCT coalesce(a.org_id, 'no-org:' || a.account_id)) AS owners
    FROM accounts AS a
    JOIN active USING (account_id)
    WHERE a.payment_fingerprint IS NOT NULL
    GROUP BY ALL
),
fired AS MATERIALIZED (
    -- The accounts on a shared card, decided before any request is read again.
    SELECT a.account_id, a.payment_fingerprint, c.accounts, c.owners
    FROM accounts AS a
    JOIN cards AS c USING (payment_fingerprint)
    WHERE c.accounts >= $min_accounts AND c.owners >= $min_accounts
),
fired_requests AS MATERIALIZED (
    SELECT r.account_id, r.request_id, r.ts
    FROM request_features AS r
    SEMI JOIN fired USING (account_id)
),
evidence AS (
    -- The first requests of each account on a shared card. For speed, the tenth earliest time
    -- of each account is found first and only the requests up to it are ordered by
    -- (ts, request_id): the same ten requests.
    SELECT r.account_id, min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM fired_requests AS r
    JOIN (SELECT account_id, list_max(min(ts, 10)) AS last_ts
          FROM fired_requests
          GROUP BY account_id) AS c
        ON c.account_id = r.account_id AND r.ts <= c.last_ts
    GROUP BY r.account_id
)
SELECT
    f.account_id,
    least(1.0, 0.5 + 0.5 * (1 - $min_accounts / f.owners)) AS score,
    f.accounts AS metric,
    format('payment fingerprint {} is shared by {:d} accounts of {:d} different owners',
           f.payment_fingerprint, f.accounts, f.owners) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
