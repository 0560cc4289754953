"""Render the dossier: jinja2 (StrictUndefined, autoescape) to HTML, WeasyPrint to PDF/A-3b.

The renderer reads nothing but the bundled templates and `templates/assets/`: WeasyPrint gets
a URL fetcher that serves files under the assets folder (the stylesheets and the bundled fonts
in assets/fonts/) and stops the render (FatalURLFetchingError) on any other URL, http, https,
data or file alike.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2

from forensics.errors import OutputError
from forensics.report.context import Dossier, Exhibit
from forensics.report.fonts import FONTS_CSS, embedded_font_css
from forensics.report.text import neutralise

TEMPLATE = "dossier.html.j2"
ASSETS = "assets"
PRINT_CSS = "print.css"
SCREEN_CSS = "screen.css"


def environment(templates: Path) -> jinja2.Environment:
    """The one jinja environment: undefined values fail, every value is HTML-escaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = lambda v: f"{int(v):,}"
    return env


def render_html(templates: Path, dossier: Dossier, media: str, epoch: int) -> str:
    """The dossier as an HTML document for `media` 'print' (PDF) or 'screen' (dossier.html).

    The screen version carries its CSS inline so that the file stands alone; the print
    version gets print.css from the assets folder through WeasyPrint.
    """
    env = environment(templates)
    try:
        css = (templates / ASSETS / SCREEN_CSS).read_text(encoding="utf-8") \
            if media == "screen" else ""
    except OSError as exc:
        raise OutputError(f"dossier stylesheet cannot be read ({exc.strerror})",
                          file=str(templates / ASSETS / SCREEN_CSS)) from None
    stamp = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def render(inline_css: str) -> str:
        try:
            html = env.get_template(TEMPLATE).render(d=dossier, media=media,
                                                     inline_css=inline_css, stamp=stamp)
        except jinja2.TemplateError as exc:
            raise OutputError(f"dossier template error: {exc}", file=str(templates)) from None
        # A last net under the context's own neutralising: no control, bidi or zero-width
        # character may reach the page from anywhere (the templates included).
        return neutralise(html)

    html = render(css)
    if media == "screen":
        # The file stands alone in a browser that may lack CJK, Arabic, Hebrew or emoji
        # fonts: it carries the bundled fonts cut to the characters it holds. The fonts'
        # CSS is ASCII, so the second rendering holds the same characters as the first.
        font_css = embedded_font_css(templates / ASSETS, html)
        if font_css:
            html = render(font_css + css)
    return html


@dataclass
class FetchLog:
    """Every URL the renderer asked for, and the ones it was refused (for tests and errors)."""

    requested: list[str]
    refused: list[str]


def make_fetcher(assets: Path, log: FetchLog) -> Any:
    """A WeasyPrint URL fetcher serving only regular files under `assets`."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    root = assets.resolve()

    class AssetFetcher(URLFetcher):
        """Serves bundled assets; any other URL stops the render."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            log.requested.append(url)
            parts = urlsplit(url)
            path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
            if path is None or not path.is_relative_to(root) or not path.is_file():
                log.refused.append(url)
                raise FatalURLFetchingError(f"refused to fetch {url!r}: the dossier may only "
                                            f"read its bundled assets")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=path.read_bytes(),
                                      headers={"Content-Type": mime})

    return AssetFetcher(allowed_protocols=("file",), allow_redirects=False,
                        fail_on_errors=True)


@contextmanager
def source_date_epoch(epoch: int) -> Iterator[None]:
    """SOURCE_DATE_EPOCH set while rendering: font subsets otherwise embed the clock."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def pdf_identifier(html: str, exhibits: Sequence[Exhibit]) -> bytes:
    """The PDF's /ID, derived from what it contains (never random)."""
    digest = hashlib.sha256(html.encode("utf-8"))
    for e in exhibits:
        digest.update(f"{e.path}:{e.sha256}".encode())
        digest.update(f"{e.parquet_path}:{e.parquet_sha256}".encode())
    return digest.hexdigest()[:32].encode("ascii")


def render_pdf(templates: Path, html: str, target: Path, out_dir: Path,
               exhibits: Sequence[Exhibit], epoch: int, log: FetchLog,
               sources: Sequence[tuple[str, str]] = ()) -> int:
    """Write the PDF/A-3b with the exhibits small enough to embed attached, and the `sources`
    (file name beside the dossier, description: the heuristics' SQL); return its page count."""
    from weasyprint import CSS, HTML, Attachment
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import FatalURLFetchingError

    assets = templates / ASSETS
    fetcher = make_fetcher(assets, log)
    stamp = datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)
    attachments = [Attachment(string=(out_dir / e.path).read_bytes(), name=e.filename,
                              description=f"{e.id}: {e.title}", created=stamp,
                              modified=stamp, relationship="Source", url_fetcher=fetcher)
                   for e in exhibits if e.attached]
    attachments += [Attachment(string=(out_dir / name).read_bytes(), name=name,
                               description=description, created=stamp, modified=stamp,
                               relationship="Source", url_fetcher=fetcher)
                    for name, description in sources]
    with source_date_epoch(epoch):
        try:
            base = assets.resolve().as_uri() + "/"
            try:
                print_css = (assets / PRINT_CSS).read_text(encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"dossier stylesheet cannot be read ({exc.strerror})",
                                  file=str(assets / PRINT_CSS)) from None
            # The bundled fonts' @font-face rules come first, read through the same fetcher
            # (files under the assets folder only); a FontConfiguration is what makes
            # WeasyPrint load them.
            font_config = FontConfiguration()
            stylesheets = []
            fonts_css = assets / FONTS_CSS
            if fonts_css.is_file():
                stylesheets.append(CSS(url=fonts_css.resolve().as_uri(), url_fetcher=fetcher,
                                       font_config=font_config))
            stylesheets.append(CSS(string=print_css, base_url=base, url_fetcher=fetcher,
                                   font_config=font_config))
            document = HTML(string=html, base_url=base, url_fetcher=fetcher).render(
                stylesheets=stylesheets, font_config=font_config)
            document.metadata.created = document.metadata.modified = \
                datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            document.write_pdf(target, pdf_variant="pdf/a-3b", attachments=attachments,
                               pdf_identifier=pdf_identifier(html, exhibits))
            if log.refused:
                # WeasyPrint's SVG code swallows even fatal fetch errors: check the log.
                raise FatalURLFetchingError(f"refused {log.refused[0]!r}")
        except FatalURLFetchingError as exc:
            raise OutputError(f"the dossier templates asked for a resource outside the "
                              f"bundled assets; nothing was fetched ({exc})",
                              file=str(templates)) from None
    return len(document.pages)
