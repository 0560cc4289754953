-- Account decisions and confidence (ICD-203 confidence levels), before any cluster is drawn.
--
-- Accounts are judged on their own evidence; a cluster is an attribution hypothesis, never
-- evidence against a member (membership of a group is not evidence).
--   facts: the account's families of evidence, counted by fact, not by name: a network the
--     account shares with others ($event_network_heuristics), the sign-ups from it and the
--     synchrony of its users measured through it ($event_timing_heuristics) are one physical
--     event (a venue, a campus, an office), so that timing is no second fact when it is the
--     only timing evidence and the network evidence is there.
--   own evidence: the account's own score ≥ $flag_threshold with ≥ 2 facts.
--   account flagged: on its own evidence; or with one fact of its own about what it sends
--     (content or structure; score ≥ $flag_threshold) plus a direct hard link
--     (link_kinds.coordination: a shared card, an analyst indicator, a creation burst,
--     synchronised activity) to an account of another owner that is flagged on its own
--     evidence: coordination adds at most that one fact, and never to a fact of its own kind
--     (a shared card is the payment link's own fact, not a second one).
--   account confidence: high when flagged on its own evidence with a score ≥ $high_threshold
--     and a hard link to another owner's account flagged on its own evidence; moderate when
--     flagged otherwise; low when not flagged but of interest (score ≥ $interest_threshold).
--     No confidence is inherited from a cluster.
CREATE OR REPLACE TABLE account_facts AS
WITH one_event AS (
    SELECT account_id
    FROM signals
    WHERE NOT benign
    GROUP BY account_id
    HAVING bool_or(list_contains(string_split($event_network_heuristics, ','), heuristic_id))
       AND bool_and(family <> 'timing'
                    OR list_contains(string_split($event_timing_heuristics, ','),
                                     heuristic_id))
)
SELECT s.account_id,
       CASE WHEN e.account_id IS NOT NULL
            THEN list_filter(s.families, lambda f: f <> 'timing')
            ELSE s.families END AS facts
FROM account_scores AS s
LEFT JOIN one_event AS e USING (account_id);

CREATE OR REPLACE TABLE account_flags AS
WITH own AS (
    SELECT account_id FROM account_scores
    JOIN account_facts USING (account_id)
    WHERE score >= $flag_threshold AND array_length(facts) >= 2
),
hard_pairs AS (
    SELECT account_a AS account_id, account_b AS other FROM links
    SEMI JOIN link_kinds AS k ON k.kind = links.kind AND k.coordination
    UNION
    SELECT account_b, account_a FROM links
    SEMI JOIN link_kinds AS k ON k.kind = links.kind AND k.coordination
),
hard AS (
    -- A hard link to an account of another owner that stands on its own evidence.
    SELECT DISTINCT h.account_id
    FROM hard_pairs AS h
    JOIN own AS o ON o.account_id = h.other
    JOIN account_owners AS oa ON oa.account_id = h.account_id
    JOIN account_owners AS ob ON ob.account_id = h.other
    WHERE oa.owner <> ob.owner
),
decided AS (
    SELECT s.account_id, s.score, f.facts,
           o.account_id IS NOT NULL AS own_evidence,
           h.account_id IS NOT NULL AS hard_linked,
           o.account_id IS NOT NULL
               OR (h.account_id IS NOT NULL AND array_length(f.facts) = 1
                   AND f.facts[1] IN ('content', 'structure')
                   AND s.score >= $flag_threshold) AS flagged
    FROM account_scores AS s
    JOIN account_facts AS f USING (account_id)
    LEFT JOIN own AS o USING (account_id)
    LEFT JOIN hard AS h USING (account_id)
)
SELECT
    account_id,
    flagged,
    CASE
        WHEN own_evidence AND hard_linked AND score >= $high_threshold THEN 'high'
        WHEN flagged THEN 'moderate'
        WHEN score >= $interest_threshold THEN 'low'
        ELSE 'none'
    END AS confidence,
    facts,
    own_evidence,
    hard_linked
FROM decided;
