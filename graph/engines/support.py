"""Lexical claim verification: does the cited source say what the sentence says?

The sentence's content words (stemmed, without narrative `@key` markers, written author
names and the writer's framing words) are matched against every sentence and every pair
of adjacent sentences of the source. Coverage is weighted by how specific a word is
within the source, and shared word pairs count extra, so a copied or closely paraphrased
sentence scores near 1 and a sentence about something else scores low.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from graph.engines.base import NARRATIVE, SourceBrief, Verdict
from graph.engines.prose import surname
from graph.engines.text import (
    clean_latex,
    content_stems,
    mend_hyphens,
    normalize_space,
    split_sentences,
    strip_references,
)

THRESHOLD = 0.5

FRAMING_WORDS = frozenset(
    content_stems(
        """
        study studies work works research line lines show shows find finds report reports
        demonstrate demonstrates describe describes note notes observe observes argue argues
        state states point points caution cautions according approach explain explains set
        detail details they their them related similar likewise recently same year years
        comprises comprise represented address addresses emphasise emphasises focus focuses
        centre centres turn turns concentrate concentrates share shares interest common
        attention term terms recur recurs increasingly rare earlier since analysis also
        whereas unlike while along further authors author paper article contribution
        contributions representative include includes recurring theme themes use used
        rarely deal deals directly bear bears among belong belongs make makes
        """
    )
)
"""Words the writer adds around a source's sentence; they are no claim about the source."""

_PARTICLE = r"(?:(?i:van|von|der|den|de|del|della|da|di|du|le|la|ter|ten|dos|das) )*"
_NAMED_CITATION = re.compile(
    rf"\b{_PARTICLE}[A-Z][\w'’-]+(?: (?:and|&) {_PARTICLE}[A-Z][\w'’-]+| et al\.)?"
    r"(?:'s|’s)? \((?:\d{4}|n\.d\.)[a-z]?\)"
)


@dataclass(frozen=True)
class Passage:
    text: str
    stems: frozenset[str]
    pairs: frozenset[tuple[str, str]]


@dataclass(frozen=True)
class SourceIndex:
    passages: tuple[Passage, ...]
    idf: dict[str, float]
    unseen: float


def _pairs(stems: list[str]) -> frozenset[tuple[str, str]]:
    return frozenset(zip(stems, stems[1:], strict=False))


@lru_cache(maxsize=64)
def index(text: str) -> SourceIndex:
    """The source's sentences and sentence pairs, with in-source word specificity."""
    body = mend_hyphens(strip_references(text))
    sentences = [normalize_space(s) for s in split_sentences(body)]
    sentences = [s for s in sentences if s]
    stems = [content_stems(clean_latex(s)) for s in sentences]
    df: Counter[str] = Counter()
    for row in stems:
        df.update(set(row))
    n = max(len(sentences), 1)
    idf = {t: math.log((1 + n) / (1 + c)) + 1.0 for t, c in df.items()}
    unseen = math.log(1 + n) + 1.0
    passages = [
        Passage(s, frozenset(row), _pairs(row)) for s, row in zip(sentences, stems, strict=True)
    ]
    for i in range(len(sentences) - 1):
        row = stems[i] + stems[i + 1]
        passages.append(Passage(f"{sentences[i]} {sentences[i + 1]}", frozenset(row), _pairs(row)))
    return SourceIndex(tuple(passages), idf, unseen)


def _name_stems(source: SourceBrief) -> set[str]:
    return {s for a in source.authors for s in content_stems(surname(a))}


def _stems(text: str, names: set[str]) -> list[str]:
    text = _NAMED_CITATION.sub(" ", NARRATIVE.sub(" ", text))
    return [s for s in content_stems(text) if s not in FRAMING_WORDS and s not in names]


_CLAUSES = re.compile(
    r"[;:]|,\s+(?=(?:while|whereas|but)\b|(?:[a-z]{1,3} )*[A-Z@])|\s+while\s+|^[Ww]hereas\s+"
)


@dataclass(frozen=True)
class Claim:
    """What a sentence says of one source: the candidate term lists to check (the
    clauses that name it, when the sentence compares several works), whether the
    sentence names the source, and whether it only lists the source among others."""

    candidates: list[list[str]]
    names_source: bool
    listing: bool


def claim_of(sentence: str, source: SourceBrief) -> Claim:
    text = clean_latex(sentence)
    names = _name_stems(source)
    family = surname(source.authors[0]) if source.authors else ""
    year = str(source.year) if source.year else ""

    def named(clause: str) -> bool:
        """Whether a clause names the source: by its `@key`, or by written name and year."""
        if source.key in NARRATIVE.findall(clause):
            return True
        written = _NAMED_CITATION.findall(NARRATIVE.sub(" ", clause))
        return bool(family) and any(family in c and year in c for c in written)

    count = len(set(NARRATIVE.findall(text))) + len(_NAMED_CITATION.findall(text))
    names_source = named(text)
    candidates: list[list[str]] = []
    if count > 1 and names_source:
        for clause in _CLAUSES.split(text):
            if named(clause):
                stems = _stems(clause, names)
                if stems:
                    candidates.append(stems)
    listing = count >= 3 and names_source and not candidates
    return Claim(candidates or [_stems(text, names)], names_source, listing)


LISTING_THRESHOLD = 0.3
"""A source listed among several under a shared heading needs only part of that heading."""


def verify(sentence: str, source: SourceBrief, text: str) -> Verdict:
    """Whether the source text supports the sentence, how strongly, and where."""
    body = text.strip() or f"{source.title}. {source.abstract}"
    if source.title and source.title not in body:
        body = f"{source.title}.\n\n{body}"
    claim = claim_of(sentence, source)
    if not any(claim.candidates):
        if claim.names_source:
            return Verdict(supported=True, score=1.0, evidence=normalize_space(source.title))
        return Verdict(supported=False, score=0.0, evidence="")
    source_index = index(body)
    best = max(
        (_support(stems, source_index) for stems in claim.candidates if stems),
        key=lambda result: result[0],
    )
    score, matched, evidence, terms = best
    if claim.listing:
        supported = score >= LISTING_THRESHOLD and matched >= 1
    else:
        supported = score >= THRESHOLD and matched >= min(2, terms)
    return Verdict(
        supported=supported, score=round(min(max(score, 0.0), 1.0), 4), evidence=evidence
    )


def _support(claim: list[str], source_index: SourceIndex) -> tuple[float, int, str, int]:
    """The best passage for one claim: its score, matched terms, text, and term count."""
    terms = list(dict.fromkeys(claim))
    weights = {t: source_index.idf.get(t, source_index.unseen) for t in terms}
    total = sum(weights.values())
    pairs = _pairs(claim)
    best: tuple[float, int, str] = (0.0, 0, "")
    for passage in source_index.passages:
        matched = [t for t in terms if t in passage.stems]
        coverage = sum(weights[t] for t in matched) / total
        if pairs:
            score = 0.7 * coverage + 0.3 * len(pairs & passage.pairs) / len(pairs)
        else:
            score = coverage
        if score > best[0] + 1e-12:
            best = (score, len(matched), passage.text)
    return (*best, len(terms))
