"""Accounts and the world they live in; the population interface."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forensics.sample.arrays import OCTETS, choice, hex_ids, ipv4, mix64, stream
from forensics.sample.base import DAY_US, HOUR_US, US, SampleError
from forensics.sample.clock import Period, Profiles, Window
from forensics.sample.rows import Rows
from forensics.sample.text import Context, Filler, Text, get_path, slot_table, strings

# --------------------------------------------------------------------------------------------
# Accounts and the world they live in
# --------------------------------------------------------------------------------------------


@dataclass
class AccountBlock:
    """Accounts of one population as plain columns (one list entry per account)."""

    label: str
    group: list[str]
    created_us: list[int]
    org: list[str | None]
    email_domain: list[str]
    payment: list[str | None]  # None: no card on file (free tier, credits)
    country: list[str]
    tier: list[str]
    user_agent: list[str]
    channel: list[str]
    logs_response: list[bool]
    ips: list[list[str]]  # the account's own addresses; ips[i][0] is its signup address
    n_keys: list[int]

    def __len__(self) -> int:
        return len(self.group)


@dataclass
class _Flat:
    """A ragged per-account table (IPs, API keys) flattened for vectorised lookups."""

    values: pa.Array
    offsets: np.ndarray
    counts: np.ndarray

    def pick(
        self, rng: np.random.Generator, acct: np.ndarray, skew: float | np.ndarray = 1.0
    ) -> pa.Array:
        """One entry per row for the row's account; skew > 1 favours the first entries (one
        skew for all rows, or one per row)."""
        u = rng.random(len(acct))
        if np.any(np.asarray(skew) != 1.0):
            u = u**skew
        k = (u * self.counts[acct]).astype(np.int64)
        return self.values.take(self.offsets[acct] + k)


class World:
    """Shared state: the period, the models, every account, and id and stream factories."""

    def __init__(self, text: Text, *, seed: int, scale: float, period: Period) -> None:
        self.text = text
        self.seed = seed
        self.scale = scale
        self.period = period
        self.profiles = Profiles(text)
        # Pools grow gently with the scale so large samples repeat text less.
        self.pool_factor = min(2.0, max(0.35, math.sqrt(scale)))
        models = get_path(text.common, "models")
        existing = get_path(models, "existing")
        self.models: list[str] = [str(m["name"]) for m in existing]
        self.model_released_us: list[int] = [
            int(datetime.fromisoformat(str(m["released_at"]).replace("Z", "+00:00")).timestamp())
            * US
            for m in existing
        ]
        # Everyday traffic uses every existing model from the period's first day on, so the
        # period may not start before the last of them was released.
        last = max(range(len(existing)), key=lambda i: self.model_released_us[i])
        if period.start_us < self.model_released_us[last]:
            released = datetime.fromtimestamp(self.model_released_us[last] / US, UTC)
            start = datetime.fromtimestamp(period.start_us / US, UTC)
            raise SampleError(
                f"the period starts on {start:%Y-%m-%d}, before {self.models[last]} was "
                f"released ({released:%Y-%m-%d %H:%M} UTC), which the sample's everyday "
                f"traffic uses from the period's first day (expected a period starting after "
                f"{released:%Y-%m-%d})")
        # Populations refer to models by role; everyday traffic uses the declared shares.
        roles = {str(m.get("role")): i for i, m in enumerate(existing) if m.get("role")}
        missing = {"flagship", "small", "previous"} - set(roles)
        if missing:
            raise SampleError(f"sample text: models.existing lacks roles {sorted(missing)}")
        self.flagship, self.small, self.previous = (
            roles["flagship"],
            roles["small"],
            roles["previous"],
        )
        self.model_shares = np.array([float(m.get("share", 0)) for m in existing])
        self.new_model = str(get_path(models, "new"))
        self.models.append(self.new_model)
        fraction = float(get_path(models, "new_release_fraction"))
        hour = int(get_path(models, "new_release_hour"))
        self.period = period = Period(
            period.start_us, period.end_us, period.n_days, fraction, hour
        )
        self.model_released_us.append(period.release_us)
        self.new_model_idx = len(self.models) - 1
        self.blocks: list[AccountBlock] = []
        self.n_accounts = 0
        self._counters: dict[str, int] = {}
        self.indicators: list[tuple[str, str, str, str]] = []
        self.system_texts: list[str] = []
        self._system_index: dict[str, int] = {}
        self._frozen = False
        self.context: Context | None = None  # pasted context for long prompts, when asked

    # -- randomness and ids ------------------------------------------------------------------
    def rng(self, *keys: str | int) -> np.random.Generator:
        return stream(self.seed, *keys)

    def ids(self, kind: str, prefix: str, n: int) -> list[str]:
        """n fresh unique ids of one kind: a seeded bijection of a per-kind counter."""
        start = self._counters.get(kind, 0)
        self._counters[kind] = start + n
        salt = mix64(np.array([zlib.crc32(kind.encode()) ^ (self.seed << 32)], dtype=np.uint64))
        counter = np.arange(start, start + n, dtype=np.uint64)
        return hex_ids(prefix, mix64(counter ^ salt[0])).to_pylist()

    def filler(self, *keys: str | int, slots: Mapping[str, Any] | None = None) -> Filler:
        table = slot_table(slots or {}, self.text.common.get("slots", {}))
        return Filler(self.rng("text", *keys), table)

    def text_of(self, section: Mapping[str, Any], name: str) -> tuple[Mapping[str, Any], Filler]:
        """A population's part of a sample-text file (`section`, such as self.text.campaigns)
        and a filler with its slots (under its `slots` key, if any) and the common ones."""
        doc = get_path(section, name)
        return doc, self.filler(name, slots=doc.get("slots", {}))

    @cached_property
    def consumer_domains(self) -> list[str]:
        """Webmail domains people sign up with (common.yaml `email_domains.consumer`)."""
        return strings(get_path(self.text.common, "email_domains.consumer"), "consumer")

    def system_id(self, text: str) -> int:
        """Register a system prompt; rows carry its number, the text is looked up at the end."""
        if text not in self._system_index:
            self._system_index[text] = len(self.system_texts)
            self.system_texts.append(text)
        return self._system_index[text]

    # -- accounts ----------------------------------------------------------------------------
    def add(self, block: AccountBlock) -> int:
        """Register a population's accounts; returns the global index of its first account."""
        if self._frozen:
            raise RuntimeError("accounts added after freeze()")
        base = self.n_accounts
        self.blocks.append(block)
        self.n_accounts += len(block)
        return base

    def freeze(self) -> None:
        """Build the per-account lookup arrays used when assembling request rows."""
        self._frozen = True
        self.system_arr = pa.array(self.system_texts, pa.string())
        blocks = self.blocks
        self.account_ids = self.ids("account", "acct_", self.n_accounts)
        self.account_id_arr = pa.array(self.account_ids, pa.string())
        self.org_arr = pa.array([o for b in blocks for o in b.org], pa.string())
        self.ua_arr = pa.array([u for b in blocks for u in b.user_agent], pa.string())
        self.channel_arr = pa.array([c for b in blocks for c in b.channel], pa.string())
        self.logs_response = np.array([x for b in blocks for x in b.logs_response], dtype=np.bool_)
        group_names = sorted({g for b in blocks for g in b.group})
        self.group_names = group_names
        gi = {g: i for i, g in enumerate(group_names)}
        self.group_idx = np.array([gi[g] for b in blocks for g in b.group], dtype=np.int64)
        ips = [ip for b in blocks for ip in b.ips]
        self.ip_table = _Flat(
            pa.array([ip for lst in ips for ip in lst], pa.string()),
            np.cumsum([0] + [len(x) for x in ips[:-1]]).astype(np.int64),
            np.array([len(x) for x in ips], dtype=np.int64),
        )
        n_keys = np.array([k for b in blocks for k in b.n_keys], dtype=np.int64)
        self.key_table = _Flat(
            pa.array(self.ids("api_key", "key_", int(n_keys.sum())), pa.string()),
            (np.cumsum(n_keys) - n_keys).astype(np.int64),
            n_keys,
        )

    def labels(self) -> list[str]:
        return [b.label for b in self.blocks for _ in range(len(b))]

    def groups(self) -> list[str]:
        return [g for b in self.blocks for g in b.group]

    # -- helpers shared by populations -------------------------------------------------------
    def pick_ips(
        self, rng: np.random.Generator, acct: np.ndarray, skew: float | np.ndarray = 1.0
    ) -> pa.Array:
        return self.ip_table.pick(rng, acct, skew)

    def pick_keys(self, rng: np.random.Generator, acct: np.ndarray) -> pa.Array:
        return self.key_table.pick(rng, acct, 1.6)

    @cached_property
    def proxy_subnets(self) -> list[str]:
        """/24s of a commercial residential-proxy network. Its exits are real home and mobile
        lines (people paid to share their connection), so some of its ranges are the mobile
        carriers' and ordinary customers live in the others; campaigns rent from it."""
        n = max(12, round(40 * math.sqrt(self.scale)))
        carriers = self.carrier_subnets[: max(2, len(self.carrier_subnets) // 3)]
        return carriers + random_subnets(self.rng("proxies"), self, "residential",
                                         n - len(carriers))

    def proxy_ips(self, rng: np.random.Generator, n: int) -> pa.Array:
        """n exits of the residential-proxy network, drawn at random."""
        subnets = pa.array(self.proxy_subnets, pa.string())
        which = subnets.take(rng.integers(0, len(subnets), n))
        return pc.binary_join_element_wise(which, OCTETS.take(rng.integers(2, 255, n)), ".")

    @cached_property
    def ordinary_user_agents(self) -> tuple[list[str], np.ndarray]:
        """Every ordinary client string with its weight (common.yaml `user_agents.ordinary`,
        version spreads expanded: a release's share grows with its rank, newest most used)."""
        values: list[str] = []
        weights: list[float] = []
        for entry in get_path(self.text.common, "user_agents.ordinary"):
            value, weight = str(entry["value"]), float(entry["weight"])
            versions = [str(v) for v in entry.get("versions", [])]
            if not versions:
                values.append(value)
                weights.append(weight)
                continue
            ranks = np.arange(1, len(versions) + 1, dtype=np.float64)
            values += [value.replace("{v}", v) for v in versions]
            weights += list(weight * ranks / ranks.sum())
        return values, np.array(weights)

    def draw_user_agents(self, rng: np.random.Generator, n: int) -> list[str]:
        """n ordinary client strings drawn by their weights."""
        values, weights = self.ordinary_user_agents
        return [values[i] for i in choice(rng, weights, n)]

    def utc_offsets(self, rng: np.random.Generator, country_idx: np.ndarray) -> list[int]:
        """A UTC offset per account from its country's list (common.yaml `countries`)."""
        countries = get_path(self.text.common, "countries")
        u = rng.random(len(country_idx))
        return [
            int(countries[c]["offsets"][int(x * len(countries[c]["offsets"]))])
            for c, x in zip(country_idx, u, strict=True)
        ]

    @cached_property
    def carrier_subnets(self) -> list[str]:
        """/24s of mobile carriers' shared NAT, through which unrelated customers connect."""
        n = max(4, round(8 * math.sqrt(self.scale)))
        return random_subnets(self.rng("carriers"), self, "residential", n)

    @cached_property
    def relay_subnets(self) -> list[str]:
        """/24s of a privacy relay's egress, shared by all of its users."""
        n = max(6, round(20 * math.sqrt(self.scale)))
        return random_subnets(self.rng("relays"), self, "datacenter", n)

    def ordinary_models(
        self, rng: np.random.Generator, ts: np.ndarray, adoption: float = 0.35
    ) -> np.ndarray:
        """Model per request for everyday traffic: older models, the new one adopted gradually."""
        n = len(ts)
        model = choice(rng, self.model_shares, n).astype(np.int16)
        days_since = (ts - self.period.release_us) / DAY_US
        share = np.where(days_since > 0, adoption * (1 - np.exp(-days_since / 12.0)), 0.0)
        model[rng.random(n) < share] = self.new_model_idx
        return model

    def residential_ips(self, rng: np.random.Generator, n: int) -> pa.Array:
        octets = get_path(self.text.common, "ip_first_octets.residential")
        first = np.asarray(octets, dtype=np.int64)
        return ipv4(
            first[rng.integers(0, len(first), n)],
            rng.integers(0, 256, n),
            rng.integers(0, 256, n),
            rng.integers(2, 255, n),
        )


def pool_size(world: World, base: int) -> int:
    """Variants to draw for a text pool: more at larger scales, so big samples repeat less."""
    return max(8, int(base * world.pool_factor))


def random_subnets(rng: np.random.Generator, world: World, kind: str, n: int) -> list[str]:
    """n distinct random /24 prefixes ("a.b.c") of residential or datacenter space."""
    first = np.asarray(get_path(world.text.common, f"ip_first_octets.{kind}"), dtype=np.int64)
    out: dict[str, None] = {}
    while len(out) < n:
        m = n - len(out) + 8
        a = first[rng.integers(0, len(first), m)]
        b, c = rng.integers(0, 256, m), rng.integers(0, 256, m)
        for prefix in pc.binary_join_element_wise(
            OCTETS.take(a), OCTETS.take(b), OCTETS.take(c), "."
        ).to_pylist():
            if len(out) < n:
                out[prefix] = None
    return list(out)


def random_hosts(rng: np.random.Generator, prefix: str, n: int) -> list[str]:
    hosts = rng.choice(np.arange(2, 255), size=min(n, 253), replace=False)
    return [f"{prefix}.{h}" for h in hosts]


def company_domain(filler: Filler, world: World) -> str:
    parts = get_path(world.text.common, "name_parts")
    tld = filler.pick(strings(get_path(world.text.common, "email_domains.company_tlds"), "tlds"))
    return f"{filler.pick(parts['first'])}{filler.pick(parts['second'])}.{tld}"


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def days_before(
    world: World, rng: np.random.Generator, lo: float, hi: float, n: int
) -> list[int]:
    """Creation times lo..hi days before the period start, whole seconds."""
    days = rng.uniform(lo, hi, n)
    return [int(world.period.start_us - d * DAY_US) // US * US for d in days]


def home_addresses(
    rng: np.random.Generator,
    world: World,
    n: int,
    *,
    shared_networks: bool = True,
) -> list[list[str]]:
    """Each person's own addresses: a home line, often a second network (work, phone).

    With `shared_networks`, a tenth browse through a mobile carrier's shared NAT ranges, which
    unrelated customers share; a few use a privacy relay whose egress address changes with
    nearly every connection, from ranges that the relay's other users share; a few have a home
    line that a residential-proxy network also sells as an exit. Others (a tenth, or a fifth
    without the shared networks) travel or use a VPN and show up from many networks.
    """
    carrier: Sequence[str] = world.carrier_subnets if shared_networks else ()
    relay: Sequence[str] = world.relay_subnets if shared_networks else ()
    proxy: Sequence[str] = world.proxy_subnets if shared_networks else ()
    subnet = random_subnets(rng, world, "residential", n * 2)
    n_ips = choice(rng, [60, 30, 10], n) + 1
    host = rng.integers(2, 255, (n, 3))
    kind = rng.random(n)
    ips: list[list[str]] = []
    for i in range(n):
        own = [f"{subnet[2 * i]}.{host[i, 0]}"]
        if n_ips[i] >= 2:
            own.append(f"{subnet[2 * i + 1]}.{host[i, 1]}")
        if n_ips[i] == 3 and host[i, 2] != host[i, 0]:
            own.append(f"{subnet[2 * i]}.{host[i, 2]}")
        if carrier and kind[i] < 0.10:
            for c in rng.choice(len(carrier), size=int(rng.integers(1, 4)), replace=False):
                own.append(f"{carrier[c]}.{rng.integers(2, 255)}")
        elif relay and kind[i] >= 0.96:
            for _ in range(int(rng.integers(40, 200))):
                own.append(f"{relay[int(rng.integers(0, len(relay)))]}.{rng.integers(2, 255)}")
        elif proxy and kind[i] >= 0.93:
            # A home line that is also a residential-proxy exit (proxyware on a device).
            own[0] = f"{proxy[int(rng.integers(0, len(proxy)))]}.{host[i, 0]}"
        elif kind[i] < 0.22:
            many = int(np.clip(12 * math.exp(0.9 * rng.standard_normal()), 3, 150))
            for extra in random_subnets(rng, world, "residential", many):
                own.append(f"{extra}.{rng.integers(2, 255)}")
        ips.append(own)
    return ips


# --------------------------------------------------------------------------------------------
# Populations
# --------------------------------------------------------------------------------------------


class Population:
    """One population's traffic, produced window by window in time order."""

    name: str = ""

    def rows(self, win: Window) -> Rows | None:
        raise NotImplementedError


class RhythmicPopulation(Population):
    """A population whose accounts start events (sessions, batches) on their group's weekly
    rhythm: `events_per_day` per account at an average hour of its `group`'s profile."""

    world: World
    base: int  # global index of the first account
    group: np.ndarray  # Profiles group per account
    events_per_day: float

    def rows(self, win: Window) -> Rows | None:
        rng = self.world.rng(self.name, win.start_us // HOUR_US)
        drawn = self.world.profiles.events(rng, self.group, self.events_per_day, win)
        if drawn is None:
            return None
        acct, start = drawn
        return self.event_rows(rng, acct, start)

    def event_rows(self, rng: np.random.Generator, acct: np.ndarray, start: np.ndarray) -> Rows:
        """The rows of the window's events: `acct`, each one's account (from 0 for the first
        of the population), and `start`, its start time."""
        raise NotImplementedError


def events_per_day(world: World, volume: float, rows_per_event: float, n: int) -> float:
    """Events per account and day, at an average hour, that send `volume` requests at scale 1
    (times the scale) over the period from n accounts, `rows_per_event` requests each."""
    return volume * world.scale / rows_per_event / world.period.n_days / n

