"""Ordinary customers' text: everyday prompts, follow-ups, system prompts and responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forensics.sample.arrays import (
    choice,
    join,
    merge,
    replace_at,
)
from forensics.sample.base import SampleError
from forensics.sample.text import Filler, Pool, get_path, strings
from forensics.sample.world import (
    World,
    pool_size,
)


class OrdinaryText:
    """Everyday prompts, follow-ups, system prompts and responses in six languages."""

    # The kinds of pasted body, in the order of the body pool's categories.
    BODY_KINDS = ("prose", "email", "legal", "product", "code", "table", "translate")

    def __init__(self, world: World) -> None:
        doc = world.text.ordinary
        self.languages = strings(get_path(doc, "languages"), "languages")
        topics = get_path(doc, "topics")
        self.topics = list(topics)
        self.topic_weights = np.array([float(topics[t]["weight"]) for t in self.topics])
        self.out_median = np.array([float(topics[t]["out_median"]) for t in self.topics])
        self.body_kind = np.array(
            [
                self.BODY_KINDS.index(topics[t]["body"]) if topics[t]["body"] != "none" else -1
                for t in self.topics
            ]
        )
        self.chat_topic = self.topics.index("chat") if "chat" in self.topics else -1
        self.code_topic = self.topics.index("coding") if "coding" in self.topics else -1
        self.has_alone = np.array([bool(topics[t].get("alone")) for t in self.topics])
        self._translate = self.BODY_KINDS.index("translate")
        filler = world.filler("ordinary", slots=get_path(doc, "slots"))
        self.heads = self._heads(filler, topics, pool_size(world, 80))
        self.context = self._context(filler, get_path(doc, "context"), pool_size(world, 120))
        # Bodies: category (kind, language), index 0 of the pool is the empty body.
        bodies = get_path(doc, "bodies")
        n_body = pool_size(world, 400)
        self.bodies = Pool.of(
            [[""]]
            + [
                self._bodies(filler, bodies, kind, lang, n_body)
                for kind in self.BODY_KINDS
                for lang in self.languages
            ]
        )
        self._follow_ups(doc, filler, bodies)
        self._openings(world, doc, filler)
        self._tools_and_systems(world, doc, filler)
        self.responses = self._responses(world, doc, filler, bodies)

    def _heads(self, filler: Filler, topics: Mapping[str, Any], n: int) -> Pool:
        """First-turn requests: category (topic, with_body, language); missing languages fall
        back to English."""
        head_groups: list[list[str]] = []
        for t in self.topics:
            for kind in ("alone", "with_body"):
                variants = topics[t].get(kind) or {}
                for lang in self.languages:
                    templates = variants.get(lang) or variants.get("en")
                    if not templates:  # e.g. a topic without stand-alone heads: use the other kind
                        other = topics[t].get("with_body" if kind == "alone" else "alone") or {}
                        templates = other.get(lang) or other.get("en")
                    heads = filler.fill_many(strings(templates, t), n)
                    head_groups.append(heads)
        return Pool.of(head_groups)

    def _context(self, filler: Filler, context: Mapping[str, Any], n: int) -> Pool:
        """Context people add to a stand-alone request (index 0: none), per language."""
        ctx_groups: list[list[str]] = [[""]]
        for lang in self.languages:
            lines = strings(context.get(lang) or context["en"], "context")
            extra = [filler.variants([line]) for line in lines]
            sep = "" if lang in ("zh", "ja") else " "
            ctx_groups.append(
                [
                    sep
                    + sep.join(filler.pick(v) for v in filler.sample(extra, filler.between(1, 3)))
                    for _ in range(n)
                ]
            )
        return Pool.of(ctx_groups)

    def _follow_ups(
        self, doc: Mapping[str, Any], filler: Filler, bodies: Mapping[str, Any]
    ) -> None:
        """Follow-up messages per language, and the error messages coders paste instead."""
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

    def _openings(self, world: World, doc: Mapping[str, Any], filler: Filler) -> None:
        """The openings everybody shares: questions thousands of people ask in the same words
        (with the follow-up most of them send), and the prompt library's entries."""
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

    def _tools_and_systems(self, world: World, doc: Mapping[str, Any], filler: Filler) -> None:
        """Agent frameworks' system prompts, tool results, and system prompts per language."""
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

    def _responses(
        self, world: World, doc: Mapping[str, Any], filler: Filler, bodies: Mapping[str, Any]
    ) -> Pool:
        """Response excerpts: category (language, topic). Coding answers carry code; English
        answers mix in sentences about the topic."""
        openers = get_path(doc, "responses.openers")
        code_openers = get_path(doc, "responses.code_openers")
        sentences = get_path(doc, "responses.sentences")
        per_topic = get_path(doc, "responses.topic_sentences")
        code = strings(get_path(bodies, "code"), "code")
        snippets = filler.variants(code, 4)
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
        return Pool.of(resp_groups)

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
        prompt = replace_at(prompt, ask, self.popular_questions.take(question[session[ask]]))
        prompt = replace_at(prompt, then, self.popular_followups.take(question[session[then]]))
        copied = np.flatnonzero(first & ~popular[session] & (rng.random(len(turn)) < 0.06))
        entry = choice(rng, self.copied_weights, len(copied))
        return replace_at(prompt, copied, self.copied.take(entry))

    def responses_for(
        self, rng: np.random.Generator, lang: np.ndarray, topic: np.ndarray
    ) -> pa.Array:
        return self.responses.draw(rng, lang * len(self.topics) + topic)
