"""File names from free text: `RAG: a Review!` -> `rag-a-review`."""

from __future__ import annotations

import re
import unicodedata


def slug(text: str, fallback: str, limit: int = 60) -> str:
    """ASCII words joined by hyphens, at most `limit` characters; `fallback` when none is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-zA-Z0-9]+", " ", ascii_text).lower().split()
    return "-".join(words)[:limit].rstrip("-") or fallback
