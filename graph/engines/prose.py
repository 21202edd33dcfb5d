"""Sentence craft for extractive writing: naming sources, attributing their sentences,
agreeing verbs with authors, and varying connectives without randomness."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graph.engines.base import NARRATIVE, SourceBrief
from graph.engines.reading import LEAD_ANAPHORA
from graph.engines.stemming import stem
from graph.engines.text import STOPWORDS, clean_latex, words

_PARTICLES = frozenset("van von der den de del della da di du le la ter ten dos das st.".split())
_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv".split())


def surname(author: str) -> str:
    """The family name of an author as written in a byline ("C. -P. Yuan" -> "Yuan")."""
    author = clean_latex(author).strip()
    if "," in author:
        return author.split(",")[0].strip()
    tokens = [t for t in author.split() if t.lower() not in _SUFFIXES]
    if not tokens:
        return author
    name = [tokens[-1]]
    for token in reversed(tokens[:-1]):
        if token.lower() in _PARTICLES:
            name.insert(0, token)
        else:
            break
    return " ".join(name)


@dataclass(frozen=True)
class Name:
    """How the text names a source: a narrative `@key` marker (the renderer writes the
    authors and year, "Lewis et al. (2020)"), and whether it takes a plural verb."""

    text: str
    plural: bool


def names_for(sources: Sequence[SourceBrief]) -> dict[str, Name]:
    """Narrative names for sources: `@key`, plural for two or more authors. A key the
    marker syntax cannot carry falls back to the surnames, cited after the sentence."""
    result: dict[str, Name] = {}
    for source in sources:
        surnames = [surname(a) for a in source.authors if a.strip()]
        plural = len(surnames) >= 2
        if NARRATIVE.fullmatch(f"@{source.key}"):
            result[source.key] = Name(f"@{source.key}", plural)
        elif not surnames:
            words_ = clean_latex(source.title).split()
            short = " ".join(words_[:6]) + ("…" if len(words_) > 6 else "")
            result[source.key] = Name(f"“{short}”", False)
        elif len(surnames) == 2:
            result[source.key] = Name(f"{surnames[0]} and {surnames[1]}", True)
        else:
            result[source.key] = Name(f"{surnames[0]}{' et al.' if plural else ''}", plural)
    return result


_IRREGULAR_SINGULAR = {"are": "is", "have": "has", "do": "does", "were": "was"}
_IRREGULAR_PLURAL = {v: k for k, v in _IRREGULAR_SINGULAR.items()}
REPORTING_VERBS = frozenset(
    """
    propose present introduce develop design construct derive formulate use apply employ
    adopt model consider study investigate extend show find demonstrate prove establish
    observe conclude provide discuss describe examine analyse analyze assess evaluate
    compare explore implement suggest illustrate report note argue obtain offer address
    focus review identify test quantify estimate characterise characterize outline
    """.split()
)
_ADVERBS = frozenset("also further then first finally additionally here now next".split())
_MODALS = frozenset("can could may might must shall should will would".split())


def third_person(verb: str) -> str:
    """ "propose" -> "proposes", "study" -> "studies", "are" -> "is"."""
    if verb in _IRREGULAR_SINGULAR:
        return _IRREGULAR_SINGULAR[verb]
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    if re.search(r"(?:s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    return verb + "s"


def base_form(verb: str) -> str:
    """ "proposes" -> "propose", "studies" -> "study", "focuses" -> "focus", "is" -> "are"."""
    if verb in _IRREGULAR_PLURAL:
        return _IRREGULAR_PLURAL[verb]
    for candidate in (verb[:-1], verb[:-2]):
        if verb.endswith("s") and candidate in REPORTING_VERBS:
            return candidate
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if re.search(r"(?:sses|shes|ches|xes|zes|oes)$", verb):
        return verb[:-2]
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb[:-1]
    return verb


def agree(verb: str, plural: bool) -> str:
    """A base-form verb made to agree with its subject."""
    return verb if plural else third_person(verb)


def _conjugate_predicate(predicate: str, to: str) -> str:
    """The predicate with its leading verb (and verbs coordinated by "and") in `to` form:
    "base" for plural subjects, "third" for singular ones."""
    tokens = predicate.split(" ")
    convert = base_form if to == "base" else third_person

    def known(word: str) -> bool:
        if to == "base":
            return base_form(word) in REPORTING_VERBS and word.endswith("s")
        return word in REPORTING_VERBS

    i = 0
    while i < len(tokens) and tokens[i].lower() in _ADVERBS:
        i += 1
    if i < len(tokens) and re.fullmatch(r"[a-z]+", tokens[i]):
        first = tokens[i]
        if to == "base" and (first.endswith("s") or first in _IRREGULAR_PLURAL):
            tokens[i] = convert(first)
        elif to == "third" and not first.endswith("ed") and first not in _MODALS:
            tokens[i] = convert(first)
    for j in range(i + 1, len(tokens) - 1):
        if tokens[j] in {"and", "then"} and re.fullmatch(r"[a-z]+", tokens[j + 1]):
            if known(tokens[j + 1]):
                tokens[j + 1] = convert(tokens[j + 1])
    return " ".join(tokens)


_CONNECTIVE = re.compile(
    r"^(?:therefore|moreover|furthermore|in addition|additionally|however|thus|hence|also|"
    r"finally|consequently|specifically|in particular|besides|first|firstly|second|secondly|"
    r"third|thirdly|lastly|empirically|theoretically|to this end|in other words|"
    r"as a result|on the other hand|importantly|notably|overall|in summary|in conclusion|"
    r"to conclude|in short|then|next|here|as such|accordingly|in the end|so far|to date|"
    r"in practice|in general|generally|typically|indeed|in fact)\s*,\s*",
    re.I,
)
_SELF = r"(?:paper|article|study|work|note|research|letter|manuscript|thesis|contribution|chapter)"
_AUTHOR_VERBS = (
    r"(?:also |further |then |first |finally )?(?:propose|present|introduce|show|find|found|"
    r"report|demonstrate|argue|observe|study|evaluate|compare|develop|describe|train|build|"
    r"use|apply|release|construct|design|analy[sz]e|examine|investigate|test|measure|collect|"
    r"conclude|note|suggest|explore|extend|provide|identify|benchmark|fine-tune)\w*\b"
)
_AUTHORS = rf"(?:we|the authors|they(?=\s+{_AUTHOR_VERBS}))"
"""The subject that stands for a source's authors: "we", "the authors", "they find"."""
_WE_SELF = re.compile(
    rf"^(?:in|within|through) (?:this|the present|our) {_SELF}\s*,?\s+{_AUTHORS}\s+",
    re.I,
)
_WE = re.compile(
    rf"^(?:(?:here|herein|then|also|finally|further|next|now),?\s+)?{_AUTHORS}\s+", re.I
)
_CLAUSE_WE = re.compile(rf"^((?:(?!\bwe\b)[^.;]){{3,200}}?),\s+{_AUTHORS}\s+", re.I)
_LEAD_WE = re.compile(
    rf"^((?:in|at|for|on|with|by|after|to|using|through|via|under)\b"
    rf"(?:(?!\bwe\b)[^,.;]){{2,80}}?)\s+{_AUTHORS}\s+",
    re.I,
)
_CLAUSE_SELF = re.compile(
    rf"^((?:(?!\bwe\b)[^.;]){{3,200}}?),\s+(?:this|the present|our)(?: [a-z-]+)? {_SELF}\s+",
    re.I,
)
_THIS_SELF = re.compile(
    rf"^(?:this|the present|our|the current)(?: [a-z-]+)? {_SELF}\s+(?!(?:is|was|has)\b)", re.I
)
_IN_SELF = re.compile(rf"^(?:in|within) (?:this|the present|our) {_SELF}\s*,?\s+", re.I)
_RESULT_VERBS = (
    r"(?:show|shows|showed|demonstrate|demonstrates|indicate|indicates|reveal|reveals|suggest|"
    r"suggests|confirm|confirms)"
)
_RESULTS = re.compile(
    r"^(?:the |our |an? )?((?:[\w-]+ ){0,2}(?:results|findings|experiments|evaluations?|"
    r"simulations|simulation studies|analys[ei]s|case stud(?:y|ies)|ablations?|comparisons?))\b"
    rf"(?=[^.;]{{0,160}}?\b{_RESULT_VERBS}\b)",
    re.I,
)
"""A sentence whose subject is the source's results: "Experiments on X show that ..."."""
_OWN_REPORT = re.compile(rf"\b{_RESULT_VERBS}\s+that\b|^(?:they|the authors)\b", re.I)
"""A sentence that already carries its own reporting clause ("... show that ...")."""


def tidy(sentence: str) -> str:
    """A source sentence made printable: LaTeX unwrapped, stray math `$` and reference marks
    dropped, spaces cleaned, and an `@` that would read as a narrative citation spelled out
    ("Recall@10" -> "Recall at 10")."""
    text = clean_latex(sentence)
    text = re.sub(r"\s*@(?=[\w:-])", " at ", text)
    text = re.sub(r"(?<![\d\s])\$|\$(?![\d\s])", "", text)
    text = re.sub(r"\s*\[(?:\d+(?:[,–-]\s*\d+)*)\]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return text


_BARE_CONNECTIVE = re.compile(r"^(?:therefore|therefor|thus|hence|so|then)\s+(?=[a-z])", re.I)
_INNER_CONNECTIVE = re.compile(
    r",\s*(?:however|therefore|thus|moreover|furthermore|in addition|in turn|hence|though),\s*"
)


def strip_connective(sentence: str) -> str:
    """Without connectives that tie it to its old context: a leading "However, ..." or
    "Thus ...", and an inner ", however," ("Robust charts, however, delay ...")."""
    stripped = _CONNECTIVE.sub("", sentence, count=1)
    stripped = _BARE_CONNECTIVE.sub("", stripped, count=1)
    stripped = _INNER_CONNECTIVE.sub(" ", stripped)
    return _upper_first(stripped) if stripped != sentence else sentence


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Vocabulary:
    """Which capitalised words are names: seen capitalised inside sentences and never in
    lowercase (Bayesian, Weibull, Shewhart). Others are ordinary words."""

    ordinary: frozenset[str]
    proper: frozenset[str]

    def keeps_case(self, word: str) -> bool:
        """Whether a word keeps its capitals in running text (a name, an acronym)."""
        parts = [p for p in word.split("-") if p]
        if not parts or not word[:1].isalpha():
            return True
        return any(self._keeps(p) for p in parts)

    def _keeps(self, part: str) -> bool:
        if any(c.isupper() for c in part[1:]) or any(c.isdigit() for c in part):
            return True
        if not part[:1].isupper():
            return False
        return part in self.proper and part.lower() not in self.ordinary

    def restore(self, term: str, texts: Iterable[str], titles: Iterable[str] = ()) -> str:
        """A lowercased key term written as the sources write it ("ewma" -> "EWMA"); a
        term found only in a title keeps just its acronyms and names ("NLP", "Wikipedia")."""
        pattern = re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.I)
        for text in texts:
            match = pattern.search(text)
            if match:
                written = match.group(0).split()
                if len(written) > 1 and all(w[:1].isupper() for w in written):
                    return match.group(0)
                return " ".join(w if self._keeps(w) else w.lower() for w in written)
        for title in titles:
            match = pattern.search(clean_latex(title))
            if match:
                return " ".join(
                    w if self.keeps_case(w) else w.lower() for w in match.group(0).split()
                )
        return term


def vocabulary_of(texts: Iterable[str]) -> Vocabulary:
    """The vocabulary of running text (abstracts, sentences; not title-cased titles)."""
    ordinary: set[str] = set()
    proper: set[str] = set()
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", clean_latex(text)):
            tokens = re.findall(r"[A-Za-z][A-Za-z'’]*", sentence)
            for i, token in enumerate(tokens):
                if token.islower():
                    ordinary.add(token)
                elif i > 0 and token[0].isupper() and token[1:].islower():
                    proper.add(token)
    return Vocabulary(frozenset(ordinary), frozenset(proper))


def lower_first(text: str, vocabulary: Vocabulary) -> str:
    """The first letter lowercased unless the first word is a name or an acronym."""
    match = re.match(r"[A-Za-z][A-Za-z'-]*", text)
    if not match:
        return text
    word = match.group(0)
    acronym = len(word) > 1 and word.isupper()
    common = word.lower() in _FUNCTION_WORDS or word.lower() in STOPWORDS
    if vocabulary.keeps_case(word) and (acronym or not common):
        return text
    return word.lower() + text[len(word) :]


_FUNCTION_WORDS = frozenset(
    "a an the this these those that it its in on for with by from as at to of our their such"
    " many most some several all each both one two three recent existing previous".split()
)


def end(text: str) -> str:
    """A sentence that starts with a capital and closes with one full stop (or ! or ?)."""
    text = _upper_first(text.strip().rstrip(";:,"))
    if text.endswith((".", "!", "?")):
        return text
    if text.endswith(("”", '"')) and text[-2:-1] in ".!?":
        return text
    if text.endswith(")") and re.search(r"\([A-Z][^()]*\s[^()]*[.!?]\)$", text):
        return text
    return text + "."


@dataclass(frozen=True)
class Attribution:
    """Frames that credit a sentence to its source, chosen by turn so that no two
    neighbours read alike."""

    turn: int

    def credit(self, sentence: str, name: Name, vocabulary: Vocabulary, kind: str) -> str:
        """The sentence rewritten with `name` as its subject or its reporter.

        "We propose X" becomes "@lewis2020 propose X"; "This paper develops X" becomes
        "@janada2022 develop X"; any other sentence is reported: "@lewis2020 show that
        ...". Verbs agree with the authors' number.
        """
        text = strip_connective(tidy(sentence)).rstrip(".")
        for pattern in (_WE_SELF, _WE):
            match = pattern.match(text)
            if match:
                predicate = text[match.end() :]
                if not name.plural:
                    predicate = _conjugate_predicate(predicate, "third")
                return end(_pronouns(f"{name.text} {predicate}"))
        match = _CLAUSE_WE.match(text) or _LEAD_WE.match(text)
        if match:
            predicate = text[match.end() :]
            if not name.plural:
                predicate = _conjugate_predicate(predicate, "third")
            return end(_pronouns(f"{_lead(match.group(1))}{name.text} {predicate}"))
        match = _CLAUSE_SELF.match(text)
        if match:
            predicate = text[match.end() :]
            if name.plural:
                predicate = _conjugate_predicate(predicate, "base")
            return end(_pronouns(f"{_lead(match.group(1))}{name.text} {predicate}"))
        match = _THIS_SELF.match(text)
        if match:
            predicate = text[match.end() :]
            if name.plural:
                predicate = _conjugate_predicate(predicate, "base")
            return end(_pronouns(f"{name.text} {predicate}"))
        match = _IN_SELF.match(text)
        if match:
            rest = lower_first(text[match.end() :], vocabulary)
            return end(_pronouns(f"In the study by {name.text}, {rest}"))
        if _RESULTS.match(text):
            return end(_pronouns(f"In {name.text}, {lower_first(text, vocabulary)}"))
        return end(_pronouns(self.report(text, name, vocabulary, kind)))

    def report(self, text: str, name: Name, vocabulary: Vocabulary, kind: str) -> str:
        """A sentence reported under one of a few frames, picked by turn."""
        frames = _FRAMES.get(kind, _FRAMES["other"])
        body = lower_first(text, vocabulary)
        opening = {stem(w) for w in words(body)[:10]}
        usable = [
            f for f in frames if not _frame_verbs(f) & opening and not (f[:3] == body[:3] == "as ")
        ] or list(frames)
        if _PASSIVE.match(body):
            usable = [f for f in usable if not _frame_verbs(f)] or ["in {name}, {body}"]
        frame = usable[self.turn % len(usable)]
        verb = re.search(r"\{(\w+)\}", frame.replace("{name}", "").replace("{body}", ""))
        if verb:
            frame = frame.replace(verb.group(0), agree(verb.group(1), name.plural))
        return _upper_first(frame.format(name=name.text, body=body))

    def follow_up(self, sentence: str, name: Name, vocabulary: Vocabulary) -> str:
        """A second sentence about the same source, with a pronoun instead of the name."""
        text = strip_connective(tidy(sentence)).rstrip(".")
        for pattern in (_WE_SELF, _WE):
            match = pattern.match(text)
            if match:
                return end(_pronouns(f"They {text[match.end() :]}"))
        match = _CLAUSE_WE.match(text) or _LEAD_WE.match(text)
        if match:
            return end(_pronouns(f"{_lead(match.group(1))}they {text[match.end() :]}"))
        match = _THIS_SELF.match(text)
        if match:
            return end(_pronouns(f"The study also {text[match.end() :]}"))
        match = _IN_SELF.match(text)
        if match:
            return end(_pronouns(_upper_first(text[match.end() :])))
        match = _RESULTS.match(text)
        if match:
            subject = lower_first(match.group(1), vocabulary)
            return end(_pronouns(f"Their {subject}{text[match.end() :]}"))
        if re.match(r"our\b", text, re.I) or _OWN_REPORT.search(text):
            return end(_pronouns(_upper_first(text)))
        lead = ("They find that", "They report that", "Their analysis shows that")[self.turn % 3]
        return end(_pronouns(f"{lead} {lower_first(text, vocabulary)}"))


_PASSIVE = re.compile(r"^[^,;:]{0,200}? (?:is|are|was|were)(?: \w+ly)? \w+(?:ed|en)\b")
"""A sentence in the passive voice ("the charts' performance is investigated ..."): a
reporting verb ("X find that ... is investigated") would misread it."""
_STRUCTURE = re.compile(
    r"^(?:in|within) (?:the )?(?:(?:first|second|third|last|final|next|following|present|"
    r"latter|former) (?:part|section|step|stage|chapter|half)|sections? \d)",
    re.I,
)


def _lead(clause: str) -> str:
    """A sentence's lead clause and its comma, or nothing when the clause points back to
    text the review does not quote ("To address this problem, ", "In the second part, ")."""
    if LEAD_ANAPHORA.match(f"{clause},") or _STRUCTURE.match(clause):
        return ""
    return f"{clause}, "


def _frame_verbs(frame: str) -> set[str]:
    return {stem(v) for v in re.findall(r"\{(\w+)\}", frame) if v not in {"name", "body"}}


_FRAMES: dict[str, tuple[str, ...]] = {
    "finding": (
        "{name} {show} that {body}",
        "{name} {find} that {body}",
        "as {name} {demonstrate}, {body}",
        "{name} {report} that {body}",
        "according to {name}, {body}",
    ),
    "method": (
        "in {name}, {body}",
        "as {name} {describe}, {body}",
        "{name} {note} that {body}",
        "{name} {explain} that {body}",
    ),
    "open": (
        "{name} {point} out that {body}",
        "as {name} {note}, {body}",
        "{name} {observe} that {body}",
        "{name} {caution} that {body}",
    ),
    "other": (
        "{name} {note} that {body}",
        "in {name}, {body}",
        "as {name} {observe}, {body}",
        "according to {name}, {body}",
    ),
}


def _pronouns(text: str) -> str:
    """First-person pronouns of a quoted author turned into the third person, and an
    inner "in this paper" dropped (the name already says whose paper). `@key` markers
    are kept as they are."""
    out: list[str] = []
    position = 0
    for match in NARRATIVE.finditer(text):
        out += [_third_person_pronouns(text[position : match.start()]), match.group(0)]
        position = match.end()
    out.append(_third_person_pronouns(text[position:]))
    return "".join(out)


def _third_person_pronouns(text: str) -> str:
    text = re.sub(rf"(?<=\w),?\s+in (?:this|the present) {_SELF}\b(?=[\s,])", "", text)
    text = re.sub(r"\bwe\b", "they", text)
    text = re.sub(r"\bWe\b", "They", text)
    text = re.sub(r"\bour\b", "their", text)
    text = re.sub(r"\bOur\b", "Their", text)
    text = re.sub(r"\bourselves\b", "themselves", text)
    text = re.sub(r"\bus\b", "them", text)
    return text


def offset(label: str) -> int:
    """A stable per-label starting point for rotating templates (not Python's hash)."""
    return zlib.crc32(label.encode("utf-8")) % 97


def count_word(n: int) -> str:
    """Small numbers as words, as prose prefers."""
    names = "no one two three four five six seven eight nine ten eleven twelve".split()
    return names[n] if 0 <= n < len(names) else f"{n:,}"


def name_list(names: Sequence[Name]) -> str:
    texts = [n.text for n in names]
    if len(texts) <= 2:
        return " and ".join(texts)
    return f"{', '.join(texts[:-1])} and {texts[-1]}"


def readable(label: str, vocabulary: Vocabulary) -> str:
    """A title-cased label turned into running text: "Measurement Error and Markov Chain"
    -> "measurement error and Markov chain" (names and acronyms kept)."""
    return " ".join(w if vocabulary.keeps_case(w) else w.lower() for w in label.split())
