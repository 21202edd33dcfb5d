"""The citation specialist: read kept sources and take notes; later, check the drafts' claims.

Notes (key sentences, keywords, method, finding) come from each source's own
text; they feed the outline, the sections and the evidence table. After writing,
one citation agent per drafted part checks every cited sentence against the cited
source's text (`verify_claim`): a supported citation stays, an unsupported one is
replaced by a source of the same part that supports the sentence, else the
sentence is dropped or marked (`Context.on_unsupported`).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from langgraph.runtime import Runtime

from graph.config import Context
from graph.engines.base import (
    NARRATIVE,
    ClaimRequest,
    Engine,
    NotesRequest,
    SectionDraft,
    Sentence,
    SourceBrief,
)
from graph.engines.text import content_stems
from graph.resources import corpus_for, engine_for
from graph.specialists.subgraph import SpecialistState, build_specialist

MAX_TEXT_CHARS = 40_000


async def read(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Notes on each source, taken from its text: the corpus document's, or for a live
    source its abstract or snippet."""
    payload = state["task"]["payload"]
    corpus = await corpus_for(runtime.context)
    engine = engine_for(runtime.context)
    items = payload["items"]
    notes = await asyncio.gather(
        *(
            engine.extract_notes(
                NotesRequest(
                    topic=payload["topic"],
                    source=SourceBrief.model_validate(item["brief"]),
                    text=source_text(corpus, item["identity"], item["brief"]),
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


REPLACEMENT_CANDIDATES = 5
"""Sources of the part, preselected by shared terms, that `verify_claim` tries as a replacement."""
UNSUPPORTED = "[unsupported]"


def source_text(corpus: Any, identity: str, brief: dict[str, Any]) -> str:
    """The text a claim is checked against: the corpus document's, else title and abstract."""
    if identity in corpus:
        return corpus.text(identity)[:MAX_TEXT_CHARS]
    return f"{brief['title']}\n\n{brief.get('abstract') or ''}".strip()


@dataclass
class ClaimCheck:
    """What a check of one draft found, and the counts the run reports."""

    claims_checked: int = 0
    claims_supported: int = 0
    citations_replaced: int = 0
    citations_removed: int = 0
    sentences_removed: int = 0
    sentences_marked: int = 0
    terms: dict[str, set[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


def _marked(text: str) -> str:
    text = text.rstrip()
    if text[-1:] in (".", "!", "?"):
        return f"{text[:-1].rstrip()} {UNSUPPORTED}{text[-1]}"
    return f"{text} {UNSUPPORTED}"


async def verified_draft(
    draft: SectionDraft,
    sources: dict[str, SourceBrief],
    texts: dict[str, str],
    engine: Engine,
    on_unsupported: str = "drop",
) -> tuple[SectionDraft, ClaimCheck]:
    """The draft with every citation checked against its source's text.

    `sources` and `texts` hold the cited sources and the candidates for replacement
    (the other sources of the same part). An unsupported citation is replaced by the
    candidate `verify_claim` scores best, when one supports the sentence; else it is
    removed. A sentence left with no supported citation is removed (`drop`) or kept
    without citations and marked `[unsupported]` (`mark`); a sentence naming an
    unsupported source in its text (`@key`) with no replacement always goes."""
    check = ClaimCheck()

    def terms(key: str) -> set[str]:
        if key not in check.terms:
            check.terms[key] = set(content_stems(texts[key]))
        return check.terms[key]

    async def verdict(sentence: str, key: str) -> tuple[bool, float]:
        found = await engine.verify_claim(
            ClaimRequest(sentence=sentence, source=sources[key], text=texts[key])
        )
        return found.supported, found.score

    async def replacement(sentence: Sentence, key: str) -> str | None:
        wanted = set(content_stems(NARRATIVE.sub(" ", sentence.text)))
        others = [k for k in sources if k != key and k not in sentence.citations]
        ranked = sorted(others, key=lambda k: (-len(wanted & terms(k)), k))
        ranked = [k for k in ranked[:REPLACEMENT_CANDIDATES] if wanted & terms(k)]
        if not ranked:
            return None
        marker = re.compile(rf"@{re.escape(key)}(?![\w:-])")
        found = await asyncio.gather(
            *(verdict(marker.sub(f"@{k}", sentence.text), k) for k in ranked)
        )
        scored = [(score, k) for k, (ok, score) in zip(ranked, found, strict=True) if ok]
        return max(scored, key=lambda pair: (pair[0], pair[1]))[1] if scored else None

    async def checked(sentence: Sentence) -> Sentence | None:
        keys = [k for k in dict.fromkeys(sentence.citations) if k in sources]
        if not keys:
            return sentence
        found = await asyncio.gather(*(verdict(sentence.text, k) for k in keys))
        check.claims_checked += len(keys)
        text, cited, lost_name = sentence.text, [], False
        for key, (ok, _) in zip(keys, found, strict=True):
            if ok:
                check.claims_supported += 1
                cited.append(key)
                continue
            instead = await replacement(sentence, key)
            named = key in NARRATIVE.findall(text)
            if instead is not None:
                check.citations_replaced += 1
                cited.append(instead)
                text = re.sub(rf"@{re.escape(key)}(?![\w:-])", f"@{instead}", text)
            else:
                check.citations_removed += 1
                lost_name = lost_name or named
        cited = list(dict.fromkeys(cited))
        if lost_name or (not cited and on_unsupported == "drop"):
            check.sentences_removed += 1
            return None
        if not cited:
            check.sentences_marked += 1
            return Sentence(text=_marked(text), citations=[])
        return Sentence(text=text, citations=cited)

    async def checked_all(sentences: list[Sentence]) -> list[Sentence]:
        kept = await asyncio.gather(*(checked(s) for s in sentences))
        return [s for s in kept if s is not None]

    for paragraph in draft.paragraphs:
        paragraph.sentences = await checked_all(paragraph.sentences)
    draft.paragraphs = [p for p in draft.paragraphs if p.sentences]
    draft.bullets = await checked_all(draft.bullets)
    return draft, check


async def check_claims(state: SpecialistState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Check every cited sentence of one drafted part against the cited sources' text."""
    payload = state["task"]["payload"]
    corpus = await corpus_for(runtime.context)
    items = payload["sources"]
    texts = await asyncio.to_thread(
        lambda: {k: source_text(corpus, i["identity"], i["brief"]) for k, i in items.items()}
    )
    draft, check = await verified_draft(
        SectionDraft.model_validate(payload["draft"]),
        {k: SourceBrief.model_validate(i["brief"]) for k, i in items.items()},
        texts,
        engine_for(runtime.context),
        runtime.context.on_unsupported,
    )
    return {"output": {"draft": draft.model_dump(), **check.counts()}}


graph = build_specialist("citation", {"read": [read], "verify": [check_claims]})
