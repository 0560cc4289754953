-- What joins two owners into one cluster (forensics/communities.py): a strong link of a kind
-- unrelated customers do not share (pair_weights.coordinated). A network and a piece of
-- software alone never join anyone. 65_attribution.sql adds the one other ground, once the
-- accounts have been judged.
CREATE OR REPLACE TABLE cluster_edges AS
SELECT account_a, account_b, 'coordination' AS basis
FROM pair_weights
WHERE weight >= $min_link_weight AND coordinated;
