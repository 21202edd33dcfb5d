"""The review's frame (introduction, conclusion, abstract), composed from the section
summaries and the run's facts. The frame only restates what the sections and the run
established; a theme is credited to its representative sources."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph.engines.base import (
    DraftParagraph,
    FrameRequest,
    SectionDraft,
    SectionSummary,
    Sentence,
)
from graph.engines.prose import count_word, end
from graph.engines.sections import pack
from graph.engines.text import content_stems, join_list, phrases
from graph.engines.themes import nameable

ENGINE_NOTE = (
    "This review was written by the offline engine: its text is extractive, assembled from "
    "sentences of the sources themselves and attributed to them by a deterministic "
    "procedure, without a language model"
)
_SUMMARY = re.compile(
    r"^Work on (?P<terms>.+?) \((?P<count>\d+) sources?(?:, (?P<years>[^)]+))?\)"
    r"(?:; since (?P<since>\d{4}), recent work turns to (?P<rising>.+?))?\.$"
)
_ORDINALS = "first second third fourth fifth sixth seventh eighth ninth tenth".split()


@dataclass(frozen=True)
class ThemeFacts:
    """What the frame knows of one section: its name, terms, size and rising terms."""

    title: str
    terms: list[str]
    count: int | None
    rising: list[str]
    keys: list[str]

    @classmethod
    def read(cls, section: SectionSummary) -> ThemeFacts:
        match = _SUMMARY.match(section.summary.strip())
        if match:
            return cls(
                title=section.title,
                terms=_split_list(match.group("terms")),
                count=int(match.group("count")),
                rising=_split_list(match.group("rising") or ""),
                keys=list(section.keys),
            )
        terms = _summary_terms(section.summary)
        return cls(section.title, terms, len(section.keys) or None, [], list(section.keys))

    @property
    def beyond_title(self) -> list[str]:
        """The terms the title does not already name."""
        named = set(content_stems(self.title))
        return [t for t in self.terms if not set(content_stems(t)) <= named]


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in re.split(r",\s*|\s+and\s+", text) if p.strip()]


def _summary_terms(summary: str) -> list[str]:
    """Multi-word terms of a free-text summary, in order of first use."""
    seen: dict[tuple[str, ...], str] = {}
    for phrase in phrases(summary, max_len=3):
        if len(phrase.stems) > 1 and phrase.head and phrase.start:
            seen.setdefault(phrase.stems, phrase.surface.lower())
    return list(seen.values())[:3]


def write_frame(request: FrameRequest) -> SectionDraft:
    themes = [ThemeFacts.read(s) for s in request.sections]
    topic = running_topic(request) or "its topic"
    if request.kind == "introduction":
        return SectionDraft(title="Introduction", paragraphs=_introduction(request, themes, topic))
    if request.kind == "conclusion":
        return SectionDraft(title="Conclusion", paragraphs=_conclusion(themes, topic))
    return SectionDraft(title="Abstract", paragraphs=_abstract(request, themes, topic))


def running_topic(request: FrameRequest) -> str:
    """The topic as running text: the title's subject if it has one, acronyms kept."""
    head = request.title.split(":")[0].strip() if ":" in request.title else ""
    if not head or re.search(r"\b(?:literature )?review\b", head, re.I):
        head = request.topic.strip() or head
    return " ".join(_running_word(w) for w in head.split())


def _running_word(word: str) -> str:
    """A title-cased word as running text: acronyms (per hyphen part) kept."""
    parts = word.split("-")
    return "-".join(p if sum(c.isupper() for c in p) >= 2 else p.lower() for p in parts)


def _sources(n: int) -> str:
    return f"{count_word(n)} source{'s' if n != 1 else ''}"


def _scope_sentences(request: FrameRequest) -> list[Sentence]:
    facts = request.facts
    kept = facts.sources_kept or facts.sources_screened
    parts: list[str] = []
    if kept:
        text = f"The review rests on {_sources(kept)}"
        found = facts.sources_found
        if found and found > kept:
            text += f", selected from {count_word(found)} candidates"
            if facts.queries:
                text += f" that {count_word(len(facts.queries))} search queries retrieved"
            if facts.sources_searched:
                text += f" from {count_word(facts.sources_searched)} documents searched"
        parts.append(end(text))
        if facts.sources_screened and facts.sources_screened != kept:
            parts.append(
                end(
                    f"Of the candidates, {count_word(facts.sources_screened)} passed screening "
                    f"for relevance to the topic"
                )
            )
    if facts.years:
        first, last = facts.years
        when = f"in {first}" if first == last else f"between {first} and {last}"
        parts.append(end(f"The sources were published {when}"))
    return [Sentence(text=p) for p in parts]


def _introduction(
    request: FrameRequest, themes: list[ThemeFacts], topic: str
) -> list[DraftParagraph]:
    opening = [Sentence(text=end(f"This review examines research on {topic}"))]
    leading = [t.terms[0] for t in themes if t.terms][:5]
    if leading:
        opening.append(
            Sentence(
                text=end(
                    f"In the sources it draws on, the study of {topic} centres on "
                    f"{join_list(leading)}"
                )
            )
        )
    if len(themes) >= 2:
        opening.append(
            Sentence(
                text=end(
                    f"These concerns organise the literature into "
                    f"{count_word(len(themes))} themes, from {themes[0].title} to "
                    f"{themes[-1].title}"
                )
            )
        )
    scope = [*_scope_sentences(request), Sentence(text=end(ENGINE_NOTE))]
    tour = [_tour_sentence(i, t, len(themes)) for i, t in enumerate(themes)]
    return pack([opening]) + pack([[s] for s in scope]) + pack([[s] for s in tour])


def _tour_sentence(i: int, theme: ThemeFacts, total: int) -> Sentence:
    about = f" on {join_list(theme.terms)}" if theme.beyond_title else ""
    size = f"{_sources(theme.count)}" if theme.count else "work"
    if i == 0:
        text = f"The review opens with {theme.title}, which gathers {size}{about}"
    elif i == total - 1 and total > 2:
        text = f"Finally, {theme.title} gathers {size}{about}"
    elif i == 1:
        text = f"It then turns to {theme.title}, with {size}{about}"
    else:
        ordinal = _ORDINALS[i] if i < len(_ORDINALS) else f"{i + 1}th"
        text = f"The {ordinal} theme, {theme.title}, covers {size}{about}"
    return Sentence(text=end(text), citations=theme.keys[:1])


_TAKES_IN = ("also takes in", "extends to", "also covers")


def _conclusion(themes: list[ThemeFacts], topic: str) -> list[DraftParagraph]:
    if len(themes) == 1:
        overall = f"The review's single theme maps the literature on {topic}"
    else:
        overall = (
            f"Taken together, the {count_word(len(themes))} themes map the literature on {topic}"
        )
        sized = sorted((t for t in themes if t.count), key=lambda t: -(t.count or 0))
        if len(sized) >= 2 and sized[0].count != sized[-1].count:
            overall += (
                f", from the largest, {sized[0].title} ({_sources(sized[0].count or 0)}), to "
                f"{sized[-1].title} ({count_word(sized[-1].count or 0)})"
            )
    contributions = [Sentence(text=end(overall))]
    for theme in themes:
        if theme.beyond_title:
            verb = _TAKES_IN[len(contributions) % len(_TAKES_IN)]
            text = f"{theme.title} {verb} {join_list(theme.beyond_title)}"
            contributions.append(Sentence(text=end(text), citations=theme.keys[:1]))
    links = _connections(themes, topic)
    questions = _questions(themes)
    return (
        pack([[s] for s in contributions])
        + pack([[s] for s in links])
        + pack([[s] for s in questions])
    )


def _connections(themes: list[ThemeFacts], topic: str) -> list[Sentence]:
    """Sentences on the terms two themes share (whole terms first, then their words):
    where lines of research meet."""
    topic_stems = set(content_stems(topic))
    shown: dict[tuple[str, ...], str] = {}
    vocab: list[set[tuple[str, ...]]] = []
    for theme in themes:
        own: set[tuple[str, ...]] = set()
        for term in [*theme.terms, *theme.rising]:
            stems = tuple(content_stems(term))
            if stems and not set(stems) <= topic_stems:
                own.add(stems)
                shown.setdefault(stems, term)
            for word in term.split():
                stem = tuple(content_stems(word))
                if len(stem) == 1 and stem[0] not in topic_stems and nameable(word):
                    own.add(stem)
                    shown.setdefault(stem, word)
        vocab.append(own)
    sentences: list[Sentence] = []
    linked: set[int] = set()
    pairs = [(i, j) for i in range(len(themes)) for j in range(i + 1, len(themes))]
    for i, j in sorted(pairs, key=lambda p: (p[0] in linked or p[1] in linked, p)):
        shared = sorted(vocab[i] & vocab[j], key=lambda t: (-len(t), t))
        if shared and len(sentences) < 3:
            a, b = themes[i], themes[j]
            linked.update((i, j))
            sentences.append(
                Sentence(
                    text=end(
                        f"The themes “{a.title}” and “{b.title}” meet in their attention to "
                        f"{shown[shared[0]]}"
                    ),
                    citations=[*a.keys[:1], *b.keys[:1]],
                )
            )
    if not sentences and len(themes) > 1:
        sentences.append(
            Sentence(
                text="The themes share few key terms, so they read as separate lines of "
                "research rather than as stages of one."
            )
        )
    return sentences


def _questions(themes: list[ThemeFacts]) -> list[Sentence]:
    """Where each theme is moving: its rising terms, a finding of the run's own analysis of
    the sources' years (no one source states it, so no one source is cited)."""
    sentences: list[Sentence] = []
    frames = (
        "Recent work in {title} turns to {terms}",
        "In {title}, newer studies address {terms}",
        "{title} has lately moved towards {terms}",
    )
    for theme in themes:
        if theme.rising:
            frame = frames[len(sentences) % len(frames)]
            text = end(frame.format(title=theme.title, terms=join_list(theme.rising)))
            sentences.append(Sentence(text=text))
    rising = _unique([r for t in themes for r in t.rising])
    if rising:
        sentences.append(
            Sentence(
                text=end(f"These shifts mark where the open questions lie: {join_list(rising[:5])}")
            )
        )
    sentences.append(
        Sentence(
            text="As an extractive review, this text reports what the sources state; the "
            "overview of each theme gives the limitations and future work they name in their "
            "own words."
        )
    )
    return sentences


def _join_titles(titles: list[str]) -> str:
    """A list of titles; semicolons when a title holds its own "and"."""
    if len(titles) > 2 and any(" and " in t for t in titles):
        return "; ".join(titles[:-1]) + f"; and {titles[-1]}"
    return join_list(titles)


def _unique(items: list[str]) -> list[str]:
    seen: set[tuple[str, ...]] = set()
    result = []
    for item in items:
        key = tuple(content_stems(item))
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result


def _abstract(request: FrameRequest, themes: list[ThemeFacts], topic: str) -> list[DraftParagraph]:
    facts = request.facts
    kept = facts.sources_kept or facts.sources_screened or sum(t.count or 0 for t in themes)
    when = ""
    if facts.years:
        first, last = facts.years
        when = f", published in {first}" if first == last else f", published {first}–{last}"
    sentences = [
        Sentence(
            text=end(
                f"This review, written by the offline engine from the sources' own sentences, "
                f"surveys {_sources(kept)} on {topic}{when}"
            )
        )
    ]
    if themes:
        titles = _join_titles([t.title for t in themes])
        sentences.append(
            Sentence(text=end(f"It organises them into {count_word(len(themes))} themes: {titles}"))
        )
        largest = max(themes, key=lambda t: t.count or 0)
        if largest.count and len(themes) > 1:
            sentences.append(
                Sentence(
                    text=end(f"The largest, {largest.title}, covers {_sources(largest.count)}")
                )
            )
    rising = _unique([r for t in themes for r in t.rising])
    if rising:
        sentences.append(
            Sentence(
                text=end(
                    f"Recent work turns to {join_list(rising[:4])}, where the review locates "
                    f"the main open questions"
                )
            )
        )
    links = _connections(themes, topic)
    if links and links[0].citations:
        sentences.append(Sentence(text=links[0].text))
    return pack([sentences])
