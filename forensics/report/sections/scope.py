"""The Scope and data section: the window, the input files with their hashes, each table's rows
read, excluded and analysed, the data-quality notes, the heuristics skipped, the totals."""

from __future__ import annotations

import hashlib

from forensics import manifest
from forensics.outputs import dump_json
from forensics.report import fmt as f
from forensics.report.context import InputFileRow, Note, Scope, TableCount
from forensics.report.inputs import ReportInputs
from forensics.report.text import neutralise, short


def scope(inputs: ReportInputs) -> Scope:
    """What was analysed, as ingest recorded it (tables capped at the report's row limit)."""
    ids = inputs.ids
    files: list[InputFileRow] = []
    tables: list[TableCount] = []
    interpretations: list[Note] = []
    for name, t in sorted(inputs.ingested.tables.items()):
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
        interpretations += [Note(name, short(ids.scrub(i), 300)) for i in t.interpretations]
    cap = inputs.options.max_table_rows
    issues = tuple(Note(f"{i.table}.{i.column or '*'}",
                        f"{short(ids.scrub(i.message), 300)} ({f.plural(i.count, 'row')})")
                   for i in inputs.ingested.issues)
    skipped = tuple(Note(r.id, short(r.skipped, 300)) for r in inputs.runs if r.skipped)
    return Scope(window=neutralise(inputs.config.window.describe()),
                 data_dir=inputs.local_path(inputs.config.data_dir, "DATA_DIR"),
                 files=tuple(files[:cap]), files_total=len(files), tables=tuple(tables),
                 interpretations=tuple(interpretations[:cap]), issues=issues[:cap],
                 skipped=skipped, totals=_totals(inputs),
                 input_manifest_sha256=input_manifest_sha256(inputs))


def _totals(inputs: ReportInputs) -> tuple[Note, ...]:
    t = inputs.totals
    return (
        Note("Requests analysed", f.n(t["requests"])),
        Note("Tokens (input + output)", f.n(t["tokens"])),
        Note("Accounts active", f.n(t["accounts"])),
        Note("Models requested", f.n(t["models"])),
        Note("First request", f.ts(t["first_ts"])),
        Note("Last request", f.ts(t["last_ts"])),
    )


def input_manifest_sha256(inputs: ReportInputs) -> str:
    """SHA-256 of the canonical JSON of manifest.json's `inputs` section (the scope and the
    reproducibility statement both print it)."""
    section = manifest.inputs_section(inputs.ingested, inputs.ids)
    return hashlib.sha256(dump_json(section)).hexdigest()
