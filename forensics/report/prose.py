"""The dossier's fixed prose, read from the templates folder: `text/*.yaml` beside the partials
(the bundled `templates/text/`, or that of `--templates DIR`), so that the words live with the
layout and a custom templates folder rewrites them without touching code.

One file per section that shows them: cover.yaml (the profile notes), glossary.yaml (the terms
and the confidence scale), limitations.yaml (the limits and the alternative hypotheses),
methodology.yaml (the decision rules and what each parameter means), appendix.yaml (the
reproducibility statement). Every file is read and checked once, before any query runs, into
frozen models; all problems are reported together.

Each text is a small jinja template of plain text: the numbers it states (the lexicon scan's
limits, the thresholds, SOURCE_DATE_EPOCH) are passed in by the section that shows it, from the
constants and the run's parameters, and never written into the text, so the dossier cannot
misdescribe the method. An unknown name fails (StrictUndefined). The text is not HTML: the
dossier template escapes it where it lays it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from forensics.errors import OutputError

TEXT_FOLDER = "text"


class _Text(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CoverText(_Text):
    """cover.yaml: how the dossier shows identifiers and log text, per profile."""

    internal_profile: str
    public_profile: str


class GlossaryText(_Text):
    """glossary.yaml: term → definition, and confidence level → when it is assigned."""

    terms: dict[str, str]
    confidence_scale: dict[str, str]


class LimitationsText(_Text):
    """limitations.yaml: the method's limits, and look-alike → what separates it."""

    limitations: tuple[str, ...]
    alternatives: dict[str, str]


class MethodologyText(_Text):
    """methodology.yaml: decision → rule, parameter → meaning."""

    thresholds: dict[str, str]
    parameters: dict[str, str]
    unknown_parameter: str


class AppendixText(_Text):
    """appendix.yaml: the reproducibility statement, and its sentence about a baseline."""

    reproducibility: str
    baseline: str


FILES: dict[str, type[_Text]] = {"cover": CoverText, "glossary": GlossaryText,
                                 "limitations": LimitationsText,
                                 "methodology": MethodologyText, "appendix": AppendixText}


def _environment() -> jinja2.Environment:
    """Plain text in, plain text out: no autoescape here (the dossier template escapes the
    result), undefined names fail."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                             keep_trailing_newline=True)
    env.filters["thousands"] = lambda v: f"{int(v):,}"  # 4000 → 4,000
    env.filters["percent"] = lambda v: f"{float(v):.0%}"  # 0.25 → 25%
    env.filters["number"] = lambda v: f"{float(v):g}"  # 0.050 → 0.05
    return env


_ENV = _environment()


@dataclass(frozen=True)
class Prose:
    """Every fixed text of the dossier, by the section that shows it."""

    folder: Path  # the text folder read, for error messages
    cover: CoverText
    glossary: GlossaryText
    limitations: LimitationsText
    methodology: MethodologyText
    appendix: AppendixText

    def fill(self, text: str, **values: Any) -> str:
        """`text` with the numbers and names it refers to filled in from `values`."""
        try:
            return _ENV.from_string(text).render(values)
        except jinja2.TemplateError as exc:
            raise OutputError(f"dossier text error: {exc} in {text[:60]!r}…",
                              file=str(self.folder)) from None

    def fill_all(self, texts: Mapping[str, str], **values: Any) -> dict[str, str]:
        """Each text of a label → text mapping, filled in."""
        return {label: self.fill(text, **values) for label, text in texts.items()}


def read_prose(templates: Path) -> Prose:
    """The texts of `templates/text/`; raise OutputError listing every problem of its files
    (missing, not YAML, unknown or missing keys, jinja syntax)."""
    folder = templates / TEXT_FOLDER
    parts: dict[str, _Text] = {}
    problems: list[str] = []
    for name, model in FILES.items():
        path = folder / f"{name}.yaml"
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            parts[name] = model.model_validate(raw)
        except OSError as exc:
            problems.append(f"{path}: cannot be read ({exc.strerror})")
        except yaml.YAMLError as exc:
            problems.append(f"{path}: not valid YAML ({' '.join(str(exc).split())})")
        except ValidationError as exc:
            problems += [f"{path}: {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
                         for e in exc.errors()]
        else:
            problems += [f"{path}: {where}: {problem}"
                         for where, problem in _syntax_problems(parts[name])]
    if problems:
        raise OutputError(problems[0] if len(problems) == 1 else
                          f"{len(problems)} dossier text problems:\n"
                          + "\n".join(f"  {p}" for p in problems))
    return Prose(folder=folder, **parts)  # type: ignore[arg-type]


def _syntax_problems(part: _Text) -> list[tuple[str, str]]:
    """(where, what) for each text of `part` that is not a valid jinja template."""
    found = []
    for field, value in part:
        texts: Mapping[str, str] = (value if isinstance(value, dict) else
                                    {str(i): v for i, v in enumerate(value)}
                                    if isinstance(value, tuple) else {"": value})
        for key, text in texts.items():
            try:
                _ENV.parse(text)
            except jinja2.TemplateSyntaxError as exc:
                found.append((f"{field}.{key}" if key else field, exc.message or str(exc)))
    return found
