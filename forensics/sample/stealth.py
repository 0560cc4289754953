"""Campaigns whose accounts share little: templated low-volume accounts on rotating proxies,
and a data pipeline and an agentic swarm run through aged accounts that share nothing."""

from __future__ import annotations

import math

import numpy as np

from forensics.sample.arrays import (
    Sessions,
    choice,
    merge,
    outputs,
    rand_u64,
)
from forensics.sample.base import (
    DAY_US,
    HOUR_US,
    TOOL_USE,
    US,
    SampleError,
)
from forensics.sample.campaigns import (
    LOWVOL,
    PIPELINE,
    SWARM,
    campaign_accounts,
    campaign_block,
    campaign_start,
    families,
)
from forensics.sample.clock import Window
from forensics.sample.rows import Rows, make_rows
from forensics.sample.text import Pool, get_path, strings
from forensics.sample.world import (
    AccountBlock,
    Population,
    World,
    company_domain,
    home_addresses,
    pool_size,
)


class TemplatedLowVolume(Population):
    """Short-lived low-volume accounts on rotating proxies sharing a rare client and recipes."""

    name = "templated_lowvol"
    # Per family: temperature, max_tokens, thinking, median output tokens.
    _SETTINGS = {
        "long_cot": (0.0, 8000, False, 4200.0),
        "evol": (0.7, 2048, False, 220.0),
        "taskgen": (0.8, 8192, False, 3600.0),
        "lang_lock": (0.6, 16000, True, 3000.0),
    }

    def __init__(self, world: World) -> None:
        self.world = world
        doc, filler, rng = campaign_start(world, self.name)
        self.n = n = campaign_accounts(world, LOWVOL[0])
        p = world.period
        start_day = rng.uniform(1, p.n_days - 8, n)
        self.start_us = (p.start_us + start_day * DAY_US).astype(np.int64)
        self.end_us = (self.start_us + rng.uniform(2, 7, n) * DAY_US).astype(np.int64)
        self.total = rng.integers(30, 61, n).astype(np.float64)
        created = self.start_us - rng.uniform(3, 40, n) * DAY_US
        ua = str(doc["user_agent"])
        signup = world.residential_ips(rng, n).to_pylist()
        block = campaign_block(
            rng,
            group=self.name,
            created=created,
            org=[None] * n,
            email_domain=[filler.pick(world.consumer_domains) for _ in range(n)],
            payment=world.ids("card", "pf_", n),
            user_agent=[ua] * n,
            channel=["api"] * n,
            ips=[[ip] for ip in signup],
            countries=["US", "GB", "DE", "SG", "KR", "BR", "CA"],
            tiers=["free", "build", "research"],
            p_logs=0.4,
        )
        self.base = world.add(block)
        fams = doc["families"]
        if set(fams) != set(self._SETTINGS):
            raise SampleError(f"sample text: {self.name} families must be {sorted(self._SETTINGS)}")
        self.families = families(filler, fams, ("en",), pool_size(world, 40))
        self.system = {
            name: world.system_id(str(spec["system"])) if spec.get("system") else -1
            for name, spec in fams.items()
        }
        qs = doc["questions"]
        size = pool_size(world, 200)
        self.questions = {
            "long_cot": Pool.of([filler.fill_many(strings(qs["en"], "q"), size)]),
            "evol": Pool.of([filler.fill_many(strings(qs["seeds"], "q"), size // 2)]),
            "taskgen": Pool.of([filler.fill_many(strings(qs["seeds"] + qs["en"], "q"), size)]),
            "lang_lock": Pool.of([filler.fill_many(strings(qs["multilingual"], "q"), size)]),
        }
        resp = doc["responses"]
        self.responses = {k: Pool.of([filler.fill_many(strings(resp[k], k), 20)]) for k in fams}

    def rows(self, win: Window) -> Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        lo = np.maximum(self.start_us, win.start_us)
        hi = np.minimum(self.end_us, win.end_us)
        overlap = np.maximum(hi - lo, 0)
        counts = rng.poisson(self.total * overlap / (self.end_us - self.start_us))
        n = int(counts.sum())
        if n == 0:
            return None
        acct = np.repeat(np.arange(self.n), counts)
        ts = lo[acct] + (rng.random(n) * overlap[acct]).astype(np.int64)
        fam = choice(rng, [f.weight for f in self.families], n)
        parts = []
        for f_idx, family in enumerate(self.families):
            pos = np.flatnonzero(fam == f_idx)
            if not len(pos):
                continue
            m = len(pos)
            zero = np.zeros(m, dtype=np.int64)
            temp, max_tok, thinking, median = self._SETTINGS[family.name]
            max_tokens = np.full(m, max_tok, dtype=np.int32)
            out, stop = outputs(rng, median, 0.6, max_tokens)
            glob = self.base + acct[pos]
            new = (ts[pos] > world.period.release_us) & (rng.random(m) < 0.5)
            parts.append(
                make_rows(
                    acct=glob,
                    ts=ts[pos],
                    conv=rand_u64(rng, m),
                    turn=0,
                    model=np.where(new, world.new_model_idx, world.flagship),
                    system=self.system[family.name],
                    prompt=family.pool.render(
                        family.pool.pick(rng, zero), [self.questions[family.name].draw(rng, zero)]
                    ),
                    response=self.responses[family.name].draw(rng, zero),
                    ip=world.proxy_ips(rng, m),
                    key=world.pick_keys(rng, glob),
                    out_tokens=out,
                    max_tokens=max_tokens,
                    tool_count=0,
                    temperature=temp,
                    thinking=thinking,
                    stop=stop,
                )
            )
        return Rows.concat(parts)


def _aged_strangers(
    world: World, rng: np.random.Generator, n: int, *, group: str, org_share: float
) -> AccountBlock:
    """n accounts that share nothing: each its own card, address, home line and client,
    created months to years ago (bought or long-dormant accounts)."""
    filler = world.filler("accounts", group)
    countries = get_path(world.text.common, "countries")
    c_idx = choice(rng, [float(c["weight"]) for c in countries], n)
    own_org = rng.random(n) < org_share
    orgs = world.ids("org", "org_", n)
    return AccountBlock(
        label="campaign",
        group=[group] * n,
        created_us=[
            int(world.period.start_us - d * DAY_US) // US * US for d in rng.uniform(60, 900, n)
        ],
        org=[orgs[i] if own_org[i] else None for i in range(n)],
        email_domain=[
            company_domain(filler, world) if own_org[i] else filler.pick(world.consumer_domains)
            for i in range(n)
        ],
        payment=list(world.ids("card", "pf_", n)),
        country=[str(countries[i]["code"]) for i in c_idx],
        tier=[["build", "free", "scale"][int(i)] for i in choice(rng, [60, 30, 10], n)],
        user_agent=world.draw_user_agents(rng, n),
        channel=["api"] * n,
        logs_response=list(rng.random(n) < 0.38),
        ips=home_addresses(rng, world, n, shared_networks=False),
        n_keys=[1] * n,
    )


class DataPipeline(Population):
    """A public data-generation pipeline run through aged accounts that share nothing: a few
    short runs per account, a few dozen requests each. Only the prompts show it."""

    name = "data_pipeline"

    def __init__(self, world: World) -> None:
        self.world = world
        doc, filler, rng = campaign_start(world, self.name)
        self.n = n = campaign_accounts(world, PIPELINE[0])
        families = doc["families"]
        size = pool_size(world, 200)
        self.weights = [float(f["weight"]) for f in families.values()]
        self.out_median = np.array([float(f["out_median"]) for f in families.values()])
        self.prompts = Pool.of(
            [
                filler.fill_many(strings(f["templates"], "templates"), size)
                for f in families.values()
            ]
        )
        self.responses = Pool.of(
            [filler.fill_many(strings(f["responses"], "responses"), 40) for f in families.values()]
        )
        # A family's system messages (Orca style), index -1 for none.
        self.systems = [
            [world.system_id(s) for s in strings(f["system"], "system")] if f.get("system") else []
            for f in families.values()
        ]
        self.base = world.add(_aged_strangers(world, rng, n, group=self.name, org_share=0.2))
        # Runs: each account is used for a few short runs at any hour; one run is a loop of
        # requests sent one after another as each answer comes back.
        p = world.period
        runs = rng.integers(1, 5, n)
        self.run_acct = np.repeat(np.arange(n), runs)
        m = len(self.run_acct)
        self.run_start = (p.start_us + rng.uniform(0, p.n_days, m) * DAY_US).astype(np.int64)
        self.run_len = np.maximum(2, rng.poisson(PIPELINE[1] / 2.5, m))
        self.temperature = rng.choice([0.7, 1.0], n)
        self.max_tokens = rng.choice(np.array([1024, 2048, 3072]), n)

    def rows(self, win: Window) -> Rows | None:
        world = self.world
        due = np.flatnonzero((self.run_start >= win.start_us) & (self.run_start < win.end_us))
        if not len(due):
            return None
        rng = world.rng(self.name, win.start_us // HOUR_US)
        runs = Sessions.of(self.run_len[due])
        n = len(runs)
        acct = self.run_acct[due][runs.session]
        ts = runs.times(self.run_start[due], rng.lognormal(math.log(14.0), 0.6, n))
        fam = choice(rng, self.weights, n)
        system = np.full(n, -1, dtype=np.int64)
        for f, ids in enumerate(self.systems):
            at = np.flatnonzero(fam == f)
            if ids and len(at):
                system[at] = np.array(ids)[rng.integers(0, len(ids), len(at))]
        max_tokens = self.max_tokens[acct]
        out, stop = outputs(rng, self.out_median[fam], 0.6, max_tokens)
        glob = self.base + acct
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, n),
            turn=0,
            model=np.where(rng.random(n) < 0.8, world.flagship, world.small),
            system=system,
            prompt=self.prompts.draw(rng, fam),
            response=self.responses.draw(rng, fam),
            ip=world.pick_ips(rng, glob, 2.5),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=self.temperature[acct],
            thinking=False,
            stop=stop,
        )


class AgenticSwarm(Population):
    """Agentic harvest from accounts that each have their own organisation, domain and card,
    behind rotating residential proxies and rotating keys. A controller launches batches of
    long tool-use sessions on many accounts in the same minute."""

    name = "agentic_swarm"

    def __init__(self, world: World) -> None:
        self.world = world
        doc, filler, rng = campaign_start(world, self.name)
        self.n = n = campaign_accounts(world, SWARM[0])
        size = pool_size(world, 200)
        self.tasks = Pool.of([filler.fill_many(strings(doc["tasks"], "tasks"), size)])
        self.results = Pool.of(
            [filler.fill_many(strings(doc["tool_results"], "tool_results"), size * 2)]
        )
        self.replies = Pool.of([filler.fill_many(strings(doc["responses"], "responses"), 60)])
        frameworks = strings(get_path(world.text.common, "agent_frameworks"), "agent_frameworks")
        self.system = world.system_id(frameworks[int(rng.integers(0, len(frameworks)))])
        block = _aged_strangers(world, rng, n, group=self.name, org_share=1.0)
        # Rotating residential proxies: a fresh exit in a different /24 for most requests.
        block.ips = [world.proxy_ips(rng, int(k)).to_pylist() for k in rng.integers(25, 70, n)]
        block.n_keys = [int(k) for k in rng.integers(3, 9, n)]
        block.created_us = [
            int(world.period.start_us - d * DAY_US) // US * US for d in rng.uniform(20, 300, n)
        ]
        self.base = world.add(block)
        # The campaign runs for six weeks or so, like the one reported to the US Senate.
        p = world.period
        begin = p.start_us + rng.uniform(0.1, 0.4) * p.n_days * DAY_US
        end = min(p.end_us, begin + 45 * DAY_US)
        interval = SWARM[1] * HOUR_US
        k = int((end - begin) // interval)
        self.launch_us = (begin + np.arange(k) * interval
                          + rng.uniform(-0.4, 0.4, k) * interval).astype(np.int64)
        # Per launch, which accounts take part (a fresh draw each time).
        self.share = SWARM[2]

    def rows(self, win: Window) -> Rows | None:
        world = self.world
        launches = self.launch_us[(self.launch_us >= win.start_us) & (self.launch_us < win.end_us)]
        if not len(launches):
            return None
        rng = world.rng(self.name, win.start_us // HOUR_US)
        take = rng.random((len(launches), self.n)) < self.share
        launch_idx, acct = np.nonzero(take)
        total = len(acct)
        if total == 0:
            return None
        # Every picked account opens its session within seconds of the launch.
        start = launches[launch_idx] + (rng.uniform(0, 40, total) * US).astype(np.int64)
        s = Sessions.of(np.minimum(3 + rng.geometric(0.12, total), 40))
        R = len(s)
        ts = s.times(start, rng.lognormal(math.log(9.0), 0.6, R))
        first = s.first
        prompt = merge(
            R,
            [
                (np.flatnonzero(first), self.tasks.draw(rng, np.zeros(total, dtype=np.int64))),
                (
                    np.flatnonzero(~first),
                    self.results.draw(rng, np.zeros(R - total, dtype=np.int64)),
                ),
            ],
        )
        max_tokens = np.full(R, 16384, dtype=np.int32)
        out, stop = outputs(rng, 420.0, 0.8, max_tokens)
        stop[~s.last] = TOOL_USE
        glob = self.base + acct[s.session]
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, total)[s.session],
            turn=s.turn,
            model=world.flagship,
            system=self.system,
            prompt=prompt,
            response=self.replies.draw(rng, np.zeros(R, dtype=np.int64)),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=12,
            temperature=1.0,
            thinking=rng.random(R) < 0.5,
            stop=stop,
        )
