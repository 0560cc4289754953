-- Where the evidence requests of the reported clusters are: the file and row of each request
-- id the heuristics named, found by reading the id column alone. evidence_requests.sql then
-- reads the text of just those rows, file by file, instead of joining every request's text.
-- The first copy by (file, row) is the one the `requests` view keeps (ingest's duplicate
-- rule); copies of an id agree on account and time, so all lie inside the window or none.
SELECT DISTINCT ON (request_id) request_id, __file AS file, __row AS "row"
FROM typed_requests
WHERE request_id IN (SELECT unnest(CAST($request_ids AS VARCHAR[])))
ORDER BY request_id, __file, __row;
