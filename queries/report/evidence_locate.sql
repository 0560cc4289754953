-- Where the evidence requests of the reported clusters are: the file and row of each request
-- id the heuristics named, from ingest's request_locations (one row per request of the
-- requests view: the copy it keeps of a re-exported request). evidence_requests.sql then
-- reads the text of just those rows, file by file, instead of joining every request's text.
-- The ids are a filter, not a join: a filter on request_id reaches the scan through the
-- duplicate rule's window, a join would wait for that window over every request.
SELECT request_id, file, "row"
FROM request_locations
WHERE list_contains(CAST($request_ids AS VARCHAR[]), request_id)
ORDER BY request_id;
