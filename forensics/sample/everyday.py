"""Everyday use of the API by ordinary people, whichever population they belong to."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from forensics.sample.arrays import (
    Sessions,
    choice,
    lognormal_int,
    outputs,
    rand_u64,
    replace_at,
)
from forensics.sample.base import (
    MAX_TOKENS,
    TOOL_USE,
)
from forensics.sample.clock import Window
from forensics.sample.ordinary_text import OrdinaryText
from forensics.sample.rows import Rows, make_rows
from forensics.sample.text import Pool
from forensics.sample.world import World


@dataclass
class Everyday:
    """Per-account everyday behaviour, shared by every population of ordinary people.

    An individual, a member of a company team, a student or a hackathon participant all use
    the API the same way: sessions drawn from their local weekly rhythm, a main topic, their
    own settings. Populations differ in who the accounts are (cards, networks, sign-ups) and
    in when they are active, which they set here.
    """

    base: int  # global index of the first account
    lang: np.ndarray
    profile: np.ndarray  # Profiles group (weekly rhythm and UTC offset) per account
    start_day: np.ndarray  # active from this day of the period ...
    end_day: np.ndarray  # ... until this one (exclusive)
    sessions_per_day: np.ndarray  # at an average hour of the account's rhythm
    main_topic: np.ndarray
    p_english: np.ndarray
    temperature: np.ndarray
    max_tokens: np.ndarray
    tools: np.ndarray
    p_thinking: np.ndarray
    pinned_model: np.ndarray
    system_idx: np.ndarray
    verbosity: np.ndarray  # multiplies the topic's typical answer length
    # Developers who run a coding agent through the SDK: long loops of tool calls and results.
    agent: np.ndarray
    # How each account spreads its requests over its addresses: > 1 favours the first ones
    # (home, office); 1 is uniform (a VPN or a phone hopping between networks).
    ip_skew: np.ndarray
    # Shared first-turn texts of a group (a class's exercises, a team's internal tool), drawn
    # with probability p_shared per session from the account's category of `shared`.
    shared: Pool | None = None
    shared_cat: np.ndarray | None = None
    p_shared: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.lang)


def everyday_behaviour(
    world: World,
    text: OrdinaryText,
    rng: np.random.Generator,
    *,
    base: int,
    lang: np.ndarray,
    profile: np.ndarray,
    start_day: np.ndarray,
    end_day: np.ndarray,
    sessions_per_day: np.ndarray,
    topic_weights: np.ndarray | None = None,
) -> Everyday:
    """Draw what each of n ordinary accounts does; who they are is the population's business."""
    n = len(lang)
    weights = text.topic_weights if topic_weights is None else topic_weights
    temps = np.array([1.0, 0.7, 0.0, 0.2, 0.3, 0.5, 0.8, 1.0])
    maxes = np.array([1024, 2048, 4096, 8192, 1000, 4000, 16000, 512, 32000, 64000])
    # A quarter of accounts stay on one model whatever is released (pinned in their code).
    pinned = np.array([world.previous, world.small, world.flagship, world.flagship])
    agent = rng.random(n) < 0.05
    tools = np.where(rng.random(n) < 0.14, rng.integers(1, 12, n), 0)
    tools = np.where(agent, rng.integers(6, 20, n), tools)
    system_idx = np.where(
        rng.random(n) < 0.3, text.system_ids[text.systems.pick(rng, lang)], -1
    ).astype(np.int64)
    # Half the agent users run a popular open-source agent framework, prompt and all.
    framework = agent & (rng.random(n) < 0.5)
    system_idx[framework] = text.framework_ids[rng.integers(0, len(text.framework_ids),
                                                            int(framework.sum()))]
    return Everyday(
        base=base,
        lang=lang,
        profile=profile,
        start_day=start_day,
        end_day=end_day,
        sessions_per_day=sessions_per_day,
        main_topic=choice(rng, weights, n),
        # English for part of non-English speakers' sessions.
        p_english=np.where(lang == 0, 1.0, rng.uniform(0.05, 0.3, n)),
        temperature=temps[choice(rng, [30, 22, 10, 8, 8, 10, 6, 6], n)],
        max_tokens=maxes[choice(rng, [14, 16, 22, 14, 8, 8, 8, 5, 4, 1], n)],
        tools=tools,
        # Extended thinking: some people turn it on for everything, most never.
        p_thinking=np.where(rng.random(n) < 0.22, rng.uniform(0.3, 1.0, n), 0.02),
        pinned_model=np.where(rng.random(n) < 0.25, pinned[rng.integers(0, 4, n)], -1),
        system_idx=system_idx,
        # Some people want one-line answers, others whole reports.
        verbosity=np.exp(0.7 * rng.standard_normal(n)),
        agent=agent,
        ip_skew=np.where(rng.random(n) < 0.15, 1.0, 2.5),  # see home_addresses
    )


def everyday_rows(
    world: World, text: OrdinaryText, e: Everyday, rng: np.random.Generator, win: Window
) -> Rows | None:
    """One window of everyday sessions: multi-turn chats, follow-ups, tool loops."""
    active = (e.start_day <= win.day) & (win.day < e.end_day)
    drawn = world.profiles.events(rng, e.profile, e.sessions_per_day, win, active)
    if drawn is None:
        return None
    acct, start = drawn
    total = len(acct)
    s = Sessions.of(_turns(e, rng, acct))
    ts = s.times(start, rng.lognormal(math.log(70.0), 0.9, len(s)))
    row_acct = acct[s.session]

    # Per conversation: language, topic and model stay the same across its turns.
    english = rng.random(total) < e.p_english[acct]
    s_lang = np.where(english, 0, e.lang[acct])
    s_topic = np.where(
        rng.random(total) < 0.6, e.main_topic[acct], choice(rng, text.topic_weights, total)
    )
    s_model = world.ordinary_models(rng, start)
    pinned = e.pinned_model[acct]
    s_model = np.where(pinned >= 0, pinned, s_model)
    lang, topic = s_lang[s.session], s_topic[s.session]
    tools = e.tools[row_acct]
    # In a tool loop, the message after a tool call is the tool's result.
    p_result = np.where(e.agent[row_acct], 0.9, 0.5)
    tool_result = ~s.first & (tools > 0) & (rng.random(len(s)) < p_result)
    prompt = _prompts(text, e, rng, s, acct, lang, topic, tool_result)
    response = text.responses_for(rng, lang, topic)
    temperature, max_tokens, out, stop, thinking = _generation(text, e, rng, s, row_acct,
                                                               topic, tools)
    glob = e.base + row_acct
    return make_rows(
        acct=glob,
        ts=ts,
        conv=rand_u64(rng, total)[s.session],
        turn=s.turn,
        model=s_model[s.session],
        system=e.system_idx[row_acct],
        prompt=prompt,
        response=response,
        ip=world.pick_ips(rng, glob, e.ip_skew[row_acct]),
        key=world.pick_keys(rng, glob),
        out_tokens=out,
        max_tokens=max_tokens,
        tool_count=tools,
        temperature=temperature,
        thinking=thinking,
        stop=stop,
    )


def _turns(e: Everyday, rng: np.random.Generator, acct: np.ndarray) -> np.ndarray:
    """Turns of each session: a few in a chat, more in a tool loop, dozens in an agent's run."""
    total = len(acct)
    turns = np.minimum(rng.geometric(0.55, total), 12)
    turns = np.where(e.tools[acct] > 0, np.minimum(turns + rng.integers(0, 5, total), 16), turns)
    return np.where(e.agent[acct], np.minimum(2 + rng.geometric(0.08, total), 60), turns)


def _prompts(
    text: OrdinaryText,
    e: Everyday,
    rng: np.random.Generator,
    s: Sessions,
    acct: np.ndarray,
    lang: np.ndarray,
    topic: np.ndarray,
    tool_result: np.ndarray,
) -> pa.Array:
    """Each row's prompt: what everybody asks, and on first turns now and then one of the
    group's shared texts (`acct`: each session's account)."""
    prompt = text.openings(rng, text.prompts(rng, lang, topic, s.first, tool_result), s.turn,
                           s.session, ~tool_result)
    if e.shared is not None and e.shared_cat is not None and e.p_shared is not None:
        s_shared = rng.random(len(acct)) < e.p_shared[acct]
        rows_shared = np.flatnonzero(s.first & s_shared[s.session])
        drawn = e.shared.draw(rng, e.shared_cat[acct[s.session][rows_shared]])
        prompt = replace_at(prompt, rows_shared, drawn)
    return prompt


def _generation(
    text: OrdinaryText,
    e: Everyday,
    rng: np.random.Generator,
    s: Sessions,
    row_acct: np.ndarray,
    topic: np.ndarray,
    tools: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How each request is answered: its temperature and max_tokens, then the answer's output
    tokens, stop reason and extended thinking."""
    R = len(s)
    temperature = np.where(
        rng.random(R) < 0.15, rng.choice([0.0, 0.5, 0.7, 1.0], R), e.temperature[row_acct]
    )
    max_tokens = e.max_tokens[row_acct]
    out, stop = outputs(rng, text.out_median[topic] * e.verbosity[row_acct], 0.75, max_tokens,
                        0.01)
    tool_stop = (tools > 0) & (rng.random(R) < 0.4) & ~s.last
    stop[tool_stop] = TOOL_USE
    out[tool_stop] = np.minimum(
        lognormal_int(rng, 110, 0.6, int(tool_stop.sum())), max_tokens[tool_stop]
    )
    # Thinking tokens are billed, and logged, as output: with extended thinking on, an answer
    # of a few hundred words can cost thousands of output tokens.
    thinking = rng.random(R) < e.p_thinking[row_acct]
    k = int(thinking.sum())
    out[thinking] = np.minimum(out[thinking] + lognormal_int(rng, 1800.0, 0.9, k),
                               max_tokens[thinking])
    stop[thinking & (out >= max_tokens)] = MAX_TOKENS
    return temperature, max_tokens, out, stop, thinking
