"""Plain-text handling for the offline engine: LaTeX cleanup, sentences, words and phrases.

Scientific text is messy (inline math, "et al.", "e.g.", decimals, hyphenated line
breaks); every other offline module reads text through these functions so that they
all agree on what a sentence, a word and a term are.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from graph.engines.stemming import stem

STOPWORDS = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also
    although always am among amongst an and another any anyhow anyone anything anyway anywhere
    are around as at be became because become becomes becoming been before beforehand behind
    being below beside besides between beyond both but by can cannot could did do does doing
    done down due during each either else elsewhere enough especially etc even ever every
    everyone everything everywhere except few for former formerly from further furthermore had
    has have having he hence her here hereby herein hers herself him himself his how however i
    ie if in indeed into is it its itself just least less many may me meanwhile might more
    moreover most mostly much must my myself namely neither never nevertheless next no nobody
    none nor not nothing now nowhere of off often on once one only onto or other others
    otherwise our ours ourselves out over own per perhaps quite rather re same seem seemed latter
    seeming seems several she should since so some somehow someone something sometime
    sometimes somewhere still such than that the their theirs them themselves then thence there
    thereafter thereby therefore therein thereupon these they this those though through
    throughout thus to together too toward towards under until up upon us very via was we well
    were what whatever when whence whenever where whereas whereby wherein whether which while
    whither who whoever whole whom whose why will with within without would yet you your yours
    yourself yourselves eg cf vs viz et al i.e e.g can't cannot won't don't doesn't isn't
    aren't wasn't weren't it's that's there's let's we're they're
    dans les des pour une sur est par avec qui que aux du de la le et en au ces cette son ses
    leur leurs nous sont plus pas ou
    """.split()
)

GENERIC_WORDS = frozenset(
    """
    paper papers article study studies work works research approach approaches method methods
    methodology result results propose proposes proposed present presents presented introduce
    introduces introduced new novel based using use used uses show shows shown showed
    demonstrate demonstrates demonstrated provide provides provided consider considers
    considered develop develops developed developing investigate investigates investigated
    discuss discusses discussed describe describes described obtain obtained obtains give gives
    given make makes made find finds found finding findings well good better best various
    different several many important existing recent recently current currently main
    particular particularly general generally first second third also addition additional
    example examples case cases way ways number numbers order terms term aim aims goal
    problem problems issue issues question questions literature review authors author
    respectively significant significantly certain specific specifically possible able
    likely widely commonly typically usually often much large small high low higher lower
    real world applied apply applies applying application applications technique
    techniques via like within among including include includes included related relevant
    available known called namely due thus hence therefore however furthermore moreover
    whereas although though allow allows allowed enable enables enabled help helps helped
    lead leads led require requires required requiring achieve achieves achieved perform
    performs performed evaluate evaluates evaluated assess assesses assessed explore explores
    explored examine examines examined address addresses addressed focus focuses focused
    aspect aspects type types kind kinds set sets part parts level levels form forms
    ability effective effectively efficient efficiently simple simply easy easily strong
    strongly still even already one two three four five six seven eight nine ten
    perspective perspectives effect effects practice practical impact role context insight
    insights overview tradeoff purpose purposes situation situations fact facts regard
    detect detects identify identifies monitor monitors compare compares reduce reduces
    improve improves increase increases construct constructs capture captures handle handles
    conclude concludes affect affects enhance enhances incorporate incorporates integrate
    integrates outperform outperforms yield yields ensure ensures exhibit exhibits predict
    predicts extend extends employ employs adopt adopts establish establishes illustrate
    illustrates reveal reveals suggest suggests indicate indicates analyze analyzes analyse
    combine combines generate generates measure measures estimate estimates occur occurs
    remain remains need needs want wants aim seek seeks take takes supplementary appropriate
    following serve serves serving wide articles collect collects success successes reason reasons
    within without across overall whole entire total various respective corresponding
    """.split()
)
"""Words that say nothing about a topic: never keywords, never a theme's name."""

ABBREVIATIONS = frozenset(
    """
    al e.g i.e cf vs viz etc fig figs eq eqs eqn ref refs sec secs tab no nos vol pp ch
    approx resp dr mr mrs ms prof st jr sr inc ltd co corp dept univ jan feb mar apr jun jul
    aug sep sept oct nov dec ca est min max avg std var e.q w.r.t i.i.d a.k.a a.s
    """.split()
)

_GREEK = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "θ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "ell": "ℓ",
    "infty": "∞",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "ne": "≠",
    "approx": "≈",
    "sim": "~",
    "times": "×",
    "cdot": "·",
    "pm": "±",
    "to": "→",
    "rightarrow": "→",
    "in": "∈",
    "sum": "Σ",
    "partial": "∂",
    "nabla": "∇",
    "sqrt": "√",
    "ldots": "...",
    "dots": "...",
    "cdots": "...",
}
_GREEK.update(
    {"ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ"}
)
_GREEK.update({"OE": "Œ", "l": "ł", "L": "Ł", "i": "ı", "S": "§", "dag": "†"})
_GREEK.update(
    (name, name)
    for name in "log ln exp sin cos tan max min sup inf lim det arg mod Pr var cov".split()
)
_SUPERSCRIPTS = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    '"': "\u0308",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "H": "\u030b",
    "v": "\u030c",
    "u": "\u0306",
    "k": "\u0328",
}

_DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_PROSE_IN_MATH = re.compile(
    r"(?<![\\A-Za-z])[a-z]{3,}\s+[a-z]{3,}\b|,\s+[a-z]{3,}|\.\s|,\s*$|^\s*\d[\d.,]*\s+[A-Za-z]{2,}"
)
_STYLE_ONLY = re.compile(r"\\(?:textcolor|colorbox|color|href)\s*\{[^{}]*\}|\\url\s*(?=\{)")
_ACCENT = re.compile(r"\\([`'\"^~=.]|[cHvuk](?=[\s{]))\s*\{?([A-Za-z])\}?")
_TEXT_COMMAND = re.compile(
    r"\\(?:emph|textit|textbf|textrm|texttt|textsc|text|mathrm|mathbf|mathit|mathcal|mathbb|"
    r"mathsf|operatorname|boldsymbol|bm|hat|tilde|bar|overline|widehat|widetilde|vec|dot)\s*"
    r"\{([^{}]*)\}"
)
_COMMAND = re.compile(r"\\([A-Za-z]+)")
_SPACE = re.compile(r"\s+")


def _clean_math(math: str) -> str:
    math = math.strip()
    math = re.sub(r"\\(?:bar|overline)\s*\{([^{}]*)\}", "\\1\u0304", math)
    for _ in range(3):
        math = _TEXT_COMMAND.sub(r"\1", math)
    math = re.sub(r"\\bar\s*([A-Za-z])", "\\1\u0304", math)
    math = _COMMAND.sub(lambda m: _GREEK.get(m.group(1), ""), math)
    math = re.sub(r"\^\{?([0-9+\-]{1,3})\}?", lambda m: m.group(1).translate(_SUPERSCRIPTS), math)
    math = re.sub(r"_\{([^{}]*)\}", r"_\1", math)
    math = math.replace("{", "").replace("}", "").replace("\\", "")
    math = re.sub(r"\s*_\s*", "_", math)
    return _SPACE.sub(" ", math).strip()


def _unwrap_inline_math(text: str) -> str:
    """Inline `$...$` spans cleaned; a `$` that opens no plausible span (money) stays."""
    dollars = [m.start() for m in re.finditer(r"(?<!\\)\$", text)]
    out: list[str] = []
    position = 0
    i = 0
    while i + 1 < len(dollars):
        start, end = dollars[i], dollars[i + 1]
        content = text[start + 1 : end]
        after = text[end + 1 : end + 2]
        if content.strip() and not after.isdigit() and not _PROSE_IN_MATH.search(content):
            out.append(text[position:start])
            out.append(_clean_math(content))
            position = end + 1
            i += 2
        else:
            i += 1
    out.append(text[position:])
    return "".join(out)


def clean_latex(text: str) -> str:
    """Readable plain text from text with inline LaTeX: math unwrapped, accents composed."""
    if not any(c in text for c in "\\$~`%"):
        return text
    text = _ACCENT.sub(lambda m: m.group(2) + _ACCENTS[m.group(1).strip()], text)
    text = unicodedata.normalize("NFC", text)
    text = _STYLE_ONLY.sub("", text)
    text = _DISPLAY_MATH.sub(lambda m: _clean_math(next(g for g in m.groups() if g)), text)
    text = _unwrap_inline_math(text)
    for _ in range(3):
        text = _TEXT_COMMAND.sub(r"\1", text)
    text = (
        text.replace("``", "“")
        .replace("''", "”")
        .replace("\\%", "%")
        .replace("\\&", "&")
        .replace("\\_", "_")
    )
    text = re.sub(r"(?<!\\)~", " ", text)
    text = re.sub(r"(?:^|(?<=\s))%(?=[A-Za-z])", "", text)
    text = _COMMAND.sub(lambda m: _GREEK.get(m.group(1), ""), text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    return unicodedata.normalize("NFC", _SPACE.sub(" ", text).strip())


def normalize_space(text: str) -> str:
    """One line of text: words broken at line ends mended, runs of whitespace made one space."""
    return _SPACE.sub(" ", mend_hyphens(text)).strip()


_BROKEN = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]+)-(?:[ \t]*\n[ \t]*|[ \t]+)([a-z]+)\b")
_SUSPENDED = frozenset("and or nor to versus vs as than but".split())
_FRAGMENT = re.compile(
    r"^[a-z]{0,4}(?:tions?|sions?|ments?|ness|ity|ities|ances?|ences?|able|ible|ally|ical|"
    r"ically|ives?|ively|ous|ously|ings?|ed|ers?|ures?|ogy|ogies|isms?|ists?|i[sz]e[sd]?|"
    r"i[sz]ing|ary|ory|ial|ially|ual|ular|ated|ating|ations?|ators?|ants?|ents?|ques?|tics?)$"
)
"""The tail of a word split by a line-end hyphen ("experi- ments", "informa- tion")."""


def mend_hyphens(text: str) -> str:
    """Words that PDF extraction split at a line-end hyphen joined again: "ap- proach" ->
    "approach", while "self- supervised" -> "self-supervised" and "two- and three-" stays.

    The text is its own dictionary: a joined or hyphenated spelling it uses elsewhere wins.
    Otherwise a bound prefix or a word fragment is joined and two whole words keep the hyphen.
    """
    if _BROKEN.search(text) is None:
        return text
    seen = {w.lower() for w in re.findall(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", text)}

    def mend(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        if tail in _SUSPENDED or len(head) == 1:
            return match.group(0)
        lower = head.lower()
        if lower + tail in seen:
            return head + tail
        if f"{lower}-{tail}" in seen or any(c.isupper() or c.isdigit() for c in head[1:]):
            return f"{head}-{tail}"
        if lower in _BOUND_PREFIXES:
            return head + tail
        if lower in STOPWORDS or tail in STOPWORDS:
            return f"{head}-{tail}"
        known = stem_word(tail) in _KNOWN_STEMS
        if _FRAGMENT.match(tail) and not known:
            return head + tail
        whole_head = len(head) >= 4 or stem_word(lower) in _KNOWN_STEMS
        if whole_head and (len(tail) >= 4 or known):
            return f"{head}-{tail}"
        return head + tail

    return _BROKEN.sub(mend, text)


_BOUND_PREFIXES = frozenset(
    "re co de un ex pre pro non sub dis mis anti multi semi inter intra over under".split()
)
"""Prefixes that join the word they open ("re- sults", "pre- trained", "non- linear")."""


_REFERENCES_HEADING = re.compile(r"\n\s*(references|bibliography|literature cited)\s*\n", re.I)


def strip_references(text: str) -> str:
    """The text without a trailing reference list (past the first third of the document)."""
    for match in _REFERENCES_HEADING.finditer(text):
        if match.start() > len(text) // 3:
            return text[: match.start()]
    return text


_PROTECT = re.compile(r"\$\$.+?\$\$|\$[^$]{0,400}?\$|\\\(.+?\\\)|\([^()]{0,200}\)", re.S)
_BOUNDARY = re.compile(r"([.!?])([\"'”’)\]]*)\s+(?=[\"'“‘(\[\0]?[A-Z0-9\0])")


def _ends_with_abbreviation(before: str) -> bool:
    """Whether a period closing `before` belongs to an abbreviation or an initial."""
    match = re.search(r"([A-Za-z][A-Za-z.]*)\.$", before)
    if match is None:
        return False
    word = match.group(1)
    if word.lower() == "etc":
        return False
    if word.lower().rstrip(".") in ABBREVIATIONS or word.lower() in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isupper() and word != "I":
        return True
    return bool(re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word))


_HEADING = re.compile(r"^\s*(?:[0-9IVX]+(?:\.[0-9]+)*\.?\s+)?[A-Z][^.!?:;,]{0,60}$")


def _separate_headings(text: str) -> str:
    """Blank lines around short unpunctuated lines that precede a capitalised line."""
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        following = lines[i + 1].lstrip() if i + 1 < len(lines) else ""
        if _HEADING.match(line) and len(line.split()) <= 8 and following[:1].isupper():
            out.extend(["", line, ""])
        else:
            out.append(line)
    return "\n".join(out)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, copes with abbreviations, initials, decimals and inline math.

    Blank lines always end a sentence (so headings stay apart); single line breaks do not.
    """
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", _separate_headings(text)):
        block = normalize_space(block)
        if not block:
            continue
        masked = _PROTECT.sub(lambda m: "\0" * len(m.group(0)), block)
        start = 0
        for match in _BOUNDARY.finditer(masked):
            end = match.end(2)
            if match.group(1) == "." and _ends_with_abbreviation(masked[start : match.end(1)]):
                continue
            piece = block[start:end].strip()
            if piece:
                sentences.append(piece)
            start = match.end()
        piece = block[start:].strip()
        if piece:
            sentences.append(piece)
    return sentences


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'’][A-Za-z0-9]+)*")
_CHUNK_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”]|\s[-–—]\s|\$")


def words(text: str) -> list[str]:
    """The words of a text, lowercased, hyphenated words kept whole."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def is_content(word: str) -> bool:
    """Whether a lowercase word can carry meaning: not a stopword, a number or a stray letter."""
    return len(word) > 2 and word not in STOPWORDS and not word[0].isdigit()


COMMON_VERBS = frozenset(
    """
    accept achieve adapt add adjust affect aggregate aim align allow analyse analyze answer ask
    apply approximate argue assess assign assume attain attempt augment avoid balance build
    calculate capture change choose claim classify collect combine compare compute concern
    conclude condition consider consist construct contain continue contribute control convert
    correct correspond create decide decrease define degrade demonstrate denote depend derive
    describe design detect determine develop differ discover discuss display distinguish
    ensure enable encode enhance establish estimate evaluate evolve examine exceed exhibit expand
    explain exploit explore express extend extract facilitate fail find fit focus follow
    form generalize generalise generate give grow guide hallucinate handle help highlight
    identify illustrate
    implement improve include incorporate increase indicate induce infer inform integrate
    introduce investigate involve lead learn leverage limit link maintain make match measure
    minimize minimise model monitor motivate need obtain occur offer operate optimize
    optimise outperform perform permit predict prefer prepare present preserve prevent
    produce propose prove provide rank reach read receive reduce refer reflect regard relate
    rely remain remove rename replace report represent require reveal retrieve return reuse
    scale search select serve show signal simulate solve specify start store struggle study
    suffer suggest summarize summarise supply support surpass take target tend test train
    transfer transform treat tune underline understand update use utilize utilise validate
    vary verify view write yield
    """.split()
)
"""Verbs common in research prose; their third-person forms ("retrieves") end no term."""


_KNOWN_STEMS = frozenset(stem(w) for w in GENERIC_WORDS | COMMON_VERBS)
"""Stems of common words: a hyphen-split piece with one of them is a whole word."""


def third_person_verb(word: str) -> bool:
    """Whether a lowercase word is the -s form of a common verb ("retrieves", "studies")."""
    if not word.endswith("s") or word.endswith("ss"):
        return False
    candidates = [word[:-1], word[:-2]] + ([word[:-3] + "y"] if word.endswith("ies") else [])
    return any(c in COMMON_VERBS for c in candidates)


_ADJECTIVE = re.compile(r"(?:al|ive|ous|ic|ary|able|ible|less|ful|ed|ent|ant)$")


def looks_adjective(word: str) -> bool:
    """Whether a lowercase word has an adjective's (or participle's) ending."""
    return bool(_ADJECTIVE.search(word))


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """The stem of a word; hyphenated words stem each part ("multi-state" -> "multi-state")."""
    if "-" in word:
        return "-".join(stem(part) for part in word.split("-"))
    return stem(word.removesuffix("'s"))


def content_stems(text: str) -> list[str]:
    """Stems of the content words of a text, in order, repeats kept."""
    return [stem_word(w) for w in words(text) if is_content(w)]


class Phrase(NamedTuple):
    """A candidate term: its stems (the identity), the words as they were written,
    whether it starts or ends its run of content words (a noun phrase's head is last),
    and whether this use looks like a noun (heads a run or follows a determiner)."""

    stems: tuple[str, ...]
    surface: str
    start: bool = True
    head: bool = True
    noun: bool = True


def phrases(text: str, max_len: int = 3) -> Iterator[Phrase]:
    """Noun-phrase-like n-grams: runs of content words inside one clause, up to max_len words.

    Runs break at stopwords and punctuation; an n-gram may not start or end on a
    generic word ("proposed", "method"), so "proposed control chart" yields
    "control chart" but never "proposed control".
    """
    for chunk in _CHUNK_BREAK.split(text):
        run: list[str] = []
        before = ""
        for token in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:[-'’][A-Za-z0-9]+)*|\S+", chunk):
            lower = token.lower()
            if _WORD.fullmatch(token) and is_content(lower) and not _is_adverb(lower):
                run.append(token)
                continue
            yield from _ngrams(run, max_len, before)
            run = []
            before = lower
        yield from _ngrams(run, max_len, before)


_NOT_ADVERBS = frozenset("anomaly assembly family supply monopoly italy rally reply apply".split())
_NOUN_MARKERS = frozenset(
    "a an the this that these those its their our his her of for in on with by from".split()
)


_VERB_MARKERS = frozenset("that which who it they we".split())
"""Words after which a run usually opens with a verb ("that accommodates multi-state ...")."""
_GERUND_MARKERS = frozenset("by when while after before without".split())


def _is_adverb(word: str) -> bool:
    return word.endswith("ly") and len(word) > 5 and word not in _NOT_ADVERBS


def _ngrams(run: list[str], max_len: int, before: str) -> Iterator[Phrase]:
    """The n-grams of one run; `start`/`head` are judged on the run without its generic
    edges, and a lone word counts as a noun when it heads a run or follows a determiner."""
    lowered = [t.lower() for t in run]
    specific = [i for i, w in enumerate(lowered) if w not in GENERIC_WORDS]
    if not specific:
        return
    lo, hi = specific[0], specific[-1]
    opens_with_verb = before in _VERB_MARKERS or (
        before in _GERUND_MARKERS and lowered[lo].endswith("ing")
    )
    if opens_with_verb and lo == 0 and len(specific) > 1:
        lo = specific[1]
    stems = tuple(stem_word(w) for w in lowered)
    generic = [w in GENERIC_WORDS for w in lowered]
    noun_context = hi > lo or lo > 0 or before in _NOUN_MARKERS
    for n in range(1, max_len + 1):
        for i in range(lo, hi - n + 2):
            if generic[i] or generic[i + n - 1]:
                continue
            head = i + n - 1 == hi
            yield Phrase(
                stems[i : i + n],
                run[i] if n == 1 else " ".join(run[i : i + n]),
                i == lo,
                head,
                head and (n > 1 or noun_context),
            )


class SurfaceForms:
    """Remembers how each stemmed term was written, to show the commonest spelling.

    A capitalised word stays capitalised only when it is never seen in lowercase
    (Bayesian, Shewhart); acronyms (EWMA, CUSUM) always keep their case.
    """

    def __init__(self) -> None:
        self._forms: dict[tuple[str, ...], Counter[str]] = {}
        self._lowercase: set[str] = set()

    def add(self, phrase: Phrase, cased: bool = True) -> None:
        """Count a spelling; `cased=False` for lowercased text, whose case proves nothing."""
        self._forms.setdefault(phrase.stems, Counter())[phrase.surface] += 1
        if cased and len(phrase.stems) == 1 and phrase.surface.islower():
            self._lowercase.add(phrase.surface)

    def update(self, items: Iterable[Phrase]) -> None:
        for phrase in items:
            self.add(phrase)

    def best(self, stems: tuple[str, ...]) -> str:
        """The commonest spelling of a term, lowercased unless it is an acronym or a name."""
        forms = self._forms.get(stems)
        if not forms:
            return " ".join(stems)
        lowered: Counter[str] = Counter()
        for form, count in forms.items():
            lowered[form.lower()] += count
        top = min(lowered, key=lambda f: (-lowered[f], f))
        written = min((f for f in forms if f.lower() == top), key=lambda f: (-forms[f], f))
        return " ".join(self._case(w) for w in written.split())

    def _case(self, word: str) -> str:
        if sum(c.isupper() for c in word) >= 2 or any(c.isdigit() for c in word):
            return word
        if word.lower() in self._lowercase or "-" in word and word.lower() != word:
            return word.lower()
        return word


_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of on or the to via vs with".split()
)


def title_case(text: str) -> str:
    """Headline capitalisation that keeps acronyms and symbols as written."""
    out = []
    for i, word in enumerate(text.split()):
        if i > 0 and word.lower() in _SMALL_WORDS:
            out.append(word.lower())
        elif any(c.isupper() for c in word[1:]) or not word[:1].isalpha():
            out.append(word)
        else:
            out.append("-".join(p[:1].upper() + p[1:] for p in word.split("-")))
    return " ".join(out)


def join_list(items: list[str], conjunction: str = "and") -> str:
    """ "a", "a and b", "a, b and c"."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
