"""A dataset deliverable: a typed table many agents fill in shards, merged and deduplicated.

`Dataset` is the contract between the graph and the file renderers (`dataset_files.py`).
`check_value` and `check_row` turn what an agent wrote into the column's type, or say in
one line why they cannot. `key_of` identifies a row by its key cell; `merge_duplicate` is
the one rule for two rows with one key, which the coordinator applies across shards and
`unique_rows` over a list.
Rows hold JSON primitives only, dates as ISO strings ("2021-03-12", "2021-03", "2021").
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, field_validator, model_validator

ColumnType = Literal["text", "integer", "number", "year", "date", "url", "boolean", "list"]

MAX_TEXT = 32_000
FIRST_YEAR, LAST_YEAR = 1000, 2100


class Column(BaseModel):
    """One column the user asked for; `type` defaults to text (see `infer_type`)."""

    name: str
    type: ColumnType = "text"
    description: str = ""

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        name = " ".join(name.split())
        if not name:
            raise ValueError("a column needs a name")
        return name


class Dataset(BaseModel):
    """A table: its columns, the key column that identifies a row, checked rows, and notes."""

    title: str
    columns: list[Column]
    key: str
    rows: list[dict[str, Any]]
    notes: dict[str, Any] = {}

    @model_validator(mode="after")
    def _key_is_a_column(self) -> Dataset:
        seen: dict[str, str] = {}
        for column in self.columns:
            folded = column.name.casefold()
            if folded in seen:
                raise ValueError(
                    f"columns {seen[folded]!r} and {column.name!r} differ only in case: rename one"
                )
            seen[folded] = column.name
        if self.key not in {column.name for column in self.columns}:
            names = ", ".join(column.name for column in self.columns) or "none"
            raise ValueError(f"key {self.key!r} is not a column: choose one of {names}")
        return self

    @property
    def key_column(self) -> Column:
        """The column named by `key`."""
        return next(column for column in self.columns if column.name == self.key)


_TYPE_WORDS: list[tuple[ColumnType, re.Pattern[str]]] = [
    (t, re.compile(pattern))
    for t, pattern in [
        ("year", r"\byear\b"),
        (
            "boolean",
            r"^(is|has|have|can|does|do|uses|supports|requires)\b|\bopen (source|access)\b"
            r"|\bpeer reviewed\b|\b(code|data) available\b|\breproducible\b",
        ),
        (
            "integer",
            r"\b(count|counts|number of|num|no of|citations|cited by|size|pages|stars"
            r"|downloads|rank|sample size|participants)\b|^n ",
        ),
        (
            "number",
            r"\b(score|accuracy|rate|ratio|percentage|percent|pct|f1|precision|recall|auc"
            r"|bleu|rouge|mean|average|median|perplexity|speedup)\b",
        ),
        (
            "date",
            r"\b(date|published(?! (?:in|by)\b)|updated|created|modified|released|submitted)\b",
        ),
        ("url", r"\b(url|urls|link|links|homepage|website|pdf|repo|repository|github)\b"),
        (
            "list",
            r"\b(authors|keywords|tags|categories|datasets|topics|languages|affiliations"
            r"|benchmarks|countries)\b",
        ),
    ]
]


def infer_type(name: str) -> ColumnType:
    """The type a column's name suggests ("citations" -> integer), text when it says nothing."""
    words = " ".join(re.sub(r"[^0-9a-z]+", " ", name.casefold().replace("'", "")).split())
    for column_type, pattern in _TYPE_WORDS:
        if pattern.search(words):
            return column_type
    return "text"


def check_value(value: Any, column: Column) -> tuple[Any, str | None]:
    """`value` as the column's type, or (None, a one-line problem); empty is (None, None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    if isinstance(value, str):
        value = value.strip()
    if value == "" or value == [] or value == ():
        return None, None
    try:
        checked = _CHECKS[column.type](value)
        return (None if checked == "" else checked), None
    except _Empty:
        return None, None
    except _Problem as problem:
        return None, str(problem)


def check_row(row: dict[str, Any], columns: list[Column]) -> tuple[dict[str, Any], list[str]]:
    """Every column's checked value (missing is None, other keys dropped) and "column: problem"s.

    A key that matches a column only when case and spacing are ignored counts as that column.
    """
    checked: dict[str, Any] = {}
    problems: list[str] = []
    loose: dict[str, Any] | None = None
    for column in columns:
        if column.name in row:
            raw = row[column.name]
        else:
            if loose is None:
                loose = {" ".join(str(k).split()).casefold(): v for k, v in row.items()}
            raw = loose.get(column.name.casefold())
        checked[column.name], problem = check_value(raw, column)
        if problem:
            problems.append(f"{column.name}: {problem}")
    return checked, problems


def key_of(value: Any, column: Column) -> str:
    """The identity of a key cell, "" when empty: two cells with one identity are one row."""
    checked, problem = check_value(value, column)
    if checked is None:
        return "" if problem is None else _text_key(str(value))
    if column.type in ("integer", "year"):
        return str(checked)
    if column.type == "number":
        return str(int(checked)) if float(checked).is_integer() else repr(float(checked))
    if column.type == "url":
        return _url_key(checked)
    if column.type == "boolean":
        return "true" if checked else "false"
    if column.type == "list":
        return "; ".join(_text_key(item) for item in checked)
    if column.type == "date":
        return checked
    if doi := _DOI.match(checked):  # a DOI column typed as text: "10.1/x" == doi.org link
        return "doi:" + doi.group(1).casefold()
    return _text_key(checked)


def unique_rows(rows: list[dict[str, Any]], key: Column) -> tuple[list[dict[str, Any]], int, int]:
    """Rows unique by `key_of` their key cell: (rows, duplicates dropped, keyless rows dropped).

    The first row with a key wins; its empty cells are filled from later duplicates in order
    (`merge_duplicate`). No row is changed in place.
    """
    kept: list[dict[str, Any]] = []
    position: dict[str, int] = {}
    duplicates = keyless = 0
    for row in rows:
        identity = key_of(row.get(key.name), key)
        if not identity:
            keyless += 1
        elif identity in position:
            duplicates += 1
            index = position[identity]
            kept[index] = merge_duplicate(kept[index], row)
        else:
            position[identity] = len(kept)
            kept.append(row)
    return kept, duplicates, keyless


def merge_duplicate(first: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """A new row: `first`, with its empty cells (None, "", []) filled from `later`."""
    gaps = {
        name: value
        for name, value in later.items()
        if _empty(first.get(name)) and not _empty(value)
    }
    return {**first, **gaps} if gaps else dict(first)


class _Problem(ValueError):
    """Why a value cannot be the column's type, as one line."""


class _Empty(_Problem):
    """A value that is there but holds nothing, such as a list of blanks."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


_SPACES = re.compile(r"\s+")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:[,\s\u00a0\u202f\u2009_]\d{3})+(?:\.\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_YEAR_IN = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _digits(text: str) -> str:
    """`text` without thousands separators, with a plain minus sign."""
    text = text.replace("\u2212", "-")
    if _THOUSANDS.match(text):
        return re.sub(r"[,\s\u00a0\u202f\u2009_]", "", text)
    return text


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise _Problem(f"{value!r} is a yes/no, not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise _Problem(f"{value!r} is not a whole number")
    if isinstance(value, str):
        text = _digits(value)
        if _INTEGER.match(text):
            return int(text.split(".")[0])
    raise _Problem(f"{_shown(value)} is not a whole number")


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise _Problem(f"{value!r} is a yes/no, not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise _Problem(f"{value!r} is not a finite number")
    if isinstance(value, str):
        text = _digits(value.removesuffix("%").strip())
        if _INTEGER.match(text) and "." not in text:
            return int(text)
        if _DECIMAL.match(text):
            number = float(text)
            if math.isfinite(number):
                return number
    raise _Problem(f"{_shown(value)} is not a number")


def _year(value: Any) -> int:
    if isinstance(value, date):
        value = value.year
    if isinstance(value, str) and not _INTEGER.match(value):
        years = dict.fromkeys(_YEAR_IN.findall(value))
        if len(years) > 1:
            raise _Problem(f"{_shown(value)} names several years: give one")
        if not years:
            raise _Problem(f"{_shown(value)} is not a year")
        value = next(iter(years))
    try:
        year = _integer(value)
    except _Problem:
        raise _Problem(f"{_shown(value)} is not a year") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _Problem(f"{year} is not a year between {FIRST_YEAR} and {LAST_YEAR}")
    return year


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"([a-z]+)\.?"
_DATE_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ].*)?$"), "ymd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), "ymd"),
    (re.compile(r"^(\d{4})[-/](\d{1,2})$"), "ym"),
    (re.compile(r"^(\d{4})$"), "y"),
    (re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)? {_MONTH},? (\d{{4}})$"), "dmy"),
    (re.compile(rf"^{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})$"), "mdy"),
    (re.compile(rf"^{_MONTH},? (\d{{4}})$"), "my"),
    (re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$"), "numeric"),
]


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(_year(value))
    if not isinstance(value, str):
        raise _Problem(f"{_shown(value)} is not a date")
    text = " ".join(value.casefold().split())
    for pattern, order in _DATE_FORMS:
        match = pattern.match(text)
        if match:
            return _iso(value, order, match.groups())
    raise _Problem(f"{_shown(value)} is not a date: write it as YYYY-MM-DD, YYYY-MM or YYYY")


def _iso(value: str, order: str, parts: tuple[str, ...]) -> str:
    """An ISO date string from the matched parts of one of `_DATE_FORMS`."""
    day: int | None = None
    month: int | None = None
    if order in ("dmy", "mdy", "my"):
        name = parts[1] if order == "dmy" else parts[0]
        month = _MONTHS.get(name)
        if month is None:
            raise _Problem(f"{_shown(value)} is not a date: {name!r} is not a month")
        year = int(parts[-1])
        day = int(parts[0]) if order == "dmy" else int(parts[1]) if order == "mdy" else None
    elif order == "numeric":
        first, second, year = map(int, parts)
        if first > 12 >= second:
            day, month = first, second
        elif second > 12 >= first:
            day, month = second, first
        elif first == second:
            day = month = first
        else:
            raise _Problem(f"{_shown(value)} is ambiguous (day/month or month/day): use YYYY-MM-DD")
    else:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else None
        day = int(parts[2]) if len(parts) > 2 else None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _Problem(f"{_shown(value)} has a year outside {FIRST_YEAR}..{LAST_YEAR}")
    try:
        checked = date(year, month or 1, day or 1)
    except ValueError:
        raise _Problem(f"{_shown(value)} is not a calendar date") from None
    if day is not None:
        return checked.isoformat()
    return f"{year:04d}-{month:02d}" if month is not None else f"{year:04d}"


_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_ARXIV = re.compile(
    r"^arxiv:\s*(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[a-z]{2})?/\d{7}(?:v\d+)?)$", re.IGNORECASE
)


def _url(value: Any) -> str:
    if not isinstance(value, str):
        raise _Problem(f"{_shown(value)} is not a link")
    if doi := _DOI.match(value):
        return f"https://doi.org/{doi.group(1)}"
    if arxiv := _ARXIV.match(value):
        return f"https://arxiv.org/abs/{arxiv.group(1)}"
    if value.casefold().startswith("www."):
        value = "https://" + value
    if _SPACES.search(value):
        raise _Problem(f"{_shown(value)} is not a link: it contains spaces")
    try:
        parts = urlsplit(value)
        scheme, host = parts.scheme.casefold(), parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in ("http", "https") or not host or "." not in host and host != "localhost":
        raise _Problem(f"{_shown(value)} is not an http(s) link with a host")
    return value


_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise _Problem(f"{_shown(value)} is not yes or no")


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        items: list[Any] = value.split(";" if ";" in value else ",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        items = [value]
    cleaned = [_text(item) for item in items if item is not None]
    cleaned = [item for item in cleaned if item]
    if not cleaned:
        raise _Empty
    return cleaned


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = "; ".join(str(item) for item in value if item is not None)
    return " ".join(str(value).split())[:MAX_TEXT]


def _text_key(text: str) -> str:
    """Casefolded, accents kept, punctuation and whitespace runs collapsed to one space."""
    return " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFC", text).casefold()).split())


_URL_PARTS = re.compile(
    r"^[a-z]+://(?:[^@/?#]*@)?(\[[^\]]*\]|[^/:?#]*)(?::(\d*))?([^?#]*)(?:\?([^#]*))?", re.IGNORECASE
)
_ARXIV_PATH = re.compile(r"^/(?:abs|pdf)/(.+?)(?:v\d+)?(?:\.pdf)?$")


def _url_key(url: str) -> str:
    """host/path?query: no scheme, lowercase host without www., no fragment or trailing slash.

    Any doi.org link is "doi:<doi>" (DOIs ignore case); an arXiv page or PDF is "arxiv:<id>"
    without its version. A regular expression, not urlsplit: this runs once per row.
    """
    match = _URL_PARTS.match(url)
    if match is None:
        return _text_key(url)
    host, port, path, query = match.groups()
    host = host.casefold().removeprefix("www.")
    path = path.rstrip("/")
    if host in ("doi.org", "dx.doi.org") and path:
        return "doi:" + path.lstrip("/").casefold()
    if host.endswith("arxiv.org") and (arxiv := _ARXIV_PATH.match(path)):
        return "arxiv:" + arxiv.group(1).casefold()
    return host + (f":{port}" if port else "") + path + (f"?{query}" if query else "")


_CHECKS = {
    "text": _text,
    "integer": _integer,
    "number": _number,
    "year": _year,
    "date": _date,
    "url": _url,
    "boolean": _boolean,
    "list": _list,
}
