"""The writing specialist: outline the themes, write each part of a section, frame the review.

Every draft passes a citation check before it leaves the specialist: a citation
to a key the run did not retrieve is dropped and counted, never printed.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.config import Context
from graph.engines.base import (
    NARRATIVE,
    FrameRequest,
    Group,
    NotedSource,
    Outline,
    OutlineRequest,
    SectionDraft,
    SectionRequest,
    Sentence,
    Theme,
)
from graph.resources import engine_for
from graph.specialists.subgraph import SpecialistState, build_specialist

GROUP_SIZE = 8


def checked_draft(draft: SectionDraft, allowed: set[str]) -> tuple[SectionDraft, int]:
    """The draft with citations to unknown keys removed, and how many were removed.

    A sentence that names an unknown source in its text (`@ghost showed ...`) goes whole."""
    dropped = 0

    def keep(sentence: Sentence) -> bool:
        nonlocal dropped
        named = NARRATIVE.findall(sentence.text)
        known = [k for k in dict.fromkeys(sentence.citations + named) if k in allowed]
        dropped += len(set(sentence.citations) | set(named)) - len(known)
        sentence.citations = known
        return all(k in allowed for k in named)

    for paragraph in draft.paragraphs:
        paragraph.sentences = [s for s in paragraph.sentences if keep(s)]
    draft.bullets = [s for s in draft.bullets if keep(s)]
    draft.paragraphs = [p for p in draft.paragraphs if p.sentences]
    return draft, dropped


def checked_outline(outline: Outline, sources: list[NotedSource], topic: str) -> Outline:
    """Themes hold only known keys, each key once; sources left out join the closest theme;
    groups cover their theme and hold at most GROUP_SIZE sources each."""
    known = {s.key: s for s in sources}
    placed: set[str] = set()
    themes: list[Theme] = []
    for theme in outline.themes:
        keys = [k for k in dict.fromkeys(theme.keys) if k in known and k not in placed]
        if keys:
            placed.update(keys)
            themes.append(theme.model_copy(update={"keys": keys}))
    if not themes:
        themes = [Theme(id="t1", title=topic.strip().capitalize() or "Sources", keys=[])]
    for key in known:
        if key not in placed:
            closest = max(themes, key=lambda t: _overlap(known[key], t))
            closest.keys.append(key)
    for number, theme in enumerate(themes, start=1):
        theme.id = f"t{number}"
        theme.groups = _checked_groups(theme)
    return Outline(themes=themes)


def _overlap(source: NotedSource, theme: Theme) -> int:
    words = set(" ".join(source.notes.keywords + [source.title]).lower().split())
    return len(words & set(" ".join(theme.keywords + [theme.title]).lower().split()))


def _checked_groups(theme: Theme) -> list[Group]:
    in_theme = set(theme.keys)
    seen: set[str] = set()
    groups: list[Group] = []
    for group in theme.groups:
        keys = [k for k in dict.fromkeys(group.keys) if k in in_theme and k not in seen]
        seen.update(keys)
        if keys:
            groups.append(Group(label=group.label, keys=keys))
    rest = [k for k in theme.keys if k not in seen]
    if rest:
        groups.append(Group(label="Further work" if groups else theme.title, keys=rest))
    return groups


async def cluster(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    sources = [NotedSource.model_validate(s) for s in payload["sources"]]
    outline = await engine_for(runtime.context).outline(
        OutlineRequest(topic=payload["topic"], sources=sources, max_themes=payload["max_themes"])
    )
    return {"outline": outline.model_dump()}


async def check_outline(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    payload = state["task"]["payload"]
    sources = [NotedSource.model_validate(s) for s in payload["sources"]]
    outline = checked_outline(
        Outline.model_validate(state["work"]["outline"]), sources, payload["topic"]
    )
    return {"output": {"outline": outline.model_dump()}}


async def draft(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    request = SectionRequest.model_validate(state["task"]["payload"]["request"])
    written = await engine_for(runtime.context).write_section(request)
    return {"draft": written.model_dump()}


async def check_section(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    sources = state["task"]["payload"]["request"]["sources"]  # validated by `draft`
    written, dropped = checked_draft(
        SectionDraft.model_validate(state["work"]["draft"]), {s["key"] for s in sources}
    )
    return {"output": {"draft": written.model_dump(), "dropped": dropped}}


async def frame(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    request = FrameRequest.model_validate(state["task"]["payload"]["request"])
    written = await engine_for(runtime.context).write_frame(request)
    return {"draft": written.model_dump()}


async def check_frame(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    sections = state["task"]["payload"]["request"]["sections"]  # validated by `frame`
    allowed = {k for section in sections for k in section["keys"]}
    written, dropped = checked_draft(SectionDraft.model_validate(state["work"]["draft"]), allowed)
    return {"output": {"draft": written.model_dump(), "dropped": dropped}}


async def describe_method(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """The method section states what the run did; it is counted, not composed."""
    facts = state["task"]["payload"]["facts"]
    engine = engine_for(runtime.context).name
    queries = facts["queries"]
    excluded = facts["sources_found"] - facts["sources_screened"]
    paragraphs = [
        f"The review searched a corpus of {facts['sources_searched']} documents. A planning step "
        f"divided the topic into {len(queries)} search queries, one for each facet it found; "
        f"each query was run by its own search agent, which ranked the documents with BM25 "
        f"over their titles, abstracts and text.",
        f"Together the queries retrieved {facts['sources_found']} distinct sources. Screening "
        f"for relevance to the topic excluded {excluded} of them and kept "
        f"{facts['sources_screened']}; of these, the {facts['sources_kept']} most relevant were "
        f"read in full by citation agents, which recorded key sentences, key terms, the method "
        f"or setting, and the main finding of each source.",
        f"The sources read were grouped into {facts['themes']} themes by their content. Each "
        f"theme, and each line of work within it, was written by its own writing agent, and "
        f"every citation was checked against the sources the run retrieved before export. "
        f"This review was written by the {engine} engine"
        + (
            ": its text is extracted and arranged from the sources, not generated by a "
            "language model."
            if engine == "offline"
            else "."
        ),
    ]
    return {
        "output": {
            "draft": {
                "title": "Method",
                "paragraphs": [
                    {"sentences": [{"text": text, "citations": []}]} for text in paragraphs
                ],
                "bullets": [{"text": q, "citations": []} for q in queries],
            },
            "dropped": 0,
        }
    }


graph = build_specialist(
    "writing",
    {
        "outline": [cluster, check_outline],
        "section": [draft, check_section],
        "frame": [frame, check_frame],
        "method": [describe_method],
    },
)
