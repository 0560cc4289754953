"""Build the dossier's context from the run: the exhibits, then each section in document
order (report/sections/, report/figures.py), and the cover, scope, methodology and appendix.

Every number shown comes from the linking result or from a `queries/report/*.sql` query;
every piece of log text passes through `text.clip`/`text.short` (neutralised, clipped) and,
in the public profile, identifiers pass through the Pseudonymiser.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import asdict
from datetime import UTC
from pathlib import Path

from forensics import __version__, manifest, resources
from forensics.bibliography import Citation, Source
from forensics.evidence import FDR, LIKELIHOOD, LINK_KINDS
from forensics.features import FUNCTIONS_FILE, SCAN_CHARS, SCAN_TAIL_CHARS
from forensics.ingest import IngestResult
from forensics.linking import LINKING_ROLES
from forensics.outputs import dump_json
from forensics.report import fmt as f
from forensics.report.cluster_exhibits import write_exhibits
from forensics.report.context import (
    Cover,
    Dossier,
    HeuristicEntry,
    InputFileRow,
    Methodology,
    Note,
    Reference,
    Reproducibility,
    ScaleRow,
    Scope,
    SourceEntry,
    TableCount,
    Trend,
)
from forensics.report.evidence_requests import EXHIBIT_TEXT_CHARS, read_evidence_requests
from forensics.report.exhibits import ATTACH_MAX_BYTES, ExhibitWriter
from forensics.report.figures import FigureQueue, overview_figures
from forensics.report.inputs import ReportInputs
from forensics.report.sections.clusters import cluster_section
from forensics.report.sections.judgments import interest_row, key_judgments
from forensics.report.text import neutralise, short

PARAM_MEANINGS = {
    "flag_threshold": "cluster score at or above which a cluster with two families and "
                      "coordination is flagged",
    "high_threshold": "score at or above which a coordinated, flagged cluster has high "
                      "confidence",
    "min_link_weight": "pair weight at or above which a coordinated pair joins one cluster",
    "interest_threshold": "score at or above which an unflagged cluster is of interest "
                          "(low confidence)",
    "family_min_weight": "weight a heuristic needs for its family to count as independent "
                         "evidence",
    "family_member_share": "share of a cluster's accounts that must carry a family for the "
                           "cluster to have it",
    "top_members": "members whose mean score is the cluster's own evidence",
    "min_key_requests": "requests an account needs on a request attribute (IP prefix, user "
                        "agent, template) for it to link",
    "min_key_share": "share of an account's requests an attribute needs to link",
    "min_template_chars": "shortest template head that can link accounts",
    "max_group": "a key shared by more accounts than this is too common to link anyone",
    "burst_hours": "window of an account-creation burst",
    "max_burst_domain_share": "e-mail domains more common than this among all accounts do not "
                              "form creation bursts",
    "sync_heuristic": "heuristic whose accounts are tested for co-active minutes",
    "sync_min_minutes": "shared active minutes for a synchronised-timing link",
    "sync_min_overlap": "share of the smaller account's active minutes that must coincide",
    "harvest_min_flagged_share": "share of a template's first-turn requests that must come "
                                 "from flagged accounts for it to put them in one cluster",
    "co_launch_heuristic": "heuristic whose accounts are tested, pair by pair, for session "
                           "starts in the same minute beyond chance",
}

GLOSSARY = (
    ("Account", "One customer account of the API, identified by its account id."),
    ("Owner", "Who is one customer: the accounts of one declared organisation are one owner; "
              "an account without an organisation is its own owner."),
    ("Cluster", "An attribution hypothesis: accounts of one owner, accounts of different "
                "owners joined by coordination, and flagged accounts that open their "
                "conversations with the same harvest template. Never evidence against a "
                "member."),
    ("Coordination", "A strong link between accounts of different owners of a kind ordinary "
                     "customers do not share: a payment method, an analyst indicator, an "
                     "account-creation burst off one sign-up network, or synchronised "
                     "sessions."),
    ("Distillation", "Training a model on another model's outputs; here, harvesting a "
                     "provider's outputs at scale through accounts it did not authorise for "
                     "that purpose."),
    ("Exhibit", "A CSV file holding the full evidence for a statement (EX-001…), written beside "
                "the PDF with a Parquet copy and embedded in it; their SHA-256 hashes are "
                "listed in the appendix."),
    ("Family", "One of four independent kinds of evidence: content (what is asked), structure "
               "(templating, harvest shape), timing, and infrastructure (who sends it)."),
    ("Heuristic", "One SQL query of the library that returns the accounts it fires for, with "
                  "a score, a measured value and the request ids that fired it."),
    ("Link", "Something two accounts of different owners share (a card, an IP prefix, a "
             "template…), weighted by how rare it is among all owners."),
    ("Score", "The strength of the evidence, 0–1, combined as a noisy-OR of heuristic weight × "
              "score; read as a probability only through the ICD-203 terms."),
    ("Template", "A group of near-identical prompts (MinHash over masked prompt openings): "
                 "the same request pattern with different values filled in."),
    ("Pseudonym", "In the public profile, an identifier replaced by a keyed HMAC-SHA256 "
                  "(e.g. acct-3f9a…): stable within a case, not reversible without the key."),
)

CONFIDENCE_SCALE = (
    ("High", "Flagged, coordinated across owners, two or more independent families of "
             "evidence, and a cluster score at or above the high threshold. High confidence "
             "is not certainty: the judgment could still be wrong."),
    ("Moderate", "Flagged (score at or above the flag threshold, two or more families, "
                 "coordinated, flagged accounts of several owners opening with the same "
                 "harvest template, or one owner whose own accounts show two families) without "
                 "meeting every condition for high confidence."),
    ("Low", "Not flagged: some evidence (score at or above the interest threshold) that does "
            "not support a finding; listed for review only."),
)

LIMITATIONS = (
    "The heuristics detect the behaviours they were written for; a campaign that avoids all of "
    "them (varied templates, human-like timing, separate payment methods) is not found.",
    "Scores are heuristic combinations, not calibrated probabilities; the ICD-203 terms are a "
    "reading aid. No provider has published precision or recall figures to calibrate against.",
    "Links rest on identifiers in the export (payment fingerprints, IP prefixes, user agents). "
    "Shared infrastructure such as carrier NAT, cloud egress or a popular SDK can link "
    "unrelated customers; rare keys weigh more for that reason, but the risk remains.",
    "Attribution to an actor rests only on indicators the analysts supplied; the heuristics "
    "never name an actor.",
    f"Prompts are matched in their first {SCAN_CHARS:,} characters (and last "
    f"{SCAN_TAIL_CHARS:,}); text hidden deeper in a very long prompt is not scanned.",
    "The dossier's fonts cover Latin, Greek and Cyrillic (DejaVu), Arabic and Hebrew (Noto "
    "Sans), the common characters of Chinese, Japanese and Korean (Noto Sans CJK: the hanzi of "
    "GB 2312 and Big5 level 1, the kanji of JIS X 0208, kana and every Hangul syllable) and "
    "single emoji (Noto Color Emoji). Rarer CJK ideographs, scripts DejaVu lacks (Thai, "
    "Devanagari and other Indic scripts, among others) and such characters in chart labels are "
    "drawn with whatever font the system has, else as boxes; an emoji sequence (skin tone, "
    "family, flag) is drawn as its parts, and bold CJK text in the regular weight. The text "
    "itself is intact in the HTML, in the PDF's text layer and in the exhibits.",
)

ALTERNATIVES = (
    ("Evaluation company or eval harness", "Templated prompts at temperature 0 and early use "
     "of new models; separated by public test-set formats, one verified organisation and no "
     "reasoning extraction."),
    ("Enterprise batch job", "Huge templated volume around the clock; separated by a single "
     "organisation, a stable payment method and no harvest content."),
    ("Agent or IDE product", "One system prompt shared by thousands of users; separated by real "
     "multi-turn tool traffic."),
    ("Authorised reseller or gateway", "Many templates on one key; separated by a contract, "
     "end-user ids and no concentrated harvest stream."),
    ("Tutoring app", "'Step by step' requests; separated by human cadence, a local-time daily "
     "rhythm and follow-up questions."),
    ("Academic researchers", "Reasoning or judge prompts and published recipes; separated by "
     "moderate volume, a declared affiliation and no account farm."),
)


class Assembler:
    """Builds the Dossier from the report inputs: the exhibits first (the sections cite
    them), then the sections."""

    def __init__(self, inputs: ReportInputs, exhibits: ExhibitWriter,
                 trend: Trend | None = None) -> None:
        self.inputs = inputs
        self.exhibits = exhibits
        self.trend = trend  # the comparison with --baseline (forensics/report/trend.py)
        # The cover, scope, methodology and appendix parts below read the run by these names.
        self.config, self.ingested, self.runs = inputs.config, inputs.ingested, inputs.runs
        self.linked, self.library, self.ids = inputs.linked, inputs.library, inputs.ids
        self.o, self.totals = inputs.options, inputs.totals
        self.flagged_total, self.reported = inputs.flagged_total, inputs.reported
        self.interest_exhibit = ""  # the all-clusters exhibit, once written

    # -- identifiers -------------------------------------------------------------------

    def local_path(self, path: Path, placeholder: str) -> str:
        """A folder on the analyst's machine as shown: as given, or (public profile) a
        placeholder, since where a case's files lie is no part of a published finding."""
        return placeholder if self.ids.public else short(str(path), 120)

    # -- the whole dossier ---------------------------------------------------------------

    def build(self) -> Dossier:
        """The overview charts' queries run first, so that their drawing overlaps the rest;
        then the exhibits (their ids and hashes are cited), then the sections."""
        inputs = self.inputs
        validation = inputs.validation
        with FigureQueue() as figures:
            overview = overview_figures(inputs, figures)
            evidence = read_evidence_requests(inputs)
            exhibits = write_exhibits(inputs, self.exhibits, evidence)
            self.interest_exhibit = exhibits.clusters
            sections = tuple(cluster_section(inputs, figures, c, evidence,
                                             exhibits.by_cluster[c.cluster_id])
                             for c in self.reported)
            sections, overview = figures.numbered(sections, overview)
        return Dossier(
            cover=self._cover(),
            judgments=(*key_judgments(inputs, exhibits),
                       *validation.judgments([c.confidence for c in self.reported])),
            scope=self._scope(),
            clusters=sections,
            clusters_flagged_total=self.flagged_total,
            clusters_omitted=self.flagged_total - len(self.reported),
            interest=tuple(interest_row(inputs, c) for c in inputs.interest),
            overview_figures=overview,
            methodology=self._methodology(),
            limitations=self._limitations(),
            alternatives=tuple(Note(a, b) for a, b in ALTERNATIVES),
            glossary=tuple(Note(a, b) for a, b in GLOSSARY),
            likelihood_scale=self._likelihood_scale(),
            confidence_scale=tuple(ScaleRow(a, b) for a, b in CONFIDENCE_SCALE),
            exhibits=tuple(self.exhibits.written),
            reproducibility=self._reproducibility(),
            trend=self.trend,
            public=self.ids.public,
            profile_note=self._profile_note(),
            max_table_rows=self.o.max_table_rows,
            attach_max=f.size(ATTACH_MAX_BYTES),
            exhibit_text_chars=EXHIBIT_TEXT_CHARS,
            validation=validation,
        )

    # -- cover, scope ------------------------------------------------------------------------

    def _cover(self) -> Cover:
        case = self.config.case.case
        last = self.totals["last_ts"]
        return Cover(
            title=neutralise(case.title),
            case_id=neutralise(case.id) if case.id else "not assigned",
            period=neutralise(self.config.window.describe()),
            data_date=f.day(last) if last else "no data",
            data_span=f"{f.ts(self.totals['first_ts'])} – {f.ts(last)}",
            marking=neutralise(self.config.marking),
            privilege_banner=neutralise(case.privilege_banner) if case.privileged else None,
            dossier_version=neutralise(case.dossier_version),
            profile=self.config.profile, tool_version=__version__)

    def input_manifest_sha256(self) -> str:
        """SHA-256 of the canonical JSON of manifest.json's `inputs` section."""
        section = manifest.inputs_section(self.ingested, self.ids)
        return hashlib.sha256(dump_json(section)).hexdigest()

    def _scope(self) -> Scope:
        files: list[InputFileRow] = []
        tables: list[TableCount] = []
        interpretations: list[Note] = []
        for name, t in sorted(self.ingested.tables.items()):
            for file in t.files:
                files.append(InputFileRow(name, short(file.path, 90), f.size(file.bytes),
                                          file.sha256, f.n(file.rows) if file.rows >= 0
                                          else "CSV"))
            if not t.files:
                tables.append(TableCount(name, "absent", "—", "—", "—", "—"))
                continue
            excluded = "; ".join(f"{f.n(v)} {neutralise(k)}"
                                 for k, v in sorted(t.rows_excluded.items()) if v) or "none"
            tables.append(TableCount(name, f.n(t.rows_read), excluded, f.n(t.rows_analysed),
                                     f.ts(t.first_ts), f.ts(t.last_ts)))
            interpretations += [Note(name, short(self.ids.scrub(i), 300))
                                for i in t.interpretations]
        cap = self.o.max_table_rows
        issues = tuple(Note(f"{i.table}.{i.column or '*'}",
                            f"{short(self.ids.scrub(i.message), 300)} "
                            f"({f.plural(i.count, 'row')})")
                       for i in self.ingested.issues)
        skipped = tuple(Note(r.id, short(r.skipped, 300)) for r in self.runs if r.skipped)
        totals_row = self.totals
        totals = (
            Note("Requests analysed", f.n(totals_row["requests"])),
            Note("Tokens (input + output)", f.n(totals_row["tokens"])),
            Note("Accounts active", f.n(totals_row["accounts"])),
            Note("Models requested", f.n(totals_row["models"])),
            Note("First request", f.ts(totals_row["first_ts"])),
            Note("Last request", f.ts(totals_row["last_ts"])),
        )
        return Scope(window=neutralise(self.config.window.describe()),
                     data_dir=self.local_path(self.config.data_dir, "DATA_DIR"),
                     files=tuple(files[:cap]), files_total=len(files), tables=tuple(tables),
                     interpretations=tuple(interpretations[:cap]), issues=issues[:cap],
                     skipped=skipped, totals=totals,
                     input_manifest_sha256=self.input_manifest_sha256())

    # -- methodology, appendix ----------------------------------------------------------------

    def _methodology(self) -> Methodology:
        entries = []
        # The functions the heuristics call come first: their SQL is not complete without.
        functions = (resources.queries_part("features", self.config.queries_dir)
                     / f"{FUNCTIONS_FILE}.sql").read_bytes()
        sql_parts = [f"-- ==== functions the heuristics call: features/{FUNCTIONS_FILE}.sql "
                     f"(file sha256 {hashlib.sha256(functions).hexdigest()}) ====\n"
                     f"{functions.decode('utf-8').rstrip()}\n"]
        for r in self.runs:
            h = self.library.get(r.id)
            meta = h.meta if h else None
            outcome = (f"skipped: {short(r.skipped, 200)}" if r.skipped else
                       f"fired for {f.plural(r.fired, 'account')}")
            entries.append(HeuristicEntry(
                id=r.id, title=meta.title if meta else r.id, family=r.family,
                level=meta.level if meta else "—", status=meta.status if meta else "—",
                weight=f"{meta.weight:g}" if meta else "—",
                benign=bool(meta.benign) if meta else False, sha256=r.sha256,
                params=tuple(Note(k, short(repr(v), 80)) for k, v in sorted(r.params.items())),
                outcome=outcome,
                description=meta.description.strip() if meta else "",
                rationale=meta.rationale.strip() if meta else "",
                falsepositives=tuple(meta.falsepositives) if meta else (),
                references=tuple(_reference(c) for c in h.citations) if h else (),
                requires="; ".join(f"{t}: {', '.join(c)}" for t, c in meta.requires.items())
                if meta else ""))
            if h is not None:
                sql_parts.append(f"-- ==== {r.id} (file sha256 {r.sha256}) ====\n"
                                 f"{h.path.read_text(encoding='utf-8').rstrip()}\n")
        params = self.linked.params
        scoring = tuple(
            Note(name, f"{value!r} — {PARAM_MEANINGS.get(name, 'see queries/linking/')}")
            for name, value in asdict(params).items())
        thresholds = (
            Note("Account flagged",
                 f"on its own evidence: score ≥ {params.flag_threshold} and at least two "
                 f"independent facts (a network, the sign-ups from it and the synchrony measured "
                 f"through it are one fact); or one fact of its own about what it sends "
                 f"(content or structure) plus a direct hard link (card, indicator, creation "
                 f"burst, synchronised activity) to another owner's account flagged on its own "
                 f"evidence. Never for its cluster"),
            Note("Account high confidence",
                 f"flagged on its own evidence, score ≥ {params.high_threshold}, and hard-linked "
                 f"to another owner's account flagged on its own evidence"),
            Note("Cluster flagged",
                 f"cluster score ≥ {params.flag_threshold}, at least two families, coordination "
                 f"across owners or flagged members of several owners sharing a harvest "
                 f"template (or one owner whose own accounts show two families), and a member "
                 f"flagged on its own evidence; its confidence is its best member's"),
            Note("Of interest", f"score ≥ {params.interest_threshold}, not flagged"),
            Note("Linked", f"pair weight ≥ {params.min_link_weight}"),
            Note("Same cluster",
                 f"a linked pair of a coordination kind; or two flagged accounts whose shared "
                 f"first-turn template draws ≥ {params.harvest_min_flagged_share:.0%} of its "
                 f"first turns in the log from flagged accounts"),
            Note("Significant link", f"Benjamini–Hochberg q ≤ {FDR:g} within the link kind's "
                                     f"family of tests (see the null models below)"),
        )
        link_kinds = tuple(Note(k.label, k.null_model) for k in LINK_KINDS.values())
        versions = tuple(Note(k, v) for k, v in sorted(manifest.versions().items()))
        sql_text = "\n".join(sql_parts)
        return Methodology(tuple(entries), scoring, thresholds, versions, link_kinds,
                           sql_text=sql_text,
                           sql_sha256=hashlib.sha256(sql_text.encode("utf-8")).hexdigest(),
                           sources=self._sources())

    def _sources(self) -> tuple[SourceEntry, ...]:
        """Every public document the catalogue cites, once, in the order of their keys."""
        cited: dict[str, Source] = {}
        for r in self.runs:
            h = self.library.get(r.id)
            for c in h.citations if h else ():
                if c.source is not None:
                    cited[c.source.key] = c.source
        return tuple(SourceEntry(key=s.key, author=s.author, title=s.title, date=s.date,
                                 url=s.url or "", locator=s.locator or "", note=s.note or "")
                     for _, s in sorted(cited.items()))

    def _likelihood_scale(self) -> tuple[ScaleRow, ...]:
        rows = []
        low = 0.0
        for bound, term in LIKELIHOOD:
            high = min(bound, 1.0)
            rows.append(ScaleRow(term, f"{low:.0%}–{high:.0%}" if high < 1 else
                                 f"{low:.0%} or more"))
            low = bound
        return tuple(rows)

    def _limitations(self) -> tuple[str, ...]:
        extra = []
        skipped = [r.id for r in self.runs if r.skipped]
        if skipped:
            extra.append(f"{f.plural(len(skipped), 'heuristic')} could not run because the "
                         f"export lacks the columns they need ({', '.join(skipped)}); the "
                         f"behaviours they detect were not examined.")
        # A skipped heuristic that linking draws links from takes those links with it.
        for hid in skipped:
            h = self.library.get(hid)
            for role in h.meta.provides if h else ():
                use = LINKING_ROLES[role]
                if use.draws:
                    extra.append(f"As {hid} could not run, linking drew no {use.draws} from "
                                 f"it (linking {use.use}).")
        if self.flagged_total > len(self.reported):
            extra.append(f"Only the {len(self.reported)} most severe flagged clusters are "
                         f"described (config report.max_clusters); the others are in the "
                         f"cluster exhibit {self.interest_exhibit}.")
        return (*LIMITATIONS, *extra)

    def _profile_note(self) -> str:
        if not self.ids.public:
            return ("Internal profile: identifiers and log text are shown as recorded "
                    "(neutralised and truncated for display).")
        return ("Public profile: account ids, API keys, organisations, e-mail domains, IP "
                "addresses, payment fingerprints, user agents and request ids are replaced by "
                "keyed pseudonyms (HMAC-SHA256, stable within this case); prompt, system prompt "
                "and response text is masked except short template exemplars (lower-cased, "
                "digits masked). The rendered text was checked for every raw identifier of the "
                "inputs before the dossier was written.")

    def _reproducibility(self) -> Reproducibility:
        c = self.config
        parts = ["forensics", "run", self.local_path(c.data_dir, "DATA_DIR"), "--out", "OUT"]
        if c.config_path:
            parts += ["--config", self.local_path(c.config_path, "CASE.toml")]
        if c.window.label:
            parts += ["--period", c.window.label]
        else:
            if c.window.since:
                parts += ["--since", c.window.since.strftime("%Y-%m-%dT%H:%M:%S")]
            if c.window.until:
                parts += ["--until", c.window.until.strftime("%Y-%m-%dT%H:%M:%S")]
        if c.profile != "internal":
            parts += ["--profile", c.profile]
        for flag, value in (("--queries", c.queries_dir), ("--templates", c.templates_dir)):
            if value:
                parts += [flag, self.local_path(value, flag.strip("-").upper() + "_DIR")]
        baseline = ""
        if self.trend is not None:
            # Named by its hash, never by its folder: the dossier does not print local paths
            # of the baseline, and reads the same wherever the baseline is kept.
            parts += ["--baseline", manifest.BASELINE_PLACEHOLDER]
            manifest_sha = dict(self.trend.baseline_sha256)["manifest.json"]
            baseline = (f" {manifest.BASELINE_PLACEHOLDER} is the output folder of the "
                        f"baseline run, whose manifest.json has the SHA-256 {manifest_sha}.")
        return Reproducibility(
            command=neutralise(shlex.join(parts)),
            input_manifest_sha256=self.input_manifest_sha256(),
            source_date_epoch=self.o.source_date_epoch,
            statement=(
                "Rerunning this command on the same inputs, with the same configuration, "
                "heuristic library and tool versions, yields byte-identical outputs: "
                "dossier.pdf, dossier.html, findings, every exhibit and manifest.json, whatever "
                "the output folder (OUT) and whenever it is run. manifest.sha256 lists the "
                "SHA-256 of each file and can be checked with `sha256sum -c manifest.sha256`. "
                "The dates embedded in the PDF are derived from the last analysed request "
                f"(SOURCE_DATE_EPOCH={self.o.source_date_epoch}), never from the clock."
                f"{baseline}"))


def data_epoch(ingested: IngestResult) -> int:
    """SOURCE_DATE_EPOCH for the run: the last analysed request's time (0 without one)."""
    t = ingested.tables.get("requests")
    last = t.last_ts if t else None
    if last is None:
        return 0
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return int(last.timestamp())


def _reference(c: Citation) -> Reference:
    """A citation of a heuristic's header as its catalogue entry prints it: the source's key
    and author (date), or the library file's path."""
    if c.source is None:
        return Reference(key="", label=c.target, note=c.note or "")
    return Reference(key=c.source.key, label=c.source.label(), note=c.note or "")
