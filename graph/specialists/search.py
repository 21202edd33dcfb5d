"""The search specialist: run one query against the sources, then screen what it found."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from graph.config import Context
from graph.engines.base import Candidate, ScreenRequest
from graph.resources import corpus_for, engine_for
from graph.specialists.subgraph import SpecialistState, build_specialist
from tools.source import Source


def brief_fields(source: Source) -> dict[str, Any]:
    """The bibliographic fields an engine sees of a source."""
    return {
        "title": source.title,
        "authors": source.authors,
        "year": source.year,
        "venue": source.venue,
        "abstract": source.abstract[:1200],
    }


async def retrieve(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    corpus = await corpus_for(runtime.context)
    found = await asyncio.to_thread(corpus.search, payload["query"], payload.get("k", 40))
    return {"found": [[s.model_dump(), score] for s, score in found]}


async def screen(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    found = [(Source.model_validate(s), score) for s, score in state["work"]["found"]]
    candidates = [Candidate(key=s.identity, score=score, **brief_fields(s)) for s, score in found]
    keep: set[str] = set()
    if candidates:
        screening = await engine_for(runtime.context).screen(
            ScreenRequest(topic=payload["topic"], query=payload["query"], candidates=candidates)
        )
        keep = set(screening.keep)
    hits = [
        {
            "identity": s.identity,
            "source": s.model_dump(),
            "score": score,
            "kept": s.identity in keep,
        }
        for s, score in found
    ]
    return {"output": {"query": payload["query"], "theme": payload.get("theme"), "hits": hits}}


graph = build_specialist("search", {"query": [retrieve, screen]})
