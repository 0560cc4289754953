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
  - anthropic-2026
requires:
  accounts: [account_id, payment_fingerprint]
params:
  min_accounts: {type: INTEGER, default: 3, description: Fewest accounts sharing one fingerprint}
weight: 0.9
---*/
WITH active AS (
    -- The accounts with requests in the window, with their numbers in request_features.
    SELECT account_id, account_no FROM account_activity
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
    -- The active accounts on a shared card, decided before any request is read again; their
    -- requests are then read on the integer account_no, cheaper than the id string.
    SELECT a.account_id, v.account_no, a.payment_fingerprint, c.accounts, c.owners
    FROM accounts AS a
    JOIN active AS v USING (account_id)
    JOIN cards AS c USING (payment_fingerprint)
    WHERE c.accounts >= $min_accounts AND c.owners >= $min_accounts
),
evidence AS (
    -- The first requests of each account on a shared card. For speed, the tenth earliest time
    -- of each account is found first and only the requests up to it are ordered by
    -- (ts, request_id): the same ten requests.
    SELECT f.account_id, min_by(r.request_id, (r.ts, r.request_id), 10) AS evidence
    FROM request_features AS r
    JOIN (SELECT f.account_id, f.account_no, list_max(t.times) AS last_ts
          FROM fired AS f
          JOIN (SELECT account_no, min(ts, 10) AS times
                FROM request_features
                WHERE account_no IN (SELECT account_no FROM fired)
                GROUP BY account_no) AS t USING (account_no)) AS f
        ON f.account_no = r.account_no AND r.ts <= f.last_ts
    GROUP BY f.account_id
)
SELECT
    f.account_id,
    fired_score(ratio_term(f.owners, $min_accounts, 0.5), 0) AS score,
    f.accounts AS metric,
    format('payment fingerprint {} is shared by {:d} accounts of {:d} different owners',
           f.payment_fingerprint, f.accounts, f.owners) AS detail,
    e.evidence
FROM fired AS f
JOIN evidence AS e USING (account_id)
ORDER BY f.account_id
