from __future__ import annotations

import pytest

from exporters.document import Cite, Document, Paragraph, Reference, Section, Text
from exporters.references import (
    STYLES,
    Bibliography,
    CitePart,
    format_citation,
    format_reference,
    ordered_references,
    parse_name,
    reference_parts,
)
from graph.errors import SwarmError
from tests.exporters.conftest import REFERENCES

ONE = Reference(key="one", title="Solo work", authors=["Patrick Lewis"], year=2020, venue="Nature")
TWO = Reference(key="two", title="Duo", authors=["Lewis, Patrick", "Ethan Perez"], year=2021)
THREE = Reference(
    key="three",
    title="Trio",
    authors=["Kelvin Guu", "Kenton Lee", "Zora Tung"],
    year=2020,
    venue="Proceedings of ICML",
)


def _cited(*keys: list[str], refs: list[Reference]) -> Document:
    runs = [run for group in keys for run in (Text(text="Claim "), Cite(keys=group))]
    return Document(
        title="t", references=refs, sections=[Section(title="s", blocks=[Paragraph(runs=runs)])]
    )


def test_apa_citation_names_one_two_or_three_plus_authors() -> None:
    refs = [ONE, TWO, THREE]
    assert format_citation(["one"], refs) == "(Lewis, 2020)"
    assert format_citation(["two"], refs) == "(Lewis & Perez, 2021)"
    assert format_citation(["three"], refs) == "(Guu et al., 2020)"


def test_apa_groups_several_works_in_reference_list_order() -> None:
    assert format_citation(["one", "three"], [ONE, TWO, THREE]) == (
        "(Guu et al., 2020; Lewis, 2020)"
    )


def test_apa_adds_year_suffixes_when_two_works_would_cite_alike() -> None:
    first = Reference(key="a", title="Beta paper", authors=["John Smith"], year=2021)
    second = Reference(key="b", title="Alpha paper", authors=["Smith, J."], year=2021)
    bib = Bibliography([first, second], "apa")
    assert bib.cite(["a", "b"]) == "(Smith, 2021a, 2021b)"
    assert [ref.key for ref in bib.references] == ["b", "a"]
    assert bib.entry_text(second).startswith("Smith, J. (2021a). Alpha paper.")


def test_apa_reference_list_is_ordered_by_surname_then_year() -> None:
    later = Reference(key="later", title="Later", authors=["Ada Zuse"], year=2024)
    earlier = Reference(key="earlier", title="Earlier", authors=["Konrad Zuse"], year=2001)
    document = _cited(["later"], ["one"], ["earlier"], refs=[later, ONE, earlier])
    assert [ref.key for ref in ordered_references(document)] == ["one", "later", "earlier"]


def test_ieee_numbers_by_first_citation_and_orders_the_list_that_way() -> None:
    document = _cited(["three"], ["one", "three"], refs=[ONE, TWO, THREE])
    document.style = "ieee"
    assert [ref.key for ref in ordered_references(document)] == ["three", "one", "two"]
    assert format_citation(["one", "three"], document) == "[1], [2]"
    assert format_citation(["two"], document) == "[3]"
    bib = Bibliography.of(document)
    assert bib.label("two") == "[3]"
    assert bib.entry_text(THREE).startswith(
        "[1] K. Guu, K. Lee, and Z. Tung, “Trio,” in Proceedings of ICML, 2020."
    )


def test_ieee_lists_six_authors_and_shortens_seven_to_et_al() -> None:
    seven = next(ref for ref in REFERENCES if ref.key == "borgeaud2022improving")
    assert format_reference(seven, "ieee").startswith("S. Borgeaud et al., “Improving")
    six = seven.model_copy(update={"authors": seven.authors[:6]})
    assert format_reference(six, "ieee").startswith(
        "S. Borgeaud, A. Mensch, J. Hoffmann, T. Cai, E. Rutherford, and K. Millican, "
    )


def test_reference_without_authors_or_year_leads_with_its_title_and_nd() -> None:
    anon = Reference(key="x", title="Open benchmarks", url="https://example.org/b")
    assert format_reference(anon, "apa") == "Open benchmarks. (n.d.). https://example.org/b"
    assert format_citation(["x"], [anon]) == "(“Open benchmarks,” n.d.)"
    assert format_reference(anon, "ieee") == (
        "“Open benchmarks,” n.d. [Online]. Available: https://example.org/b"
    )


def test_doi_arxiv_and_url_become_links() -> None:
    doi = Reference(key="d", title="T", authors=["A B"], year=2000, venue="J", doi="10.1/x.y")
    arxiv = Reference(key="a", title="Preprint", authors=["A B"], year=2020, arxiv_id="2005.11401")
    assert format_reference(doi, "apa").endswith("J. https://doi.org/10.1/x.y")
    assert format_reference(doi, "ieee").endswith("J, 2000, doi: 10.1/x.y.")
    assert format_reference(arxiv, "apa") == (
        "B, A. (2020). Preprint (arXiv:2005.11401). arXiv. https://arxiv.org/abs/2005.11401"
    )
    assert "arXiv:2005.11401" in format_reference(arxiv, "ieee")
    parts = reference_parts(doi, "apa")
    assert [p.url for p in parts if p.url] == ["https://doi.org/10.1/x.y"]
    assert [p.text for p in parts if p.italic] == ["J"]


def test_names_with_latex_escapes_particles_and_unicode_print_as_written() -> None:
    assert parse_name("C. Bal\\'azs").family == "Balázs"
    assert parse_name('{\\"O}zt{\\"u}rk, Ay\\c{s}e').family == "Öztürk"
    assert parse_name('{\\"O}zt{\\"u}rk, Ay\\c{s}e').given == "Ayşe"
    assert parse_name("Ludwig van Beethoven").family == "van Beethoven"
    assert parse_name("C. -P. Yuan").initials() == "C.-P."
    greek = Reference(key="g", title="Τίτλος", authors=["Γεώργιος Παπαδόπουλος"], year=2019)
    assert format_reference(greek).startswith("Παπαδόπουλος, Γ. (2019). Τίτλος.")


def test_unknown_style_is_refused_with_the_valid_names() -> None:
    with pytest.raises(SwarmError, match="apa, ieee"):
        format_reference(ONE, "chicago")
    assert STYLES == ("apa", "ieee")


def test_citation_of_an_unknown_key_shows_the_key_instead_of_dropping_it() -> None:
    assert format_citation(["one", "ghost"], [ONE]) == "(Lewis, 2020; ghost?)"
    assert format_citation(["ghost"], [ONE], "ieee") == "[ghost?]"


def test_short_citation_names_the_first_work_and_counts_the_rest() -> None:
    bib = Bibliography([ONE, TWO, THREE], "apa")
    assert bib.short_cite(["one", "two", "three"]) == "(Guu et al., 2020; +2)"
    ieee = Bibliography([ONE, TWO, THREE], "ieee", ["one", "two", "three"])
    assert ieee.short_cite(["one", "two", "three"]) == "[1]–[3]"


def test_apa_narrative_citation_names_authors_in_the_text_with_and() -> None:
    refs = [ONE, TWO, THREE]
    assert format_citation(["one"], refs, narrative=True) == "Lewis (2020)"
    assert format_citation(["two"], refs, narrative=True) == "Lewis and Perez (2021)"
    assert format_citation(["three"], refs, narrative=True) == "Guu et al. (2020)"
    assert format_citation(["one", "three"], refs, narrative=True) == (
        "Guu et al. (2020) and Lewis (2020)"
    )
    assert format_citation(["two", "one", "three"], refs, narrative=True) == (
        "Guu et al. (2020), Lewis (2020), and Lewis and Perez (2021)"
    )
    assert format_citation(["one", "ghost"], refs, narrative=True) == "Lewis (2020) and ghost?"


def test_apa_narrative_citation_keeps_year_suffixes_and_links_names_and_years() -> None:
    first = Reference(key="a", title="Beta paper", authors=["John Smith"], year=2021)
    second = Reference(key="b", title="Alpha paper", authors=["Smith, J."], year=2021)
    anon = Reference(key="x", title="Open benchmarks", url="https://example.org/b")
    bib = Bibliography([first, second, anon], "apa")
    assert bib.cite(["a"], narrative=True) == "Smith (2021b)"
    assert bib.cite(["a", "b"], narrative=True) == "Smith (2021a, 2021b)"
    assert bib.cite(["x"], narrative=True) == "“Open benchmarks” (n.d.)"
    assert bib.cite_parts(["a", "b"], narrative=True) == [
        CitePart("Smith", "b"),
        CitePart(" ("),
        CitePart("2021a", "b"),
        CitePart(", "),
        CitePart("2021b", "a"),
        CitePart(")"),
    ]


def test_ieee_narrative_citation_names_authors_before_the_number_and_counts_for_order() -> None:
    runs = [
        Cite(keys=["three"], narrative=True),
        Text(text=" showed it "),
        Cite(keys=["one", "two"]),
    ]
    document = Document(
        title="t",
        style="ieee",
        references=[ONE, TWO, THREE],
        sections=[Section(title="s", blocks=[Paragraph(runs=runs)])],
    )
    assert document.cited_keys() == ["three", "one", "two"]
    assert format_citation(["three"], document, narrative=True) == "Guu et al. [1]"
    assert format_citation(["two", "one"], document, narrative=True) == (
        "Lewis [2] and Lewis and Perez [3]"
    )
    assert format_citation(["one", "two"], document) == "[2], [3]"
    bib = Bibliography.of(document)
    assert bib.cite_parts(["three"], narrative=True) == [
        CitePart("Guu et al.", "three"),
        CitePart(" "),
        CitePart("[1]", "three"),
    ]
    assert bib.cite(["ghost"], narrative=True) == "[ghost?]"


def test_short_narrative_citation_names_the_first_work_and_counts_the_rest() -> None:
    bib = Bibliography([ONE, TWO, THREE], "apa")
    assert bib.short_cite(["one", "three"], narrative=True) == "Guu et al. (2020) and Lewis (2020)"
    assert bib.short_cite(["one", "two", "three"], narrative=True) == (
        "Guu et al. (2020) and 2 more"
    )
    ieee = Bibliography([ONE, TWO, THREE], "ieee", ["one", "two", "three"])
    assert ieee.short_cite(["one", "two", "three"], narrative=True) == "Lewis [1] and 2 more"
