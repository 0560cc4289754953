"""The dossier's figures: the queue that draws them in the background, their numbering, and
the builders that query each chart's rows and write its caption (charts.py draws them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Any

from forensics.evidence import KIND_LABELS, ClusterFinding
from forensics.report import charts
from forensics.report import fmt as f
from forensics.report.context import ClusterSection, Figure
from forensics.report.inputs import ReportInputs
from forensics.report.text import short

GRAPH_NODES = 40
GRAPH_EDGES = 300  # the strongest pairs drawn; more is a blot that costs seconds to render
NIGHT_END_HOUR = 6  # the hour-of-week chart's caption: the share of requests from 00:00 to this


class FigureQueue:
    """Figures whose SVG is drawn on one background thread while the caller waits on DuckDB
    (which releases the GIL): drawing and querying overlap. Only that thread touches
    matplotlib. Figures are numbered at the end, in the order the document shows them."""

    def __init__(self) -> None:
        self._drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="charts")
        self._drawings: dict[str, Future[str]] = {}  # by figure anchor

    def __enter__(self) -> FigureQueue:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._drawer.shutdown(wait=True, cancel_futures=True)

    def prefix(self, letter: str) -> str:
        """A unique SVG id prefix for the next drawing."""
        return f"{letter}{len(self._drawings) + 1}"

    def figure(self, anchor: str, title: str, caption: str, draw: Callable[[], str]) -> Figure:
        """A figure whose SVG is being drawn in the background; `numbered` fills in its
        number and SVG."""
        self._drawings[anchor] = self._drawer.submit(draw)
        return Figure(0, anchor, title, caption, "")

    def numbered(self, sections: tuple[ClusterSection, ...], overview: tuple[Figure, ...]
                 ) -> tuple[tuple[ClusterSection, ...], tuple[Figure, ...]]:
        """Number the figures in document order (sections, then the overview) and put in
        their drawn SVG; waits for the drawing thread."""
        count = 0

        def done(fig: Figure) -> Figure:
            nonlocal count
            count += 1
            return replace(fig, number=count, svg=self._drawings[fig.anchor].result())

        sections = tuple(replace(s, graph=done(s.graph) if s.graph else None,
                                 activity=done(s.activity)) for s in sections)
        return sections, tuple(done(fig) for fig in overview)


def bucket_hours(totals: dict[str, Any]) -> int:
    """Chart resolution: hours for a short span, days for a long one."""
    first, last = totals["first_ts"], totals["last_ts"]
    if first is None or last is None:
        return 24
    span = last - first
    if span <= timedelta(days=3):
        return 1
    if span <= timedelta(days=10):
        return 6
    return 24


# -- one cluster ------------------------------------------------------------------------------

def graph_figure(inputs: ReportInputs, figures: FigureQueue, c: ClusterFinding) -> Figure:
    """The matrix of links between a cluster's accounts."""
    rows = inputs.q.rows("cluster_graph", cluster=c.cluster_id, max_nodes=GRAPH_NODES)
    node_rows = sorted((r for r in rows if r["element"] == "node"),
                       key=lambda r: (r["b"] or "", r["a"]))
    order = {r["a"]: i for i, r in enumerate(node_rows)}
    nodes = [(inputs.ids("account", r["a"]) or "", r["b"] or "", float(r["weight"] or 0))
             for r in node_rows]
    edges = [(order[r["a"]], order[r["b"]], float(r["weight"]), str(r["kind"]))
             for r in rows if r["element"] == "edge" and r["a"] in order and r["b"] in order]
    pairs = len(edges)
    edges = sorted(edges, key=lambda e: (-e[2], e[0], e[1]))[:GRAPH_EDGES]
    kinds = sorted({e[3] for e in edges})
    svg = partial(charts.graph, nodes, edges, c.accounts, figures.prefix("g"))
    shown = inputs.cid(c.cluster_id)
    drawn = f"all {c.accounts}" if len(nodes) >= c.accounts else \
        f"the {len(nodes)} most strongly linked of {c.accounts}"
    caption = (f"Links between the accounts of {shown}: {drawn} accounts "
               f"as numbered rows and columns in one order (by owner, then id), "
               f"{f.plural(pairs, 'linked pair')}"
               f"{f' (the {len(edges)} strongest drawn)' if len(edges) < pairs else ''}. "
               f"A coloured cell is a linked pair: its colour the strongest kind of link "
               f"({f.listing([KIND_LABELS.get(k, k) for k in kinds]) or 'none'}), its "
               f"depth the pair's weight. Boxes on the diagonal hold the accounts of one "
               f"owner; cells outside them join different owners.")
    return figures.figure(f"fig-graph-{shown}", f"How the accounts of {shown} are linked",
                          caption, svg)


def timeline_figure(inputs: ReportInputs, figures: FigureQueue, c: ClusterFinding) -> Figure:
    """A cluster's requests over time, with its sign-ups and the model releases."""
    bucket = bucket_hours(inputs.totals)
    rows = inputs.q.rows("cluster_daily", clusters=[c.cluster_id], bucket_hours=bucket)
    created = [r["created_at"] for r in inputs.creation_rows if r["series"] == c.cluster_id]
    svg = partial(charts.cluster_timeline, rows, created, inputs.releases, bucket,
                  figures.prefix("t"))
    models = sorted({r["model"] for r in rows})
    shown = inputs.cid(c.cluster_id)
    caption = (f"Requests of {shown} per {charts.bucket_name(bucket)}, stacked by model "
               f"({f.listing([short(m, 30) for m in models])}); ticks under the axis "
               f"mark the hours in which its accounts signed up, dashed lines model "
               f"releases. Look for sign-ups just before traffic starts and for traffic "
               f"moving to a new model after its release.")
    return figures.figure(f"fig-timeline-{shown}", f"Activity of {shown} over time", caption,
                          svg)


# -- the overview charts ----------------------------------------------------------------------

def overview_figures(inputs: ReportInputs, figures: FigureQueue) -> tuple[Figure, ...]:
    """The charts comparing the charted clusters with all other traffic, in document order;
    the creation strip only when accounts were created in its window, the pivot only when
    models were released."""
    inputs.options.chart_progress("overview charts")
    series = [c.cluster_id for c in inputs.charted]
    labels = [inputs.cid(c.cluster_id) for c in inputs.charted]
    made = (_traffic(inputs, figures, series, labels),
            _hours(inputs, figures, series, labels),
            _capabilities(inputs, figures, series, labels),
            _templates(inputs, figures, series, labels),
            _creation(inputs, figures, series, labels),
            _pivot(inputs, figures, series, labels))
    return tuple(fig for fig in made if fig is not None)


def _traffic(inputs: ReportInputs, figures: FigureQueue, series: list[str],
             labels: list[str]) -> Figure:
    bucket = bucket_hours(inputs.totals)
    what = ("flagged clusters" if inputs.reported else "clusters of interest (none flagged)"
            if inputs.charted else "")
    rows = inputs.q.rows("traffic_over_time", clusters=series, bucket_hours=bucket)
    caption = (f"Requests per {charts.bucket_name(bucket)} of the {what} (lines, "
               f"left axis) against all other traffic (grey, right axis). Look for "
               f"clusters that start and stop together, run at a flat rate, or jump when a "
               f"model is released.") if series else (
               f"Requests per {charts.bucket_name(bucket)} of all analysed traffic; "
               f"no cluster was flagged or of interest.")
    return figures.figure("fig-traffic", "Traffic over time", caption, partial(
        charts.traffic, rows, series, labels, inputs.releases, bucket, "ov1"))


def _hours(inputs: ReportInputs, figures: FigureQueue, series: list[str],
           labels: list[str]) -> Figure:
    rows = inputs.q.rows("hour_of_week", clusters=series)
    night = {r["series"]: 0.0 for r in rows}
    for r in rows:
        if r["hour_of_week"] % 24 < NIGHT_END_HOUR:
            night[r["series"]] += float(r["share"])
    parts = [f"{label} {f.pct(night.get(s, 0))}" for s, label in zip(series, labels,
                                                                       strict=True)]
    caption = ("Share of requests per UTC hour of the week, each row scaled to its busiest "
               "hour. Ordinary traffic follows working hours and weekdays; machine "
               "harvesting is flat around the clock. Share of requests between 00:00 and "
               f"{NIGHT_END_HOUR:02d}:00 UTC: all other traffic {f.pct(night.get('', 0))}"
               + (f", {', '.join(parts)}." if parts else "."))
    return figures.figure("fig-hours", "Hour-of-week activity against ordinary traffic",
                          caption, partial(charts.hour_of_week, rows, series, labels, "ov2"))


def _capabilities(inputs: ReportInputs, figures: FigureQueue, series: list[str],
                  labels: list[str]) -> Figure:
    rows = inputs.q.rows("capability_mix", clusters=series)
    categories = _ordered_categories(rows, "capability")
    bars = [(label, [(r["capability"], float(r["share"])) for r in rows
                     if r["series"] == key]) for key, label in
            zip([*series, ""], [*labels, "all other traffic"], strict=True)]
    return figures.figure(
        "fig-capabilities", "Capability mix", "Share of each row's requests by capability "
        "class (from the capabilities lexicon). Distillation concentrates on what is most "
        "valuable to train on — reasoning, coding, agentic tool use — while ordinary "
        "traffic is spread out; 'other' is text no lexicon class matched.",
        partial(charts.stacked_shares, bars, categories, "ov3", "share of requests"))


def _templates(inputs: ReportInputs, figures: FigureQueue, series: list[str],
               labels: list[str]) -> Figure:
    rows = inputs.q.rows("template_share", clusters=series)
    bars = []
    for key, label in zip([*series, ""], [*labels, "all other traffic"], strict=True):
        mine = [r for r in rows if r["series"] == key]
        shares = [(f"template #{int(r['rank'])}", float(r["share"])) for r in mine]
        bars.append((label, [*shares, ("rest", max(0.0, 1 - sum(s for _, s in shares)))]))
    return figures.figure(
        "fig-templates", "Template concentration", "Share of each row's requests carried by "
        "its three most common prompt templates (near-duplicate prompt patterns). A few "
        "templates carrying most of a cluster's traffic is the 'highly repetitive "
        "structure' of harvesting; ordinary traffic is spread over many templates.",
        partial(charts.stacked_shares, bars,
                ["template #1", "template #2", "template #3", "rest"], "ov4",
                "share of requests"))


def _creation(inputs: ReportInputs, figures: FigureQueue, series: list[str],
              labels: list[str]) -> Figure | None:
    first, last = inputs.totals["first_ts"], inputs.totals["last_ts"]
    window = (first - timedelta(days=14), last) if first and last else None
    shown = [r for r in inputs.creation_rows
             if window and window[0] <= r["created_at"] <= window[1]]
    if not (window and shown):  # an empty strip chart says nothing
        return None
    older = sum(r["accounts"] for r in inputs.creation_rows if r["created_at"] < window[0])
    return figures.figure(
        "fig-creation", "Account creation", "Accounts created per hour, one row per "
        "cluster and one for all other accounts, each row scaled to its own busiest "
        "hour, from two weeks before the first request "
        f"({f.plural(older, 'account')} created earlier not shown). A tall spike "
        "is a creation burst: accounts made together, typically just before a "
        "campaign starts.",
        partial(charts.creation, inputs.creation_rows, series, labels, window, "ov5"))


def _pivot(inputs: ReportInputs, figures: FigureQueue, series: list[str],
           labels: list[str]) -> Figure | None:
    if not inputs.releases:
        return None
    bucket = bucket_hours(inputs.totals)
    models = [m for m, _ in inputs.releases]
    rows = inputs.q.rows("model_pivot", clusters=series, models=models, bucket_hours=bucket)
    return figures.figure(
        "fig-pivot", "New-model pivot", f"Share of each row's requests sent to the "
        f"newly released model(s) {f.listing([short(m, 30) for m in models])}, per "
        f"{charts.bucket_name(bucket)}. A campaign that follows releases "
        f"redirects its traffic within a day (a step right after the dashed line); "
        f"ordinary customers migrate gradually.",
        partial(charts.pivot, rows, series, labels, inputs.releases, bucket, "ov6"))


def _ordered_categories(rows: Sequence[dict[str, Any]], column: str) -> list[str]:
    """Categories by total share (largest first), with 'other' last."""
    totals: dict[str, float] = {}
    for r in rows:
        totals[r[column]] = totals.get(r[column], 0.0) + float(r["share"])
    ordered = sorted(totals, key=lambda k: (-totals[k], k))
    return [k for k in ordered if k != "other"] + (["other"] if "other" in totals else [])
