"""Citation checks on drafts, and how a drafted sentence becomes runs of the document."""

from __future__ import annotations

from exporters.document import Cite, Text
from graph.engines.base import DraftParagraph, SectionDraft, Sentence
from graph.specialists.formatting import sentence_runs
from graph.specialists.writing import checked_draft


def draft(*sentences: Sentence) -> SectionDraft:
    return SectionDraft(title="t", paragraphs=[DraftParagraph(sentences=list(sentences))])


def test_unknown_keys_are_dropped_and_counted() -> None:
    checked, dropped = checked_draft(
        draft(Sentence(text="Retrieval helps.", citations=["lewis2020", "ghost1999"])),
        {"lewis2020"},
    )
    assert checked.paragraphs[0].sentences[0].citations == ["lewis2020"]
    assert dropped == 1


def test_sentence_naming_an_unknown_source_is_removed() -> None:
    checked, dropped = checked_draft(
        draft(
            Sentence(text="@ghost1999 showed everything.", citations=["ghost1999"]),
            Sentence(text="@lewis2020 coined the term.", citations=[]),
        ),
        {"lewis2020"},
    )
    sentences = checked.paragraphs[0].sentences
    assert [s.text for s in sentences] == ["@lewis2020 coined the term."]
    assert sentences[0].citations == ["lewis2020"]
    assert dropped == 1


def test_narrative_marker_becomes_a_narrative_citation() -> None:
    runs = sentence_runs(
        Sentence(
            text="@lewis2020 coined the term, as did others.", citations=["lewis2020", "guu2020"]
        )
    )
    assert runs[0] == Cite(keys=["lewis2020"], narrative=True)
    assert runs[1] == Text(text=" coined the term, as did others ")
    assert runs[2] == Cite(keys=["guu2020"])
    assert runs[3].text.startswith(".")


def test_parenthetical_citation_goes_before_the_final_stop() -> None:
    runs = sentence_runs(Sentence(text="Dense retrieval works?", citations=["karpukhin2020"]))
    assert [type(r) for r in runs] == [Text, Cite, Text]
    assert runs[0].text == "Dense retrieval works " and runs[2].text.startswith("?")
