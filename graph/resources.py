"""What every node of a run shares: its engine, its corpus and its sources, made once per process.

Hundreds of sub-agents run in one process; they share one engine (one HTTP
client pool, one token counter) and one corpus index rather than each loading
their own. Which backends a run searches is decided here too (`sources_for`).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from functools import lru_cache
from pathlib import Path

from graph.config import Context
from graph.engines.base import Engine
from graph.errors import SwarmError
from tools.corpus import Corpus, CorpusStats, default_cache_dir, load_corpus
from tools.http import HttpPolicy
from tools.index import SearchIndex
from tools.providers import PROVIDERS, SEARCHABLE, any_reachable
from tools.web_search import KEY as TAVILY_KEY

SOURCES = ("corpus", *SEARCHABLE, "crossref")
"""What `Context.sources` may name: the corpus, the live search providers, and
`crossref` (no search: it fills in venue, year and authors of sources with a DOI)."""

KEYLESS = ("arxiv", "openalex")
PROBE_TIMEOUT = 2.0
"""Seconds to wait for a connection to a live source before saying none can be reached."""

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
        wanted,
        os.environ.get("SWARM_MODEL", ""),
        os.environ.get("OPENAI_BASE_URL", ""),
        context.rps,
    )


@lru_cache(maxsize=8)
def _make_engine(kind: str, model: str, base_url: str, rps: float = 0.0) -> Engine:
    if kind == "offline":
        from graph.engines.offline import OfflineEngine

        return OfflineEngine()
    if not model:
        raise SwarmError("the llm engine needs a model: set SWARM_MODEL (and OPENAI_API_KEY)")
    from graph.engines.llm import LLMEngine

    return LLMEngine.from_env(requests_per_second=rps)


def sources_for(context: Context) -> list[str]:
    """The backends a run searches, in order.

    Explicit `context.sources` win; else the corpus when one is given; else the
    keyless scholarly APIs (arXiv, OpenAlex), plus Tavily when `TAVILY_API_KEY` is set.
    """
    if context.sources:
        names = list(dict.fromkeys(name.strip().lower() for name in context.sources))
        unknown = [name for name in names if name not in SOURCES]
        if unknown:
            raise SwarmError(
                f"unknown source {unknown[0]!r} in --sources: use some of {', '.join(SOURCES)}"
            )
        if "corpus" in names and not context.corpus:
            raise SwarmError("--sources names the corpus but no --corpus was given: pass one")
        if "tavily" in names and not os.environ.get(TAVILY_KEY, "").strip():
            raise SwarmError(f"--sources names tavily but {TAVILY_KEY} is not set: set it")
        if not any(name != "crossref" for name in names):
            raise SwarmError("--sources names nothing to search: add corpus, arxiv or openalex")
        return names
    if context.corpus:
        return ["corpus"]
    return [*KEYLESS, "tavily"] if os.environ.get(TAVILY_KEY, "").strip() else list(KEYLESS)


def live_sources(context: Context) -> list[str]:
    """The selected backends that search over the network."""
    return [name for name in sources_for(context) if name in SEARCHABLE]


def enriches(context: Context) -> bool:
    """Whether sources with a DOI get their gaps filled from Crossref: a run that goes online."""
    names = sources_for(context)
    return "crossref" in names or any(name in SEARCHABLE for name in names)


def http_policy_for(context: Context) -> HttpPolicy:
    """How the run's requests to web APIs are sent: retried `context.retries` times after a
    rate limit, a timeout or a server error; answers cached beside the corpus indexes."""
    root = Path(context.cache_dir).expanduser() if context.cache_dir else default_cache_dir()
    return HttpPolicy(retries=context.retries, cache_dir=root / "http")


def corpus_paths(context: Context) -> list[Path]:
    if not context.corpus:
        raise SwarmError(
            "no sources: pass --corpus with a folder of documents or a records file "
            "(JSON Lines, CSV, BibTeX, CSL-JSON)"
        )
    return [Path(p).expanduser() for p in context.corpus]


def corpus_for_sync(context: Context) -> Corpus:
    """The run's corpus; without one, an empty corpus once a live source is known reachable."""
    if not context.corpus:
        require_network(context)
        return _NO_CORPUS
    cache = Path(context.cache_dir).expanduser() if context.cache_dir else None
    return load_corpus(corpus_paths(context), cache)


_RUN_CORPORA: dict[int, Corpus] = {}
"""Each running run's corpus, by the id of the run's Context, while the Context lives."""


async def corpus_for(context: Context) -> Corpus:
    """The run's corpus: loaded (or read from the index cache) off the event loop, once a run.

    Every agent of a run shares the run's Context, so later calls return the corpus
    the run first found, without walking and fingerprinting its files again in a
    worker thread, which hundreds of agents at once would queue for."""
    corpus = _RUN_CORPORA.get(id(context))
    if corpus is None:
        corpus = await asyncio.to_thread(corpus_for_sync, context)
        if id(context) not in _RUN_CORPORA:
            _RUN_CORPORA[id(context)] = corpus
            weakref.finalize(context, _RUN_CORPORA.pop, id(context), None)
    return corpus


_REACHED: set[tuple[str, ...]] = set()


def require_network(context: Context) -> None:
    """Fail fast, in one line, when a run without a corpus cannot reach any live source.

    One TCP connection per selected provider's host, in parallel, at most
    PROBE_TIMEOUT seconds; a success is remembered for the process, so the many
    agents of a run probe once.
    """
    names = live_sources(context)
    urls = tuple(PROVIDERS[name].api_url() for name in names)
    if urls in _REACHED:
        return
    if not any_reachable(urls, PROBE_TIMEOUT):
        labels = [PROVIDERS[name].label for name in names]
        listed = " and ".join([", ".join(labels[:-1]), labels[-1]] if len(labels) > 1 else labels)
        raise SwarmError(
            f"no sources: no --corpus given and {listed} cannot be reached (offline?): "
            "pass --corpus with a folder of documents or a records file "
            "(e.g. one made by `swarm corpus build` while online), or connect to the network"
        )
    _REACHED.add(urls)


class _NoIndex(SearchIndex):
    """The index of a run without a corpus: it finds nothing."""

    def __init__(self) -> None:
        pass

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return []


_NO_CORPUS = Corpus([], [], CorpusStats(), "none", _NoIndex())
