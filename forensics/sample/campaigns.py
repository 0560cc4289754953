"""Distillation campaigns planted in the sample: what they share.

Each campaign is a population of its own module: `farms` (one large account farm: the
reasoning harvester and the hydra proxy) and `stealth` (accounts that share little: templated
low-volume accounts on rotating proxies, a data pipeline and an agentic swarm on aged accounts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from forensics.sample.base import US
from forensics.sample.text import Filler, HoledPool, strings
from forensics.sample.world import (
    AccountBlock,
    World,
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


def campaign_start(
    world: World, name: str
) -> tuple[Mapping[str, Any], Filler, np.random.Generator]:
    """What a campaign's constructor starts from: its part of campaigns.yaml, a filler with
    its slots, and the random stream its accounts are drawn from."""
    doc, filler = world.text_of(world.text.campaigns, name)
    return doc, filler, world.rng("accounts", name)


def campaign_accounts(world: World, accounts: int) -> int:
    """A campaign's accounts at this scale, from its `accounts` at scale 1."""
    return max(MIN_CAMPAIGN_ACCOUNTS, round(accounts * world.scale))


def campaign_size(world: World, base: tuple[int, int]) -> tuple[int, float]:
    """Accounts and requests per account of a campaign at this scale."""
    accounts = campaign_accounts(world, base[0])
    per_account = max(MIN_CAMPAIGN_ACCOUNT_REQUESTS, base[1] * world.scale / accounts)
    return accounts, per_account


def campaign_block(
    rng: np.random.Generator,
    *,
    group: str,
    created: Sequence[float] | np.ndarray,
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
    """A campaign's accounts (`created`: sign-up times in microseconds) with the columns given;
    country, tier, response logging and the number of API keys drawn per account."""
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
class Family:
    """A campaign template family: templates split at their holes, one category per language."""

    name: str
    weight: float
    pool: HoledPool


def families(
    filler: Filler, doc: Mapping[str, Any], languages: Sequence[str], size: int
) -> list[Family]:
    """Template families of a campaign; a language without templates falls back to English."""
    out = []
    for name, spec in doc.items():
        groups = [
            filler.fill_many(strings(spec.get(lang) or spec["en"], name), size)
            for lang in languages
        ]
        pool = HoledPool.of(strings(spec["holes"], "holes"), groups, name)
        out.append(Family(str(name), float(spec["weight"]), pool))
    return out
