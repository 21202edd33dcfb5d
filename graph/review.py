"""Review-wide checks the coordinator runs over all drafts: repeats and disagreements.

Writing agents work in parallel and cannot see each other's drafts, so two of them
may write the same sentence, and two sources of one theme may report opposite
findings without either draft saying so. `dedupe` keeps the first occurrence of a
near-duplicate sentence (with the citations of both); `conflict_sentences` writes
one sentence per disagreeing pair of sources, citing both. Both are deterministic.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

from graph.engines.base import NARRATIVE, NotedSource, SectionDraft, Sentence
from graph.engines.text import content_stems

DUPLICATE = 0.8
"""Similarity at which two sentences count as the same: both the Jaccard similarity of
their word sets and the difflib ratio of their word sequences must reach it."""
MAX_CONFLICTS = 2
"""Most conflict sentences added to one theme."""

_TOKEN = re.compile(r"@[\w:-]+|[a-z0-9]+")


@dataclass(frozen=True)
class Wording:
    """A sentence's words, without punctuation; a narrative `@key` is a word, so
    sentences that name different sources differ."""

    words: tuple[str, ...]
    vocabulary: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Wording:
        words = tuple(_TOKEN.findall(text.lower()))
        return cls(words, frozenset(words))


def near_duplicate(a: Wording, b: Wording) -> bool:
    small, large = sorted((len(a.vocabulary), len(b.vocabulary)))
    if not small or small < DUPLICATE * large:  # Jaccard cannot reach the threshold
        return False
    jaccard = len(a.vocabulary & b.vocabulary) / len(a.vocabulary | b.vocabulary)
    if jaccard < DUPLICATE:
        return False
    return SequenceMatcher(None, a.words, b.words, autojunk=False).ratio() >= DUPLICATE


def dedupe(drafts: list[SectionDraft]) -> int:
    """Remove near-duplicate sentences from `drafts` (in document order), in place.

    The first occurrence stays and gains the later one's citations; paragraphs left
    empty go. Returns how many sentences were removed.

    Only sentences that share a word of their prefixes are compared (prefix filtering:
    with words ordered rarest first, two word sets whose Jaccard similarity reaches
    DUPLICATE share a word among the first |A| - ceil(DUPLICATE * |A|) + 1 of each)."""
    parts = [p.sentences for d in drafts for p in d.paragraphs] + [d.bullets for d in drafts]
    wordings = {id(s): Wording.of(s.text) for part in parts for s in part}
    frequency = Counter(w for wording in wordings.values() for w in wording.vocabulary)
    kept: list[tuple[Wording, Sentence]] = []
    index: dict[str, list[int]] = defaultdict(list)
    removed = 0

    def first_of(sentence: Sentence) -> Sentence | None:
        mine = wordings[id(sentence)]
        ordered = sorted(mine.vocabulary, key=lambda w: (frequency[w], w))
        prefix = ordered[: len(ordered) - math.ceil(DUPLICATE * len(ordered)) + 1]
        for n in sorted({n for word in prefix for n in index[word]}):
            theirs, earlier = kept[n]
            if near_duplicate(mine, theirs):
                return earlier
        for word in prefix:
            index[word].append(len(kept))
        kept.append((mine, sentence))
        return None

    def unique(sentences: list[Sentence]) -> list[Sentence]:
        nonlocal removed
        out = []
        for sentence in sentences:
            earlier = first_of(sentence)
            if earlier is None:
                out.append(sentence)
                continue
            earlier.citations = list(dict.fromkeys(earlier.citations + sentence.citations))
            removed += 1
        return out

    for draft in drafts:
        for paragraph in draft.paragraphs:
            paragraph.sentences = unique(paragraph.sentences)
        draft.paragraphs = [p for p in draft.paragraphs if p.sentences]
        draft.bullets = unique(draft.bullets)
    return removed


_NEGATIVE = re.compile(
    r"\b(?:do(?:es)?\s+not|did\s+not|doesn't|don't|cannot|can't|fails?\s+to|failed\s+to|"
    r"no\s+(?:significant|improvement|benefit|gain|effect|evidence)|not\s+(?:effective|"
    r"significant|improve\w*|better)|decreas\w*|degrad\w*|worsen\w*|hurts?|harms?|"
    r"underperform\w*|worse|ineffective)\b",
    re.I,
)
_POSITIVE = re.compile(
    r"\b(?:improv\w*|outperform\w*|increas\w*|reduc\w*|effective|better|enhanc\w*|boost\w*|"
    r"benefits?|gains?|superior)\b",
    re.I,
)
_CUES = frozenset(
    content_stems(
        "improve improves improved improvement outperform outperforms increase increases "
        "increased reduce reduces reduced effective better enhance enhances boost boosts "
        "benefit gain superior "
        "decrease decreases degrade degrades worsen worse fail fails failed significant "
        "ineffective underperform hurt harm evidence effect"
    )
)
SHARED_TERMS = 2
"""Key terms two findings must share to be about the same point."""


def polarity(finding: str) -> int:
    """+1 when the finding reports a gain, -1 a null or negative result, 0 neither."""
    if _NEGATIVE.search(finding):
        return -1
    return 1 if _POSITIVE.search(finding) else 0


def _clause(finding: str) -> str:
    text = " ".join(NARRATIVE.sub(" ", finding).split()).rstrip(" .;:")
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


def conflict_sentences(sources: list[NotedSource], limit: int = MAX_CONFLICTS) -> list[Sentence]:
    """One sentence per pair of sources whose findings point opposite ways on shared
    key terms, in the sources' order, at most `limit`; each source joins one pair at most."""
    signed = [(s, polarity(s.notes.finding)) for s in sources if s.notes.finding.strip()]
    terms = {s.key: set(content_stems(s.notes.finding)) - _CUES for s, _ in signed}
    used: set[str] = set()
    out: list[Sentence] = []
    for (a, pa), (b, pb) in combinations(signed, 2):
        if len(out) >= limit:
            break
        if pa * pb != -1 or a.key in used or b.key in used:
            continue
        if len(terms[a.key] & terms[b.key]) < SHARED_TERMS:
            continue
        first, second = (a, b) if pa > 0 else (b, a)
        text = (
            f"@{first.key} reports that {_clause(first.notes.finding)}, whereas "
            f"@{second.key} finds that {_clause(second.notes.finding)}."
        )
        out.append(Sentence(text=text, citations=[first.key, second.key]))
        used.update((a.key, b.key))
    return out
