-- The evidence requests of the reported clusters in one input file: the only read of raw log
-- text in the report stage, for the rows evidence_locate.sql found, each text cut to
-- $max_chars. requests_at (ingest) reads by file and row number, which lets DuckDB skip the
-- other files and row groups.
SELECT
    request_id, ts, account_id, api_key_id, model, ip, user_agent,
    left(system_prompt, $max_chars) AS system_prompt,
    length(system_prompt) AS system_prompt_chars,
    left(prompt, $max_chars) AS prompt,
    length(prompt) AS prompt_chars,
    left(response, $max_chars) AS response,
    length(response) AS response_chars,
    input_tokens, output_tokens, temperature, max_tokens, stop_reason
FROM requests_at($file, CAST($rows AS BIGINT[]))
ORDER BY request_id, ts;
