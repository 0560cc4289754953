"""Number, time and list formatting shared by the dossier's context builders."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta


def n(value: int | float | None) -> str:
    """An integer with thousands separators ('—' when unknown)."""
    return "—" if value is None else f"{int(value):,}"


def pct(share: float | None, digits: int = 0) -> str:
    """A share (0–1) as a percentage; '<1 %' instead of a misleading '0 %'."""
    if share is None:
        return "—"
    if 0 < share < 0.01 and digits == 0:
        return "<1 %"
    return f"{share * 100:.{digits}f} %"


def pct_of(k: int, n: int, digits: int = 1) -> str:
    """k of n as a percentage that reads 0 % or 100 % only when it is exactly that
    ('>99.9 %' for 2,999 of 3,000; '—' when n is 0)."""
    if n <= 0:
        return "—"
    shown = f"{k / n * 100:.{digits}f}"
    step = 10.0 ** -digits
    if k < n and float(shown) >= 100:
        return f">{100 - step:.{digits}f} %"
    if k > 0 and float(shown) <= 0:
        return f"<{step:.{digits}f} %"
    return f"{shown} %"


def pct_interval(low: float | None, high: float | None, digits: int = 1) -> str:
    """A confidence interval of a share as '94.2–98.8 %', rounded outwards (the low bound
    down, the high bound up) so that the printed interval is never narrower than the
    measured one."""
    if low is None or high is None:
        return "—"
    scale = 10.0 ** digits
    lo = math.floor(round(low * 100 * scale, 6)) / scale
    hi = math.ceil(round(high * 100 * scale, 6)) / scale
    return f"{lo:.{digits}f}–{min(hi, 100.0):.{digits}f} %"


def ts(value: datetime | None) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM UTC'."""
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def ts_short(value: datetime | None) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM' (the column header says UTC)."""
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M")


def day(value: datetime | None) -> str:
    """A date as 'YYYY-MM-DD'."""
    return "—" if value is None else value.strftime("%Y-%m-%d")


def duration(delta: timedelta) -> str:
    """A duration in the largest sensible unit ('3.5 hours', '12 days')."""
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(delta.total_seconds() / 60, 0):.0f} minutes"
    if hours < 48:
        return f"{hours:.1f} hours"
    return f"{hours / 24:.0f} days"


def size(num_bytes: int) -> str:
    """A file size in B, KiB, MiB or GiB."""
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def listing(items: Sequence[str], conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 account', '3 accounts' (thousands separated)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
