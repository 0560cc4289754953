-- Functions the feature queries and the heuristics call, defined once. They are macros,
-- expanded where they are called, so a query computes exactly what the expression written out
-- would. They are created in the database itself, not as temporary macros, so that a kept
-- --workdir database whose feature tables are reused has them too, and a heuristic runs as it
-- is in the duckdb shell on that database.
--
-- The score curve (plain SQL, least and arithmetic, which a Spark port can define or inline as
-- it is). A heuristic that fires scores 0.5 at its threshold (the knee) plus what the evidence
-- adds beyond it, at most 1: fired_score(a, b) with up to two terms, 0 for an unused one.
-- Below the knee the curve falls under 0.5 (the run clamps a score to 0–1), but a heuristic
-- fires only at or past its threshold. The terms are in the order the heuristics wrote them by
-- hand, ((0.5 + a) + b), and so is the arithmetic inside each term: w * (x - lo) / (1 - lo),
-- not w * ((x - lo) / (1 - lo)), which differs in the last bit for a weight such as 0.3.
CREATE OR REPLACE MACRO fired_score(a, b) AS least(1.0, 0.5 + a + b);

-- A share x (0–1) past its threshold lo, as the part of the way from lo to 1 it has gone,
-- times the weight w: 0 at lo, w at 1 (w / 2 halfway).
CREATE OR REPLACE MACRO share_term(x, lo, w) AS w * (x - lo) / (1 - lo);

-- A count n past its minimum lo, as the share of n beyond lo, times the weight w: 0 at lo,
-- w / 2 at twice lo, approaching w as n grows. With a ceiling and a value under it,
-- ratio_term(ceiling, x, w) is w times the share of the ceiling that x leaves unused.
CREATE OR REPLACE MACRO ratio_term(n, lo, w) AS w * (1 - lo / n);

-- The network an address belongs to: its /24 for IPv4 ('10.1.2.0/24'), its /48 for IPv6
-- ('2001:db8:1::/48'); NULL for neither. The features compute it once per request
-- (request_features.ip_prefix) and once per account (account_signups.signup_prefix), and
-- everything else reads those columns. Text of four dot-separated parts that do not start
-- with three numbers gives '.0/24'.
CREATE OR REPLACE MACRO network_prefix(ip) AS (
    CASE
        WHEN ip LIKE '%.%.%.%' THEN regexp_extract(ip, '^(\d+\.\d+\.\d+)\.', 1) || '.0/24'
        WHEN ip LIKE '%:%' THEN array_to_string(string_split(ip, ':')[1:3], ':') || '::/48'
    END
);

-- Two table macros for the one join several queries would otherwise each write out. Their
-- tables are named by parameters with defaults and read through query_table(): DuckDB binds a
-- macro's body when the macro is created, and these are created before the feature and
-- linking tables exist, so a table written into the body would not be found.
--
-- Every account with requests (account_activity), with its hits on one lexicon signal
-- (account_signals: the requests carrying it and their evidence); 0 hits and no evidence for
-- an account without one. What a heuristic that judges one signal's share of an account's
-- requests reads.
CREATE OR REPLACE MACRO signal_share(signal_name, activity := 'account_activity',
                                     signals := 'account_signals') AS TABLE
    SELECT
        a.account_id,
        a.requests,
        coalesce(s.hits, 0) AS hits,
        coalesce(s.evidence, CAST([] AS VARCHAR[])) AS evidence
    FROM query_table(activity) AS a
    LEFT JOIN query_table(signals) AS s
        ON s.account_id = a.account_id AND s.signal = signal_name;

-- The members of the listed clusters (a list of cluster ids) by their integer account_no,
-- on which a query that reads every request of theirs joins them (cheaper than the id string).
CREATE OR REPLACE MACRO cluster_member_numbers(clusters, members := 'cluster_members',
                                               activity := 'account_activity') AS TABLE
    SELECT a.account_no, m.cluster_id
    FROM query_table(members) AS m
    JOIN query_table(activity) AS a USING (account_id)
    WHERE list_contains(CAST(clusters AS VARCHAR[]), m.cluster_id);

-- A 60-bit hash of a text that both engines compute alike: the first 15 hex digits of its
-- md5, as a BIGINT (0 to 2^60 - 1). For keys that must be the same on DuckDB and on Spark
-- (MinHash shingles and bands, template and id keys), where hash() is not: DuckDB's and
-- Spark's hash() are different functions, and DuckDB's changes between its versions. The
-- Spark dialect writes the same digits as conv(left(md5(s), 15), 16, 10).
CREATE OR REPLACE MACRO portable_hash(s) AS
    CAST(('0x' || left(md5(CAST(s AS VARCHAR)), 15)) AS BIGINT);
