-- The links between members of the same reported cluster ($clusters), read from the links
-- table once: exhibit_links.sql runs for each reported cluster, and each of its reads of the
-- whole table (millions of links in a large log) costs time. Materialised step by step: left
-- to itself, the optimiser may pair the members of a cluster with each other first (n² pairs
-- for a cluster of n accounts).
CREATE OR REPLACE TEMP TABLE report_links AS
WITH members AS MATERIALIZED (
    SELECT account_id, cluster_id
    FROM cluster_members
    WHERE list_contains(CAST($clusters AS VARCHAR[]), cluster_id)
),
from_members AS MATERIALIZED (
    SELECT m.cluster_id, l.kind, l.key, l.weight, l.account_a, l.account_b
    FROM links AS l
    JOIN members AS m ON m.account_id = l.account_a
)
-- With the pair's test of chance for the kind (45_link_tests.sql).
SELECT l.*, t.p_value, t.q_value
FROM from_members AS l
SEMI JOIN members AS m ON m.account_id = l.account_b AND m.cluster_id = l.cluster_id
LEFT JOIN link_tests AS t USING (account_a, account_b, kind);
