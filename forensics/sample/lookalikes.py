"""Benign look-alikes that run batches: eval companies, enterprise batch jobs, research labs.

Their organisations' accounts are built here for every look-alike (`org_block`); the
look-alike products with real users (agent products, tutoring apps) are in `products`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forensics.sample.arrays import (
    Sessions,
    choice,
    outputs,
    rand_u64,
)
from forensics.sample.base import (
    DAY_US,
    END_TURN,
    HOUR_US,
    MAX_TOKENS,
    US,
)
from forensics.sample.clock import Window
from forensics.sample.rows import Rows, make_rows
from forensics.sample.text import Filler, HoledPool, Pool, get_path, strings
from forensics.sample.world import (
    AccountBlock,
    Population,
    RhythmicPopulation,
    World,
    days_before,
    events_per_day,
    pool_size,
    random_hosts,
    random_subnets,
    slugify,
)

# Volumes at scale 1: (accounts, requests) per organisation; the number of organisations of
# each kind grows with the scale.
EVAL = (5, 3_000)
ENTERPRISE = (3, 9_500)
AGENT = (10, 7_000)
RESEARCH = (5, 2_000)
TUTORING = (4, 3_000)


def org_block(
    world: World,
    rng: np.random.Generator,
    *,
    group: str,
    n: int,
    country: str,
    tier: Sequence[str],
    domain: str,
    user_agent: Sequence[str],
    ips: Sequence[str],
    created_days: tuple[float, float],
    logs_response: bool,
    n_keys: tuple[int, int] = (1, 2),
) -> AccountBlock:
    """Accounts of one verified organisation: one org id, one card, its own address range."""
    org = world.ids("org", "org_", 1)[0]
    card = world.ids("card", "pf_", 1)[0]
    return AccountBlock(
        label="lookalike",
        group=[group] * n,
        created_us=sorted(days_before(world, rng, *created_days, n)),
        org=[org] * n,
        email_domain=[domain] * n,
        payment=[card] * n,
        country=[country] * n,
        tier=[tier[i % len(tier)] for i in range(n)],
        user_agent=[user_agent[i % len(user_agent)] for i in range(n)],
        channel=["api"] * n,
        logs_response=[logs_response] * n,
        ips=[[ips[(i + j) % len(ips)] for j in range(len(ips))] for i in range(n)],
        n_keys=[int(rng.integers(n_keys[0], n_keys[1] + 1)) for _ in range(n)],
    )


def org_name(filler: Filler, names: Sequence[str], org: int) -> str:
    base = names[org % len(names)]
    return base if org < len(names) else f"{base} {filler.between(2, 99)}"


class EvalCompany(Population):
    """Benchmark companies: scheduled test-set runs at temperature 0, day one on a new model."""

    name = "eval_company"

    def __init__(self, world: World, n_orgs: int) -> None:
        self.world = world
        doc, filler = world.text_of(world.text.lookalikes, self.name)
        self.per_org = EVAL[0]
        volume = EVAL[1] * world.scale / n_orgs
        bench = max(40, int(volume / 5))
        self._build_bench(doc, filler, bench)

        p = world.period
        release_day = (p.release_us - p.start_us) // DAY_US
        self.runs: list[tuple[int, int, int, int, int]] = []  # start, model, items, base, offset
        self.base = world.n_accounts
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            name = org_name(world.filler(self.name, org), strings(doc["org_names"], "names"), org)
            dc = random_subnets(rng, world, "datacenter", 1)[0]
            base = world.add(
                org_block(
                    world,
                    rng,
                    group=self.name,
                    n=self.per_org,
                    country="US",
                    tier=["enterprise"],
                    domain=slugify(name).replace("-", "") + ".ai",
                    user_agent=[str(doc["user_agent"])],
                    ips=random_hosts(rng, dc, 4),
                    created_days=(200, 600),
                    logs_response=True,
                )
            )
            # A few runs on existing models before the release, one within hours of it on
            # the new model, and a re-run of half the benchmark a couple of weeks later.
            offset = int(rng.integers(0, bench))
            for model in (world.flagship, world.small, world.previous):
                day = int(rng.integers(2, max(3, release_day - 3)))
                start = p.start_us + day * DAY_US + int(rng.uniform(13, 20) * HOUR_US)
                self.runs.append((start, model, bench, base, offset))
            first = p.release_us + int(rng.uniform(1.5, 5.0) * HOUR_US)
            self.runs.append((first, world.new_model_idx, bench, base, offset))
            later = min(p.n_days - 2, release_day + int(rng.integers(8, 25)))
            start = p.start_us + later * DAY_US + int(rng.uniform(13, 20) * HOUR_US)
            self.runs.append((start, world.new_model_idx, bench // 2, base, offset))
        self.runs.sort()

    def _build_bench(self, doc: Mapping[str, Any], filler: Filler, size: int) -> None:
        """Benchmark items (with answers) re-run on every model: exact repeats across runs."""
        mcq = doc["mcq_items"]
        letters = "ABCD"

        def mcq_block(item: Mapping[str, Any], with_answer: bool) -> str:
            opts = "\n".join(
                f"{letters[k]}. {filler.fill(str(o))}" for k, o in enumerate(item["options"])
            )
            tail = f" {item['answer']}" if with_answer else ""
            return f"{filler.fill(str(item['q']))}\n{opts}\nAnswer:{tail}"

        items, answers, kinds = [], [], []
        for _ in range(size):
            u = filler.uniform()
            if u < 0.7:
                shots = [
                    mcq_block(mcq[int(filler.uniform() * len(mcq))], True)
                    for _ in range(filler.between(0, 5))
                ]
                item = mcq[int(filler.uniform() * len(mcq))]
                header = filler.fill(str(doc["mcq_header"]))
                items.append("\n\n".join([header, *shots, mcq_block(item, False)]))
                answers.append(" " + str(item["answer"]))
                kinds.append(0)
            elif u < 0.88:
                item = doc["shortqa_items"][int(filler.uniform() * len(doc["shortqa_items"]))]
                question = str(doc["shortqa_format"]).replace("{{@q}}", filler.fill(str(item["q"])))
                items.append(str(doc["shortqa_header"]) + question)
                answers.append(" " + filler.fill(str(item["a"])))
                kinds.append(1)
            else:
                item = doc["code_items"][int(filler.uniform() * len(doc["code_items"]))]
                items.append(str(doc["code_header"]) + filler.fill(str(item["prompt"])))
                answers.append(str(item["answer"]))
                kinds.append(2)
        self.items = pa.array(items, pa.string())
        self.answers = pa.array(answers, pa.string())
        self.kinds = np.array(kinds, dtype=np.int64)

    def rows(self, win: Window) -> Rows | None:
        starting = [r for r in self.runs if win.start_us <= r[0] < win.end_us]
        if not starting:
            return None
        parts = []
        for start, model, n, base, offset in starting:
            rng = self.world.rng(self.name, base, start // US)
            # Fixed concurrency: about one request every 1-3 seconds, rotating over workers.
            step = rng.uniform(1.0, 3.0) * US
            ts = start + (np.arange(n) * step + rng.random(n) * step * 0.5).astype(np.int64)
            item = (offset + np.arange(n)) % len(self.items)
            acct = base + np.arange(n) % self.per_org
            kinds = self.kinds[item]
            max_tokens = np.array([5, 32, 512])[kinds]
            out = np.where(
                kinds == 0,
                1,
                np.where(kinds == 1, rng.integers(2, 9, n), rng.integers(40, 160, n)),
            )
            out = np.minimum(out, max_tokens)
            parts.append(
                make_rows(
                    acct=acct,
                    ts=ts,
                    conv=rand_u64(rng, n),
                    turn=0,
                    model=model,
                    system=-1,
                    prompt=self.items.take(item),
                    response=self.answers.take(item),
                    ip=self.world.pick_ips(rng, acct),
                    key=self.world.pick_keys(rng, acct),
                    out_tokens=out,
                    max_tokens=max_tokens,
                    tool_count=0,
                    temperature=0.0,
                    thinking=False,
                    stop=np.where(out >= max_tokens, MAX_TOKENS, END_TURN),
                )
            )
        return Rows.concat(parts)


class EnterpriseBatch(Population):
    """Enterprises summarising their support tickets: big templated volume, flat 24/7."""

    name = "enterprise_batch"

    def __init__(self, world: World, n_orgs: int) -> None:
        self.world = world
        doc, filler = world.text_of(world.text.lookalikes, self.name)
        lines = strings(doc["lines"], "lines")
        products = strings(get_path(doc, "slots.product"), "slots.product")
        instructions = strings(doc["instructions"], "instructions")
        tickets = []
        for _ in range(pool_size(world, 400)):
            # One product per ticket, named the same way in the header and in the text.
            product = filler.pick(products)

            def fill(template: str, product: str = product) -> str:
                return filler.fill(template.replace("{{product}}", product))

            body = " ".join(fill(line) for line in filler.sample(lines, filler.between(2, 7)))
            # The ticket number is a hole: it grows with time like a real ticket system's.
            tickets.append(filler.pick(instructions) + "\n\n" + fill(str(doc["fields"])) + body)
        self.tickets = HoledPool.of(["no"], [tickets], "enterprise tickets")
        self.responses = Pool.of([filler.fill_many([str(doc["response"])], 200)])

        self.base = world.n_accounts
        system, first_ticket = [], []
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            org_filler = world.filler(self.name, org, slots=doc.get("slots", {}))
            company = org_name(org_filler, strings(doc["company_names"], "names"), org)
            dc = random_subnets(rng, world, "datacenter", 1)[0]
            block = org_block(
                world,
                rng,
                group=self.name,
                n=ENTERPRISE[0],
                country=["US", "DE", "GB"][org % 3],
                tier=["enterprise"],
                domain=slugify(company).split("-")[0] + ".com",
                user_agent=[str(doc["user_agent"])],
                ips=random_hosts(rng, dc, 2),
                created_days=(120, 500),
                logs_response=False,
            )
            world.add(block)
            text = str(doc["system"]).replace("{{company}}", company)
            system += [world.system_id(org_filler.fill(text))] * len(block)
            first_ticket += [int(rng.integers(2_000_000, 9_000_000))] * len(block)
        self.n = world.n_accounts - self.base
        self.system = np.array(system, dtype=np.int64)
        self.first_ticket = np.array(first_ticket, dtype=np.int64)
        self.per_hour = ENTERPRISE[1] * world.scale / (world.period.n_days * 24) / self.n

    def rows(self, win: Window) -> Rows | None:
        rng = self.world.rng(self.name, win.start_us // HOUR_US)
        counts = rng.poisson(self.per_hour * win.hours, self.n)
        n = int(counts.sum())
        if n == 0:
            return None
        local = np.repeat(np.arange(self.n), counts)
        acct = self.base + local
        ts = win.start_us + (rng.random(n) * (win.end_us - win.start_us)).astype(np.int64)
        elapsed = (ts - self.world.period.start_us) // (40 * US)
        ticket_no = self.first_ticket[local] + elapsed + rng.integers(0, 40, n)
        zero = np.zeros(n, dtype=np.int64)
        prompt = self.tickets.render(
            self.tickets.pick(rng, zero), [pc.cast(pa.array(ticket_no), pa.string())]
        )
        max_tokens = np.full(n, 400, dtype=np.int32)
        out, stop = outputs(rng, 120.0, 0.3, max_tokens)
        return make_rows(
            acct=acct,
            ts=ts,
            conv=rand_u64(rng, n),
            turn=0,
            model=self.world.small,
            system=self.system[local],
            prompt=prompt,
            response=self.responses.draw(rng, zero),
            ip=self.world.pick_ips(rng, acct),
            key=self.world.pick_keys(rng, acct),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=0.0,
            thinking=False,
            stop=stop,
        )


class ResearchGroup(RhythmicPopulation):
    """University labs: judge and step-by-step harness batches in working hours."""

    name = "research_group"

    def __init__(self, world: World, n_orgs: int) -> None:
        self.world = world
        doc = get_path(world.text.lookalikes, self.name)
        filler = world.filler(self.name, slots={"math_problem": doc["math_problems"]})
        # The labs' eval sets are fixed, so the same items recur across runs and models.
        # Categories: pairwise (better answer first), pairwise (second), single, cot, boxed.
        pair_first, pair_second, single, cot = [], [], [], []
        for item in doc["qa"]:
            question = str(item["question"])
            good, weak = (str(a) for a in item["answers"][:2])
            pairwise = str(doc["judge_pairwise"]).replace("{{@question}}", question)
            pair_first.append(pairwise.replace("{{@a}}", good).replace("{{@b}}", weak))
            pair_second.append(pairwise.replace("{{@a}}", weak).replace("{{@b}}", good))
            judge = str(doc["judge_single"]).replace("{{@question}}", question)
            single += [judge.replace("{{@a}}", good), judge.replace("{{@a}}", weak)]
            cot.append(str(doc["cot_harness"]).replace("{{@question}}", question))
        boxed = filler.fill_many([str(doc["boxed"])], pool_size(world, 60))
        self.prompts = Pool.of([pair_first, pair_second, single, cot, boxed])
        verdicts = strings(doc["responses_judge"], "responses_judge")
        self.responses = Pool.of(
            [
                filler.fill_many([verdicts[0], verdicts[2]], 20),
                filler.fill_many([verdicts[1], verdicts[2]], 20),
                filler.fill_many(verdicts[3:], 20),
                filler.fill_many(strings(doc["responses_cot"], "responses_cot"), 20),
                filler.fill_many(strings(doc["responses_boxed"], "responses_boxed"), 20),
            ]
        )

        self.base = world.n_accounts
        unis = doc["universities"]
        group: list[int] = []
        for org in range(n_orgs):
            rng = world.rng("accounts", self.name, org)
            uni = unis[org % len(unis)]
            domain = str(uni["domain"])
            if org >= len(unis):
                domain = f"u{org}.{domain}"
            subnet = random_subnets(rng, world, "datacenter", 1)[0]
            hosts = random_hosts(rng, subnet, RESEARCH[0] + 2)
            block = org_block(
                world,
                rng,
                group=self.name,
                n=RESEARCH[0],
                country=str(uni["country"]),
                tier=["research", "education"],
                domain=f"cs.{domain}",
                user_agent=strings(doc["user_agents"], "user_agents"),
                ips=hosts,
                created_days=(20, 500),
                logs_response=True,
            )
            # Each researcher works from their own workstation and the lab's shared GPU node.
            block.ips = [[hosts[i + 2], hosts[0]] for i in range(len(block))]
            world.add(block)
            group += [world.profiles.group("lab", int(uni["offset"]))] * len(block)
        self.n = world.n_accounts - self.base
        self.group = np.array(group, dtype=np.int64)
        self.events_per_day = events_per_day(world, RESEARCH[1], rows_per_event=45.0, n=self.n)

    def event_rows(self, rng: np.random.Generator, acct: np.ndarray, start: np.ndarray) -> Rows:
        world = self.world
        total = len(acct)
        batches = Sessions.of(rng.integers(15, 80, total))
        R = len(batches)
        row_b = batches.session
        ts = batches.times(start, rng.exponential(6.0, R))
        kind = choice(rng, [35, 20, 25, 20], total)
        old = np.array([world.flagship, world.small, world.previous])
        model = old[rng.integers(0, 3, total)]
        late = (start > world.period.release_us + 2 * DAY_US) & (rng.random(total) < 0.5)
        model = np.where(late, world.new_model_idx, model)
        temp = np.where(kind < 2, 0.0, rng.choice([0.0, 0.7, 1.0], total))
        k = kind[row_b]
        # Pool category: pairwise rows put the better answer first or second at random.
        cat = np.where(k == 0, rng.integers(0, 2, R), k + 1)
        max_tokens = np.array([1024, 1024, 2048, 4096])[k]
        out, stop = outputs(rng, np.array([180.0, 120.0, 450.0, 900.0])[k], 0.6, max_tokens)
        glob = self.base + acct[row_b]
        return make_rows(
            acct=glob,
            ts=ts,
            conv=rand_u64(rng, R),
            turn=0,
            model=model[row_b],
            system=-1,
            prompt=self.prompts.draw(rng, cat),
            response=self.responses.draw(rng, cat),
            ip=world.pick_ips(rng, glob),
            key=world.pick_keys(rng, glob),
            out_tokens=out,
            max_tokens=max_tokens,
            tool_count=0,
            temperature=temp[row_b],
            thinking=False,
            stop=stop,
        )
