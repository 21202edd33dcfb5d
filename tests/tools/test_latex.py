from __future__ import annotations

import pytest

from tools.fields import clean_text, parse_year, split_authors
from tools.latex import latex_to_text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("Bal\\'azs", "Balázs"),
        ('G{\\"o}del', "Gödel"),
        ("Erd\\H{o}s and \\v{S}ar\\'{\\i}", "Erdős and Šarí"),
        ("$\\alpha$-stable laws", "α-stable laws"),
        ("The $(k,\\ell)$-pebble game", "The (k,ℓ)-pebble game"),
        ("{\\em Proc.} of the {IEEE}", "Proc. of the IEEE"),
        ("Fran\\c{c}ois \\& sons", "François & sons"),
    ],
)
def test_latex_escapes_become_unicode(raw: str, text: str) -> None:
    assert latex_to_text(raw) == text


def test_plain_text_around_latex_is_kept_literally() -> None:
    assert latex_to_text("90% of \\emph{runs} cost $5 & more") == "90% of runs cost $5 & more"


def test_malformed_latex_falls_back_to_the_raw_string() -> None:
    assert latex_to_text("unbalanced {brace and trailing \\") == "unbalanced {brace and trailing \\"


def test_clean_text_collapses_whitespace() -> None:
    assert clean_text("  A\n  {B}ayesian\tview ") == "A Bayesian view"


@pytest.mark.parametrize(
    ("value", "year"),
    [(2020, 2020), ("2019-05-01", 2019), ("D:20200101", None), ("May 1998", 1998), ("n.d.", None)],
)
def test_parse_year_finds_a_plausible_year(value: object, year: int | None) -> None:
    assert parse_year(value) == year


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("Lewis, Patrick; Perez, Ethan", ["Lewis, Patrick", "Perez, Ethan"]),
        ("Ann Lee and Bo Chen", ["Ann Lee", "Bo Chen"]),
        ("Ann Lee, Bo Chen, and Cy Dee", ["Ann Lee", "Bo Chen", "Cy Dee"]),
        ("Lewis, Patrick", ["Lewis, Patrick"]),
        (["C. Bal\\'azs", " "], ["C. Balázs"]),
    ],
)
def test_split_authors_understands_common_separators(value: object, names: list[str]) -> None:
    assert split_authors(value) == names
