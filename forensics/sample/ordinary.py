"""Ordinary customers: individuals with their own accounts, cards and home lines."""

from __future__ import annotations

import numpy as np

from forensics.sample.arrays import choice
from forensics.sample.base import (
    CHANNELS,
    DAY_US,
    HOUR_US,
    US,
)
from forensics.sample.clock import Window
from forensics.sample.everyday import everyday_behaviour, everyday_rows
from forensics.sample.ordinary_text import OrdinaryText
from forensics.sample.rows import Rows
from forensics.sample.text import get_path
from forensics.sample.world import (
    AccountBlock,
    Population,
    World,
    company_domain,
    home_addresses,
)

# Volume at scale 1: (accounts, requests).
ORDINARY = (1500, 57_000)


class Ordinary(Population):
    """Ordinary individuals: heavy-tailed volume, local diurnal rhythm, multi-turn chats."""

    name = "ordinary"

    def __init__(self, world: World, text: OrdinaryText) -> None:
        self.world, self.text = world, text
        rng = world.rng("accounts", "ordinary")
        filler = world.filler("accounts", "ordinary")
        n = max(40, round(ORDINARY[0] * world.scale))
        budget = ORDINARY[1] * world.scale
        period = world.period
        countries = get_path(world.text.common, "countries")
        c_idx = choice(rng, [float(c["weight"]) for c in countries], n)
        lang = np.array([text.languages.index(str(countries[i]["language"])) for i in c_idx])
        offsets = world.utc_offsets(rng, c_idx)
        profile_name = np.where(rng.random(n) < 0.45, "office", "consumer")
        profile = np.array(
            [world.profiles.group(str(p), o) for p, o in zip(profile_name, offsets, strict=True)]
        )

        # Activity span: most accounts all quarter, some sign up or churn during it.
        start = np.zeros(n, dtype=np.int64)
        end = np.full(n, period.n_days, dtype=np.int64)
        kind = rng.random(n)
        newcomer = kind < 0.14
        start[newcomer] = rng.integers(1, period.n_days - 3, newcomer.sum())
        churn = (kind >= 0.14) & (kind < 0.22)
        end[churn] = rng.integers(5, period.n_days, churn.sum())

        # Heavy-tailed volume, capped so one account never dominates a small sample.
        weight = np.minimum(rng.pareto(1.25, n) + 0.15, 60.0)
        active_days = np.maximum(end - start, 1)
        mean_turns = 2.0
        sessions_per_day = weight / weight.sum() * budget / mean_turns / active_days

        created_days = np.where(newcomer, start - rng.uniform(0, 1.5, n), -rng.uniform(2, 900, n))
        created = [int(period.start_us + d * DAY_US) // US * US for d in created_days]

        # Organisations: most accounts have none or their own. (Teams that share one are
        # populations of their own, in groups.py.)
        org_ids = world.ids("org", "org_", n)
        own_org = rng.random(n) < 0.35
        own_domain = rng.random(n) < 0.5
        org: list[str | None] = [org_ids[i] if own_org[i] else None for i in range(n)]
        domains = [
            company_domain(filler, world) if own_org[i] and own_domain[i]
            else filler.pick(world.consumer_domains)
            for i in range(n)
        ]
        tiers = ["free", "build", "scale", "startup", "enterprise", "education"]
        tier_idx = choice(rng, [45, 38, 8, 4, 2, 3], n)
        ch_idx = choice(rng, [90, 4, 3, 3], n)
        block = AccountBlock(
            label="ordinary",
            group=["ordinary"] * n,
            created_us=created,
            org=org,
            email_domain=domains,
            payment=list(world.ids("card", "pf_", n)),
            country=[str(countries[i]["code"]) for i in c_idx],
            tier=[tiers[i] for i in tier_idx],
            user_agent=world.draw_user_agents(rng, n),
            channel=[CHANNELS[i] for i in ch_idx],
            logs_response=list(rng.random(n) < 0.38),
            ips=home_addresses(rng, world, n),
            n_keys=list(1 + choice(rng, [70, 22, 6, 2], n)),
        )
        base = world.add(block)
        self.everyday = everyday_behaviour(
            world, text, rng, base=base, lang=lang, profile=profile, start_day=start,
            end_day=end, sessions_per_day=sessions_per_day,
        )

    def rows(self, win: Window) -> Rows | None:
        rng = self.world.rng(self.name, win.start_us // HOUR_US)
        return everyday_rows(self.world, self.text, self.everyday, rng, win)
