"""The dossier's charts: matplotlib's object API (Figure + Agg, never pyplot state), written
as byte-stable inline SVG.

Charts show numbers and short labels only (cluster ids, pseudonymised or neutralised account
ids, model names through `chart_label`), never log text. Every function takes plain rows from
`queries/report/*.sql` and returns SVG markup; captions are written by the caller.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from forensics.report.text import chart_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Fixed colours: the same cluster has the same colour in every chart of a dossier.
PALETTE = ("#1f5fa8", "#d1495b", "#2e933c", "#edae49", "#7b4b94", "#00798c", "#8c564b",
           "#e377c2", "#17becf", "#bcbd22", "#393b79", "#843c39")
OTHER = "#b8b8b8"
KIND_COLOURS = {"payment": "#d1495b", "indicator": "#7b4b94", "creation_burst": "#edae49",
                "sync": "#00798c", "template": "#2e933c", "ip_prefix": "#1f5fa8",
                "user_agent": "#8c564b", "email_domain": "#e377c2", "signup_prefix": "#17becf"}
_RC = {
    "svg.hashsalt": "forensics-dossier",  # ids in the SVG derive from it: byte-stable output
    "svg.fonttype": "none",  # text stays text: searchable, and seen by the leak check
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "axes.titlesize": 8.5,
    "axes.labelsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.6,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "lines.linewidth": 1.2,
}
_XML_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_STYLE = re.compile(r"\s*<defs>\s*<style[^>]*>.*?</style>\s*</defs>", re.DOTALL)
_IDS = re.compile(r'(id="|xlink:href="#|href="#|url\(#)')
WIDTH = 6.6  # inches: the text width of an A4 page with 2 cm margins


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    # No matplotlib.use(): figures get an Agg canvas of their own (_figure), so the global
    # backend, and any pyplot state of the caller, is left alone.
    with matplotlib.rc_context(cast(Any, _RC)), warnings.catch_warnings():
        # A label with a glyph DejaVu lacks (CJK) renders as a box; that is not an error
        # (charts use DejaVu only; the bundled fonts serve the text of the page).
        warnings.simplefilter("ignore", UserWarning)
        yield


def _figure(height: float, width: float = WIDTH) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _svg(fig: Figure, prefix: str) -> str:
    """The figure as SVG markup for inline use: no XML prologue, no metadata, ids prefixed so
    that several charts can share one HTML document."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue().decode("utf-8")
    text = _METADATA.sub("", _STYLE.sub("", _XML_PROLOGUE.sub("", text, count=1)))
    text = _IDS.sub(lambda m: f"{m.group(1)}{prefix}-", text)
    return text.replace("<svg ", '<svg class="chart" role="img" ', 1)


def _x(when: datetime) -> float:
    """A time as a matplotlib date number (days since the epoch, UTC)."""
    import matplotlib.dates as mdates

    return float(mdates.date2num(when))


def _xs(times: Sequence[datetime]) -> list[float]:
    return [_x(t) for t in times]


def colour(index: int) -> str:
    """The colour of the `index`-th reported cluster."""
    return PALETTE[index % len(PALETTE)]


def _date_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=9, tz="UTC")
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC"))


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


def _span(buckets: Sequence[datetime], bucket_hours: int,
          releases: Sequence[tuple[str, datetime]]) -> tuple[float, float]:
    """The x range of a time chart: every bucket, whole, and every release line."""
    xs = _xs(buckets) + [_x(when) for _, when in releases]
    return min(xs), max(_xs(buckets)) + bucket_hours / 24


def _releases(ax: Axes, releases: Sequence[tuple[str, datetime]], label: bool) -> None:
    for model, when in releases:
        ax.axvline(_x(when), color="#333333", linestyle="--", linewidth=0.8)
        if label:
            ax.annotate(f" {chart_label(model, 18)} released", (_x(when), 0.98),
                        xycoords=("data", "axes fraction"), fontsize=6.5, va="top",
                        ha="left", color="#333333")


def _steps(xs: list[float], ys: list[float], width: float) -> tuple[list[float], list[float]]:
    """Points for a post-step line that also draws the last bucket to its end."""
    return xs + [xs[-1] + width], ys + [ys[-1]]


def _grid(buckets: Sequence[datetime], bucket_hours: int) -> tuple[list[datetime], list[float]]:
    """Every bucket from the first to the last (gaps included) and their edges as date
    numbers: filled steps over it are one path per series, where bars were one per bucket."""
    step = timedelta(hours=bucket_hours)
    grid = [buckets[0] + i * step for i in range((buckets[-1] - buckets[0]) // step + 1)]
    return grid, _xs([*grid, grid[-1] + step])


def traffic(rows: Sequence[dict[str, Any]], series: Sequence[str], labels: Sequence[str],
            releases: Sequence[tuple[str, datetime]], bucket_hours: int, prefix: str) -> str:
    """Requests per bucket: reported clusters as lines (left axis), all other traffic as grey
    bars (right axis, or the only axis when no cluster is charted), model releases as dashed
    vertical lines."""
    with _style():
        fig = _figure(2.7)
        ax = fig.add_subplot()
        buckets = sorted({r["bucket"] for r in rows})
        counts: dict[str, dict[datetime, int]] = defaultdict(dict)
        for r in rows:
            counts[r["series"]][r["bucket"]] = int(r["requests"])
        if not buckets:
            _empty(ax, "no traffic")
            return _svg(fig, prefix)
        xs = _xs(buckets)
        width = bucket_hours / 24  # date numbers are days
        unit = bucket_name(bucket_hours)
        other = ax.twinx() if series else ax
        grid, edges = _grid(buckets, bucket_hours)
        other.stairs([counts[""].get(b, 0) for b in grid], edges, fill=True, color=OTHER,
                     alpha=0.55, linewidth=0, label="all other traffic")
        if series:
            other.set_ylabel(f"other traffic per {unit}", color="#777777")
            other.spines["right"].set_visible(True)
            other.tick_params(axis="y", colors="#777777")
            ax.set_zorder(other.get_zorder() + 1)
            ax.patch.set_visible(False)
            ax.set_ylabel(f"cluster requests per {unit}")
        else:
            ax.set_ylabel(f"requests per {unit}")
        for i, (key, label) in enumerate(zip(series, labels, strict=True)):
            sx, sy = _steps(xs, [float(counts[key].get(b, 0)) for b in buckets], width)
            ax.step(sx, sy, where="post", color=colour(i), label=chart_label(label))
        _releases(ax, releases, label=True)
        ax.set_xlim(*_span(buckets, bucket_hours, releases))
        ax.set_ylim(bottom=0)
        other.set_ylim(bottom=0)
        _date_axis(ax)
        handles, names = ax.get_legend_handles_labels()
        if series:
            extra = other.get_legend_handles_labels()
            handles, names = handles + extra[0], names + extra[1]
        ax.legend(handles, names, loc="lower left", bbox_to_anchor=(0, 1.02),
                  ncols=min(4, len(series) + 1), borderaxespad=0)
        return _svg(fig, prefix)


def bucket_name(hours: int) -> str:
    """'day' or 'N h': the unit of a time bucket, for labels and captions."""
    return "day" if hours == 24 else f"{hours} h"


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


HEAT_LEVELS = 8  # shades of the hour-of-week heatmap


def hour_of_week(rows: Sequence[dict[str, Any]], series: Sequence[str], labels: Sequence[str],
                 prefix: str) -> str:
    """A heatmap: one row per cluster plus all other traffic, 168 UTC hours of the week; each
    row normalised to its own busiest hour."""
    import numpy as np

    with _style():
        keys = [*series, ""]
        names = [chart_label(x) for x in labels] + ["all other traffic"]
        grid = np.zeros((len(keys), 168))
        index = {k: i for i, k in enumerate(keys)}
        for r in rows:
            if r["series"] in index and r["hour_of_week"] is not None:
                grid[index[r["series"]], int(r["hour_of_week"])] = float(r["share"])
        peaks = grid.max(axis=1, keepdims=True)
        grid = np.divide(grid, peaks, out=np.zeros_like(grid), where=peaks > 0)
        fig = _figure(0.55 + 0.28 * len(keys))
        ax = fig.add_subplot()
        # Vector cells, not imshow: an embedded raster would be a data: URL, which the
        # renderer's fetcher refuses. Shares are drawn in HEAT_LEVELS shades, each shade one
        # compound path of runs of cells: a handful of SVG elements instead of one per cell
        # (the renderer pays per element).
        from matplotlib import colormaps
        from matplotlib.patches import PathPatch
        from matplotlib.path import Path as MplPath

        levels = np.ceil(grid * HEAT_LEVELS).astype(int)  # 0 = no traffic, 1..HEAT_LEVELS
        cmap = colormaps["Blues"]
        for level in range(1, HEAT_LEVELS + 1):
            verts: list[tuple[float, float]] = []
            for row in range(len(keys)):
                y = len(keys) - 1 - row
                hours = np.flatnonzero(levels[row] == level)
                # Runs of consecutive hours become one rectangle.
                for run in np.split(hours, np.flatnonzero(np.diff(hours) > 1) + 1):
                    if len(run):
                        x0, x1 = float(run[0]), float(run[-1] + 1)
                        verts += [(x0, y), (x1, y), (x1, y + 1), (x0, y + 1), (x0, y)]
            if verts:
                codes = [MplPath.MOVETO, *[MplPath.LINETO] * 3, MplPath.CLOSEPOLY] * (
                    len(verts) // 5)
                ax.add_patch(PathPatch(MplPath(verts, codes), linewidth=0, antialiased=False,
                                       facecolor=cmap(level / HEAT_LEVELS)))
        ax.set_ylim(0, len(keys))
        ax.set_yticks([len(keys) - i - 0.5 for i in range(len(keys))], names)
        ax.set_xticks([d * 24 + 12 for d in range(7)], DAYS)
        ax.set_xlim(0, 168)
        for d in range(1, 7):
            ax.axvline(d * 24, color="white", linewidth=1.2)
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel("hour of the week (UTC); darker = busier, each row scaled to its peak")
        return _svg(fig, prefix)


def stacked_shares(rows: Sequence[tuple[str, Sequence[tuple[str, float]]]],
                   categories: Sequence[str], prefix: str, xlabel: str) -> str:
    """Horizontal 100 % bars: one per row label, one segment per category."""
    with _style():
        fig = _figure(0.75 + 0.3 * len(rows))
        ax = fig.add_subplot()
        cat_colour = {c: (OTHER if c in ("other", "rest") else PALETTE[i % len(PALETTE)])
                      for i, c in enumerate(categories)}
        ys = list(range(len(rows)))[::-1]
        for y, (_label, shares) in zip(ys, rows, strict=True):
            left = 0.0
            values = dict(shares)
            for c in categories:
                width = values.get(c, 0.0)
                if width <= 0:
                    continue
                ax.barh(y, width, left=left, color=cat_colour[c], height=0.7,
                        edgecolor="white", linewidth=0.5)
                if width >= 0.07:
                    ax.text(left + width / 2, y, f"{width:.0%}", ha="center", va="center",
                            fontsize=6.5, color="white")
                left += width
        ax.set_yticks(ys, [chart_label(label) for label, _ in rows])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(_percent())
        ax.set_xlabel(xlabel)
        from matplotlib.patches import Patch

        ax.legend(handles=[Patch(color=cat_colour[c], label=chart_label(c, 28))
                           for c in categories],
                  loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(5, len(categories)))
        return _svg(fig, prefix)


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1, decimals=0)


def creation(rows: Sequence[dict[str, Any]], series: Sequence[str], labels: Sequence[str],
             window: tuple[datetime, datetime], prefix: str) -> str:
    """Account sign-ups per hour as spikes on a time line, one row per cluster plus all other
    accounts (each row scaled to its own busiest hour): a tall spike is a creation burst.
    One line per row, whatever the number of accounts."""
    with _style():
        keys = [*series, ""]
        names = [chart_label(x) for x in labels] + ["all other accounts"]
        fig = _figure(0.7 + 0.3 * len(keys))
        ax = fig.add_subplot()
        start, end = window
        by_series: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        for r in rows:
            if start <= r["created_at"] <= end:
                by_series[r["series"]].append((r["created_at"], int(r["accounts"])))
        ys = list(range(len(keys)))[::-1]
        for i, (y, key) in enumerate(zip(ys, keys, strict=True)):
            hours = by_series.get(key, [])
            if not hours:
                continue
            peak = max(n for _, n in hours)
            sx: list[float] = []
            sy: list[float] = []
            for when, n in hours:
                x = _x(when)
                # NaN lifts the pen: separate spikes, still one path.
                sx += [x, x, math.nan]
                sy += [y - 0.35, y - 0.35 + 0.75 * max(n / peak, 0.08), math.nan]
            ax.plot(sx, sy, linewidth=0.9, solid_joinstyle="miter",
                    color=OTHER if key == "" else colour(i))
        ax.set_yticks(ys, names)
        ax.set_ylim(-0.6, len(keys) - 0.4)
        ax.set_xlim(_x(start), _x(end))
        _date_axis(ax)
        ax.set_xlabel("account creation time (UTC, per hour)")
        return _svg(fig, prefix)


def pivot(rows: Sequence[dict[str, Any]], series: Sequence[str], labels: Sequence[str],
          releases: Sequence[tuple[str, datetime]], bucket_hours: int, prefix: str) -> str:
    """Share of each series' traffic on the newly released models, per bucket."""
    with _style():
        fig = _figure(2.4)
        ax = fig.add_subplot()
        by_series: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
        for r in rows:
            by_series[r["series"]].append((r["bucket"], float(r["share_new"])))
        keys = [*series, ""]
        names = [chart_label(x) for x in labels] + ["all other traffic"]
        width = bucket_hours / 24
        buckets = sorted({r["bucket"] for r in rows})
        for i, (key, name) in enumerate(zip(keys, names, strict=True)):
            points = by_series.get(key, [])
            if not points:
                continue
            sx, sy = _steps(_xs([p[0] for p in points]), [p[1] for p in points], width)
            ax.step(sx, sy, where="post", color=OTHER if key == "" else colour(i), label=name,
                    linewidth=2.0 if key == "" else 1.2)
        _releases(ax, releases, label=True)
        if buckets:
            ax.set_xlim(*_span(buckets, bucket_hours, releases))
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(_percent())
        ax.set_ylabel("share of requests on new models")
        _date_axis(ax)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncols=min(4, len(keys)),
                  borderaxespad=0)
        return _svg(fig, prefix)


def cluster_timeline(rows: Sequence[dict[str, Any]], created: Sequence[datetime],
                     releases: Sequence[tuple[str, datetime]], bucket_hours: int,
                     prefix: str) -> str:
    """One cluster's requests per bucket, stacked by model, with its account sign-ups as
    ticks below the axis."""
    with _style():
        fig = _figure(2.2)
        ax = fig.add_subplot()
        models = sorted({r["model"] for r in rows})
        buckets = sorted({r["bucket"] for r in rows})
        counts = {(r["bucket"], r["model"]): int(r["requests"]) for r in rows}
        grid, edges = _grid(buckets, bucket_hours) if buckets else ([], [])
        bottom = [0] * len(grid)
        for i, model in enumerate(models):
            values = [counts.get((b, model), 0) for b in grid]
            top_of = [a + b for a, b in zip(bottom, values, strict=True)]
            ax.stairs(top_of, edges, baseline=bottom, fill=True, linewidth=0,
                      color=PALETTE[(i + 2) % len(PALETTE)], label=chart_label(model, 20))
            bottom = top_of
        top = max(bottom, default=1) or 1
        if created:
            # One tick per hour with sign-ups (the query counts per hour): a handful of
            # marks, not one per account.
            ax.plot(_xs(created), [-0.06 * top] * len(created), linestyle="none", marker="|",
                    markersize=7, color="#333333", label="account created")
        _releases(ax, releases, label=False)
        if buckets:
            lo, hi = _span(buckets, bucket_hours, releases)
            # Sign-ups before the first request are the point of the ticks: keep them.
            ax.set_xlim(min([lo, *_xs(created)]) - 0.5, hi)
        ax.set_ylim(-0.12 * top, top * 1.15)
        ax.set_ylabel(f"requests per {bucket_name(bucket_hours)}")
        _date_axis(ax)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncols=min(5, len(models) + 1),
                  borderaxespad=0)
        return _svg(fig, prefix)


def graph(nodes: Sequence[tuple[str, str, float]], edges: Sequence[tuple[int, int, float, str]],
          total_members: int, prefix: str) -> str:
    """A cluster's links as an adjacency view: the accounts in a fixed order (owner, then id)
    as numbered rows and columns, a cell per linked pair coloured by its strongest link kind
    and as deep as its weight, and a box on the diagonal around each owner's accounts. Unlike
    a node-link drawing it stays legible at any size: every row keeps its own line."""
    from matplotlib.collections import PatchCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    from forensics.evidence import KIND_LABELS

    with _style():
        n = len(nodes)
        fig = _figure(min(6.2, 1.6 + 0.12 * max(n, 8)), width=WIDTH)
        ax = fig.add_subplot()
        if n == 0:
            ax.axis("off")
            _empty(ax, "no linked accounts")
            return _svg(fig, prefix)
        ax.set_aspect("equal")
        ax.set_xlim(0, n)
        ax.set_ylim(n, 0)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        # The diagonal in light grey: an account is not linked to itself.
        ax.add_collection(PatchCollection(
            [Rectangle((i, i), 1, 1) for i in range(n)], facecolor="#eeeeee",
            edgecolor="none", zorder=0))
        kinds_seen = sorted({kind for _, _, _, kind in edges})
        cells, colours = [], []
        for a, b, weight, kind in edges:
            depth = 0.3 + 0.7 * max(0.0, min(1.0, weight))
            for row, col in ((a, b), (b, a)):
                cells.append(Rectangle((col, row), 1, 1))
                colours.append((*_rgb(KIND_COLOURS.get(kind, "#777777")), depth))
        if cells:
            # One collection for all cells: a patch per artist costs seconds on dense clusters.
            ax.add_collection(PatchCollection(cells, facecolor=colours, edgecolor="white",
                                              linewidth=0.3, zorder=1))
        # Boxes around each owner's run of accounts on the diagonal.
        start = 0
        for i in range(1, n + 1):
            if i == n or nodes[i][1] != nodes[start][1]:
                if i - start > 1:
                    ax.add_patch(Rectangle((start, start), i - start, i - start, fill=False,
                                           edgecolor="#222222", linewidth=0.8, zorder=2))
                start = i
        size = 6.0 if n <= 24 else 5.0
        ax.set_yticks([i + 0.5 for i in range(n)])
        ax.set_yticklabels([f"{i + 1}  {chart_label(label, 26)}"
                            for i, (label, _, _) in enumerate(nodes)], fontsize=size)
        step = 1 if n <= 30 else 2
        ax.xaxis.tick_top()
        ax.set_xticks([i + 0.5 for i in range(0, n, step)])
        ax.set_xticklabels([str(i + 1) for i in range(0, n, step)], fontsize=size)
        ax.tick_params(length=0, pad=1.5)
        handles = [Line2D([0], [0], color=KIND_COLOURS.get(k, "#777777"), linewidth=5,
                          label=KIND_LABELS.get(k, k)) for k in kinds_seen]
        if handles:
            fig.legend(handles=handles, loc="outside lower center",
                       ncols=min(4, len(handles)), title="strongest link kind",
                       title_fontsize=6.5)
        return _svg(fig, prefix)


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[k:k + 2], 16) / 255 for k in (0, 2, 4))
    return r, g, b
