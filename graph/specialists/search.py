"""The search specialist: search every selected backend for one query, screen, enrich.

`retrieve` asks the corpus (BM25) and the live providers (Tavily, arXiv, OpenAlex)
at once and merges their hits by identity; a provider that fails is named in a
warning and in the task's output, and the search goes on with the others. `screen`
lets the engine keep the relevant hits. `enrich` fills in the venue, year and
authors of kept sources that have a DOI from Crossref, when the run goes online.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, NamedTuple

from langgraph.runtime import Runtime

from graph.config import Context
from graph.engines.base import Candidate, ScreenRequest
from graph.resources import corpus_for, engine_for, enriches, http_policy_for, sources_for
from graph.specialists.subgraph import SpecialistState, build_specialist
from tools import crossref, providers
from tools.corpus import Corpus
from tools.hits import Hit, by_identifiers, merge_hits, rescaled
from tools.http import ProviderError
from tools.source import Source

log = logging.getLogger(__name__)

MAX_LIVE_HITS = 2_000
"""Most results one query reads from a live provider: a deep search (a dataset's) pages
through them, and arXiv asks for three seconds between pages."""
SCREEN_BATCH = 60
"""Candidates one screening sees: a deep search (a dataset's) is screened in batches, at once."""


class Found(NamedTuple):
    """What one search found: hits best first, and each failed backend with its reason."""

    hits: list[Hit]
    failed: dict[str, str]


class SearchFailed(RuntimeError):
    """Every backend of a search failed; the task is recorded as failed with their reasons."""


def brief_fields(source: Source) -> dict[str, Any]:
    """The bibliographic fields an engine sees of a source."""
    return {
        "title": source.title,
        "authors": source.authors,
        "year": source.year,
        "venue": source.venue,
        "abstract": source.abstract[:1200],
    }


async def search_sources(context: Context, query: str, k: int) -> Found:
    """Search every backend the run selected for `query`, `k` hits from each, merged.

    Scores are rescaled per backend (best = 1) when more than one answered, so BM25
    and the providers' relevance scales compare. A live hit naming a corpus document
    becomes that document.
    """
    names = [name for name in sources_for(context) if name != "crossref"]
    corpus = await corpus_for(context)
    policy = http_policy_for(context)

    async def ask(name: str) -> list[Hit]:
        if name == "corpus":
            return await asyncio.to_thread(corpus.search, query, k)
        return await providers.search(name, query, min(k, MAX_LIVE_HITS), policy)

    answers = await asyncio.gather(*(ask(name) for name in names), return_exceptions=True)
    groups: list[list[Hit]] = []
    failed: dict[str, str] = {}
    live = False
    for name, answer in zip(names, answers, strict=True):
        if isinstance(answer, ProviderError):
            failed[name] = answer.reason
            log.warning(
                "%s search failed for %r: %s; going on without it", name, query, answer.reason
            )
        elif isinstance(answer, BaseException):
            raise answer
        else:
            groups.append(answer)
            live = live or (name != "corpus" and bool(answer))
    if failed and not groups:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
        raise SearchFailed(f"every source failed for {query!r}: {reasons}")
    if sum(1 for hits in groups if hits) > 1:
        groups = [rescaled(hits) for hits in groups]
    known = await asyncio.to_thread(known_documents, corpus) if live and len(corpus) else None
    return Found(merge_hits(groups, known), failed)


_KNOWN: weakref.WeakKeyDictionary[Corpus, dict[str, Source]] = weakref.WeakKeyDictionary()


def known_documents(corpus: Corpus) -> dict[str, Source]:
    """The corpus's documents under every identifier they could be known by, built once."""
    if (known := _KNOWN.get(corpus)) is None:
        known = _KNOWN[corpus] = by_identifiers(corpus.documents)
    return known


async def retrieve(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    found = await search_sources(runtime.context, payload["query"], payload.get("k", 40))
    return {
        "found": [[s.model_dump(), score] for s, score in found.hits],
        "failed_sources": found.failed,
    }


async def screen(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    found = [(Source.model_validate(s), score) for s, score in state["work"]["found"]]
    candidates = [Candidate(key=s.identity, score=score, **brief_fields(s)) for s, score in found]
    engine = engine_for(runtime.context)
    top = max((c.score for c in candidates), default=0.0)
    screenings = await asyncio.gather(
        *(
            engine.screen(
                ScreenRequest(
                    topic=payload["topic"],
                    query=payload["query"],
                    candidates=candidates[start : start + SCREEN_BATCH],
                    top_score=top,
                )
            )
            for start in range(0, len(candidates), SCREEN_BATCH)
        )
    )
    keep = {key for screening in screenings for key in screening.keep}
    hits = [
        {
            "identity": s.identity,
            "source": s.model_dump(),
            "score": score,
            "kept": s.identity in keep,
        }
        for s, score in found
    ]
    output = {"query": payload["query"], "theme": payload.get("theme"), "hits": hits}
    if failed := state["work"].get("failed_sources"):
        output["failed_sources"] = failed
    return {"output": output}


async def enrich(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Fill the gaps of kept sources with a DOI from Crossref; a failed lookup leaves them."""
    output = state["work"]["output"]
    if not enriches(runtime.context):
        return {}
    policy = http_policy_for(runtime.context)
    hits = [dict(hit) for hit in output["hits"]]
    todo = [
        (hit, source)
        for hit in hits
        if hit["kept"] and crossref.needs_enrichment(source := Source.model_validate(hit["source"]))
    ]
    answers = await asyncio.gather(
        *(crossref.enrich(source, policy) for _, source in todo), return_exceptions=True
    )
    failures = []
    for (hit, _), answer in zip(todo, answers, strict=True):
        if isinstance(answer, ProviderError):
            failures.append(answer)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            hit["source"] = answer.model_dump()
    if failures:
        log.warning(
            "crossref could not enrich %d of %d sources for %r (%s); they keep what they have",
            len(failures),
            len(todo),
            output["query"],
            failures[0].reason,
        )
    return {"output": {**output, "hits": hits}}


graph = build_specialist("search", {"query": [retrieve, screen, enrich]})
