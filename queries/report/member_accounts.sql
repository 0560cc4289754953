-- The accounts rows of the reported clusters' members ($clusters), read from the accounts
-- input once: exhibit_accounts.sql runs three times for each reported cluster (its member
-- table, its exhibit's columns and the exhibit itself), and each read of the whole accounts
-- input costs time that grows with the accounts.
CREATE OR REPLACE TEMP TABLE report_accounts AS
SELECT a.*
FROM accounts AS a
SEMI JOIN cluster_members AS m
    ON m.account_id = a.account_id AND list_contains(CAST($clusters AS VARCHAR[]), m.cluster_id);
