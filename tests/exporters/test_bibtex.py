from __future__ import annotations

from pathlib import Path

import bibtexparser

from exporters.bibtex import write_bibtex
from exporters.document import Document
from tests.exporters.conftest import UNICODE_SAMPLES


def _library(document: Document, tmp_path: Path) -> bibtexparser.Library:
    text = write_bibtex(document, tmp_path / "references.bib").read_text(encoding="utf-8")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    return library


def test_bibtex_has_one_entry_per_reference_keyed_by_its_key(
    document: Document, tmp_path: Path
) -> None:
    library = _library(document, tmp_path)
    assert sorted(entry.key for entry in library.entries) == sorted(
        ref.key for ref in document.references
    )


def test_bibtex_entry_types_follow_the_venue(document: Document, tmp_path: Path) -> None:
    entries = {entry.key: entry for entry in _library(document, tmp_path).entries}
    assert entries["balazs2007calculation"].entry_type == "article"
    assert entries["balazs2007calculation"]["journal"] == "Physical Review D"
    assert entries["balazs2007calculation"]["doi"] == "10.1103/PhysRevD.76.013009"
    assert entries["lewis2020retrieval"].entry_type == "inproceedings"
    assert entries["lewis2020retrieval"]["booktitle"].startswith("Advances in Neural")
    preprint = entries["borgeaud2022improving"]
    assert preprint.entry_type == "misc"
    assert (preprint["eprint"], preprint["archivePrefix"]) == ("2112.04426", "arXiv")
    assert entries["anon_nd_open"].entry_type == "misc"
    assert "author" not in entries["anon_nd_open"].fields_dict
    assert "year" not in entries["anon_nd_open"].fields_dict


def test_bibtex_escapes_special_characters_and_keeps_math_and_acronyms(
    document: Document, tmp_path: Path
) -> None:
    entries = {entry.key: entry for entry in _library(document, tmp_path).entries}
    assert entries["smith2021costs"]["title"] == (
        r"Costs \& benefits: 100\% recall, $\alpha$-tuning, \#hashtags\_x and \{braces\} at "
        r"\textasciitilde{}2\textasciicircum{}n"
    )
    assert entries["smith2021costs"]["url"] == "https://example.org/smith?a=1&b=2"
    assert "{NLP}" in entries["lewis2020retrieval"]["title"]
    assert entries["guu2020realm"]["author"] == "Guu, Kelvin and Lee, Kenton"
    assert entries["nguyen2024vietnamese"]["author"] == "Nguyễn, Văn An and O'Brien, Séamus"


def test_bibtex_keeps_unicode(document: Document, tmp_path: Path) -> None:
    entries = {entry.key: entry for entry in _library(document, tmp_path).entries}
    text = " ".join(
        str(entry.fields_dict[f].value) for entry in entries.values() for f in entry.fields_dict
    )
    for sample in UNICODE_SAMPLES:
        assert sample in text
