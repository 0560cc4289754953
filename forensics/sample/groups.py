"""Ordinary groups that legitimately share infrastructure or timing.

Most false positives of coordinated-behaviour detection come from ordinary groups, not from
look-alike businesses. Each population here is modelled on how such a group
behaves, not on what a heuristic looks for: a company team shares a card, an office network
and onboarding waves; a class signs up in one lecture from one campus network and pastes the
same assignments; a hackathon signs up in one afternoon from one venue and works through the
night; a household shares a card and a home line; one organisation's nightly jobs start in the
same minute. Their people otherwise use the API like everybody else (`everyday.everyday_rows`).
Every account here is labelled ordinary, with its group's name as the population.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pyarrow as pa

from forensics.sample.arrays import (
    Sessions,
    choice,
    outputs,
    rand_u64,
)
from forensics.sample.base import DAY_US, HOUR_US, US
from forensics.sample.clock import Window
from forensics.sample.everyday import Everyday, everyday_behaviour, everyday_rows
from forensics.sample.ordinary_text import OrdinaryText
from forensics.sample.rows import Rows, make_rows
from forensics.sample.text import Pool, get_path, strings
from forensics.sample.world import (
    AccountBlock,
    Population,
    World,
    company_domain,
    home_addresses,
    pool_size,
    random_hosts,
    random_subnets,
    slugify,
)

# Groups at scale 1 (scale ≈ 100,000 requests). Members' activity is that of ordinary people:
# sessions per day at an average hour of their weekly rhythm, lognormal around the median.
TEAMS = 30  # company teams; members per team lognormal around 8, 3 to 60
CLASSES = 1.0  # university classes of 20 to 60 students
HACKATHONS = 0.5  # hackathons of 30 to 80 participants
HOUSEHOLDS = 25  # two accounts on one card and one home line
FRIENDS = 8  # three to six friends, one of whom pays for all
NIGHTLY_ORGS = 2  # organisations with three to eight accounts running nightly jobs
SESSIONS_PER_DAY = 0.12
VENUE_HOSTS = 2  # a venue's Wi-Fi leaves through a couple of NAT addresses


def _count(world: World, per_scale: float, floor: int) -> int:
    return max(floor, round(per_scale * world.scale))


def _country(world: World, rng: np.random.Generator) -> tuple[int, str, int]:
    """A country (index, code, UTC offset) drawn by the ordinary customers' weights."""
    countries = get_path(world.text.common, "countries")
    c = int(choice(rng, [float(x["weight"]) for x in countries], 1)[0])
    offset = world.utc_offsets(rng, np.array([c]))[0]
    return c, str(countries[c]["code"]), offset


def _language(world: World, text: OrdinaryText, c: int) -> int:
    countries = get_path(world.text.common, "countries")
    return text.languages.index(str(countries[c]["language"]))


def _local_time(world: World, day: float, hour: float, offset: int) -> int:
    """Microseconds of `hour` local time (UTC+offset) on day `day` of the period."""
    return int(world.period.start_us + (day * 24 + hour - offset) * HOUR_US)


def _either(rng: np.random.Generator, p: float, first: str, second: str) -> str:
    """`first` with probability p, else `second` (both already drawn, as their callers need)."""
    return first if rng.random() < p else second


def _rates(rng: np.random.Generator, n: int, median: float, sigma: float = 0.9) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


class _Members:
    """Columns of a group population's accounts, appended group by group."""

    def __init__(self) -> None:
        self.created: list[int] = []
        self.org: list[str | None] = []
        self.domain: list[str] = []
        self.payment: list[str | None] = []
        self.country: list[str] = []
        self.tier: list[str] = []
        self.ua: list[str] = []
        self.channel: list[str] = []
        self.ips: list[list[str]] = []
        self.keys: list[int] = []
        self.lang: list[int] = []
        self.profile: list[int] = []
        self.start_day: list[int] = []
        self.end_day: list[int] = []
        self.shared_cat: list[int] = []

    def __len__(self) -> int:
        return len(self.created)

    def add(
        self,
        *,
        created: int,
        org: str | None,
        payment: str | None,
        domain: str,
        country: str,
        tier: str,
        ua: str,
        channel: str,
        ips: list[str],
        keys: int,
        lang: int | None = None,
        profile: int | None = None,
        start_day: int | None = None,
        end_day: int | None = None,
        shared_cat: int | None = None,
    ) -> None:
        """One account. The caller's keyword arguments are evaluated in the order written,
        which is the order of the random draws: keep it, or the sample's bytes change. The
        everyday fields are left out for accounts that do not use `everyday_rows`."""
        self.created.append(created)
        self.org.append(org)
        self.payment.append(payment)
        self.domain.append(domain)
        self.country.append(country)
        self.tier.append(tier)
        self.ua.append(ua)
        self.channel.append(channel)
        self.ips.append(ips)
        self.keys.append(keys)
        for column, value in ((self.lang, lang), (self.profile, profile),
                              (self.start_day, start_day), (self.end_day, end_day),
                              (self.shared_cat, shared_cat)):
            if value is not None:
                column.append(value)

    def block(self, name: str, rng: np.random.Generator) -> AccountBlock:
        n = len(self)
        return AccountBlock(
            label="ordinary",
            group=[name] * n,
            created_us=[c // US * US for c in self.created],
            org=self.org,
            email_domain=self.domain,
            payment=self.payment,
            country=self.country,
            tier=self.tier,
            user_agent=self.ua,
            channel=self.channel,
            logs_response=list(rng.random(n) < 0.38),
            ips=self.ips,
            n_keys=self.keys,
        )


def _first_day(world: World, created_us: int) -> int:
    return int(min(max(0, (created_us - world.period.start_us) // DAY_US), world.period.n_days - 1))


class CompanyTeams(Population):
    """Company teams: a company card, an office network, onboarding waves, some members
    without the org id. Ordinary, varied prompts on a working-hours rhythm."""

    name = "company_team"

    def __init__(self, world: World, text: OrdinaryText) -> None:
        self.world, self.text = world, text
        doc = get_path(world.text.groups, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc)
        tools = filler.variants(strings(doc["internal_tools"], "internal_tools"), 3)
        p = world.period
        m = _Members()
        system: list[int] = []
        for _ in range(_count(world, TEAMS, 4)):
            size = int(np.clip(round(8 * math.exp(0.8 * rng.standard_normal())), 3, 60))
            c, code, offset = _country(world, rng)
            lang = _language(world, text, c)
            org = world.ids("org", "org_", 1)[0]
            card = world.ids("card", "pf_", 1)[0]
            domain = company_domain(filler, world)
            # The office's NAT: a handful of addresses in one /24 that every member shares.
            office = random_hosts(rng, random_subnets(rng, world, "residential", 1)[0], 3)
            standard_ua = world.draw_user_agents(rng, 1)[0]
            channel = "cloud_bedrock" if rng.random() < 0.12 else "api"
            tool = world.system_id(filler.pick(tools)) if rng.random() < 0.3 else -1
            # Onboarding waves: the team signs up together on a few mornings, some of them
            # during the quarter.
            waves = [rng.uniform(-700, p.n_days - 10) for _ in range(int(rng.integers(1, 4)))]
            homes = home_addresses(rng, world, size)
            for k in range(size):
                wave = waves[int(rng.integers(0, len(waves)))]
                created = _local_time(world, math.floor(wave), rng.uniform(9.5, 12.5), offset)
                m.add(
                    created=created,
                    org=org if rng.random() < 0.8 else None,
                    payment=card if rng.random() < 0.75 else world.ids("card", "pf_", 1)[0],
                    domain=domain if rng.random() < 0.85 else filler.pick(world.consumer_domains),
                    country=code,
                    tier=["build", "scale", "enterprise"][int(rng.integers(0, 3))],
                    ua=_either(rng, 0.6, standard_ua, world.draw_user_agents(rng, 1)[0]),
                    channel=channel,
                    # Signed up at the office; works there and from home.
                    ips=[office[k % len(office)], *office, *homes[k]],
                    keys=int(rng.integers(1, 4)),
                    lang=lang,
                    profile=world.profiles.group("office", offset),
                    start_day=_first_day(world, created),
                    end_day=p.n_days if rng.random() < 0.9 else int(rng.integers(5, p.n_days)),
                )
                system.append(tool if rng.random() < 0.7 else -1)
        self.everyday = _everyday(world, text, rng, m, self.name, ip_skew=1.6)
        # Members who use the team's internal tool send everything through it.
        self.everyday.system_idx = np.where(
            np.array(system) >= 0, np.array(system), self.everyday.system_idx
        )

    def rows(self, win: Window) -> Rows | None:
        rng = self.world.rng(self.name, win.start_us // HOUR_US)
        return everyday_rows(self.world, self.text, self.everyday, rng, win)


def _everyday(
    world: World,
    text: OrdinaryText,
    rng: np.random.Generator,
    m: _Members,
    name: str,
    *,
    rate: float = SESSIONS_PER_DAY,
    ip_skew: float = 2.5,
    topic_weights: np.ndarray | None = None,
) -> Everyday:
    base = world.add(m.block(name, rng))
    e = everyday_behaviour(
        world,
        text,
        rng,
        base=base,
        lang=np.array(m.lang, dtype=np.int64),
        profile=np.array(m.profile, dtype=np.int64),
        start_day=np.array(m.start_day, dtype=np.int64),
        end_day=np.array(m.end_day, dtype=np.int64),
        sessions_per_day=_rates(rng, len(m), rate),
        topic_weights=topic_weights,
    )
    e.ip_skew = np.where(e.ip_skew == 1.0, 1.0, ip_skew)
    return e


class UniversityClasses(Population):
    """A class signs up within a few hours of its first lecture from one campus network,
    pastes the same assignments, works evenings before deadlines, and drifts away."""

    name = "university_class"

    def __init__(self, world: World, text: OrdinaryText) -> None:
        self.world, self.text = world, text
        doc = get_path(world.text.groups, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name)
        courses = list(doc["courses"])
        unis = strings(doc["universities"], "universities")
        p = world.period
        m = _Members()
        assignments: list[list[str]] = []
        for k in range(_count(world, CLASSES, 1)):
            course = courses[k % len(courses)]
            assignments.append(
                filler.variants(strings(course["assignments"], "assignments"), 6)
            )
            size = int(rng.integers(20, 61))
            c, code, offset = _country(world, rng)
            lang = _language(world, text, c)
            uni = unis[int(rng.integers(0, len(unis)))]
            domain = "student." + slugify(uni).replace("-", "")[:18] + ".edu"
            campus = random_hosts(rng, random_subnets(rng, world, "residential", 1)[0], 4)
            lecture = int(rng.integers(0, max(1, p.n_days - 30)))
            homes = home_addresses(rng, world, size)
            for i in range(size):
                created = _local_time(world, lecture, rng.uniform(10.0, 13.0), offset)
                m.add(
                    created=created,
                    org=None,
                    # Free tier or education credits for most; some pay with their own card.
                    payment=world.ids("card", "pf_", 1)[0] if rng.random() < 0.35 else None,
                    domain=domain if rng.random() < 0.7 else filler.pick(world.consumer_domains),
                    country=code,
                    tier="education" if rng.random() < 0.6 else "free",
                    ua=world.draw_user_agents(rng, 1)[0],
                    channel="api",
                    ips=[campus[i % len(campus)], *campus, *homes[i]],
                    keys=1,
                    lang=lang,
                    profile=world.profiles.group("student", offset),
                    start_day=lecture,
                    end_day=min(p.n_days, lecture + int(rng.integers(14, 60))),
                    shared_cat=k,
                )
        weights = np.array(text.topic_weights, dtype=np.float64)
        if "study" in text.topics:
            weights[text.topics.index("study")] *= 6
        self.everyday = _everyday(
            world, text, rng, m, self.name, rate=0.35, topic_weights=weights
        )
        self.everyday.shared = Pool.of(assignments)
        self.everyday.shared_cat = np.array(m.shared_cat, dtype=np.int64)
        self.everyday.p_shared = rng.uniform(0.2, 0.6, len(m))

    def rows(self, win: Window) -> Rows | None:
        rng = self.world.rng(self.name, win.start_us // HOUR_US)
        return everyday_rows(self.world, self.text, self.everyday, rng, win)


class Hackathons(Population):
    """Dozens of sign-ups in one afternoon from one venue network, a day or two of heavy use
    from the venue (everybody at once), then most go quiet and a few carry on from home."""

    name = "hackathon"

    def __init__(self, world: World, text: OrdinaryText) -> None:
        self.world, self.text = world, text
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name)
        p = world.period
        m = _Members()
        venue_of: list[int] = []
        venues: list[str] = []  # VENUE_HOSTS addresses per hackathon
        event_end: list[int] = []
        offsets: list[int] = []
        for k in range(_count(world, HACKATHONS, 1)):
            size = int(rng.integers(30, 81))
            c, code, offset = _country(world, rng)
            lang = _language(world, text, c)
            venue = random_hosts(rng, random_subnets(rng, world, "residential", 1)[0], VENUE_HOSTS)
            venues += venue
            day = int(rng.integers(2, p.n_days - 4))
            days = int(rng.integers(1, 3))
            homes = home_addresses(rng, world, size)
            for i in range(size):
                created = _local_time(world, day, rng.uniform(13.0, 17.0), offset)
                m.add(
                    created=created,
                    org=None,
                    payment=world.ids("card", "pf_", 1)[0] if rng.random() < 0.5 else None,
                    domain=(filler.pick(world.consumer_domains) if rng.random() < 0.75
                            else company_domain(filler, world)),
                    country=code,
                    tier="free" if rng.random() < 0.5 else "build",
                    ua=world.draw_user_agents(rng, 1)[0],
                    channel="api",
                    ips=[venue[i % len(venue)], *homes[i]],
                    keys=int(rng.integers(1, 3)),
                    lang=lang,
                    # Hackers work around the clock: a flat rhythm during the event.
                    profile=world.profiles.group("flat", offset),
                    start_day=day,
                    end_day=day + days,
                )
                venue_of.append(k)
                event_end.append(day + days)
                offsets.append(offset)
        self.venue_of = np.array(venue_of, dtype=np.int64)
        self.venues = pa.array(venues, pa.string())
        weights = np.array(text.topic_weights, dtype=np.float64)
        if "coding" in text.topics:
            weights[text.topics.index("coding")] *= 5
        self.event = _everyday(world, text, rng, m, self.name, rate=5.0, topic_weights=weights)
        self.event.tools = np.where(rng.random(len(m)) < 0.4, rng.integers(2, 10, len(m)), 0)
        # After the event: a third carry on at an everyday pace, from home.
        after = rng.random(len(m)) < 0.35
        self.after = replace(self.event)
        self.after.start_day = np.array(event_end, dtype=np.int64)
        self.after.end_day = np.where(after, p.n_days, self.after.start_day)
        self.after.sessions_per_day = _rates(rng, len(m), SESSIONS_PER_DAY)
        self.after.profile = np.array(
            [world.profiles.group("consumer", o) for o in offsets], dtype=np.int64
        )

    def rows(self, win: Window) -> Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        parts = []
        event = everyday_rows(world, self.text, self.event, rng, win)
        if event is not None:
            # During the event every request comes through the venue's network.
            venue = self.venue_of[event.acct - self.event.base]
            host = venue * VENUE_HOSTS + rng.integers(0, VENUE_HOSTS, len(venue))
            event.ip = pa.chunked_array([self.venues.take(host)])
            parts.append(event)
        later = everyday_rows(world, self.text, self.after, rng, win)
        if later is not None:
            parts.append(later)
        if not parts:
            return None
        return Rows.concat(parts)


class Households(Population):
    """Households (two accounts, one card, one home line) and friends (three to six accounts,
    one card: one of them pays for everybody)."""

    name = "household"

    def __init__(self, world: World, text: OrdinaryText) -> None:
        self.world, self.text = world, text
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name)
        p = world.period
        m = _Members()
        kinds = ["household"] * _count(world, HOUSEHOLDS, 3) + ["friends"] * _count(
            world, FRIENDS, 1
        )
        for kind in kinds:
            size = 2 if kind == "household" else int(rng.integers(3, 7))
            c, code, offset = _country(world, rng)
            lang = _language(world, text, c)
            card = world.ids("card", "pf_", 1)[0]
            homes = home_addresses(rng, world, size)
            if kind == "household":
                homes = [homes[0], [homes[0][0], *homes[1]]]
            for i in range(size):
                # Up to 40 days into the period (a month's sign-ups stay inside it).
                created = int(p.start_us - rng.uniform(-min(40, p.n_days - 1), 800) * DAY_US)
                m.add(
                    created=created,
                    org=None,
                    payment=card,
                    domain=filler.pick(world.consumer_domains),
                    country=code,
                    tier="build" if rng.random() < 0.6 else "free",
                    ua=world.draw_user_agents(rng, 1)[0],
                    channel="api",
                    ips=homes[i],
                    keys=1,
                    lang=lang,
                    profile=world.profiles.group("consumer", offset),
                    start_day=_first_day(world, created),
                    end_day=p.n_days,
                )
        self.everyday = _everyday(world, text, rng, m, self.name)

    def rows(self, win: Window) -> Rows | None:
        rng = self.world.rng(self.name, win.start_us // HOUR_US)
        return everyday_rows(self.world, self.text, self.everyday, rng, win)


class NightlyJobs(Population):
    """One organisation's scheduled jobs: several of its accounts (one per service) start a
    batch in the same minute every night; templated, temperature 0, short answers."""

    name = "nightly_jobs"

    def __init__(self, world: World, text: OrdinaryText) -> None:
        self.world = world
        doc = get_path(world.text.groups, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc["slots"])
        self.prompts = Pool.of(
            [filler.fill_many(strings(doc["templates"], "templates"), pool_size(world, 300))]
        )
        self.responses = Pool.of(
            [filler.fill_many(strings(doc["responses"], "responses"), pool_size(world, 100))]
        )
        companies = strings(doc["companies"], "companies")
        p = world.period
        m = _Members()
        job_us: list[int] = []
        batch: list[float] = []
        for k in range(_count(world, NIGHTLY_ORGS, 1)):
            size = int(rng.integers(3, 9))
            c, code, offset = _country(world, rng)
            org = world.ids("org", "org_", 1)[0]
            card = world.ids("card", "pf_", 1)[0]
            company = companies[k % len(companies)]
            domain = slugify(company).split("-")[0] + ".com"
            cloud = random_hosts(rng, random_subnets(rng, world, "datacenter", 1)[0], 4)
            # The scheduler fires at one local time for every service of the organisation.
            minute = (rng.uniform(0.5, 4.5) - offset) % 24 * HOUR_US // (60 * US) * 60 * US
            ua = ["python-requests/2.32.3", "anthropic-python/0.39.0"][int(rng.integers(0, 2))]
            for _ in range(size):
                m.add(
                    created=int(p.start_us - rng.uniform(30, 500) * DAY_US),
                    org=org,
                    payment=card,
                    domain=domain,
                    country=code,
                    tier="scale",
                    ua=ua,
                    channel="api",
                    ips=cloud,
                    keys=1,
                )
                job_us.append(int(minute))
                batch.append(float(np.clip(8 * math.exp(0.6 * rng.standard_normal()), 2, 120)))
        self.n = len(m)
        self.base = world.add(m.block(self.name, rng))
        self.job_us = np.array(job_us, dtype=np.int64)
        self.batch = np.array(batch)  # requests per night, whatever the scale

    def rows(self, win: Window) -> Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        day_start = world.period.start_us + win.day * DAY_US
        fire = day_start + self.job_us
        due = (fire >= win.start_us) & (fire < win.end_us) & (rng.random(self.n) < 0.97)
        counts = np.where(due, rng.poisson(self.batch), 0)
        total = int(counts.sum())
        if total == 0:
            return None
        acct = np.repeat(np.arange(self.n), counts)
        # Requests of a batch follow one another a few seconds apart.
        gaps = rng.lognormal(math.log(3.0), 0.5, total)
        start = fire + rng.integers(0, 20, self.n) * US  # the same minute for every service
        ts = Sessions.of(counts[counts > 0]).times(start[counts > 0], gaps)
        max_tokens = np.full(total, 1024, dtype=np.int32)
        out, stop = outputs(rng, 60.0, 0.6, max_tokens)
        glob = self.base + acct
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, total),
            turn=0,
            model=world.small,
            system=-1,
            prompt=self.prompts.draw(rng, np.zeros(total, dtype=np.int64)),
            response=self.responses.draw(rng, np.zeros(total, dtype=np.int64)),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=0.0,
            thinking=False,
            stop=stop,
        )


def build_groups(world: World, text: OrdinaryText) -> list[Population]:
    """The ordinary groups, in a fixed order (each draws from streams of its own)."""
    return [
        CompanyTeams(world, text),
        UniversityClasses(world, text),
        Hackathons(world, text),
        Households(world, text),
        NightlyJobs(world, text),
    ]
