-- Typed, weighted links between accounts of different owners. The weight of a shared key
-- reflects how rare it is among all owners: a key used by at most $rare_prevalence of them
-- keeps its kind's full weight, one used by $common_prevalence or more (a webmail domain, a
-- popular SDK, a carrier NAT) links nobody, linearly in between. A card shared by unrelated
-- accounts is never popular and always links a lot.
-- Keys shared by more than $max_group accounts are too common to link anyone (and would make
-- the pairwise step quadratic); they are counted in link_key_stats instead.
CREATE OR REPLACE TABLE link_key_stats AS
WITH totals AS (SELECT count(DISTINCT owner) AS owners FROM account_owners)
SELECT k.kind, k.key, count(DISTINCT k.account_id) AS accounts,
       count(DISTINCT o.owner) AS owners,
       count(DISTINCT o.owner) / any_value(totals.owners) AS prevalence
FROM link_keys AS k
JOIN account_owners AS o USING (account_id)
CROSS JOIN totals
GROUP BY ALL;

CREATE OR REPLACE TABLE links AS
WITH kind_weights AS (
    -- queries/linking/link_kinds.csv, loaded by forensics/linking.py
    SELECT kind, weight AS base, rarity_applies, min_owners FROM link_kinds
),
keys AS (
    SELECT s.kind, s.key, s.owners,
           round(w.base * CASE WHEN w.rarity_applies
               THEN least(1, greatest(0, ($common_prevalence - s.prevalence)
                                         / ($common_prevalence - $rare_prevalence)))
               ELSE 1 END,
                 4) AS weight
    FROM link_key_stats AS s
    JOIN kind_weights AS w USING (kind)
    WHERE s.owners >= w.min_owners AND s.accounts <= $max_group
),
pairs AS (
    SELECT a.account_id AS account_a, b.account_id AS account_b, keys.kind, keys.key,
           keys.weight
    FROM keys
    JOIN link_keys AS a USING (kind, key)
    JOIN link_keys AS b USING (kind, key)
    JOIN account_owners AS oa ON oa.account_id = a.account_id
    JOIN account_owners AS ob ON ob.account_id = b.account_id
    WHERE a.account_id < b.account_id
      AND (oa.owner <> ob.owner OR keys.kind = 'indicator')
)
SELECT * FROM pairs
UNION ALL
-- Synchronised timing (25_sync_pairs.sql): the basis of the pair is the key.
SELECT a.account_id, b.account_id, 'sync', p.basis,
       (SELECT weight FROM link_kinds WHERE kind = 'sync')
FROM sync_pairs AS p
JOIN account_owners AS a ON a.account_id = p.account_a
JOIN account_owners AS b ON b.account_id = p.account_b
WHERE a.owner <> b.owner;
