"""Campaigns run from one large account farm: the reasoning harvester's lock-step bursts and
the hydra proxy's waves of accounts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forensics.sample.arrays import (
    choice,
    join,
    lognormal_int,
    merge,
    outputs,
    positions_in_segment,
    rand_u64,
)
from forensics.sample.base import (
    CHANNELS,
    DAY_US,
    END_TURN,
    HOUR_US,
    MAX_TOKENS,
    TOOL_USE,
    US,
    SampleError,
)
from forensics.sample.campaigns import (
    HARVESTER,
    HYDRA,
    campaign_block,
    campaign_size,
    campaign_start,
    families,
)
from forensics.sample.clock import Window
from forensics.sample.ordinary_text import OrdinaryText
from forensics.sample.rows import Rows, make_rows
from forensics.sample.text import Filler, HoledPool, Pool, strings
from forensics.sample.world import (
    Population,
    World,
    pool_size,
    random_hosts,
    random_subnets,
)


class ReasoningHarvester(Population):
    """DeepSeek-style harvest: CoT extraction, rubric grading, shared cards, lock-step bursts."""

    name = "reasoning_harvester"
    _OUT = {
        "cot_completed": 6500.0,
        "cot_open": 6000.0,
        "posthoc": 3500.0,
        "grading": 6.0,
        "censorship": 900.0,
    }

    def __init__(self, world: World) -> None:
        self.world = world
        doc, filler, rng = campaign_start(world, self.name)
        self.n, per_account = campaign_size(world, HARVESTER)
        p = world.period
        self.first_day = max(1, int(p.n_days * rng.uniform(0.08, 0.14)))
        self.last_day = min(p.n_days - 1, self.first_day + int(p.n_days * 0.62))
        self._add_accounts(doc, rng, filler)
        self.bursts = self._schedule(rng, per_account)
        self.languages = ("en", "zh")
        if set(doc["families"]) != set(self._OUT):
            raise SampleError(f"sample text: {self.name} families must be {sorted(self._OUT)}")
        self._prompt_texts(doc, filler)
        self._response_texts(doc, filler)

    def _add_accounts(
        self, doc: Mapping[str, Any], rng: np.random.Generator, filler: Filler
    ) -> None:
        """The farm's accounts (self.base), signed up days before its first burst on a few
        shared cards, from its datacenter addresses (self.ip_pool), and the partner's
        indicators that name two of its cards and its e-mail domain."""
        world, n, p = self.world, self.n, self.world.period
        signup = p.start_us + self.first_day * DAY_US
        created = sorted(signup - rng.uniform(2, 12, n) * DAY_US)
        n_cards = 4 if n <= 40 else math.ceil(n / 10)
        cards = world.ids("card", "pf_", n_cards)
        domain = str(doc["email_domain"])
        orgs = world.ids("org", "org_", n)
        subnets = random_subnets(rng, world, "datacenter", 2 + n // 40)
        self.ip_pool = pa.array(
            [ip for s in subnets for ip in random_hosts(rng, s, 3 + n // 16)], pa.string()
        )
        uas = strings(doc["user_agents"], "user_agents")
        block = campaign_block(
            rng,
            group=self.name,
            created=created,
            org=[orgs[i] if rng.random() < 0.3 else None for i in range(n)],
            email_domain=[
                domain if rng.random() < 0.65 else filler.pick(world.consumer_domains)
                for _ in range(n)
            ],
            payment=[cards[i % n_cards] for i in rng.permutation(n)],
            user_agent=[uas[int(i)] for i in choice(rng, [70, 20, 10], n)],
            channel=["api"] * n,
            ips=[[self.ip_pool[int(i)].as_py()] for i in rng.integers(0, len(self.ip_pool), n)],
            countries=["US", "SG", "US", "CA", "GB"],
            tiers=["education", "startup", "build"],
            p_logs=0.7,
        )
        self.base = world.add(block)
        world.indicators += [
            ("payment_fingerprint", cards[0], "ACTOR-A", "industry partner share 2026-06"),
            ("payment_fingerprint", cards[1], "ACTOR-A", "industry partner share 2026-06"),
            ("email_domain", domain, "ACTOR-A", "industry partner share 2026-06"),
        ]

    def _schedule(self, rng: np.random.Generator, per_account: float) -> list[tuple[int, int, int]]:
        """The bursts (start, waves, microseconds between waves) between the first and the
        last day: one scheduler sends a wave every minute or two in which every account of
        the farm fires once, round-robin, so the accounts are busy in the same minutes and the
        whole farm starts and stops together."""
        p = self.world.period
        waves_total = max(1, round(per_account))
        n_bursts = int(min(16, max(3, waves_total // 12), self.last_day - self.first_day))
        days = np.arange(self.first_day, self.last_day)
        middle = rng.choice(days[1:-1], max(0, n_bursts - 2), replace=False)
        burst_days = np.sort(np.concatenate([[days[0]], middle, [days[-1]]]))[:n_bursts]
        share = rng.uniform(0.6, 1.4, n_bursts)
        waves = np.maximum(1, np.round(waves_total * share / share.sum())).astype(np.int64)
        starts = (
            p.start_us
            + burst_days * DAY_US
            + rng.integers(1, 10, n_bursts) * HOUR_US
            + rng.integers(0, 2, n_bursts) * HOUR_US // 2
        )
        return [
            (int(s), int(w), int(rng.uniform(60, 150) * US))
            for s, w in zip(starts, waves, strict=True)
        ]

    def _prompt_texts(self, doc: Mapping[str, Any], filler: Filler) -> None:
        """The template families and what fills their holes: questions, completed answers,
        grading instructions with candidate answers, sensitive questions, final answers."""
        world = self.world
        size = pool_size(world, 60)
        self.families = families(filler, doc["families"], self.languages, size)
        big = pool_size(world, 400)

        def per_lang(key: str, n_items: int) -> Pool:
            return Pool.of(
                [
                    filler.fill_many(strings(doc[key][lang], key), n_items)
                    for lang in self.languages
                ]
            )

        self.questions = per_lang("questions", big)
        self.completed = per_lang("completed", big // 2)
        # Grading: instruction variants and candidate answers per item (category = item).
        items = [(lang, item) for lang in self.languages for item in doc["grading_items"][lang]]
        self.item_lang = np.array([self.languages.index(lang) for lang, _ in items])
        self.instructions = Pool.of(
            [filler.fill_many([str(it["instruction"])], 12) for _, it in items]
        )
        openers, closers = doc["candidate_openers"], doc["candidate_closers"]
        self.candidates = Pool.of(
            [
                [
                    filler.pick(openers[lang])
                    + filler.fill(filler.pick(it["candidates"]))
                    + filler.pick(closers[lang])
                    for _ in range(48)
                ]
                for lang, it in items
            ]
        )
        self.sensitive = per_lang("sensitive_questions", 60)
        self.finals = Pool.of([filler.fill_many(strings(doc["finals"], "finals"), big // 2)])

    def _response_texts(self, doc: Mapping[str, Any], filler: Filler) -> None:
        """The answers: reasoning traces, censored rewrites, and grades in the format each
        grading template asks for (self.grade_format, per template)."""
        resp = doc["responses"]
        self.cot = Pool.of(
            [filler.fill_many(strings(resp["cot"][lang], "cot"), 80) for lang in self.languages]
        )
        self.censor = Pool.of(
            [
                filler.fill_many(strings(resp["censorship"][lang], "c"), 10)
                for lang in self.languages
            ]
        )
        grades = strings(resp["grades"], "grades")
        self.grades = Pool.of([filler.fill_many([g], 40) for g in grades[:3]])
        grading = next(f for f in self.families if f.name == "grading")
        head = grading.pool.parts[0].to_pylist()
        self.grade_format = np.array(
            [2 if "[RESULT]" in h else 1 if "Rating:" in h else 0 for h in head], dtype=np.int64
        )

    def rows(self, win: Window) -> Rows | None:
        parts = []
        for b, (start, waves, gap) in enumerate(self.bursts):
            if win.start_us <= start < win.end_us:
                parts.append(self._burst(b, start, waves, gap))
        return Rows.concat(parts) if parts else None

    def _burst(self, b: int, start: int, waves: int, gap: int) -> Rows:
        world = self.world
        rng = world.rng(self.name, "burst", b)
        n = waves * self.n
        wave = np.repeat(np.arange(waves), self.n)
        slot = np.tile(np.arange(self.n), waves)
        # Within a wave the scheduler walks the accounts in a fixed order, a second or so apart.
        spacing = rng.uniform(0.3, 1.5) * US
        ts = (start + wave * gap + slot * spacing + rng.random(n) * spacing).astype(np.int64)
        ts = np.sort(ts)
        acct = self.base + (int(rng.integers(self.n)) + np.arange(n)) % self.n
        # Tasks: grading tasks send k candidates for one instruction back to back.
        fam_w = [f.weight for f in self.families]
        fam = choice(rng, fam_w, n)
        names = [f.name for f in self.families]
        g = names.index("grading")
        size = np.where(fam == g, rng.integers(4, 9, n), 1)
        m = int(np.searchsorted(np.cumsum(size), n)) + 1
        row_task = np.repeat(np.arange(m), size[:m])[:n]
        task_lang = (rng.random(m) < 0.4).astype(np.int64)
        # Grading tasks pick an item of their language: instruction and candidates come from it.
        en_items, zh_items = (np.flatnonzero(self.item_lang == k) for k in (0, 1))
        r = rng.integers(0, len(self.item_lang), m)
        task_item = np.where(
            task_lang == 0, en_items[r % len(en_items)], zh_items[r % len(zh_items)]
        )
        task_instr = self.instructions.pick(rng, task_item)
        fam_r, lang = fam[row_task], task_lang[row_task]
        prompt_parts, response_parts = [], []
        out = np.zeros(n, dtype=np.int64)
        for f_idx, family in enumerate(self.families):
            pos = np.flatnonzero(fam_r == f_idx)
            if not len(pos):
                continue
            lg = lang[pos]
            tmpl = family.pool.pick(rng, lg)
            if f_idx == g:
                tmpl = family.pool.pick(rng, task_lang)[row_task[pos]]  # one template per task
                holes = [
                    self.instructions.take(task_instr[row_task[pos]]),
                    self.candidates.draw(rng, task_item[row_task[pos]]),
                ]
                response = self.grades.draw(rng, self.grade_format[tmpl])
            else:
                q = self.sensitive if family.name == "censorship" else self.questions
                holes = [q.draw(rng, lg)]
                if "done" in family.pool.holes:
                    holes.append(self.completed.draw(rng, lg))
                if "final" in family.pool.holes:
                    holes.append(self.finals.draw(rng, np.zeros(len(pos), dtype=np.int64)))
                source = self.censor if family.name == "censorship" else self.cot
                response = source.draw(rng, lg)
            prompt_parts.append((pos, family.pool.render(tmpl, holes)))
            response_parts.append((pos, response))
            sigma = 0.4 if family.name == "grading" else 0.55
            out[pos] = lognormal_int(rng, self._OUT[family.name], sigma, len(pos))
        max_tokens = np.full(n, 8000, dtype=np.int32)
        stop = np.where(out >= 8000, MAX_TOKENS, END_TURN)
        out = np.minimum(out, 8000)
        old = np.where(rng.random(n) < 0.9, world.flagship, world.previous)
        new = (ts > world.period.release_us + 2 * DAY_US) & (rng.random(n) < 0.5)
        return make_rows(
            acct=acct,
            ts=ts,
            conv=rand_u64(rng, n),
            turn=0,
            model=np.where(new, world.new_model_idx, old),
            system=-1,
            prompt=merge(n, prompt_parts),
            response=merge(n, response_parts),
            ip=self.ip_pool.take(rng.integers(0, len(self.ip_pool), n)),
            key=world.pick_keys(rng, acct),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=0.0,
            thinking=False,
            stop=stop,
        )


class HydraProxy(Population):
    """MiniMax/Moonshot-style proxy farm: waves of accounts, relay mixing, new-model pivot."""

    name = "hydra_proxy"

    def __init__(self, world: World, ordinary: OrdinaryText) -> None:
        self.world, self.ordinary = world, ordinary
        doc, filler, rng = campaign_start(world, self.name)
        self.n, per_account = campaign_size(world, HYDRA)
        wave, created = self._schedule(rng, per_account)
        self._add_accounts(doc, rng, filler, wave, created)
        harvest = doc["harvest"]
        size = pool_size(world, 200)
        self.harvest_weights = [float(h["weight"]) for h in harvest]
        self.systems = np.array([world.system_id(str(h["system"])) for h in harvest])
        self.tools = np.array([int(h["tool_count"]) for h in harvest], dtype=np.int32)
        self.tasks = HoledPool.of(
            ["id"],
            [filler.fill_many(strings(h["tasks"], "tasks"), size) for h in harvest],
            "hydra tasks",
        )
        self.responses = Pool.of(
            [filler.fill_many(strings(h["responses"], "responses"), 40) for h in harvest]
        )
        self.pivot_us = world.period.release_us + int(rng.uniform(3, 8) * HOUR_US)

    def _schedule(
        self, rng: np.random.Generator, per_account: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """When each account is active and at what cadence; returns each account's wave and
        creation time (microseconds).

        Three account waves, each created in a burst of a few hours; banned accounts of the
        first wave are replaced by the next ("when one account is banned, a new one takes its
        place")."""
        n, p = self.n, self.world.period
        release_day = (p.release_us - p.start_us) / DAY_US
        wave = np.sort(choice(rng, [45, 30, 25], n))
        wave_created = [
            p.start_us - rng.uniform(8, 14) * DAY_US,
            p.start_us + release_day * 0.55 * DAY_US,
            p.start_us + (release_day + 8) * DAY_US,
        ]
        created = np.array([wave_created[w] for w in wave]) + rng.uniform(0, 6, n) * HOUR_US
        self.start_us = np.maximum(created + rng.uniform(1, 10, n) * HOUR_US, p.start_us)
        self.end_us = np.full(n, float(p.end_us))
        banned = (wave == 0) & (rng.random(n) < 0.6)
        self.end_us[banned] = (
            p.start_us + rng.uniform(0.3, 0.6, banned.sum()) * release_day * DAY_US
        )
        banned1 = (wave == 1) & (rng.random(n) < 0.3)
        self.end_us[banned1] = (
            p.start_us + rng.uniform(release_day + 10, p.n_days, banned1.sum()) * DAY_US
        )
        active_days = np.maximum((self.end_us - self.start_us) / DAY_US, 0.5)
        self.period_us = np.maximum(active_days / per_account * DAY_US, 1.0 * US).astype(np.int64)
        self.phase = (rng.random(n) * self.period_us).astype(np.int64)
        # Most of what the proxy carries is its ordinary customers' traffic.
        self.relay_share = rng.uniform(0.5, 0.8, n)
        return wave, created

    def _add_accounts(
        self,
        doc: Mapping[str, Any],
        rng: np.random.Generator,
        filler: Filler,
        wave: np.ndarray,
        created: np.ndarray,
    ) -> None:
        """The farm's accounts (self.base) on a few /24s, residential and datacenter proxies
        mixed, each wave favouring its own, paying with virtual cards that small groups of
        accounts share; and the threat-intel indicator that names the first wave's range."""
        world, n = self.world, self.n
        n_sub = max(3, round(n / 15))
        n_dc = max(1, n_sub * 2 // 5)
        pool = world.proxy_subnets
        n_res = n_sub - n_dc
        # A farm wider than the proxy network (the largest scales) rents some ranges twice.
        picks = rng.choice(len(pool), n_res, replace=n_res > len(pool))
        residential = [pool[int(i)] for i in picks]
        datacenter = random_subnets(rng, world, "datacenter", n_dc)
        mixed = residential + datacenter
        subnets = [mixed[i] for i in rng.permutation(n_sub)]
        third = max(1, n_sub // 3)
        sub_of = (wave * third + rng.integers(0, third + 1, n)) % n_sub
        ips = [random_hosts(rng, subnets[s], 8) for s in sub_of]
        cards = world.ids("card", "pf_", n)
        card_of = np.zeros(n, dtype=np.int64)
        i = c = 0
        while i < n:  # virtual cards shared by small groups of accounts
            size = int(rng.integers(3, 6))
            card_of[i : i + size] = c
            i, c = i + size, c + 1
        disposable = strings(doc["disposable_domains"], "disposable_domains")
        uas = strings(doc["user_agents"], "user_agents")
        block = campaign_block(
            rng,
            group=self.name,
            created=created,
            org=[None] * n,
            email_domain=[filler.pick(disposable) for _ in range(n)],
            payment=[cards[k] for k in card_of],
            # Half the accounts pass the customers' own popular SDKs through.
            user_agent=[
                filler.pick(uas) if rng.random() < 0.5 else world.draw_user_agents(rng, 1)[0]
                for _ in range(n)
            ],
            channel=[CHANNELS[k] for k in choice(rng, [40, 25, 15, 20], n)],
            ips=ips,
            countries=["US", "US", "GB", "SG", "HK", "MY", "CA", "AU"],
            tiers=["free", "build", "build", "education", "startup"],
            p_logs=0.4,
            n_keys=(1, 3),
        )
        self.base = world.add(block)
        # Threat intel knows the range the first accounts came from, not the later waves'.
        cidr = f"{subnets[sub_of[0]]}.0/24"
        world.indicators.append(("cidr", cidr, "ACTOR-B", "threat intel feed"))

    def rows(self, win: Window) -> Rows | None:
        world = self.world
        rng = world.rng(self.name, win.start_us // HOUR_US)
        lo = np.maximum(self.start_us, win.start_us)
        hi = np.minimum(self.end_us, win.end_us)
        # Machine cadence: account i fires at phase + k * period, with a little jitter.
        k0 = np.ceil((lo - self.phase) / self.period_us).astype(np.int64)
        k1 = np.ceil((hi - self.phase) / self.period_us).astype(np.int64)
        counts = np.where(hi > lo, np.maximum(k1 - k0, 0), 0)
        n = int(counts.sum())
        if n == 0:
            return None
        acct = np.repeat(np.arange(self.n), counts)
        k = k0[acct] + positions_in_segment(counts)
        jitter = rng.normal(0, 0.08, n) * self.period_us[acct]
        ts = np.maximum(self.phase[acct] + k * self.period_us[acct] + jitter, win.start_us)
        ts = ts.astype(np.int64)
        relay = rng.random(n) < self.relay_share[acct]
        parts = []
        h = np.flatnonzero(~relay)
        if len(h):
            parts.append(self._harvest(rng, acct[h], ts[h]))
        r = np.flatnonzero(relay)
        if len(r):
            parts.append(self._relay(rng, acct[r], ts[r]))
        return Rows.concat(parts)

    def _harvest(self, rng: np.random.Generator, acct: np.ndarray, ts: np.ndarray) -> Rows:
        world, n = self.world, len(acct)
        fam = choice(rng, self.harvest_weights, n)
        task_no = pc.cast(pa.array(rng.integers(100_000, 999_999, n)), pa.string())
        prompt = self.tasks.render(self.tasks.pick(rng, fam), [join("H-", task_no)])
        max_tokens = np.full(n, 16384, dtype=np.int32)
        out, stop = outputs(rng, 2600.0, 0.8, max_tokens)
        tool = rng.random(n) < 0.55
        out[tool] = lognormal_int(rng, 260.0, 0.6, int(tool.sum()))
        stop[tool] = TOOL_USE
        # The pivot: within hours of the release most harvest traffic moves to the new model.
        after = ts >= self.pivot_us
        old = np.where(rng.random(n) < 0.8, world.flagship, world.small)
        model = np.where(after & (rng.random(n) < 0.82), world.new_model_idx, old)
        glob = self.base + acct
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, n),
            turn=0,
            model=model,
            system=self.systems[fam],
            prompt=prompt,
            response=self.responses.draw(rng, fam),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=self.tools[fam],
            temperature=0.7,
            thinking=True,
            stop=stop,
        )

    def _relay(self, rng: np.random.Generator, acct: np.ndarray, ts: np.ndarray) -> Rows:
        """Unrelated end-user traffic resold through the same keys (many topics and languages)."""
        world, text, n = self.world, self.ordinary, len(acct)
        lang = choice(rng, [45, 22, 9, 7, 10, 7], n)
        topic = choice(rng, text.topic_weights, n)
        sys_idx = np.where(rng.random(n) < 0.2, text.systems.pick(rng, lang), -1)
        max_tokens = rng.choice(np.array([1024, 2048, 4096, 8192]), n)
        out, stop = outputs(rng, text.out_median[topic], 0.75, max_tokens, 0.01)
        glob = self.base + acct
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, n),
            turn=0,
            model=world.ordinary_models(rng, ts, adoption=0.3),
            system=np.where(sys_idx >= 0, text.system_ids[np.maximum(sys_idx, 0)], -1),
            prompt=text.openings(
                rng,
                text.prompts(rng, lang, topic, np.ones(n, dtype=np.bool_)),
                np.zeros(n, dtype=np.int64),
                np.arange(n),
                np.ones(n, dtype=np.bool_),
            ),
            response=text.responses_for(rng, lang, topic),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=rng.choice([0.0, 0.3, 0.7, 1.0], n),
            thinking=rng.random(n) < 0.1,
            stop=stop,
        )
