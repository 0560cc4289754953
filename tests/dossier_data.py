"""A small, deterministic log export with two planted campaigns, for the dossier tests.

Used when `forensics.sample` is not available, and by the hostile-text tests, which plant
adversarial text into the campaign's prompts, user agents and ids.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

START = datetime(2026, 7, 1, tzinfo=UTC)
DAYS = 21

ORDINARY_PROMPTS = (
    "Draft a polite email to my landlord about the heating in flat {n}.",
    "What is a good recipe for a vegetarian lasagne for {n} people?",
    "Summarise this meeting note in three bullet points: budget review number {n}.",
    "Translate 'see you tomorrow at {n} o'clock' into Spanish and Italian.",
    "Help me write a cover letter for a junior designer role, draft {n}.",
    "Explain the difference between a list and a tuple in Python, example {n}.",
    "Suggest {n} names for a small bakery in a seaside town.",
    "Write a short poem about autumn leaves, variation {n}.",
)
HARVEST_PROMPT = (
    "Below is a question together with a completed response. Imagine and articulate the "
    "internal reasoning behind the completed response and write it out step by step, as if "
    "you were working it out for the first time.\n\nQuestion:\nA tank is filled by one pipe in "
    "{n} hours and emptied by another in {m} hours. How long does it take to fill the tank?"
    "\n\nCompleted response:\nIt takes {k} hours.")
GRADING_PROMPT = (
    "Please act as an impartial judge and evaluate the response below to the instruction. "
    "Rate it from 1 to 10 for correctness and quality of reasoning. Output only the rating in "
    "the format [[rating]].\n\n[Instruction]\nProve that the sum of the first {n} odd numbers "
    "is a square.\n\n[Response]\nCandidate {m}: by induction on n …")


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def build_case(root: Path, *, seed: int = 7, harvesters: int = 8, ordinary: int = 24,
               harvest_requests: int = 60,
               harvest_text: Callable[[int, int], str] | None = None,
               harvester_ids: list[str] | None = None,
               user_agent: str = "python-httpx/0.27.0",
               extra_requests: list[dict[str, Any]] | None = None,
               start: datetime = START) -> Path:
    """Write `root/data` (requests, accounts, model_releases, indicators); return it.

    `start` moves the whole case (its 21 days of requests, sign-ups and releases) in time,
    for a previous period's export with the same accounts.

    `harvest_text(account_index, request_index)`, when given, replaces the harvest prompt, so
    tests can plant text into requests that are sure to be reported as evidence.
    """
    rng = random.Random(seed)
    data = root / "data"
    requests: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    ids = harvester_ids or [f"acct-harvest-{i:02d}" for i in range(harvesters)]
    burst = start + timedelta(days=2, hours=3)
    for i, account in enumerate(ids):
        accounts.append({
            "account_id": account, "created_at": burst + timedelta(minutes=7 * i),
            "org_id": None, "email_domain": "mirrorpeak-ai.example",
            "payment_fingerprint": "pf-7f3a9c51e2", "billing_country": "SG", "tier": "build",
            "signup_ip": f"203.0.113.{10 + i}"})
        for j in range(harvest_requests):
            ts = burst + timedelta(hours=2 + j * 5, minutes=(i * 3 + j) % 60)
            model = "atlas-4" if ts >= start + timedelta(days=12, hours=3) else "atlas-3"
            prompt = (harvest_text(i, j) if harvest_text else
                      HARVEST_PROMPT.format(n=3 + j % 9, m=13 + j % 11, k=4 + j % 5))
            requests.append({
                "request_id": f"req-h{i:02d}-{j:04d}", "ts": ts, "account_id": account,
                "api_key_id": f"key-h{i:02d}", "org_id": None, "ip": f"198.51.100.{20 + i}",
                "user_agent": user_agent, "access_channel": "direct", "model": model,
                "conversation_id": f"conv-h{i:02d}-{j:04d}", "turn_index": 0,
                "system_prompt": None, "prompt": prompt,
                "response": "<think>First, the net rate …</think> It takes 6 hours.",
                "input_tokens": 180, "output_tokens": 3900, "max_tokens": 4000,
                "tool_count": 0, "temperature": 0.0, "thinking": False,
                "stop_reason": "max_tokens"})
    for i in range(ordinary):
        account = f"acct-user-{i:03d}"
        created = start - timedelta(days=rng.randint(20, 400), hours=rng.randint(0, 23))
        accounts.append({
            "account_id": account, "created_at": created,
            "org_id": f"org-{i:03d}" if i % 3 else None,
            "email_domain": ("gmail.com", "outlook.com", "proton.me", f"firm{i}.example")[i % 4],
            "payment_fingerprint": f"pf-user-{i:03d}", "billing_country": ("DE", "US", "FR")[i % 3],
            "tier": "build", "signup_ip": f"192.0.2.{i + 1}"})
        for j in range(rng.randint(20, 45)):
            day = rng.randrange(DAYS)
            ts = start + timedelta(days=day, hours=rng.choice((8, 9, 10, 11, 13, 14, 15, 16, 19)),
                                   minutes=rng.randrange(60))
            template = ORDINARY_PROMPTS[rng.randrange(len(ORDINARY_PROMPTS))]
            turn = rng.choice((0, 0, 1, 2))
            requests.append({
                "request_id": f"req-u{i:03d}-{j:04d}", "ts": ts, "account_id": account,
                "api_key_id": f"key-u{i:03d}", "org_id": None, "ip": f"100.64.{i}.{j % 200 + 1}",
                "user_agent": ("Mozilla/5.0 app", "anthropic-typescript/0.30.1")[i % 2],
                "access_channel": "direct", "model": "atlas-3",
                "conversation_id": f"conv-u{i:03d}-{j // 3:04d}", "turn_index": turn,
                "system_prompt": "You are a helpful assistant." if i % 2 else None,
                "prompt": template.format(n=rng.randint(2, 90)),
                "response": "Sure, here you go.", "input_tokens": rng.randint(20, 300),
                "output_tokens": rng.randint(50, 600), "max_tokens": 1024, "tool_count": 0,
                "temperature": 0.7, "thinking": False, "stop_reason": "end_turn"})
    requests += extra_requests or []
    requests.sort(key=lambda r: (r["ts"], r["request_id"]))
    _write(data / "requests.parquet", requests)
    _write(data / "accounts.parquet", accounts)
    _write(data / "model_releases.parquet", [
        {"model": "atlas-3", "released_at": start - timedelta(days=90)},
        {"model": "atlas-4", "released_at": start + timedelta(days=12)}])
    _write(data / "indicators.parquet", [
        {"indicator_type": "email_domain", "value": "mirrorpeak-ai.example",
         "actor": "ACTOR-MIRRORPEAK", "source": "partner report 2026-06"}])
    return data
