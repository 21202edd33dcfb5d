"""The offline engine: classical, deterministic text algorithms behind every skill.

No network and no model weights: topic-biased TextRank and keyphrase scoring read a
source, TF-IDF with k-means (k by silhouette) finds themes, extractive writing
attributes and compares the sources' own sentences, and lexical overlap checks claims.
The same input always gives the same output. Each skill's work runs in a thread so
the graph's event loop stays free.
"""

from __future__ import annotations

import asyncio

from graph.engines import analysis
from graph.engines.base import (
    ClaimRequest,
    CodeDraft,
    CodeRequest,
    Engine,
    FrameRequest,
    NotesRequest,
    Outline,
    OutlineRequest,
    Plan,
    PlanRequest,
    Rows,
    RowsRequest,
    Screening,
    ScreenRequest,
    SectionDraft,
    SectionRequest,
    SourceNotes,
    Verdict,
)
from graph.engines.datasets import fill_rows
from graph.engines.frames import write_frame
from graph.engines.planning import plan, screen
from graph.engines.reading import read
from graph.engines.sections import write_section
from graph.engines.support import verify
from graph.engines.themes import outline


class OfflineEngine(Engine):
    """The default engine when no model is configured; honest that it is extractive."""

    name = "offline"

    async def plan(self, request: PlanRequest) -> Plan:
        return await asyncio.to_thread(plan, request)

    async def screen(self, request: ScreenRequest) -> Screening:
        return await asyncio.to_thread(screen, request)

    async def extract_notes(self, request: NotesRequest) -> SourceNotes:
        text = request.text.strip() or request.source.abstract
        return await asyncio.to_thread(read, request.topic, request.source.title, text)

    async def outline(self, request: OutlineRequest) -> Outline:
        return await asyncio.to_thread(outline, request.topic, request.sources, request.max_themes)

    async def write_section(self, request: SectionRequest) -> SectionDraft:
        return await asyncio.to_thread(write_section, request)

    async def write_frame(self, request: FrameRequest) -> SectionDraft:
        return await asyncio.to_thread(write_frame, request)

    async def verify_claim(self, request: ClaimRequest) -> Verdict:
        return await asyncio.to_thread(verify, request.sentence, request.source, request.text)

    async def write_code(self, request: CodeRequest) -> CodeDraft:
        return analysis.write_code(request)

    async def extract_rows(self, request: RowsRequest) -> Rows:
        return await asyncio.to_thread(fill_rows, request)
