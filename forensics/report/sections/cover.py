"""The cover page: the case, its period, the data's span, the marking and banner, and the note
on how this profile shows identifiers (templates/text/cover.yaml)."""

from __future__ import annotations

from forensics import __version__
from forensics.report import fmt as f
from forensics.report.context import Cover
from forensics.report.inputs import ReportInputs
from forensics.report.text import neutralise


def cover(inputs: ReportInputs) -> Cover:
    """The cover's facts, from the case config and the analysed requests' span."""
    config, totals = inputs.config, inputs.totals
    case = config.case.case
    last = totals["last_ts"]
    return Cover(
        title=neutralise(case.title),
        case_id=neutralise(case.id) if case.id else "not assigned",
        period=neutralise(config.window.describe()),
        data_date=f.day(last) if last else "no data",
        data_span=f"{f.ts(totals['first_ts'])} – {f.ts(last)}",
        marking=neutralise(config.marking),
        privilege_banner=neutralise(case.privilege_banner) if case.privileged else None,
        dossier_version=neutralise(case.dossier_version),
        profile=config.profile, tool_version=__version__)


def profile_note(inputs: ReportInputs) -> str:
    """How this dossier shows identifiers and log text: as recorded, or pseudonymised."""
    notes = inputs.prose.cover
    return inputs.prose.fill(notes.public_profile if inputs.ids.public else
                             notes.internal_profile)
