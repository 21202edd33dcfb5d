"""Reading one source: its central sentences (topic-biased TextRank), key terms, method
and finding. Everything returned is text taken from the source, never written anew."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from graph.engines.base import SourceNotes
from graph.engines.text import (
    Phrase,
    SurfaceForms,
    clean_latex,
    content_stems,
    looks_adjective,
    mend_hyphens,
    normalize_space,
    phrases,
    split_sentences,
    strip_references,
    words,
)

_CONTRIBUTE = r"(?:propos|present|introduc|develop|design|construct|deriv|formulat|offer|build)\w*"
_SELF = r"(?:this|the present|our|the current) (?:paper|article|study|work|note|research|letter)"
METHOD_CUES: tuple[tuple[str, float], ...] = (
    (rf"\b(?:we|the authors) (?:(?:also|further|first|then|here|now) )?{_CONTRIBUTE}\b", 3.0),
    (
        rf"\b{_SELF} (?:{_CONTRIBUTE}|investigat|consider|stud|examin|extend|deal|address|"
        r"focus|concern|describ|explor|provid|report)\w*",
        3.0,
    ),
    (r"\b(?:is|are|was|were) (?:proposed|introduced|developed|presented|designed)\b", 2.5),
    (rf"\bwe\b[^.;]{{0,60}}?\b{_CONTRIBUTE}\b", 1.0),
    (
        r"\b(?:we|the authors) (?:use|apply|employ|adopt|model|consider|study|investigate|"
        r"extend|compare|evaluate|train)\w*\b",
        2.0,
    ),
    (r"\b(?:method|approach|framework|procedure|algorithm|scheme|technique)s?\b", 1.0),
    (r"\b(?:model|design|estimator|statistic|chart|architecture)s?\b", 0.5),
    (r"\b(?:using|based on|by means of|relies on|via)\b", 0.7),
    (r"\b(?:data ?set|data|simulation|experiment|survey|sample)s?\b", 0.4),
)
BACKGROUND_CUES: tuple[tuple[str, float], ...] = (
    (r"^(?:recently|traditionally|previously|historically|in recent years|nowadays|today)\b", 1.5),
    (r"\b(?:in the last|over the past|in recent) (?:few )?(?:decades?|years)\b", 1.5),
    (r"\b(?:have|has) been (?:proposed|developed|introduced|studied|used)\b", 1.5),
    (r"\b(?:existing|previous|prior|conventional|traditional)\b", 0.5),
    (r"\b(?:was|were|is|are|had been) (?:long )?(?:thought|believed|assumed) to\b", 1.5),
)
FINDING_CUES: tuple[tuple[str, float], ...] = (
    (
        r"\b(?:we|they|the authors) (?:also )?(?:show|find|found|demonstrate|prove|establish|"
        r"observe|conclude)\b",
        3.0,
    ),
    (
        r"\b(?:results?|findings|experiments|evaluations?|simulations?|analysis|studies|"
        r"evidence)\b[^.;:,]{0,80}?\b(?:show|indicate|suggest|reveal|demonstrate|confirm)",
        3.0,
    ),
    (r"\b(?:outperforms?|superior|better than|more (?:efficient|sensitive|accurate))\b", 2.5),
    (r"\b(?:shows?|shown|demonstrates?|demonstrated|reveals?|indicates?)\b", 1.5),
    (r"\b(?:improves?|improved|improvement|reduces?|increases?|achieves?)\b", 1.2),
    (r"\b(?:significant(?:ly)?|effective(?:ness)?|robust|accurate|efficien(?:t|cy))\b", 0.8),
    (r"\b(?:results?|conclude|conclusion|finding)s?\b", 0.8),
)


_ANAPHORA = re.compile(
    r"^(?:[A-Za-z]+,\s+)?(?:this|these|those|such|it|its|they|their|that|thereby|there)\b"
    r"(?! (?:paper|article|study|work|research|note|letter|thesis|chapter)\b)",
    re.I,
)
"""Sentences that open by pointing back ("This limitation is ...") read poorly alone."""
LEAD_ANAPHORA = re.compile(
    r"^[^,.;]{0,50}?\b(?:this|these|those|such)\b"
    r"(?! (?:paper|article|study|work|research|note|letter|thesis|chapter)\b)[^,.;]{0,30},",
    re.I,
)
"""A lead clause that points back ("To address this problem, we ...")."""
_INNER_ANAPHORA = re.compile(
    r"\b(?:this|these|such)\b"
    r"(?! (?:paper|article|study|work|research|note|letter|thesis|chapter|as|that)\b)",
    re.I,
)
"""A reference back to what the sentence does not state ("tackle this problem")."""
OTHER_WORK = re.compile(
    r"\bet al\.|\b[A-Z][\w'’-]+ \((?:19|20)\d{2}[a-z]?\)"
    r"|\([A-Z][^()]{0,80}?,? (?:19|20)\d{2}[a-z]?(?:;[^()]*)?\)"
)
"""A citation of another work inside a sentence ("Ribeiro et al. (2016)", "(Lee, 2019)")."""


def leans_on_context(sentence: str) -> float:
    """How much a sentence needs the text around it to be understood: it opens with an
    anaphor ("These results ...", 1), points back to a problem it does not state ("To
    address this problem, ...", 0.5), or cites another work the review does not list (1)."""
    if _ANAPHORA.match(sentence):
        lean = 1.0
    elif LEAD_ANAPHORA.match(sentence) or _INNER_ANAPHORA.search(sentence):
        lean = 0.5
    else:
        lean = 0.0
    return lean + (1.0 if OTHER_WORK.search(sentence) else 0.0)


def cue_score(sentence: str, cues: tuple[tuple[str, float], ...]) -> float:
    """The summed weight of the cue patterns a sentence matches."""
    lower = sentence.lower()
    return sum(weight for pattern, weight in _compiled(cues) if pattern.search(lower))


@lru_cache(maxsize=16)
def _compiled(cues: tuple[tuple[str, float], ...]) -> list[tuple[re.Pattern[str], float]]:
    return [(re.compile(pattern), weight) for pattern, weight in cues]


def is_prose(sentence: str) -> bool:
    """Whether a piece of text reads as a sentence: long enough, mostly words, not a heading."""
    tokens = sentence.split()
    if not 6 <= len(tokens) <= 90 or not (sentence[:1].isupper() or sentence[:1] in '$("“'):
        return False
    if sentence[-1:] not in '.!?"”)':
        return False
    if len(re.findall(r"(?:^|\s|\()(?:i|ii|iii|iv|v|[a-e1-5])\)", sentence)) >= 3:
        return False
    alpha = sum(c.isalpha() for c in sentence)
    return alpha >= 0.55 * len(sentence) and len(content_stems(sentence)) >= 4


@dataclass(frozen=True)
class SentenceTable:
    """A text's prose sentences with their TF-IDF vectors (rows L2-normalised)."""

    sentences: list[str]
    vectors: np.ndarray
    vocabulary: dict[str, int]
    idf: np.ndarray

    @classmethod
    def build(cls, sentences: list[str]) -> SentenceTable:
        stems = [content_stems(s) for s in sentences]
        vocabulary: dict[str, int] = {}
        for row in stems:
            for s in row:
                vocabulary.setdefault(s, len(vocabulary))
        df = np.zeros(len(vocabulary))
        for row in stems:
            for s in set(row):
                df[vocabulary[s]] += 1
        idf = np.log((1 + len(sentences)) / (1 + df)) + 1.0
        vectors = np.zeros((len(sentences), len(vocabulary)))
        for i, row in enumerate(stems):
            for s, count in Counter(row).items():
                vectors[i, vocabulary[s]] = (1 + math.log(count)) * idf[vocabulary[s]]
        return cls(sentences, _normalise(vectors), vocabulary, idf)

    def embed(self, text: str) -> np.ndarray:
        """A text as a vector in this table's space (words it lacks are ignored)."""
        vector = np.zeros(len(self.vocabulary))
        for s, count in Counter(content_stems(text)).items():
            if s in self.vocabulary:
                vector[self.vocabulary[s]] = (1 + math.log(count)) * self.idf[self.vocabulary[s]]
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def textrank(table: SentenceTable, bias: np.ndarray, damping: float = 0.85) -> np.ndarray:
    """PageRank over the sentence similarity graph, teleporting towards `bias`."""
    n = len(table.sentences)
    similarity = table.vectors @ table.vectors.T
    np.fill_diagonal(similarity, 0.0)
    out_weight = similarity.sum(axis=1, keepdims=True)
    out_weight[out_weight == 0] = 1.0
    transition = similarity / out_weight
    teleport = bias / bias.sum() if bias.sum() > 0 else np.full(n, 1.0 / n)
    rank = np.full(n, 1.0 / n)
    for _ in range(60):
        updated = (1 - damping) * teleport + damping * (transition.T @ rank)
        if np.abs(updated - rank).sum() < 1e-9:
            return updated
        rank = updated
    return rank


def key_sentence_count(n: int) -> int:
    return 2 if n < 6 else 3 if n < 20 else 4


def read(topic: str, title: str, text: str) -> SourceNotes:
    """Reading notes on one text: 2-4 key sentences, key terms, method and finding."""
    body = mend_hyphens(strip_references(text))
    raw = [normalize_space(s) for s in split_sentences(body)]
    sentences = [s for s in raw if is_prose(s)] or [s for s in raw if len(s.split()) >= 3]
    if not sentences:
        return SourceNotes(keywords=keywords(title, text))
    table = SentenceTable.build(sentences)
    topical = table.vectors @ table.embed(f"{topic} {title}")
    position = np.array([1.0 / (1 + i / 8) for i in range(len(sentences))])
    contribution = np.array(
        [
            max(cue_score(s, METHOD_CUES), cue_score(s, FINDING_CUES)) >= 2.5
            and cue_score(s, BACKGROUND_CUES) < 1
            for s in sentences
        ],
        dtype=float,
    )
    rank = textrank(table, 0.05 + topical + 0.3 * position + 0.4 * contribution)
    rank = rank / rank.max()

    chosen = _diverse_top(table, rank, key_sentence_count(len(sentences)))
    method_i, finding_i = _method_and_finding(sentences, rank)
    return SourceNotes(
        key_sentences=[sentences[i] for i in sorted(chosen)],
        keywords=keywords(title, body),
        method=sentences[method_i] if method_i is not None else "",
        finding=sentences[finding_i] if finding_i is not None else "",
    )


LEAN_PENALTY = 0.3
"""Rank lost by a key sentence per unit of `leans_on_context`: one that stands alone wins
over a slightly more central one that opens "These results ..."."""


def _diverse_top(table: SentenceTable, rank: np.ndarray, k: int) -> list[int]:
    """The k best-ranked sentences, skipping near-repeats of those already chosen (MMR)
    and preferring sentences that stand alone."""
    chosen: list[int] = []
    candidates = list(range(len(rank)))
    lean = [leans_on_context(s) for s in table.sentences]
    while candidates and len(chosen) < k:

        def gain(i: int) -> float:
            overlap = max((float(table.vectors[i] @ table.vectors[j]) for j in chosen), default=0)
            return 0.7 * float(rank[i]) - 0.3 * overlap - LEAN_PENALTY * lean[i]

        best = max(candidates, key=lambda i: (gain(i), -i))
        chosen.append(best)
        candidates.remove(best)
    return chosen


FINDING_MIN = 1.5
"""A finding must carry a result cue ("show", "outperform", "results indicate")."""


def _method_and_finding(sentences: list[str], rank: np.ndarray) -> tuple[int | None, int | None]:
    """Indices of the sentences that best state the approach and the main result; a
    text without any result cue has no finding."""
    n = len(sentences)
    if n == 0:
        return None, None

    method = [
        cue_score(s, METHOD_CUES)
        - cue_score(s, BACKGROUND_CUES)
        - leans_on_context(s)
        + 0.5 * float(rank[i])
        - 0.3 * i / n
        for i, s in enumerate(sentences)
    ]
    result_cue = [cue_score(s, FINDING_CUES) for s in sentences]
    results = [
        i
        for i, s in enumerate(sentences)
        if result_cue[i] >= FINDING_MIN and cue_score(s, BACKGROUND_CUES) < 1.5
    ]
    finding = {
        i: result_cue[i] - leans_on_context(sentences[i]) + 0.5 * float(rank[i]) + 0.3 * i / n
        for i in results
    }
    method_i = max(range(n), key=lambda i: (method[i], -i))
    finding_i = max(finding, key=lambda i: (finding[i], -i)) if finding else None
    if finding_i == method_i:
        strong_result = result_cue[method_i] >= 3.0 > cue_score(sentences[method_i], METHOD_CUES)
        if strong_result and n > 1:
            method_i = max((i for i in range(n) if i != finding_i), key=lambda i: (method[i], -i))
        else:
            others = [i for i in finding if i != method_i]
            finding_i = max(others, key=lambda i: (finding[i], -i)) if others else None
    return method_i, finding_i


def keywords(title: str, text: str, limit: int = 8) -> list[str]:
    """Key terms of a text, lowercased, most specific first.

    Candidates are noun-phrase-like n-grams (runs of content words); a term scores by
    how often it recurs, with multi-word terms and terms of the title favoured, and a
    term inside a chosen longer term is dropped unless it also stands on its own.
    """
    forms = SurfaceForms()
    counts: Counter[tuple[str, ...]] = Counter()
    heads: Counter[tuple[str, ...]] = Counter()
    starts: Counter[tuple[str, ...]] = Counter()
    first_seen: dict[tuple[str, ...], int] = {}
    title_terms: set[tuple[str, ...]] = set()
    for phrase in phrases(clean_latex(title), max_len=4):
        title_terms.add(phrase.stems)
        _count(phrase, counts, heads, starts, first_seen, forms, weight=2)
    for phrase in phrases(clean_latex(text), max_len=4):
        _count(phrase, counts, heads, starts, first_seen, forms, weight=1)

    def score(stems: tuple[str, ...]) -> float:
        n = len(stems)
        frequency = 1 + math.log(counts[stems])
        return frequency * (1 + 0.8 * (n - 1)) + (1.5 if stems in title_terms else 0)

    eligible = [
        s
        for s in counts
        if (counts[s] >= 2 or s in title_terms)
        and 3 * heads[s] >= counts[s]
        and (starts[s] > 0 or len(s) == 1)
        and not (len(s) == 1 and looks_adjective(forms.best(s).lower()))
        and all(len(w) > 2 for w in s)
        and not _PARTICIPLE.search(forms.best(s))
    ]
    ranked = sorted(eligible, key=lambda s: (-score(s), first_seen[s], s))
    chosen: list[tuple[str, ...]] = []
    for stems in ranked:
        if any(
            _contains(longer, stems) and counts[stems] <= counts[longer] + 2 for longer in chosen
        ):
            continue
        chosen = [c for c in chosen if not (_contains(stems, c) and counts[c] <= counts[stems])]
        chosen.append(stems)
        if len(chosen) >= limit:
            break
    chosen.sort(key=lambda s: (-score(s), first_seen[s], s))
    result: list[str] = []
    for stems in chosen:
        form = forms.best(stems).lower()
        if form not in result and words(form):
            result.append(form)
    return result


_PARTICIPLE = re.compile(r"[a-z]{3,}(?<!e)ed$")


def _count(
    phrase: Phrase,
    counts: Counter[tuple[str, ...]],
    heads: Counter[tuple[str, ...]],
    starts: Counter[tuple[str, ...]],
    first_seen: dict[tuple[str, ...], int],
    forms: SurfaceForms,
    weight: int,
) -> None:
    counts[phrase.stems] += weight
    heads[phrase.stems] += phrase.noun
    starts[phrase.stems] += phrase.start
    first_seen.setdefault(phrase.stems, len(first_seen))
    forms.add(phrase)


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    """Whether `shorter` occurs as a contiguous run inside `longer` (and is shorter)."""
    n = len(shorter)
    if n >= len(longer):
        return False
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))
