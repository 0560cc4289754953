-- Shared aggregates over request_features, built once so that heuristics need not scan every
-- request each: the content heuristics read these few rows per account instead of grouping the
-- whole request table, each of them. Two passes over request_features:
-- one GROUP BY (account, capability) with the per-account counts, and one filter keeping the
-- requests that carry a lexicon signal or a score-shaped response.
--
-- skeletons:            one row per template skeleton: head, requests, template_id.
-- account_capabilities: one row per (account, capability): requests.
-- account_activity:     one row per account: account_no (as in request_features), org_id
--                       (the smallest org its requests name,
--                       account org as fallback), requests, answered (response exported),
--                       with_turn_index, first_turns (turn_index 0), input/output tokens,
--                       tokens (of requests with both counts), first_ts, last_ts.
-- account_templates:    one row per (account, template_id): requests, first_turns (those
--                       with turn_index 0, or no turn_index exported). Template use per
--                       account is what template heuristics, linking and the report all
--                       count; a third pass, of three columns. Heuristics and linking count
--                       first_turns only: follow-ups ("make it shorter") and tool results
--                       are shared by everybody and say nothing about who wrote the task.
--                       The report's template charts count every request.
-- account_network:      one row per (account, org_id, ip_prefix, access_channel,
--                       user_agent): requests. The network side of each account's traffic,
--                       which six infrastructure heuristics and linking each group their own
--                       way (by prefix, channel or user agent): far fewer rows than requests,
--                       one pass over every request instead of six.
-- flagged_requests:     the request_features rows with a non-empty signals list or
--                       score_shaped: the per-request detail (turn, script, capability, minute, model
--                       …) heuristics need about hits. Same column names as request_features,
--                       except template = coalesce(template_id, skeleton_id).
-- account_signals:      one row per (account, signal) over flagged_requests: hits (requests
--                       carrying the signal) and evidence (the 10 largest of their request ids,
--                       sorted); accounts without a hit on a signal have no row for it.
-- hourly_traffic:       one row per (UTC hour, model, capability): requests. The whole log's
--                       traffic for the report's charts, which then read only the requests of
--                       the clusters they show (the rest is this less theirs).
-- account_signups:      one row per accounts row: signup_prefix, the network of its
--                       signup_ip (network_prefix(), as ip_prefix is of a request's ip; NULL
--                       without one). The heuristics, linking and the report read it.
-- skeletons (from 20) gains its template_id.
CREATE OR REPLACE TABLE skeletons AS
SELECT s.skeleton_id, s.head, CAST(s.requests AS BIGINT) AS requests, g.template_id
FROM skeletons AS s
JOIN template_groups AS g USING (skeleton_id);

CREATE OR REPLACE TABLE account_capability_activity AS
SELECT
    account_id,
    capability,
    min(account_no) AS account_no,  -- one per account: an aggregate, cheaper than a group key
    min(org_id) AS org_id,
    count(*) AS requests,
    count(response_chars) AS answered,
    count(turn_index) AS with_turn_index,
    count(*) FILTER (WHERE turn_index = 0) AS first_turns,
    CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
    CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
    CAST(sum(input_tokens + output_tokens) AS BIGINT) AS tokens,
    min(ts) AS first_ts,
    max(ts) AS last_ts
FROM request_features
GROUP BY ALL;

CREATE OR REPLACE TABLE account_capabilities AS
SELECT account_id, capability, requests
FROM account_capability_activity;

CREATE OR REPLACE TABLE account_activity AS
SELECT
    account_id,
    min(account_no) AS account_no,
    min(org_id) AS org_id,
    CAST(sum(requests) AS BIGINT) AS requests,
    CAST(sum(answered) AS BIGINT) AS answered,
    CAST(sum(with_turn_index) AS BIGINT) AS with_turn_index,
    CAST(sum(first_turns) AS BIGINT) AS first_turns,
    CAST(sum(input_tokens) AS BIGINT) AS input_tokens,
    CAST(sum(output_tokens) AS BIGINT) AS output_tokens,
    CAST(sum(tokens) AS BIGINT) AS tokens,
    min(first_ts) AS first_ts,
    max(last_ts) AS last_ts
FROM account_capability_activity
GROUP BY account_id;

DROP TABLE account_capability_activity;

-- account_templates is grouped on numbers, its ids joined back: it has a group for a large
-- share of the requests, and grouped by the two id strings it spilled gigabytes on a large
-- log and at times ran out of memory within the default limit. A template's number is
-- portable_hash() of its id (05_functions.sql: 60 bits of an md5, the same on every
-- engine): the ids of a log's templates share one with probability about n^2 / 2^61 for n
-- templates (under 10^-6 for a million); account_no is exact.
CREATE OR REPLACE TABLE account_templates AS
WITH counts AS (
    SELECT account_no, portable_hash(template_id) AS template_h, count(*) AS requests,
           count(*) FILTER (WHERE coalesce(turn_index, 0) = 0) AS first_turns
    FROM request_features
    WHERE template_id IS NOT NULL
    GROUP BY ALL
),
templates AS (
    SELECT DISTINCT template_id, portable_hash(template_id) AS template_h FROM skeletons
)
SELECT a.account_id, t.template_id, c.requests, c.first_turns
FROM counts AS c
JOIN account_activity AS a USING (account_no)
JOIN templates AS t USING (template_h);

CREATE OR REPLACE TABLE account_network AS
SELECT account_id, org_id, ip_prefix, access_channel, user_agent, count(*) AS requests
FROM request_features
GROUP BY ALL;

CREATE OR REPLACE TABLE hourly_traffic AS
SELECT date_trunc('hour', ts) AS hour, model, capability, count(*) AS requests
FROM request_features
GROUP BY ALL;

CREATE OR REPLACE TABLE flagged_requests AS
SELECT request_id, account_id, minute, model, turn_index, prompt_chars, response_chars,
       score_shaped, script, capability, coalesce(template_id, skeleton_id) AS template, signals
FROM request_features
WHERE array_length(signals) > 0 OR score_shaped;

CREATE OR REPLACE TABLE account_signals AS
SELECT account_id, signal, count(*) AS hits, list_sort(max(request_id, 10)) AS evidence
FROM (SELECT account_id, request_id, unnest(signals) AS signal FROM flagged_requests)
GROUP BY ALL;

CREATE OR REPLACE TABLE account_signups AS
SELECT account_id, network_prefix(signup_ip) AS signup_prefix
FROM accounts;
