-- The evidence requests of the reported clusters: the only read of raw log text in the report
-- stage, for the few request ids the heuristics named, each text cut to $max_chars.
WITH wanted AS (
    SELECT DISTINCT unnest(CAST($request_ids AS VARCHAR[])) AS request_id
)
SELECT
    r.request_id, r.ts, r.account_id, r.api_key_id, r.model, r.ip, r.user_agent,
    left(r.system_prompt, $max_chars) AS system_prompt,
    length(r.system_prompt) AS system_prompt_chars,
    left(r.prompt, $max_chars) AS prompt,
    length(r.prompt) AS prompt_chars,
    left(r.response, $max_chars) AS response,
    length(r.response) AS response_chars,
    r.input_tokens, r.output_tokens, r.temperature, r.max_tokens, r.stop_reason
FROM requests AS r
JOIN wanted USING (request_id)
ORDER BY r.request_id, r.ts;
