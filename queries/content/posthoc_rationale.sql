/*---
id: posthoc_rationale
title: Post-hoc rationale for a given answer
family: content
level: high
status: test
description: >
  Detects accounts whose requests repeatedly hand the model a question together with its
  finished answer and ask for the reasoning that leads there ("given the final answer",
  "reconstruct the reasoning", "work backwards from the answer", "已知答案", "推导出这个答案";
  signal posthoc_rationale of the signals lexicon), as a share of the account's traffic. Only
  self-contained requests count: those that open a conversation (turn_index 0, or unknown when
  the export has no turn_index); a student pasting an answer key mid-conversation does not.
rationale: >
  Anthropic (2026-02-23) quotes DeepSeek prompts asking the model to "imagine and articulate the
  internal reasoning behind a completed response and write it out step by step": the attacker
  already holds question and answer and wants the missing reasoning trace to train on. Ordinary
  users ask for answers, not for a derivation of an answer they supply, and not at volume; a
  student pasting an answer key does so now and then.
falsepositives:
  - Tutoring apps where students paste an answer key and ask how to get there (small share, follow-ups)
  - Edtech publishers writing worked solutions for their own answer keys (one org, own documents)
  - Academic research on rationalisation (STaR-style) at moderate volume
references:
  - anthropic-2026
  - queries/lexicons/signals.csv (signal posthoc_rationale)
requires:
  requests: [account_id, prompt]
params:
  min_requests: {type: INTEGER, default: 20, description: Fewest requests an account needs before its share is judged}
  min_share: {type: DOUBLE, default: 0.2, description: Share of requests asking for the reasoning behind a supplied answer that fires}
weight: 0.7
---*/
-- Reads the shared aggregates of queries/features/55_account_aggregates.sql: requests per
-- account, and the post-hoc requests among the flagged ones (not every request).
WITH self_contained AS (
    SELECT
        account_id,
        count(*) AS hits,
        count(*) FILTER (WHERE list_contains(signals, 'cot_strong')) AS with_trace,
        max_by(request_id, (list_contains(signals, 'cot_strong'), request_id), 10) AS evidence
    FROM flagged_requests
    WHERE list_contains(signals, 'posthoc_rationale') AND coalesce(turn_index, 0) = 0
    GROUP BY account_id
),
per_account AS (
    SELECT
        a.account_id,
        a.requests,
        coalesce(s.hits, 0) AS hits,
        coalesce(s.with_trace, 0) AS with_trace,
        coalesce(s.evidence, CAST([] AS VARCHAR[])) AS evidence
    FROM account_activity AS a
    LEFT JOIN self_contained AS s USING (account_id)
)
SELECT
    account_id,
    fired_score(share_term(hits / requests, $min_share, 0.5), 0) AS score,
    round(hits / requests, 4) AS metric,
    format('{:d} of {:d} requests ({:.0f} %) supply a finished answer and ask for the reasoning '
           || 'that leads to it, each in a fresh conversation ({:d} of them also ask for the full '
           || 'reasoning written out)',
           hits, requests, 100 * hits / requests, with_trace) AS detail,
    evidence
FROM per_account
WHERE requests >= $min_requests AND hits / requests >= $min_share
ORDER BY account_id
