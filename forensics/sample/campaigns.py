"""Distillation campaigns planted in the sample."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    segment_offsets,
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
from forensics.sample.clock import Window
from forensics.sample.ordinary import OrdinaryText, home_addresses
from forensics.sample.rows import Rows, make_rows
from forensics.sample.text import Filler, HoledPool, Pool, get_path, strings
from forensics.sample.world import (
    AccountBlock,
    Population,
    World,
    company_domain,
    pool_size,
    random_hosts,
    random_subnets,
)

# Volumes at scale 1: (accounts, requests). Campaigns are single actors whose account count
# grows with the scale, with a floor so that small samples still show the linking signal.
HARVESTER = (15, 3_500)
HYDRA = (60, 14_000)
LOWVOL = (25, 45)  # 25 accounts of about 45 requests each
# data_pipeline: (accounts, requests per account over the quarter).
PIPELINE = (10, 45)
# agentic_swarm: (accounts, hours between launches, share of accounts in each launch).
SWARM = (8, 10.0, 0.3)
MIN_CAMPAIGN_ACCOUNTS = 8
MIN_CAMPAIGN_ACCOUNT_REQUESTS = 60


def _campaign_size(world: World, base: tuple[int, int]) -> tuple[int, float]:
    """Accounts and requests per account of a campaign at this scale."""
    accounts = max(MIN_CAMPAIGN_ACCOUNTS, round(base[0] * world.scale))
    per_account = max(MIN_CAMPAIGN_ACCOUNT_REQUESTS, base[1] * world.scale / accounts)
    return accounts, per_account


# -- campaigns -------------------------------------------------------------------------------


def _campaign_block(
    world: World,
    rng: np.random.Generator,
    *,
    group: str,
    created: Sequence[int],
    org: Sequence[str | None],
    email_domain: Sequence[str],
    payment: Sequence[str],
    user_agent: Sequence[str],
    channel: Sequence[str],
    ips: Sequence[Sequence[str]],
    countries: Sequence[str],
    tiers: Sequence[str],
    p_logs: float,
    n_keys: tuple[int, int] = (1, 1),
) -> AccountBlock:
    n = len(created)
    return AccountBlock(
        label="campaign",
        group=[group] * n,
        created_us=[int(c) // US * US for c in created],
        org=list(org),
        email_domain=list(email_domain),
        payment=list(payment),
        country=[countries[int(i)] for i in rng.integers(0, len(countries), n)],
        tier=[tiers[int(i)] for i in rng.integers(0, len(tiers), n)],
        user_agent=list(user_agent),
        channel=list(channel),
        logs_response=list(rng.random(n) < p_logs),
        ips=[list(x) for x in ips],
        n_keys=[int(k) for k in rng.integers(n_keys[0], n_keys[1] + 1, n)],
    )


@dataclass(frozen=True)
class _Family:
    """A campaign template family: templates split at their holes, one category per language."""

    name: str
    weight: float
    pool: HoledPool


def _families(
    filler: Filler, doc: Mapping[str, Any], languages: Sequence[str], size: int
) -> list[_Family]:
    """Template families of a campaign; a language without templates falls back to English."""
    out = []
    for name, spec in doc.items():
        groups = [
            filler.fill_many(strings(spec.get(lang) or spec["en"], name), size)
            for lang in languages
        ]
        pool = HoledPool.of(strings(spec["holes"], "holes"), groups, name)
        out.append(_Family(str(name), float(spec["weight"]), pool))
    return out


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
        doc = get_path(world.text.campaigns, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        n, per_account = _campaign_size(world, HARVESTER)
        self.n = n
        p = world.period
        self.first_day = max(1, int(p.n_days * rng.uniform(0.08, 0.14)))
        self.last_day = min(p.n_days - 1, self.first_day + int(p.n_days * 0.62))
        signup = p.start_us + self.first_day * DAY_US
        created = sorted(signup - rng.uniform(2, 12, n) * DAY_US)
        n_cards = 4 if n <= 40 else math.ceil(n / 10)
        cards = world.ids("card", "pf_", n_cards)
        consumer = strings(get_path(world.text.common, "email_domains.consumer"), "consumer")
        domain = str(doc["email_domain"])
        orgs = world.ids("org", "org_", n)
        subnets = random_subnets(rng, world, "datacenter", 2 + n // 40)
        self.ip_pool = pa.array(
            [ip for s in subnets for ip in random_hosts(rng, s, 3 + n // 16)], pa.string()
        )
        uas = strings(doc["user_agents"], "user_agents")
        block = _campaign_block(
            world,
            rng,
            group=self.name,
            created=created,
            org=[orgs[i] if rng.random() < 0.3 else None for i in range(n)],
            email_domain=[
                domain if rng.random() < 0.65 else filler.pick(consumer) for _ in range(n)
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

        # Bursts of waves: one scheduler sends a wave every minute or two in which every account
        # of the farm fires once, round-robin, so the accounts are busy in the same minutes and
        # the whole farm starts and stops together.
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
        self.bursts = [
            (int(s), int(w), int(rng.uniform(60, 150) * US))
            for s, w in zip(starts, waves, strict=True)
        ]

        self.languages = ("en", "zh")
        if set(doc["families"]) != set(self._OUT):
            raise SampleError(f"sample text: {self.name} families must be {sorted(self._OUT)}")
        size = pool_size(world, 60)
        self.families = _families(filler, doc["families"], self.languages, size)
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
        doc = get_path(world.text.campaigns, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        n, per_account = _campaign_size(world, HYDRA)
        self.n = n
        p = world.period
        release_day = (p.release_us - p.start_us) / DAY_US

        # Three account waves, each created in a burst of a few hours; banned accounts of the
        # first wave are replaced by the next ("when one account is banned, a new one takes
        # its place").
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

        # A few /24s, residential and datacenter proxies mixed; each wave favours its own.
        n_sub = max(3, round(n / 15))
        n_dc = max(1, n_sub * 2 // 5)
        pool = world.proxy_subnets
        residential = [pool[int(i)] for i in rng.choice(len(pool), n_sub - n_dc, replace=False)]
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
        block = _campaign_block(
            world,
            rng,
            group=self.name,
            created=list(created.astype(np.int64)),
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
        self.pivot_us = p.release_us + int(rng.uniform(3, 8) * HOUR_US)

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
        doc = get_path(world.text.campaigns, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc.get("slots", {}))
        n = max(MIN_CAMPAIGN_ACCOUNTS, round(LOWVOL[0] * world.scale))
        self.n = n
        p = world.period
        start_day = rng.uniform(1, p.n_days - 8, n)
        self.start_us = (p.start_us + start_day * DAY_US).astype(np.int64)
        self.end_us = (self.start_us + rng.uniform(2, 7, n) * DAY_US).astype(np.int64)
        self.total = rng.integers(30, 61, n).astype(np.float64)
        created = self.start_us - rng.uniform(3, 40, n) * DAY_US
        consumer = strings(get_path(world.text.common, "email_domains.consumer"), "consumer")
        ua = str(doc["user_agent"])
        signup = world.residential_ips(rng, n).to_pylist()
        block = _campaign_block(
            world,
            rng,
            group=self.name,
            created=list(created.astype(np.int64)),
            org=[None] * n,
            email_domain=[filler.pick(consumer) for _ in range(n)],
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
        self.families = _families(filler, fams, ("en",), pool_size(world, 40))
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
    consumer = strings(get_path(world.text.common, "email_domains.consumer"), "consumer")
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
            company_domain(filler, world) if own_org[i] else filler.pick(consumer) for i in range(n)
        ],
        payment=list(world.ids("card", "pf_", n)),
        country=[str(countries[i]["code"]) for i in c_idx],
        tier=[["build", "free", "scale"][int(i)] for i in choice(rng, [60, 30, 10], n)],
        user_agent=world.draw_user_agents(rng, n),
        channel=["api"] * n,
        logs_response=list(rng.random(n) < 0.38),
        ips=home_addresses(rng, world, n),
        n_keys=[1] * n,
    )


class DataPipeline(Population):
    """A public data-generation pipeline run through aged accounts that share nothing: a few
    short runs per account, a few dozen requests each. Only the prompts show it."""

    name = "data_pipeline"

    def __init__(self, world: World) -> None:
        self.world = world
        doc = get_path(world.text.campaigns, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc["slots"])
        n = max(MIN_CAMPAIGN_ACCOUNTS, round(PIPELINE[0] * world.scale))
        self.n = n
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
        lengths = self.run_len[due]
        n = int(lengths.sum())
        acct = np.repeat(self.run_acct[due], lengths)
        gaps = (rng.lognormal(math.log(14.0), 0.6, n) * US).astype(np.int64)
        gaps[positions_in_segment(lengths) == 0] = 0
        ts = np.repeat(self.run_start[due], lengths) + segment_offsets(gaps, lengths)
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
        doc = get_path(world.text.campaigns, self.name)
        rng = world.rng("accounts", self.name)
        filler = world.filler(self.name, slots=doc["slots"])
        n = max(MIN_CAMPAIGN_ACCOUNTS, round(SWARM[0] * world.scale))
        self.n = n
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
        turns = np.minimum(3 + rng.geometric(0.12, total), 40)
        R = int(turns.sum())
        row_sess = np.repeat(np.arange(total), turns)
        turn = positions_in_segment(turns)
        gaps = (rng.lognormal(math.log(9.0), 0.6, R) * US).astype(np.int64)
        gaps[turn == 0] = 0
        ts = start[row_sess] + segment_offsets(gaps, turns)
        first = turn == 0
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
        last = turn == turns[row_sess] - 1
        stop[~last] = TOOL_USE
        glob = self.base + acct[row_sess]
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, total)[row_sess],
            turn=turn,
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
