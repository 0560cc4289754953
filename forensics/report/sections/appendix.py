"""The Appendix's reproducibility statement: the command that reruns the analysis (local
folders as placeholders in the public profile, the baseline always by its hash), the input
manifest's hash and the statement of templates/text/appendix.yaml. The exhibit inventory, the
catalogue and the sources are laid out from the exhibits and the Methodology section."""

from __future__ import annotations

import shlex

from forensics import manifest
from forensics.report.context import Reproducibility, Trend
from forensics.report.inputs import ReportInputs
from forensics.report.sections.scope import input_manifest_sha256
from forensics.report.text import neutralise


def reproducibility(inputs: ReportInputs, trend: Trend | None) -> Reproducibility:
    """How to rerun this analysis and check that it gives the same bytes."""
    c, prose = inputs.config, inputs.prose
    epoch = inputs.options.source_date_epoch
    parts = ["forensics", "run", inputs.local_path(c.data_dir, "DATA_DIR"), "--out", "OUT"]
    if c.config_path:
        parts += ["--config", inputs.local_path(c.config_path, "CASE.toml")]
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
            parts += [flag, inputs.local_path(value, flag.strip("-").upper() + "_DIR")]
    statement = prose.fill(prose.appendix.reproducibility, source_date_epoch=epoch)
    if trend is not None:
        # Named by its hash, never by its folder: the dossier does not print local paths of
        # the baseline, and reads the same wherever the baseline is kept.
        parts += ["--baseline", manifest.BASELINE_PLACEHOLDER]
        statement += " " + prose.fill(
            prose.appendix.baseline, baseline=manifest.BASELINE_PLACEHOLDER,
            manifest_sha256=dict(trend.baseline_sha256)["manifest.json"])
    return Reproducibility(command=neutralise(shlex.join(parts)),
                           input_manifest_sha256=input_manifest_sha256(inputs),
                           source_date_epoch=epoch, statement=statement)
