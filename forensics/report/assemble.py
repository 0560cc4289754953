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
        self.prose = inputs.prose
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
            alternatives=tuple(Note(a, b) for a, b in
                               self.prose.fill_all(self.prose.limitations.alternatives).items()),
            glossary=tuple(Note(a, b) for a, b in
                           self.prose.fill_all(self.prose.glossary.terms).items()),
            likelihood_scale=self._likelihood_scale(),
            confidence_scale=tuple(ScaleRow(a, b) for a, b in self.prose.fill_all(
                self.prose.glossary.confidence_scale, **asdict(self.linked.params)).items()),
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
        text = self.prose.methodology
        scoring = tuple(
            Note(name, f"{value!r} — "
                       f"{self.prose.fill(text.parameters.get(name, text.unknown_parameter))}")
            for name, value in asdict(params).items())
        thresholds = tuple(Note(label, rule) for label, rule in self.prose.fill_all(
            text.thresholds, **asdict(params), fdr=FDR).items())
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
        fixed = tuple(self.prose.fill(t, scan_chars=SCAN_CHARS, scan_tail_chars=SCAN_TAIL_CHARS)
                      for t in self.prose.limitations.limitations)
        return (*fixed, *extra)

    def _profile_note(self) -> str:
        notes = self.prose.cover
        return self.prose.fill(notes.public_profile if self.ids.public else notes.internal_profile)

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
        text = self.prose.appendix
        statement = self.prose.fill(text.reproducibility,
                                    source_date_epoch=self.o.source_date_epoch)
        if self.trend is not None:
            # Named by its hash, never by its folder: the dossier does not print local paths
            # of the baseline, and reads the same wherever the baseline is kept.
            parts += ["--baseline", manifest.BASELINE_PLACEHOLDER]
            statement += " " + self.prose.fill(
                text.baseline, baseline=manifest.BASELINE_PLACEHOLDER,
                manifest_sha256=dict(self.trend.baseline_sha256)["manifest.json"])
        return Reproducibility(
            command=neutralise(shlex.join(parts)),
            input_manifest_sha256=self.input_manifest_sha256(),
            source_date_epoch=self.o.source_date_epoch,
            statement=statement)


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
