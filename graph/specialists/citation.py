"""The citation specialist: read a batch of kept sources and take notes for writing.

Notes (key sentences, keywords, method, finding) come from each source's own
text; they feed the outline, the sections and the evidence table.
"""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.runtime import Runtime

from graph.config import Context
from graph.engines.base import NotesRequest, SourceBrief
from graph.resources import corpus_for, engine_for
from graph.specialists.subgraph import SpecialistState, build_specialist

MAX_TEXT_CHARS = 40_000


async def fetch(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Each source's text: the corpus document's, or for a live source its abstract or snippet."""
    corpus = await corpus_for(runtime.context)
    items = state["task"]["payload"]["items"]
    texts = {
        item["identity"]: (
            corpus.text(item["identity"])
            if item["identity"] in corpus
            else f"{item['brief']['title']}\n\n{item['brief'].get('abstract') or ''}".strip()
        )[:MAX_TEXT_CHARS]
        for item in items
    }
    return {"texts": texts}


async def annotate(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    engine = engine_for(runtime.context)
    texts = state["work"]["texts"]
    items = payload["items"]
    notes = await asyncio.gather(
        *(
            engine.extract_notes(
                NotesRequest(
                    topic=payload["topic"],
                    source=SourceBrief.model_validate(item["brief"]),
                    text=texts[item["identity"]],
                )
            )
            for item in items
        )
    )
    return {
        "output": {
            "notes": {
                item["identity"]: note.model_dump() for item, note in zip(items, notes, strict=True)
            }
        }
    }


graph = build_specialist("citation", {"read": [fetch, annotate]})
