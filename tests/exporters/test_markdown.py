from __future__ import annotations

import re
from pathlib import Path

import pytest

from exporters.document import Cite, Document
from exporters.markdown import write_markdown
from exporters.references import Bibliography
from tests.exporters.conftest import NARRATIVE, UNICODE_SAMPLES, section_titles


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\`*_\[\]<>|#])", r"\1", text)


@pytest.mark.parametrize("style", ["apa", "ieee"])
def test_markdown_keeps_sections_citations_and_references(
    document: Document, tmp_path: Path, style: str
) -> None:
    document.style = style
    text = write_markdown(document, tmp_path / "review.md").read_text(encoding="utf-8")
    headings = re.findall(r"^(#+) (.+)$", text, flags=re.MULTILINE)
    assert headings[0] == ("#", document.title)
    body = [(len(h), _unescape(t)) for h, t in headings if t not in ("Abstract", "Contents")][1:]
    expected = [(depth + 1, s.title) for depth, s in document.walk()] + [(2, "References")]
    assert body == expected

    references = text.split("\n## References\n", 1)[1]
    entries = [line for line in references.splitlines() if line.startswith('<a id="ref-')]
    assert len(entries) == len(document.references)

    bib = Bibliography.of(document)
    plain = _unescape(text)
    for block in document.all_blocks():
        for run in getattr(block, "runs", []):
            if isinstance(run, Cite):
                assert bib.cite(run.keys, run.narrative) in plain
    for narrative in NARRATIVE[style]:
        assert narrative in plain
    for sample in UNICODE_SAMPLES:
        assert sample in text


def test_markdown_contents_link_to_heading_anchors(document: Document, tmp_path: Path) -> None:
    text = write_markdown(document, tmp_path / "review.md").read_text(encoding="utf-8")
    contents = text.split("## Contents\n\n", 1)[1].split("\n\n", 1)[0]
    links = re.findall(r"\[(.+?)\]\(#(.+?)\)", contents)
    assert [_unescape(title) for title, _ in links] == [*section_titles(document), "References"]
    assert ("Dense retrieval", "dense-retrieval") in links
    assert links[-2][1] == "conclusion"


def test_markdown_renders_table_chart_data_and_figure(document: Document, tmp_path: Path) -> None:
    text = write_markdown(document, tmp_path / "review.md").read_text(encoding="utf-8")
    assert "**Table 1.** Evidence table: studies, methods and findings" in text
    assert "| Study | Method | Finding |" in text
    assert "| izacard2021leveraging | FiD | Scales with passages \\<&\\> noise |" in text
    assert "**Figure 1.** Studies per year and retriever type" in text
    assert "| Year | Dense | Sparse |\n|---|---|---|\n| 2020 | 3 | 2 |" in text
    assert "![Retrieval papers per year](figures/papers.png)" in text
    assert (tmp_path / "figures" / "papers.png").is_file()
    assert "> Dense retrieval outperforms sparse baselines" in text
    assert "- Dense passage retrieval (Karpukhin et al., 2020)" in text
