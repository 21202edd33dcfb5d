"""What every node of a run shares: its engine and its corpus, made once per process.

Hundreds of sub-agents run in one process; they share one engine (one HTTP
client pool, one token counter) and one corpus index rather than each loading
their own.
"""

from __future__ import annotations

import asyncio
import os
from functools import lru_cache
from pathlib import Path

from graph.config import Context
from graph.engines.base import Engine
from graph.errors import SwarmError
from tools.corpus import Corpus, load_corpus

_engine_override: Engine | None = None


def use_engine(engine: Engine | None) -> None:
    """Make every run in this process think with `engine` (None restores the default)."""
    global _engine_override
    _engine_override = engine


def engine_for(context: Context) -> Engine:
    if _engine_override is not None:
        return _engine_override
    wanted = context.engine
    if wanted == "auto":
        wanted = "llm" if os.environ.get("SWARM_MODEL") else "offline"
    return _make_engine(
        wanted, os.environ.get("SWARM_MODEL", ""), os.environ.get("OPENAI_BASE_URL", "")
    )


@lru_cache(maxsize=8)
def _make_engine(kind: str, model: str, base_url: str) -> Engine:
    if kind == "offline":
        from graph.engines.offline import OfflineEngine

        return OfflineEngine()
    if not model:
        raise SwarmError("the llm engine needs a model: set SWARM_MODEL (and OPENAI_API_KEY)")
    from graph.engines.llm import LLMEngine

    return LLMEngine.from_env()


def corpus_paths(context: Context) -> list[Path]:
    if not context.corpus:
        raise SwarmError(
            "no sources: pass --corpus with a folder of documents or a records file "
            "(JSON Lines, CSV, BibTeX, CSL-JSON)"
        )
    return [Path(p).expanduser() for p in context.corpus]


def corpus_for_sync(context: Context) -> Corpus:
    cache = Path(context.cache_dir).expanduser() if context.cache_dir else None
    return load_corpus(corpus_paths(context), cache)


async def corpus_for(context: Context) -> Corpus:
    """The run's corpus, loaded (or read from the index cache) off the event loop."""
    return await asyncio.to_thread(corpus_for_sync, context)
