"""Benign look-alike products with real users: IDE agent products and tutoring apps."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forensics.sample.arrays import (
    Sessions,
    lognormal_int,
    outputs,
    rand_u64,
)
from forensics.sample.base import (
    DAY_US,
    TOOL_USE,
)
from forensics.sample.lookalikes import AGENT, TUTORING, org_block, org_name
from forensics.sample.rows import Rows, make_rows
from forensics.sample.text import Pool, get_path, strings
from forensics.sample.world import (
    RhythmicPopulation,
    World,
    events_per_day,
    pool_size,
    random_hosts,
    random_subnets,
    slugify,
)


class AgentProduct(RhythmicPopulation):
    """IDE agent products: one long shared system prompt each, real multi-turn tool loops."""

    name = "agent_product"
    _TOOL_COUNT = 14  # the tools named in the product system prompt

    def __init__(self, world: World, n_orgs: int) -> None:
        self.world = world
        doc, filler = world.text_of(world.text.lookalikes, self.name)
        size = pool_size(world, 400)
        self.tasks = Pool.of([filler.fill_many(strings(doc["tasks"], "tasks"), size)])
        self.tool_results = Pool.of(
            [filler.fill_many(strings(doc["tool_results"], "tool_results"), size * 2)]
        )
        self.followups = Pool.of([filler.fill_many(strings(doc["followups"], "followups"), 40)])
        self.responses = Pool.of([filler.fill_many(strings(doc["responses"], "responses"), 60)])

        self.base = world.n_accounts
        group, system, switch = [], [], []
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            org_filler = world.filler(self.name, org, slots=doc.get("slots", {}))
            product = org_name(org_filler, strings(doc["product_names"], "names"), org)
            slug = slugify(product)
            dcs = random_subnets(rng, world, "datacenter", 2)
            block = org_block(
                world,
                rng,
                group=self.name,
                n=AGENT[0],
                country="US",
                tier=["scale", "startup"],
                domain=slug.replace("-", "") + ".dev",
                user_agent=[str(doc["user_agent"]).replace("{{product}}", slug)],
                ips=random_hosts(rng, dcs[0], 4) + random_hosts(rng, dcs[1], 2),
                created_days=(150, 420),
                logs_response=True,
                n_keys=(2, 4),
            )
            world.add(block)
            text = org_filler.fill(str(doc["system"]).replace("{{product}}", product))
            system += [world.system_id(text)] * len(block)
            # Each account is a regional deployment serving that region's developers.
            group += [
                world.profiles.group("office", (-8, -5, 0, 1, 5, 9)[i % 6])
                for i in range(len(block))
            ]
            # The product upgrades every deployment at once, days after the release.
            moved = world.period.release_us + int(rng.uniform(5.5, 7.5) * DAY_US)
            switch += [moved] * len(block)
        self.n = world.n_accounts - self.base
        self.group = np.array(group, dtype=np.int64)
        self.system = np.array(system, dtype=np.int64)
        self.switch_us = np.array(switch, dtype=np.int64)
        self.events_per_day = events_per_day(world, AGENT[1], rows_per_event=6.5, n=self.n)

    def event_rows(self, rng: np.random.Generator, acct: np.ndarray, start: np.ndarray) -> Rows:
        world = self.world
        total = len(acct)
        s = Sessions.of(np.minimum(2 + rng.geometric(0.22, total), 18))
        R, turn = len(s), s.turn
        # After turn 0 most messages are tool results; now and then the developer steps in.
        human = (turn > 0) & (rng.random(R) < 0.14)
        tool_turn = (turn > 0) & ~human
        gaps = np.where(
            human,
            rng.lognormal(math.log(80.0), 0.8, R),
            rng.lognormal(math.log(7.0), 0.7, R),
        )
        ts = s.times(start, gaps)
        last = s.last
        next_human = np.zeros(R, dtype=np.bool_)
        next_human[:-1] = human[1:]
        tool_stop = ~last & ~next_human

        zero = np.zeros(R, dtype=np.int64)
        prompt = pc.if_else(
            pa.array(turn == 0),
            self.tasks.draw(rng, zero),
            pc.if_else(
                pa.array(tool_turn),
                self.tool_results.draw(rng, zero),
                self.followups.draw(rng, zero),
            ),
        )
        max_tokens = np.full(R, 8192, dtype=np.int32)
        out, stop = outputs(rng, 520.0, 0.7, max_tokens)
        out[tool_stop] = lognormal_int(rng, 150.0, 0.6, int(tool_stop.sum()))
        stop[tool_stop] = TOOL_USE
        local = acct[s.session]
        glob = self.base + local
        model = np.where(
            start[s.session] >= self.switch_us[local],
            world.new_model_idx,
            world.flagship,
        )
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, total)[s.session],
            turn=turn,
            model=model,
            system=self.system[local],
            prompt=prompt,
            response=self.responses.draw(rng, zero),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=self._TOOL_COUNT,
            temperature=0.3,
            thinking=(rng.random(total) < 0.4)[s.session],
            stop=stop,
        )


class TutoringApp(RhythmicPopulation):
    """Tutoring apps: step-by-step worked solutions, students' after-school rhythm."""

    name = "tutoring_app"

    def __init__(self, world: World, n_orgs: int) -> None:
        self.world = world
        doc = get_path(world.text.lookalikes, self.name)
        slots = {"problem_en": doc["problems_en"], "problem_es": doc["problems_es"]}
        filler = world.filler(self.name, slots=slots)
        size = pool_size(world, 400)
        langs = ("en", "es")
        self.heads = Pool.of(
            [filler.fill_many(strings(doc["heads"][k], "heads"), size) for k in langs]
        )
        self.followups = Pool.of(
            [filler.fill_many(strings(doc["followups"][k], "followups"), 30) for k in langs]
        )
        self.responses = Pool.of(
            [filler.fill_many(strings(doc["responses"][k], "responses"), 30) for k in langs]
        )

        self.base = world.n_accounts
        group, system, p_spanish = [], [], []
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            app = org_name(world.filler(self.name, org), strings(doc["app_names"], "names"), org)
            market = ("US", "ES", "MX", "US")[org % 4]
            offsets = {"US": (-5, -6, -8, -5), "ES": (1,), "MX": (-6, -5)}[market]
            dc = random_subnets(rng, world, "datacenter", 1)[0]
            block = org_block(
                world,
                rng,
                group=self.name,
                n=TUTORING[0],
                country=market,
                tier=["startup", "scale"],
                domain=slugify(app).replace("-", "") + ".app",
                user_agent=[str(doc["user_agent"])],
                ips=random_hosts(rng, dc, 3),
                created_days=(60, 400),
                logs_response=False,
            )
            world.add(block)
            text = str(doc["system"]).replace("{{app}}", app)
            system += [world.system_id(text)] * len(block)
            group += [
                world.profiles.group("student", offsets[i % len(offsets)])
                for i in range(len(block))
            ]
            p_spanish += [0.12 if market == "US" else 1.0] * len(block)
        self.n = world.n_accounts - self.base
        self.group = np.array(group, dtype=np.int64)
        self.system = np.array(system, dtype=np.int64)
        self.p_spanish = np.array(p_spanish)
        self.events_per_day = events_per_day(world, TUTORING[1], rows_per_event=3.0, n=self.n)

    def event_rows(self, rng: np.random.Generator, acct: np.ndarray, start: np.ndarray) -> Rows:
        world = self.world
        total = len(acct)
        s = Sessions.of(rng.integers(1, 6, total))
        R = len(s)
        ts = s.times(start, rng.lognormal(math.log(100.0), 0.7, R))
        lang = (rng.random(total) < self.p_spanish[acct]).astype(np.int64)[s.session]
        prompt = pc.if_else(
            pa.array(s.first), self.heads.draw(rng, lang), self.followups.draw(rng, lang)
        )
        max_tokens = np.full(R, 1500, dtype=np.int32)
        out, stop = outputs(rng, 330.0, 0.5, max_tokens)
        local = acct[s.session]
        glob = self.base + local
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, total)[s.session],
            turn=s.turn,
            model=world.small,
            system=self.system[local],
            prompt=prompt,
            response=self.responses.draw(rng, lang),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=0.5,
            thinking=False,
            stop=stop,
        )
