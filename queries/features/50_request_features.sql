-- Features pass 2 (no text): map matched phrases to signal and capability labels, give each
-- request its template skeleton id and MinHash template group. Reads the pass-1 table only.
-- getvariable('lexicon_labels') is a MAP from a lower-cased matched phrase to its labels
-- ('signal:<name>' / 'capability:<priority>:<name>'), built from the distinct matches.
CREATE OR REPLACE TABLE request_features AS
WITH labelled AS (
    SELECT
        request_features_raw.* EXCLUDE (lexicon_matches),
        g.template_id,
        -- Most requests match no phrase: skip the lambdas for them.
        CASE WHEN len(lexicon_matches) = 0 THEN CAST([] AS VARCHAR[])
             ELSE list_distinct(flatten(list_transform(lexicon_matches,
                lambda m: coalesce(map_extract_value(getvariable('lexicon_labels'), lower(m)),
                                   CAST([] AS VARCHAR[])))))
        END AS labels
    FROM request_features_raw
    LEFT JOIN template_groups AS g USING (skeleton_id)
)
SELECT
    * EXCLUDE (labels),
    list_sort(list_distinct(list_transform(
        list_filter(labels, lambda l: starts_with(l, 'signal:')),
        lambda l: substr(l, 8)))) AS signals,
    coalesce(list_min(list_filter(labels, lambda l: starts_with(l, 'capability:')))[14:],
             'other') AS capability
FROM labelled;
