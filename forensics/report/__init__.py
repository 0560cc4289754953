"""The report stage: the dossier (PDF/A-3b and HTML), its charts and its exhibits.

Heavy libraries (matplotlib, WeasyPrint, pypdf) are imported inside the functions that use
them, so importing this package costs little.
"""

from __future__ import annotations

from forensics.report.stage import render_dossier

__all__ = ["render_dossier"]
