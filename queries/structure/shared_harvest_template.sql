/*---
id: shared_harvest_template
title: First-turn templates carrying a harvest phrase, sent with it by most of their unrelated owners
family: structure
level: medium
status: test
description: >
  Detects accounts whose first-turn prompts use a template (a masked prompt skeleton) that
  carries a strong harvest phrase of the lexicon (a public distillation recipe, chain-of-thought
  extraction, rubric grading, task generation) that at least one owner unrelated to the account
  sends with the same phrase, where most of the owners who open a conversation with that
  template at all send it with that phrase. No minimum volume per account: a pipeline spread
  over many small accounts shows itself through the templates they share.
rationale: >
  A campaign that shares no card, network, client or organisation still feeds every account from
  one pipeline, so the same filled recipe prompts turn up on unrelated accounts (the SEAT idea
  of similar queries spread over Sybil accounts). Anthropic (2026-02-23) notes that the prompts
  were distinct in "volume, structure, and focus", and that per-account volume is modest. Only
  first turns count: follow-ups ("make it shorter") and tool results are shared by everybody and
  say nothing about who wrote the task. A public template is copied by many owners for their own
  tasks, most of whom send it without the harvest phrase, and it links nobody; a pipeline's
  template is sent by the pipeline's accounts, with the phrase, whatever their number. A cap on
  the number of owners would miss exactly the large campaigns (tens of thousands of accounts,
  Anthropic 2026-02-23).
falsepositives:
  - Two research groups running the same public recipe on the same public seed tasks
  - A class whose assignment asks for chain-of-thought style answers in a strong phrase
references:
  - anthropic-2026
  - seat-2021 (similar queries spread over Sybil accounts)
  - queries/lexicons/signals.csv (strong harvest phrases, public distillation recipes among them)
requires:
  requests: [account_id, prompt, turn_index]
params:
  min_owners: {type: INTEGER, default: 2, description: Fewest owners that must send the template with the same phrase}
  min_phrase_owner_share: {type: DOUBLE, default: 0.5, description: Share of the template's first-turn owners that must send it with the phrase; below it the template is a public one most users send innocently}
weight: 0.6
---*/
WITH strong_signals AS (
    -- Signals whose every phrase is a strong one (data: queries/lexicons/signals.csv).
    SELECT signal FROM lexicon_signals GROUP BY signal HAVING bool_and(strength = 'strong')
),
owners AS (
    SELECT account_id, account_no, coalesce(org_id, 'no-org:' || account_id) AS owner
    FROM account_activity
    WHERE account_id IS NOT NULL
),
first_turns AS MATERIALIZED (
    SELECT r.account_no, r.template_id, r.request_id, r.signals
    FROM request_features AS r
    WHERE r.turn_index = 0 AND r.template_id IS NOT NULL
),
template_owners AS (
    SELECT f.template_id, count(DISTINCT o.owner) AS owners
    FROM first_turns AS f
    JOIN owners AS o USING (account_no)
    GROUP BY ALL
),
uses AS MATERIALIZED (
    SELECT DISTINCT f.account_no, o.owner, f.template_id, u.signal
    FROM first_turns AS f
    CROSS JOIN unnest(f.signals) AS u(signal)
    JOIN strong_signals AS s ON s.signal = u.signal
    JOIN owners AS o USING (account_no)
),
shared AS (
    -- Templates sent with the same strong phrase by several owners, who are most of the
    -- owners opening conversations with that template.
    SELECT u.template_id, u.signal, count(DISTINCT u.owner) AS owners
    FROM uses AS u
    JOIN template_owners AS t USING (template_id)
    GROUP BY ALL
    HAVING count(DISTINCT u.owner) >= $min_owners
       AND count(DISTINCT u.owner) >= $min_phrase_owner_share * any_value(t.owners)
),
fired AS MATERIALIZED (
    SELECT u.account_no,
           count(DISTINCT u.template_id) AS templates,
           max(s.owners) - 1 AS others,
           list_sort(list_distinct(list(u.signal))) AS signals
    FROM uses AS u
    JOIN shared AS s USING (template_id, signal)
    GROUP BY ALL
),
evidence AS (
    SELECT f.account_no, max_by(t.request_id, t.request_id, 10) AS evidence
    FROM fired AS f
    JOIN first_turns AS t USING (account_no)
    SEMI JOIN shared AS s ON s.template_id = t.template_id
    GROUP BY ALL
)
SELECT
    o.account_id,
    fired_score(0.1 * (f.templates - 1), 0.05 * f.others) AS score,
    f.templates AS metric,
    format('sends {:d} first-turn template(s) carrying {} that up to {:d} unrelated '
           || 'owner(s) also send with the same phrase',
           f.templates, array_to_string(f.signals, ', '), f.others) AS detail,
    e.evidence
FROM fired AS f
JOIN owners AS o USING (account_no)
JOIN evidence AS e USING (account_no)
ORDER BY o.account_id
