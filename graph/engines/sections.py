"""Extractive section writing: a theme's overview (scope, open questions) and one line of
work (its sources attributed, then compared). Every claim sentence cites the source it
came from; counts and years are facts of the request and cite nothing."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from graph.engines.base import (
    DraftParagraph,
    Group,
    NotedSource,
    SectionDraft,
    SectionRequest,
    Sentence,
)
from graph.engines.prose import (
    Attribution,
    Name,
    Vocabulary,
    count_word,
    end,
    name_list,
    names_for,
    offset,
    readable,
    vocabulary_of,
)
from graph.engines.reading import (
    BACKGROUND_CUES,
    FINDING_CUES,
    FINDING_MIN,
    METHOD_CUES,
    OTHER_WORK,
    cue_score,
    is_prose,
    leans_on_context,
)
from graph.engines.support import verify
from graph.engines.text import (
    clean_latex,
    content_stems,
    join_list,
    normalize_space,
    split_sentences,
)
from graph.engines.themes import TermSpace, nameable, rising_terms

OPEN_CUES: tuple[tuple[str, float], ...] = (
    (r"\bfuture (?:work|research|studies|directions?|investigations?)\b", 3.0),
    (r"\bopen (?:question|problem|issue|challenge)s?\b", 3.0),
    (
        r"\bremains? (?:an? |largely |still )?(?:open|unclear|unknown|challenging|difficult|"
        r"limited|unexplored|unresolved|scarce|an issue|a challenge)",
        3.0,
    ),
    (r"\b(?:further|more) (?:research|study|studies|investigation|work) (?:is|are) needed\b", 3.0),
    (r"\b(?:little|limited|scarce) (?:attention|work|research|literature)\b", 2.5),
    (r"\b(?:has|have) (?:not|rarely|seldom) been\b", 2.0),
    (r"\bnot (?:yet|well)\b", 1.5),
    (r"\b(?:challenge|challenges|challenging)\b", 1.5),
    (r"\blimitations?\b", 1.5),
    (r"\b(?:unclear|unexplored|lacking|lack of)\b", 1.5),
    (r"\bunknown\b", 0.5),
    (r"\b(?:research|knowledge) gaps?\b|\bgaps? in (?:the )?(?:literature|research)", 2.5),
    (r"^however\b|\bhowever,", 1.0),
)
"""Cue phrases of sentences that state a limitation, a gap or future work."""

PARAGRAPH_MAX = 7


def write_section(request: SectionRequest) -> SectionDraft:
    """The overview of a theme, or one line of work in it."""
    sources = list({s.key: s for s in reversed(request.sources)}.values())[::-1]
    if request.part == "overview":
        return overview(request, sources)
    group = request.group or Group(label=request.theme.title, keys=[s.key for s in sources])
    return SectionDraft(title=group.label, paragraphs=line_of_work(request, group, sources))


def _years(sources: Sequence[NotedSource]) -> list[int]:
    return sorted(s.year for s in sources if s.year)


def _studies(n: int) -> str:
    return f"{count_word(n)} {'study' if n == 1 else 'studies'}"


def _span(years: list[int]) -> str:
    if not years:
        return ""
    if years[0] == years[-1]:
        return f"published in {years[0]}"
    return f"published between {years[0]} and {years[-1]}"


def overview(request: SectionRequest, sources: list[NotedSource]) -> SectionDraft:
    """A paragraph on the theme's scope (count, years, venues, key terms, central works)
    and its open questions as bullets: terms rising in later years, and sentences in
    which sources state a gap, a limitation or future work."""
    if not sources:
        return SectionDraft(title=request.theme.title)
    names = names_for(sources)
    vocabulary = vocabulary_of(_running_texts(sources))
    space = TermSpace.of_sources(sources, request.topic)
    years = _years(sources)
    keywords = request.theme.keywords[:3] or _frequent_keywords(sources, request.topic, 3)
    shown_keywords = [readable(k, vocabulary) for k in keywords]

    scope: list[Sentence] = []
    about = f" on {join_list(shown_keywords)}" if shown_keywords else ""
    span = _span(years)
    scope.append(
        Sentence(
            text=end(
                f"This theme brings together {_studies(len(sources))}{about}"
                + (f", {span}" if span else "")
            )
        )
    )
    venues = _venue_sentence(sources)
    if venues:
        scope.append(Sentence(text=venues))
    recurring = [
        k
        for k in _frequent_keywords(sources, request.topic, 8)
        if not any(set(content_stems(k)) & set(content_stems(m)) for m in keywords)
    ][:4]
    texts, titles = _running_texts(sources), [s.title for s in sources]
    if len(recurring) >= 2:
        scope.append(
            Sentence(
                text=end(
                    "Recurring terms across these studies include "
                    + join_list([vocabulary.restore(k, texts, titles) for k in recurring])
                )
            )
        )
    central = sorted(_central(space, sources, 3), key=lambda s: (s.year or 9999, s.key))
    if len(sources) > 1 and central:
        chosen = [names[s.key] for s in central]
        scope.append(
            Sentence(
                text=end(f"Representative contributions include {name_list(chosen)}"),
                citations=[s.key for s in central],
            )
        )
    timeline = _timeline_sentence(years)
    if timeline:
        scope.append(Sentence(text=timeline))

    return SectionDraft(
        title=request.theme.title,
        paragraphs=pack([[s] for s in scope]),
        bullets=_open_questions(request, sources, space, names, vocabulary),
    )


def _running_texts(sources: Sequence[NotedSource]) -> list[str]:
    """The sources' running text (titles left out: their capitals say nothing)."""
    return [
        " ".join([s.abstract, *s.notes.key_sentences, s.notes.method, s.notes.finding])
        for s in sources
    ]


def _frequent_keywords(sources: Sequence[NotedSource], topic: str, limit: int) -> list[str]:
    """Key terms used by the most sources (topic words alone excluded), commonest first."""
    topic_stems = set(content_stems(topic))
    counts: Counter[tuple[str, ...]] = Counter()
    shown: dict[tuple[str, ...], str] = {}
    first: dict[tuple[str, ...], int] = {}
    for source in sources:
        seen: set[tuple[str, ...]] = set()
        for keyword in source.notes.keywords:
            stems = tuple(content_stems(keyword))
            if not stems or set(stems) <= topic_stems or stems in seen or not nameable(keyword):
                continue
            seen.add(stems)
            counts[stems] += 1
            shown.setdefault(stems, keyword)
            first.setdefault(stems, len(first))
    ranked = sorted(
        (t for t in counts if counts[t] >= 2), key=lambda t: (-counts[t], -len(t), first[t])
    )
    chosen: list[tuple[str, ...]] = []
    for stems in ranked:
        if not any(set(stems) <= set(c) or set(c) <= set(stems) for c in chosen):
            chosen.append(stems)
        if len(chosen) >= limit:
            break
    return [shown[t] for t in chosen]


def _venue_sentence(sources: Sequence[NotedSource]) -> str:
    venues = Counter(clean_latex(s.venue).strip() for s in sources if s.venue and s.venue.strip())
    if sum(venues.values()) < 2:
        return ""
    ranked = sorted(venues, key=lambda v: (-venues[v], v))
    frequent = [v for v in ranked if venues[v] >= 2][:3]
    if len(frequent) == 1:
        return end(
            f"The most frequent venue is {frequent[0]}, with {_studies(venues[frequent[0]])}"
        )
    if frequent:
        parts = [f"{v} ({_studies(venues[v])})" for v in frequent]
        return end(f"The most frequent venues are {join_list(parts)}")
    return end(f"The studies appeared in venues such as {join_list(ranked[:3])}")


def _timeline_sentence(years: list[int]) -> str:
    if len(set(years)) < 3:
        return ""
    median = years[len(years) // 2]
    counts = Counter(years)
    busiest = max(counts, key=lambda y: (counts[y], y))
    later = sum(1 for y in years if y >= median)
    when = f"in {median}" if median == years[-1] else f"in {median} or later"
    text = f"Of the {count_word(len(years))} dated studies, {count_word(later)} appeared {when}"
    if counts[busiest] >= 2 and (busiest != median or counts[busiest] != later):
        text += f", and the busiest year is {busiest}, with {_studies(counts[busiest])}"
    return end(text)


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _central(space: TermSpace, sources: Sequence[NotedSource], limit: int) -> list[NotedSource]:
    """The sources closest to the theme's centroid: the most typical of it."""
    matrix = space.matrix
    if matrix.shape[1] == 0:
        return list(sources[:limit])
    centroid = np.asarray(matrix.mean(axis=0)).ravel()
    similarity = np.asarray(matrix @ centroid).ravel()
    order = sorted(range(len(sources)), key=lambda i: (-similarity[i], i))
    return [sources[i] for i in order[:limit]]


def _open_questions(
    request: SectionRequest,
    sources: list[NotedSource],
    space: TermSpace,
    names: dict[str, Name],
    vocabulary: Vocabulary,
) -> list[Sentence]:
    """Terms rising in the later years, then sentences in which sources state a gap."""
    result: list[Sentence] = []
    named = [tuple(content_stems(k)) for k in request.theme.keywords[:4]]
    rising, since = rising_terms(
        space, list(range(len(sources))), [s.year for s in sources], exclude=named
    )
    if rising and since is not None:
        later = [s for s in sources if s.year is not None and s.year >= since]
        later.sort(key=lambda s: (-(s.year or 0), s.key))
        for terms in (rising[:2], rising[:1]):
            shown = join_list([readable(space.shown(t), vocabulary) for t in terms])
            rare = "terms" if len(terms) > 1 else "a term"
            text = end(
                f"Since {since}, the studies increasingly address {shown}, "
                f"{rare} rarely used before {since}"
            )
            backing = [s.key for s in later if supports(s, text)][:3]
            if backing:
                result.append(Sentence(text=text, citations=backing))
                break
    stated = _stated_gaps(sources, 3)
    if stated:
        base = offset(request.theme.title)
        for i, (source, sentence) in enumerate(stated):
            text = Attribution(base + i).credit(sentence, names[source.key], vocabulary, "open")
            result.append(Sentence(text=text, citations=[source.key]))
    return result


def _stated_gaps(sources: Sequence[NotedSource], limit: int) -> list[tuple[NotedSource, str]]:
    """Sentences that state a limitation, gap or future work, at most one per source."""
    scored: list[tuple[float, int, str, NotedSource, str]] = []
    for source in sources:
        best: tuple[float, str] | None = None
        for sentence in _sentences_of(source):
            score = cue_score(sentence, OPEN_CUES)
            if cue_score(sentence, METHOD_CUES) >= 2.5:
                score -= 1.0
            if score < 1.0 or not _quotable(sentence):
                continue
            score += min(len(set(content_stems(sentence))), 12) / 12
            score -= leans_on_context(sentence)
            if best is None or score > best[0]:
                best = (score, sentence)
        if best:
            scored.append((-best[0], -(source.year or 0), source.key, source, best[1]))
    scored.sort(key=lambda row: row[:3])
    return [(row[3], row[4]) for row in scored[:limit]]


def _sentences_of(source: NotedSource) -> list[str]:
    """A source's sentences as its notes and abstract give them, without repeats."""
    pool = [*source.notes.key_sentences, source.notes.method, source.notes.finding]
    pool += split_sentences(source.abstract)
    seen: set[str] = set()
    result = []
    for sentence in pool:
        sentence = normalize_space(sentence)
        if sentence and sentence not in seen and is_prose(sentence) and len(sentence.split()) <= 60:
            seen.add(sentence)
            result.append(sentence)
    return result


def line_of_work(
    request: SectionRequest, group: Group, sources: list[NotedSource]
) -> list[DraftParagraph]:
    """One group: an opening that names the approach and its sources, what each source
    does and finds (attributed), then where they differ and where they agree."""
    by_key = {s.key: s for s in sources}
    members = [by_key[k] for k in dict.fromkeys(group.keys) if k in by_key]
    listed = set(group.keys)
    members += [s for s in sources if s.key not in listed]
    if not members:
        return []
    order = {s.key: i for i, s in enumerate(members)}
    members.sort(key=lambda s: (s.year or 9999, order[s.key]))
    names = names_for(members)
    vocabulary = vocabulary_of(_running_texts(members))
    label = readable(group.label, vocabulary)
    turn = offset(group.label)

    blocks: list[list[Sentence]] = [[_opening(label, members, names, turn)]]
    detailed = len(members) <= 4
    previous: NotedSource | None = None
    for i, source in enumerate(members):
        blocks.append(
            _about_source(source, names[source.key], vocabulary, turn + i, previous, detailed)
        )
        previous = source
    comparison = _contrasts(members, names, request.topic, vocabulary, turn)
    comparison += _agreement(members, names, request.topic, vocabulary, turn)
    return pack(blocks + [[s] for s in comparison])


def _opening(label: str, members: list[NotedSource], names: dict[str, Name], turn: int) -> Sentence:
    """The sentence that names the line of work and the sources whose text bears the
    label out (naming a source cites it); the others are credited in their own sentences."""
    backed = list(members)
    while backed:
        text = _opening_text(label, backed, len(members), names, turn)
        still = [s for s in backed if supports(s, text)]
        if still == backed:
            break
        backed = still
    if not backed:
        studies = _studies(len(members))
        unnamed = (
            f"{_upper(studies)} make up this line of work on {label}",
            f"This line of work on {label} gathers {studies}",
            f"{_upper(studies)} are grouped here under {label}",
        )
        return Sentence(text=end(unnamed[turn % len(unnamed)]))
    return Sentence(text=text, citations=[s.key for s in backed])


def _opening_text(
    label: str, named: list[NotedSource], total: int, names: dict[str, Name], turn: int
) -> str:
    listed = name_list([names[s.key] for s in named])
    if len(named) < total:
        plural = len(named) > 1 or names[named[0].key].plural
        partial = (
            f"Work on {label} includes {listed}",
            f"{listed} {'deal' if plural else 'deals'} most directly with {label}",
            f"Among these studies, {listed} {'bear' if plural else 'bears'} most directly on "
            f"{label}",
        )
        return end(partial[turn % len(partial)])
    if total == 1:
        return end(f"One study addresses {label}: {listed}")
    templates = (
        f"A line of work on {label} comprises {listed}",
        f"{_upper(_studies(total))} address {label}: {listed}",
        f"Work on {label} is represented by {listed}",
    )
    return end(templates[turn % len(templates)])


def _about_source(
    source: NotedSource,
    name: Name,
    vocabulary: Vocabulary,
    turn: int,
    previous: NotedSource | None,
    detailed: bool,
) -> list[Sentence]:
    """One or two sentences on what a source does and finds, credited to it."""
    notes = source.notes
    attribution = Attribution(turn)
    quotable = [s for s in [*notes.key_sentences, *_sentences_of(source)] if _quotable(s)]
    method = notes.method if _quotable(notes.method) else ""
    method = method or next(iter(quotable), "")
    finding = notes.finding if notes.finding != method and _quotable(notes.finding) else ""
    if not method and not finding:
        text = f"{name.text} {'belong' if name.plural else 'belongs'} to this line of work"
        return [Sentence(text=end(text), citations=[source.key])]

    strong_method = cue_score(method, METHOD_CUES) >= 2.5 if method else False
    if not detailed and finding and not strong_method:
        primary, kind, second = finding, "finding", ""
    elif method:
        primary, kind, second = method, "method", finding if detailed else ""
    else:
        primary, kind, second = finding, "finding", ""
    kind = _kind(primary, kind)

    first = attribution.credit(primary, name, vocabulary, kind)
    first = _connect(first, name, source, previous, turn)
    sentences = [Sentence(text=first, citations=[source.key])]
    if second:
        sentences.append(
            Sentence(text=attribution.follow_up(second, name, vocabulary), citations=[source.key])
        )
    return sentences


_STRUCTURAL = re.compile(
    r"\b(?:the|this|our) (?:paper|article) (?:ends|concludes|closes|is (?:organi[sz]ed|structured))"
    r"|\b(?:end|conclude|close)s? (?:the|this|our) (?:paper|article)\b|\bsections? \d",
    re.I,
)


def _quotable(sentence: str) -> bool:
    """Whether a source's sentence can be quoted under its name: it cites no other work
    (whose citation the review could not resolve) and does not describe the paper's layout."""
    return bool(sentence) and not OTHER_WORK.search(sentence) and not _STRUCTURAL.search(sentence)


def _kind(sentence: str, role: str) -> str:
    """How to report a sentence: as a result, as the approach, or neutrally when it is
    background ("Traditionally, ...") or carries no cue for its role."""
    if cue_score(sentence, BACKGROUND_CUES) >= 1.5:
        return "other"
    result, approach = cue_score(sentence, FINDING_CUES), cue_score(sentence, METHOD_CUES)
    if result >= FINDING_MIN and result > approach:
        return "finding"
    if role == "method" and approach >= 1.0:
        return "method"
    return "finding" if role == "finding" and result >= FINDING_MIN else "other"


def _connect(
    sentence: str, name: Name, source: NotedSource, previous: NotedSource | None, turn: int
) -> str:
    """A connective before a sentence that opens with the source's name, chosen by the
    order of years and by turn, so consecutive sources do not read alike."""
    opens_with_name = sentence[:1].lower() == name.text[:1].lower() and sentence[1:].startswith(
        name.text[1:]
    )
    if previous is None or not opens_with_name:
        return sentence
    sentence = name.text + sentence[len(name.text) :]
    if source.year and previous.year and source.year == previous.year and turn % 2 == 0:
        lead = "In the same year, "
    elif source.year and previous.year and source.year - previous.year >= 2 and turn % 2 == 1:
        lead = "More recently, "
    else:
        lead = ("", "In a related study, ", "Along similar lines, ", "", "Likewise, ")[turn % 5]
        verb = sentence[len(name.text) :].split()[:1]
        if lead == "In a related study, " and verb and verb[0].startswith("stud"):
            lead = "Along similar lines, "
    return end(lead + sentence)


def _keyword_sets(
    members: Sequence[NotedSource], topic: str, vocabulary: Vocabulary
) -> list[dict[tuple[str, ...], str]]:
    """Each source's key terms by stems, topic words alone left out."""
    topic_stems = set(content_stems(topic))
    result = []
    for source in members:
        terms: dict[tuple[str, ...], str] = {}
        for keyword in source.notes.keywords:
            stems = tuple(content_stems(keyword))
            if stems and not set(stems) <= topic_stems and nameable(keyword):
                shown = vocabulary.restore(
                    clean_latex(keyword), _running_texts([source]), [source.title]
                )
                terms.setdefault(stems, shown)
        result.append(terms)
    return result


def _contrasts(
    members: list[NotedSource],
    names: dict[str, Name],
    topic: str,
    vocabulary: Vocabulary,
    turn: int,
) -> list[Sentence]:
    """Sentences that set two sources side by side by the terms only each of them uses."""
    if len(members) < 2:
        return []
    terms = _keyword_sets(members, topic, vocabulary)
    distinct: list[list[str]] = []
    for i, own in enumerate(terms):
        other_stems = {w for j, t in enumerate(terms) if j != i for stems in t for w in stems}
        picked: list[str] = []
        used: set[str] = set()
        for stems, shown in own.items():
            if not set(stems) & (other_stems | used) and len(picked) < 2:
                picked.append(shown)
                used.update(stems)
        distinct.append(picked)
    pairs = [(i, i + 1) for i in range(0, len(members) - 1, 2)]
    sentences: list[Sentence] = []
    for n, (i, j) in enumerate(pairs[: 1 if len(members) < 4 else 2]):
        if not distinct[i] or not distinct[j]:
            continue
        a, b = names[members[i].key], names[members[j].key]
        a_terms, b_terms = join_list(distinct[i]), join_list(distinct[j])
        templates = (
            f"Whereas {a.text} {_verb('emphasise', a)} {a_terms}, "
            f"{b.text} {_verb('focus', b)} on {b_terms}",
            f"{a.text} {_verb('centre', a)} on {a_terms}, while {b.text} "
            f"{_verb('turn', b)} to {b_terms}",
            f"Unlike {a.text}, who {_verb('concentrate', a)} on {a_terms}, "
            f"{b.text} {_verb('address', b)} {b_terms}",
        )
        text = end(templates[(turn + n) % len(templates)])
        if supports(members[i], text) and supports(members[j], text):
            sentences.append(Sentence(text=text, citations=[members[i].key, members[j].key]))
    return sentences


def supports(source: NotedSource, sentence: str) -> bool:
    """Whether the source, as the writer knows it (abstract and notes), passes the same
    lexical check the citation agents run; a sentence is cited only where it passes."""
    known = source.abstract or " ".join(source.notes.key_sentences)
    return verify(sentence, source, known).supported


def _verb(verb: str, name: Name) -> str:
    if name.plural:
        return verb
    if verb.endswith(("s", "sh", "ch")):
        return verb + "es"
    return verb + "s"


def _agreement(
    members: list[NotedSource],
    names: dict[str, Name],
    topic: str,
    vocabulary: Vocabulary,
    turn: int,
) -> list[Sentence]:
    """A sentence on the key terms that several sources share."""
    if len(members) < 2:
        return []
    terms = _keyword_sets(members, topic, vocabulary)
    holders: dict[tuple[str, ...], list[int]] = {}
    shown: dict[tuple[str, ...], str] = {}
    for i, own in enumerate(terms):
        for stems, text in own.items():
            holders.setdefault(stems, []).append(i)
            shown.setdefault(stems, text)
    shared = sorted(
        (t for t, who in holders.items() if len(who) >= 2),
        key=lambda t: (-len(holders[t]), -len(t), min(holders[t]), t),
    )
    if not shared:
        return []
    top = shared[0]
    also = [t for t in shared[1:] if holders[t] == holders[top] and not set(t) & set(top)][:1]
    who = [members[i] for i in holders[top]]
    listed = name_list([names[s.key] for s in who])
    subject = join_list([shown[t] for t in [top, *also]])
    everyone = len(who) == len(members)
    templates = (
        f"{'All of these studies' if everyone else listed} share an interest in {subject}",
        f"Common to {'all of them' if everyone else listed} is attention to {subject}",
        f"{'The terms' if also else 'The term'} {subject} {'recur' if also else 'recurs'} in "
        f"{'every one of these studies' if everyone else listed}",
    )
    text = templates[turn % len(templates)]
    return [Sentence(text=end(_upper(text)), citations=[s.key for s in who])]


def pack(blocks: list[list[Sentence]]) -> list[DraftParagraph]:
    """Sentence blocks (each kept whole, in order) spread over as few paragraphs of at
    most seven sentences as the material needs, balanced so none is left stranded."""
    blocks = [b for b in blocks if b]
    total = sum(len(b) for b in blocks)
    if not total:
        return []
    count = math.ceil(total / (PARAGRAPH_MAX - 1))
    target = total / count
    paragraphs: list[list[Sentence]] = []
    current: list[Sentence] = []
    for block in blocks:
        left = count - len(paragraphs)
        full = len(current) + len(block) > PARAGRAPH_MAX
        if current and (full or (left > 1 and len(current) + len(block) / 2 > target)):
            paragraphs.append(current)
            current = []
        current.extend(block)
    paragraphs.append(current)
    return [DraftParagraph(sentences=p) for p in paragraphs]
