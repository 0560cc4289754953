"""Ordinary customers: everyday prompts, chats and their accounts."""

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
    HOUR_US,
    MAX_TOKENS,
    TOOL_USE,
    US,
    SampleError,
)
from forensics.sample.clock import Window
from forensics.sample.rows import Rows, make_rows
from forensics.sample.text import Filler, Pool, get_path, strings
from forensics.sample.world import (
    AccountBlock,
    Population,
    World,
    company_domain,
    pool_size,
    random_subnets,
)

# Volume at scale 1: (accounts, requests).
ORDINARY = (1500, 57_000)

# -- ordinary customers ----------------------------------------------------------------------


class OrdinaryText:
    """Everyday prompts, follow-ups, system prompts and responses in six languages."""

    def __init__(self, world: World) -> None:
        doc = world.text.ordinary
        self.languages = strings(get_path(doc, "languages"), "languages")
        topics = get_path(doc, "topics")
        self.topics = list(topics)
        self.topic_weights = np.array([float(topics[t]["weight"]) for t in self.topics])
        self.out_median = np.array([float(topics[t]["out_median"]) for t in self.topics])
        filler = world.filler("ordinary", slots=get_path(doc, "slots"))
        n_head = pool_size(world, 80)
        n_body = pool_size(world, 400)
        # Heads: category (topic, with_body, language); missing languages fall back to English.
        body_kinds = ["prose", "email", "legal", "product", "code", "table", "translate"]
        self.body_kind = np.array(
            [
                body_kinds.index(topics[t]["body"]) if topics[t]["body"] != "none" else -1
                for t in self.topics
            ]
        )
        context = get_path(doc, "context")
        head_groups: list[list[str]] = []
        for t in self.topics:
            for kind in ("alone", "with_body"):
                variants = topics[t].get(kind) or {}
                for lang in self.languages:
                    templates = variants.get(lang) or variants.get("en")
                    if not templates:  # e.g. a topic without stand-alone heads: use the other kind
                        other = topics[t].get("with_body" if kind == "alone" else "alone") or {}
                        templates = other.get(lang) or other.get("en")
                    heads = filler.fill_many(strings(templates, t), n_head)
                    head_groups.append(heads)
        self.heads = Pool.of(head_groups)
        # Context people add to a stand-alone request (index 0: none), per language.
        ctx_groups: list[list[str]] = [[""]]
        for lang in self.languages:
            lines = strings(context.get(lang) or context["en"], "context")
            extra = [filler.variants([line]) for line in lines]
            sep = "" if lang in ("zh", "ja") else " "
            ctx_groups.append(
                [
                    sep
                    + sep.join(filler.pick(v) for v in filler.sample(extra, filler.between(1, 3)))
                    for _ in range(pool_size(world, 120))
                ]
            )
        self.context = Pool.of(ctx_groups)
        self.chat_topic = self.topics.index("chat") if "chat" in self.topics else -1
        self.has_alone = np.array([bool(topics[t].get("alone")) for t in self.topics])

        # Bodies: category (kind, language), index 0 of the pool is the empty body.
        bodies = get_path(doc, "bodies")
        body_groups: list[list[str]] = [[""]]
        for kind in body_kinds:
            for lang in self.languages:
                body_groups.append(self._bodies(filler, bodies, kind, lang, n_body))
        self.bodies = Pool.of(body_groups)

        self.followups = Pool.of(
            [
                filler.fill_many(
                    strings(get_path(doc, "followups").get(lang) or [], "followups"), 40
                )
                for lang in self.languages
            ]
        )
        errors = strings(get_path(bodies, "errors"), "errors")
        self.errors = Pool.of([filler.fill_many(errors, 60)])
        self.error_lead = str(get_path(doc, "error_followup"))
        pairs = get_path(doc, "popular_questions")
        if not isinstance(pairs, list) or not all(
            isinstance(x, list) and len(x) == 2 for x in pairs
        ):
            raise SampleError("sample text: popular_questions must be [question, follow-up] pairs")
        self.popular_questions = pa.array([str(q) for q, _ in pairs], pa.string())
        self.popular_followups = pa.array([str(f) for _, f in pairs], pa.string())
        self.has_followup = np.array([bool(f) for _, f in pairs])
        # The prompt library: distinct entries, a few popular and most rarely used (Zipf).
        copied = strings(get_path(doc, "copied_prompts"), "copied_prompts")
        entries = list(dict.fromkeys(filler.fill_many(copied, pool_size(world, 160))))
        self.copied = pa.array(entries, pa.string())
        self.copied_weights = 1.0 / np.arange(1, len(entries) + 1) ** 1.1
        frameworks = strings(get_path(world.text.common, "agent_frameworks"), "agent_frameworks")
        self.framework_ids = np.array([world.system_id(t) for t in frameworks], dtype=np.int64)
        tool_results = strings(get_path(doc, "tool_results"), "tool_results")
        self.tool_results = Pool.of([filler.fill_many(tool_results, pool_size(world, 80))])
        sys_doc = get_path(doc, "system_prompts")
        self.systems = Pool.of(
            [
                filler.fill_many(strings(sys_doc.get(lang), "system_prompts"), 24)
                for lang in self.languages
            ]
        )
        self.system_ids = np.array(
            [world.system_id(t) for t in self.systems.values.to_pylist()], dtype=np.int64
        )
        openers = get_path(doc, "responses.openers")
        code_openers = get_path(doc, "responses.code_openers")
        sentences = get_path(doc, "responses.sentences")
        per_topic = get_path(doc, "responses.topic_sentences")
        code = strings(get_path(bodies, "code"), "code")
        snippets = filler.variants(code, 4)
        self.code_topic = self.topics.index("coding") if "coding" in self.topics else -1
        # Response excerpts: category (language, topic). Coding answers carry code; English
        # answers mix in sentences about the topic.
        resp_groups: list[list[str]] = []
        n_resp = pool_size(world, 40)
        for lang in self.languages:
            op = strings(openers.get(lang), f"openers.{lang}")
            code_op = strings(code_openers.get(lang) or code_openers["en"], "code_openers")
            generic = filler.variants(strings(sentences.get(lang), f"sentences.{lang}"))
            sep = "" if lang in ("zh", "ja") else " "
            for t, topic in enumerate(self.topics):
                if t == self.code_topic:
                    resp_groups.append(
                        [
                            filler.pick(code_op) + "\n\n```\n" + filler.pick(snippets) + "```"
                            for _ in range(n_resp)
                        ]
                    )
                    continue
                bank = generic + (per_topic.get(topic, []) if lang == "en" else [])
                resp_groups.append(
                    [
                        filler.pick(op)
                        + "\n\n"
                        + sep.join(filler.sample(bank, filler.between(2, 5)))
                        for _ in range(n_resp)
                    ]
                )
        self.responses = Pool.of(resp_groups)
        self._translate = body_kinds.index("translate")

    def _bodies(
        self, filler: Filler, bodies: Mapping[str, Any], kind: str, lang: str, n: int
    ) -> list[str]:
        """n pasted bodies of one kind: several sentences, an e-mail, code or a CSV table."""
        out: list[str] = []
        sep = "" if lang in ("zh", "ja") else " "
        # Fill each sentence template a few times up front: bodies then cost only joins.
        if kind in ("prose", "legal", "product", "translate"):
            bank = bodies["prose" if kind == "translate" else kind]
            sents = strings(bank.get(lang) or bank["en"], f"bodies.{kind}")
            variants = [filler.variants([t]) for t in sents]
            for _ in range(n):
                # Distinct sentences only, so short banks give shorter bodies, not repeats.
                k = filler.between(4, 12) if filler.uniform() < 0.85 else filler.between(15, 36)
                chosen = [filler.pick(variants[i]) for i in filler.sample(range(len(sents)), k)]
                paras, at = [], 0
                while at < len(chosen):
                    step = filler.between(2, 4)
                    paras.append(sep.join(chosen[at : at + step]))
                    at += step
                out.append("\n\n".join(paras))
        elif kind == "email":
            mail = bodies["email"].get(lang) or bodies["email"]["en"]
            lines = filler.variants(strings(mail["lines"], "email lines"))
            greetings = filler.variants(strings(mail["greetings"], "greetings"))
            closings = strings(mail["closings"], "closings")
            names = strings(filler.slots["name"], "name")
            for _ in range(n):
                text = sep.join(filler.sample(lines, filler.between(2, 7)))
                out.append(
                    f"{filler.pick(greetings)}\n\n{text}\n\n"
                    f"{filler.pick(closings)}\n{filler.pick(names)}"
                )
        elif kind == "code":
            snippets = filler.variants(strings(bodies["code"], "bodies.code"), 20)
            errors = filler.variants(strings(bodies["errors"], "errors"), 8)
            for _ in range(n):
                # Mostly one snippet; sometimes two or three files pasted together.
                k = 1 if filler.uniform() < 0.8 else filler.between(2, 3)
                body = "\n\n".join("```\n" + code + "```" for code in filler.sample(snippets, k))
                if filler.uniform() < 0.3:
                    body += "\n\n" + filler.pick(errors)
                out.append(body)
        elif kind == "table":
            tables = [
                (str(spec["header"]), [filler.fill(str(spec["row"])) for _ in range(60)])
                for spec in bodies["table"]
            ]
            for _ in range(n):
                header, rows = tables[int(filler.uniform() * len(tables))]
                out.append(header + "\n" + "\n".join(filler.sample(rows, filler.between(6, 40))))
        else:
            raise SampleError(f"sample text: unknown body kind {kind!r}")
        return out

    def prompts(
        self,
        rng: np.random.Generator,
        lang: np.ndarray,
        topic: np.ndarray,
        first: np.ndarray,
        tool_result: np.ndarray | None = None,
    ) -> pa.Array:
        """Prompt per row: a head (plus pasted body) on first turns, then a follow-up or, in a
        tool loop, the tool's result."""
        n = len(lang)
        pos_first = np.flatnonzero(first)
        if tool_result is None:
            tool_result = np.zeros(n, dtype=np.bool_)
        pos_tool = np.flatnonzero(~first & tool_result)
        pos_next = np.flatnonzero(~first & ~tool_result)
        pieces: list[tuple[np.ndarray, pa.Array]] = []
        if len(pos_first):
            lf, tf = lang[pos_first], topic[pos_first]
            kind = self.body_kind[tf]
            with_body = (kind >= 0) & ((rng.random(len(tf)) < 0.8) | ~self.has_alone[tf])
            L = len(self.languages)
            head_cat = (tf * 2 + with_body) * L + lf
            heads = self.heads.draw(rng, head_cat)
            # Translation bodies are usually in another language than the request.
            body_lang = np.where(
                (kind == self._translate) & (rng.random(len(tf)) < 0.6),
                rng.integers(0, L, len(tf)),
                lf,
            )
            body_cat = 1 + np.maximum(kind, 0) * L + body_lang
            body_idx = np.where(with_body, self.bodies.pick(rng, body_cat), 0)
            sep = pa.array(["", "\n\n"]).take(with_body.astype(np.int64))
            # Half of the stand-alone requests (not small talk) carry a sentence of context.
            with_ctx = ~with_body & (tf != self.chat_topic) & (rng.random(len(tf)) < 0.5)
            ctx_idx = np.where(with_ctx, self.context.pick(rng, 1 + lf), 0)
            first_turns = join(heads, sep, self.bodies.take(body_idx), self.context.take(ctx_idx))
            pieces.append((pos_first, first_turns))
        if len(pos_next):
            ln, tn = lang[pos_next], topic[pos_next]
            follow = self.followups.draw(rng, ln)
            # Coders paste the next error message instead of a chatty follow-up.
            pasted = (tn == self.code_topic) & (rng.random(len(tn)) < 0.35)
            if pasted.any():
                errs = self.errors.draw(rng, np.zeros(len(tn), dtype=np.int64))
                follow = pc.if_else(pa.array(pasted), join(self.error_lead, errs), follow)
            pieces.append((pos_next, follow))
        if len(pos_tool):
            results = self.tool_results.draw(rng, np.zeros(len(pos_tool), dtype=np.int64))
            pieces.append((pos_tool, results))
        return merge(n, pieces)

    def openings(
        self,
        rng: np.random.Generator,
        prompt: pa.Array,
        turn: np.ndarray,
        session: np.ndarray,
        chat: np.ndarray,
    ) -> pa.Array:
        """`prompt` with the openings everybody shares put in: some conversations open with a
        question thousands of people ask in the same words and go on with the follow-up most
        of them send (where turn 1 is a chat message, `chat`); others open with an entry of a
        prompt library, pasted word for word."""
        n_sess = int(session.max()) + 1 if len(session) else 0
        first = turn == 0
        popular = rng.random(n_sess) < 0.05
        question = rng.integers(0, len(self.popular_questions), n_sess)
        ask = np.flatnonzero(first & popular[session])
        then = np.flatnonzero(
            (turn == 1) & popular[session] & chat & self.has_followup[question[session]]
        )
        prompt = _replace(prompt, ask, self.popular_questions.take(question[session[ask]]))
        prompt = _replace(prompt, then, self.popular_followups.take(question[session[then]]))
        copied = np.flatnonzero(first & ~popular[session] & (rng.random(len(turn)) < 0.06))
        entry = choice(rng, self.copied_weights, len(copied))
        return _replace(prompt, copied, self.copied.take(entry))

    def responses_for(
        self, rng: np.random.Generator, lang: np.ndarray, topic: np.ndarray
    ) -> pa.Array:
        return self.responses.draw(rng, lang * len(self.topics) + topic)


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
    turns = np.minimum(rng.geometric(0.55, total), 12)
    turns = np.where(e.tools[acct] > 0, np.minimum(turns + rng.integers(0, 5, total), 16), turns)
    turns = np.where(e.agent[acct], np.minimum(2 + rng.geometric(0.08, total), 60), turns)
    R = int(turns.sum())
    row_sess = np.repeat(np.arange(total), turns)
    turn = positions_in_segment(turns)
    gaps = (rng.lognormal(math.log(70.0), 0.9, R) * US).astype(np.int64)
    gaps[turn == 0] = 0
    ts = start[row_sess] + segment_offsets(gaps, turns)
    row_acct = acct[row_sess]

    # Per conversation: language, topic and model stay the same across its turns.
    english = rng.random(total) < e.p_english[acct]
    s_lang = np.where(english, 0, e.lang[acct])
    s_topic = np.where(
        rng.random(total) < 0.6, e.main_topic[acct], choice(rng, text.topic_weights, total)
    )
    s_model = world.ordinary_models(rng, start)
    pinned = e.pinned_model[acct]
    s_model = np.where(pinned >= 0, pinned, s_model)
    lang, topic = s_lang[row_sess], s_topic[row_sess]
    first = turn == 0
    tools = e.tools[row_acct]
    # In a tool loop, the message after a tool call is the tool's result.
    p_result = np.where(e.agent[row_acct], 0.9, 0.5)
    tool_result = ~first & (tools > 0) & (rng.random(R) < p_result)
    prompt = text.openings(rng, text.prompts(rng, lang, topic, first, tool_result), turn,
                           row_sess, ~tool_result)
    if e.shared is not None and e.shared_cat is not None and e.p_shared is not None:
        s_shared = rng.random(total) < e.p_shared[acct]
        rows_shared = np.flatnonzero(first & s_shared[row_sess])
        drawn = e.shared.draw(rng, e.shared_cat[row_acct[rows_shared]])
        prompt = _replace(prompt, rows_shared, drawn)
    response = text.responses_for(rng, lang, topic)

    temperature = np.where(
        rng.random(R) < 0.15, rng.choice([0.0, 0.5, 0.7, 1.0], R), e.temperature[row_acct]
    )
    max_tokens = e.max_tokens[row_acct]
    out, stop = outputs(rng, text.out_median[topic] * e.verbosity[row_acct], 0.75, max_tokens,
                        0.01)
    tool_stop = (tools > 0) & (rng.random(R) < 0.4) & (turn < turns[row_sess] - 1)
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
    glob = e.base + row_acct
    return make_rows(
        acct=glob,
        ts=ts,
        conv=rand_u64(rng, total)[row_sess],
        turn=turn,
        model=s_model[row_sess],
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


def _replace(values: pa.Array, rows: np.ndarray, new: pa.Array) -> pa.Array:
    """`values` with the entries at `rows` replaced by `new` (in that order)."""
    if not len(rows):
        return values
    keep = np.ones(len(values), dtype=np.bool_)
    keep[rows] = False
    return merge(len(values), [(np.flatnonzero(keep), values.filter(pa.array(keep))), (rows, new)])


def home_addresses(
    rng: np.random.Generator,
    world: World,
    n: int,
    carrier: Sequence[str] = (),
    relay: Sequence[str] = (),
    proxy: Sequence[str] = (),
) -> list[list[str]]:
    """Each person's own addresses: a home line, often a second network (work, phone).

    A tenth browse through a mobile carrier's shared NAT ranges, which unrelated customers
    share; another tenth travel or use a VPN and show up from many networks; a few use a
    privacy relay whose egress address changes with nearly every connection, from ranges that
    the relay's other users share; a few have a home line that a residential-proxy network
    also sells as an exit.
    """
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
        consumer = strings(get_path(world.text.common, "email_domains.consumer"), "consumer")
        org_ids = world.ids("org", "org_", n)
        own_org = rng.random(n) < 0.35
        own_domain = rng.random(n) < 0.5
        org: list[str | None] = [org_ids[i] if own_org[i] else None for i in range(n)]
        domains = [
            company_domain(filler, world) if own_org[i] and own_domain[i] else filler.pick(consumer)
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
            ips=home_addresses(
                rng, world, n, world.carrier_subnets, world.relay_subnets, world.proxy_subnets
            ),
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
