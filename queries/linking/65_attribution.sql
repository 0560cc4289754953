-- Attribution: accounts flagged on their own evidence (62_account_decisions.sql) that open
-- their conversations with the same harvest template are put in one cluster, one actor
-- hypothesis. A pipeline spread over accounts that share no card, network, client or
-- organisation still feeds them all the same recipe prompts; the
-- accounts are already flagged each on its own, so the cluster only says who probably works
-- with whom, and no account is flagged or made more certain by it.
--
-- A harvest template: a template link (30_links.sql: a first-turn template that carries a
-- real part of both accounts' first turns, shared by few enough accounts to be compared)
-- whose first-turn requests in the whole log come mostly ($harvest_min_flagged_share) from
-- flagged accounts, of at least the template kind's minimum number of owners. An everyday
-- template ("translate this e-mail"), sent by many ordinary customers, joins no one, even
-- when two flagged accounts relay it; an unflagged account never joins a cluster this way.
INSERT INTO cluster_edges
WITH flagged AS (
    SELECT account_id FROM account_flags WHERE flagged
),
template_use AS (
    SELECT t.template_id,
           sum(t.first_turns) AS requests,
           coalesce(sum(t.first_turns) FILTER (WHERE f.account_id IS NOT NULL), 0)
               AS flagged_requests,
           count(DISTINCT o.owner) FILTER (WHERE f.account_id IS NOT NULL) AS flagged_owners
    FROM account_templates AS t
    JOIN account_owners AS o USING (account_id)
    LEFT JOIN flagged AS f USING (account_id)
    WHERE t.first_turns > 0
    GROUP BY ALL
),
harvest AS (
    SELECT template_id AS key
    FROM template_use
    WHERE flagged_requests >= $harvest_min_flagged_share * requests
      AND flagged_owners >= (SELECT min_owners FROM link_kinds WHERE kind = 'template')
)
SELECT DISTINCT l.account_a, l.account_b, 'harvest template' AS basis
FROM links AS l
SEMI JOIN harvest USING (key)
SEMI JOIN flagged AS fa ON fa.account_id = l.account_a
SEMI JOIN flagged AS fb ON fb.account_id = l.account_b
WHERE l.kind = 'template';
