"""Time: the period, generation windows and hour-of-week activity profiles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from forensics.sample.base import DAY_US, HOUR_US, US, SampleError
from forensics.sample.text import Text, get_path

# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------


# A run excludes requests timed from 2100 on (forensics schema's value rules).
LAST_DAY = "2100-01-01"


def _parse_day(value: str, what: str) -> int:
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise SampleError(f"{what} must be a date like 2026-07-01, got {value!r}") from exc
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * US


@dataclass(frozen=True)
class Period:
    """The covered period in microseconds since the epoch, whole UTC days."""

    start_us: int
    end_us: int
    n_days: int
    release_fraction: float = 0.54
    release_hour: int = 16

    @staticmethod
    def parse(start: str, end: str) -> Period:
        s, e = _parse_day(start, "period_start"), _parse_day(end, "period_end")
        if e - s < 14 * DAY_US:
            raise SampleError("the period must cover at least 14 days")
        if e - s > 400 * DAY_US:
            raise SampleError("the period must cover at most 400 days")
        if e > _parse_day(LAST_DAY, "period_end"):
            raise SampleError(f"the period must end by {LAST_DAY}, got period_end {end!r} "
                              f"(a run excludes requests from 2100 on)")
        return Period(s, e, (e - s) // DAY_US)

    @property
    def release_us(self) -> int:
        day = int(self.n_days * self.release_fraction)
        return self.start_us + day * DAY_US + self.release_hour * HOUR_US


def hour_of_week(abs_hours: np.ndarray) -> np.ndarray:
    # 1970-01-01 was a Thursday: hour 0 of the epoch is hour 72 of a Monday-based week.
    return (abs_hours + 72) % 168


@dataclass(frozen=True)
class Window:
    """A slice of the period processed at once; events starting in it are generated."""

    start_us: int
    end_us: int
    day: int
    how: np.ndarray  # hour-of-week (UTC, Monday 00:00 = 0) of each hour in the window

    @property
    def hours(self) -> int:
        return len(self.how)


def _weekly_profile(text: Text, name: str, offset: int) -> np.ndarray:
    """Relative activity per UTC hour-of-week for people living at UTC+offset (day sum ~ 1)."""
    hourly = np.asarray(get_path(text.common, f"profiles.hourly.{name}"), dtype=np.float64)
    weekly = np.asarray(get_path(text.common, f"profiles.weekly.{name}"), dtype=np.float64)
    if hourly.shape != (24,) or weekly.shape != (7,):
        raise SampleError(f"sample text: profile {name!r} needs 24 hourly and 7 weekly values")
    local = (hourly[None, :] * weekly[:, None]).reshape(168)
    utc = local[(np.arange(168) + offset) % 168]
    return utc / utc.sum() * 7.0


class Profiles:
    """Hour-of-week weight vectors, one per (profile, UTC offset) group."""

    def __init__(self, text: Text) -> None:
        self._text = text
        self._index: dict[tuple[str, int], int] = {}
        self._rows: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None

    def group(self, name: str, offset: int) -> int:
        key = (name, int(offset))
        if key not in self._index:
            self._index[key] = len(self._rows)
            self._rows.append(_weekly_profile(self._text, name, int(offset)))
            self._matrix = None
        return self._index[key]

    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = np.vstack(self._rows)
        return self._matrix

    def window(self, groups: np.ndarray, win: Window) -> tuple[np.ndarray, np.ndarray]:
        """Per group: total weight in the window and the CDF over its hours."""
        w = self.matrix[:, win.how]
        total = w.sum(axis=1)
        cdf = np.cumsum(w, axis=1) / np.maximum(total[:, None], 1e-12)
        return total, cdf

    def events(
        self,
        rng: np.random.Generator,
        groups: np.ndarray,
        per_weight: np.ndarray | float,
        win: Window,
        active: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Each account's events in the window (sessions, batches): a Poisson count at
        `per_weight` per unit of its group's weight in the window (times `active`, where
        given), each started at a time drawn from its group's hours. Returns (the account
        index of each event, its start time), or None when the window has none."""
        wsum, cdf = self.window(groups, win)
        lam = per_weight * wsum[groups]
        if active is not None:
            lam = lam * active
        counts = rng.poisson(lam)
        if int(counts.sum()) == 0:
            return None
        acct = np.repeat(np.arange(len(groups)), counts)
        return acct, self.draw_times(rng, cdf, groups[acct], win)

    @staticmethod
    def draw_times(
        rng: np.random.Generator, cdf: np.ndarray, groups: np.ndarray, win: Window
    ) -> np.ndarray:
        """Event start times in the window following each event's group's hourly weights."""
        n = len(groups)
        hour = (rng.random(n)[:, None] > cdf[groups]).sum(axis=1)
        hour = np.minimum(hour, win.hours - 1)
        return win.start_us + hour * HOUR_US + (rng.random(n) * HOUR_US).astype(np.int64)


