"""forensics: offline forensic dossiers on distillation attacks in LLM API logs."""

from __future__ import annotations

__version__ = "0.1.0"
