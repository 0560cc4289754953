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
evidence AS (
    -- The first requests of each account on a shared card.
    SELECT r.account_id, min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN accounts AS a USING (account_id)
    SEMI JOIN cards AS c USING (payment_fingerprint)
    GROUP BY r.account_id
)
SELECT
    a.account_id,
    least(1.0, 0.5 + 0.5 * (1 - $min_accounts / c.owners)) AS score,
    c.accounts AS metric,
    format('payment fingerprint {} is shared by {:d} accounts of {:d} different owners',
           a.payment_fingerprint, c.accounts, c.owners) AS detail,
    e.evidence
FROM accounts AS a
JOIN cards AS c USING (payment_fingerprint)
JOIN evidence AS e USING (account_id)
WHERE c.accounts >= $min_accounts AND c.owners >= $min_accounts
ORDER BY a.account_id
