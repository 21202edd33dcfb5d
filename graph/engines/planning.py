"""Scoping a review and screening what search returns.

The plan takes the review's subject out of the prompt (no instructions, no style
requests), and widens it into facet queries by pseudo-relevance feedback: the first
hits are clustered and each cluster's distinctive terms join the topic in a query.
Screening keeps candidates that score near the best hit and name the topic.
"""

from __future__ import annotations

import re

from graph.engines.base import (
    Candidate,
    DatasetSpec,
    Plan,
    PlanRequest,
    Screening,
    ScreenRequest,
)
from graph.engines.datasets import dataset_spec, dataset_title, row_subject
from graph.engines.text import (
    STOPWORDS,
    clean_latex,
    content_stems,
    is_content,
    split_sentences,
    stem_word,
    title_case,
    words,
)
from graph.engines.themes import TermSpace, choose_clusters, distinctive_terms, lsa
from graph.errors import SwarmError

_REQUEST = re.compile(
    r"^\s*(?:(?:please|kindly|can you|could you|would you|i would like you to|i'd like you to|"
    r"i need|i want|we need|help me)\s*,?\s+)*"
    r"(?:(?:write|produce|create|draft|prepare|generate|compose|give me|make|do|conduct|"
    r"perform|provide)\s+(?:me\s+)?)?"
    r"(?:(?:an?|the)\s+)?"
    r"(?:(?:short|brief|comprehensive|systematic|thorough|detailed|critical|structured|"
    r"narrative|scoping|concise|cited|full|complete|rigorous|up-to-date|academic|"
    r"well-cited|referenced)\s*,?\s+(?:and\s+)?|"
    r"(?:\d+[- ](?:page|word)\s+))*"
    r"(?:literature\s+(?:review|survey|overview)|review(?:\s+of\s+the\s+literature)?|survey|"
    r"overview|state[- ]of[- ]the[- ]art(?:\s+review)?|summary|report|synthesis)"
    r"\s+(?:on|of|about|for|into|covering|regarding|concerning|around)\s+",
    re.I,
)
_LEAD = re.compile(
    r"^(?:the\s+)?(?:(?:recent|current|latest|existing|emerging)\s+)?"
    r"(?:(?:research|work|literature|advances|developments|progress|studies|trends|methods|"
    r"approaches)\s+(?:on|in|of|about|into)\s+)?(?:the\s+(?=\w+\s+\w))?",
    re.I,
)
_CLAUSE = re.compile(
    r"[,;:.!?(\[]|\s[-–—]\s|\b(?:focusing|focussing|focused|with (?:a |an )?(?:focus|emphasis)|"
    r"including|especially|particularly|that|which|in order|so that|using (?:citations|apa)|"
    r"with citations|in (?:apa|ieee|mla)|for (?:a|an) (?:audience|reader))\b",
    re.I,
)
_FACETS = re.compile(
    r"\b(?:focusing on|focussing on|focused on|with (?:a |an )?(?:focus|emphasis) on|including|"
    r"especially|particularly|such as|covering)\s+(?P<facets>[^.;:!?]+)",
    re.I,
)
INSTRUCTION_WORDS = frozenset(
    """
    write review literature survey overview summary report please paper papers citations
    cite cited apa ieee mla style format words pages page comprehensive systematic brief
    short detailed thorough academic reader readers audience section sections draft
    produce create prepare generate compose give need want help make full complete
    synthesis synthesize summarize summarise focus focusing focused emphasis including
    especially particularly recent current latest research work studies
    """.split()
)


def subject(prompt: str) -> str:
    """The review's subject as the prompt words it, without the request around it."""
    lines = clean_latex(prompt.strip()).splitlines()
    sentences = split_sentences(lines[0]) if lines else []
    text = sentences[0] if sentences else ""
    text = _REQUEST.sub("", text, count=1)
    text = _LEAD.sub("", text, count=1)
    text = _CLAUSE.split(text, maxsplit=1)[0]
    tokens = text.split()
    while tokens and tokens[-1].lower() in STOPWORDS | INSTRUCTION_WORDS:
        tokens.pop()
    while tokens and tokens[0].lower() in STOPWORDS:
        tokens.pop(0)
    if len(tokens) > 10:
        tokens = tokens[:10]
        while tokens and tokens[-1].lower() in STOPWORDS:
            tokens.pop()
    return " ".join(tokens)


def topic_words(prompt: str, limit: int = 10) -> list[str]:
    """The prompt's content words, request words left out, one per stem, in order."""
    seen: set[str] = set()
    result = []
    for word in words(clean_latex(prompt)):
        stem = stem_word(word)
        if is_content(word) and word not in INSTRUCTION_WORDS and stem not in seen:
            seen.add(stem)
            result.append(word)
    return result[:limit]


def review_title(subject_text: str) -> str:
    head = title_case(subject_text) if subject_text else "The Literature"
    return f"{head}: A Literature Review"


def facets(prompt: str) -> list[str]:
    """Facets the prompt names itself ("focusing on EWMA and CUSUM charts")."""
    match = _FACETS.search(clean_latex(prompt))
    if not match:
        return []
    parts = re.split(r",\s*|\s+(?:and|or)\s+", match.group("facets"))
    return [p.strip() for p in parts if content_stems(p)][:6]


def topic_of(core: str, prompt: str, missing: str) -> str:
    """The topic words of `core` (else of the whole prompt); a SwarmError saying `missing`
    when there are none."""
    terms = topic_words(core) or topic_words(prompt)
    if not terms:
        raise SwarmError(f"the prompt {prompt.strip()!r} {missing}")
    return " ".join(terms)


def plan(request: PlanRequest) -> Plan:
    if spec := dataset_spec(request.prompt):
        return plan_dataset(request, spec)
    core = subject(request.prompt) or " ".join(topic_words(request.prompt)[:6])
    topic = topic_of(
        core,
        request.prompt,
        "names no topic to review: say what the review is about, e.g. 'a literature review "
        "on control charts in manufacturing'",
    )
    core_query = core.lower() if core else topic
    limit = max(1, request.max_queries)

    base = topic or core_query
    queries = [core_query]
    queries += [f"{base} {f.lower()}" for f in facets(request.prompt)]
    queries += feedback_queries(base, request)
    return Plan(title=review_title(core), topic=base, queries=_unique(queries)[:limit])


def plan_dataset(request: PlanRequest, spec: DatasetSpec) -> Plan:
    """A table's plan: its subject as the topic, searched as the prompt words it and by the
    facets the prompt names; every matching source becomes a row, so no feedback queries."""
    core = row_subject(spec, "")
    topic = topic_of(
        core,
        request.prompt,
        "names no subject for the table's rows: say what a row is, e.g. 'a table of control "
        "chart papers with columns title, year'",
    )
    queries = [core.lower() or topic, *(f"{topic} {f.lower()}" for f in facets(request.prompt))]
    return Plan(
        title=dataset_title(spec, topic),
        topic=topic,
        queries=_unique(queries)[: max(1, request.max_queries)],
        dataset=spec,
    )


def feedback_queries(core: str, request: PlanRequest) -> list[str]:
    """One query per cluster of the probe hits: the topic plus the cluster's terms."""
    probe = list({b.key: b for b in reversed(request.probe)}.values())[::-1]
    if len(probe) < 4:
        return []
    texts = [clean_latex(f"{b.title}. {b.abstract}") for b in probe]
    space = TermSpace.build(texts, core)
    points = lsa(space.matrix)
    clusters = choose_clusters(points, min(6, max(2, request.max_queries - 1)), 2)
    queries = []
    for members in clusters:
        inside = set(members)
        others = [i for i in range(len(probe)) if i not in inside]
        terms = distinctive_terms(space, members, others, limit=4)
        terms = ([t for t in terms if len(t) > 1] + [t for t in terms if len(t) == 1])[:2]
        if terms:
            shown = " ".join(space.shown(t).lower() for t in terms)
            queries.append(f"{core} {shown}")
    return queries


def _unique(queries: list[str]) -> list[str]:
    seen: set[frozenset[str]] = set()
    result = []
    for query in queries:
        query = " ".join(query.split())
        key = frozenset(content_stems(query)) or frozenset([query.lower()])
        if query and key not in seen:
            seen.add(key)
            result.append(query)
    return result


RELATIVE_SCORE = 0.25
"""A candidate scoring below this share of the best candidate's score is dropped."""


def screen(request: ScreenRequest) -> Screening:
    """Keys of candidates that score near the best and mention a topic word."""
    topic = set(content_stems(request.topic)) or set(content_stems(request.query))
    best = max((c.score for c in request.candidates), default=request.top_score)
    best = max(best, request.top_score)
    keep: list[str] = []
    for candidate in request.candidates:
        if candidate.key in keep:
            continue
        if best > 0 and candidate.score < RELATIVE_SCORE * best:
            continue
        if topic and not topic & _stems_of(candidate):
            continue
        keep.append(candidate.key)
    return Screening(keep=keep)


def _stems_of(candidate: Candidate) -> set[str]:
    return set(content_stems(clean_latex(f"{candidate.title} {candidate.abstract}")))
