"""Number, time and list formatting shared by the dossier's context builders."""

from __future__ import annotations

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
