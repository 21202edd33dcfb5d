"""The trust stage: cited claims checked, repeated sentences merged, disagreements noted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.quality import ARXIV_PROMPT, measure, review_state
from graph.cli import context_from, parse_args
from graph.config import Context
from graph.engines.base import (
    DraftParagraph,
    NotedSource,
    SectionDraft,
    Sentence,
    SourceBrief,
    SourceNotes,
)
from graph.engines.offline import OfflineEngine
from graph.engines.support import verify
from graph.errors import SwarmError
from graph.review import conflict_sentences, dedupe
from graph.specialists.citation import verified_draft
from tests.fakes import planted

TEXTS = {
    "gardens2020": "Rain gardens capture urban runoff from roofs and streets. Native plants "
    "in rain gardens filter nitrogen and phosphorus from the captured runoff.",
    "pumps2021": "Variable speed pumps cut the energy use of pumping stations. Pump "
    "scheduling follows the daily demand curve of the network.",
    "meters2019": "Smart meters record household consumption every hour.",
}
BRIEFS = {
    key: SourceBrief(key=key, title=text.split(".")[0], authors=["A. Author"], year=2020)
    for key, text in TEXTS.items()
}
CLAIM = "Native plants in rain gardens filter nitrogen and phosphorus from the captured runoff."


def draft_of(*sentences: Sentence) -> SectionDraft:
    return SectionDraft(title="Part", paragraphs=[DraftParagraph(sentences=list(sentences))])


async def check(draft: SectionDraft, keys: list[str], mode: str = "drop"):
    return await verified_draft(
        draft, {k: BRIEFS[k] for k in keys}, {k: TEXTS[k] for k in keys}, OfflineEngine(), mode
    )


async def test_unsupported_citation_is_replaced_by_a_source_that_supports_it() -> None:
    draft = draft_of(
        Sentence(
            text=f"As @pumps2021 notes, {CLAIM[0].lower()}{CLAIM[1:]}", citations=["pumps2021"]
        )
    )
    checked, counts = await check(draft, ["pumps2021", "gardens2020", "meters2019"])
    sentence = checked.paragraphs[0].sentences[0]
    assert sentence.citations == ["gardens2020"]
    assert "@gardens2020" in sentence.text and "@pumps2021" not in sentence.text
    assert counts.claims_checked == 1 and counts.claims_supported == 0
    assert counts.citations_replaced == 1


async def test_unsupported_sentence_is_dropped_without_a_supporting_source() -> None:
    draft = draft_of(
        Sentence(text=CLAIM, citations=["pumps2021"]),
        Sentence(text="Smart meters record household consumption.", citations=["meters2019"]),
    )
    checked, counts = await check(draft, ["pumps2021", "meters2019"])
    assert [s.citations for p in checked.paragraphs for s in p.sentences] == [["meters2019"]]
    assert counts.sentences_removed == 1 and counts.claims_supported == 1


async def test_unsupported_sentence_is_kept_uncited_and_marked_with_mark() -> None:
    checked, counts = await check(
        draft_of(Sentence(text=CLAIM, citations=["pumps2021"])), ["pumps2021"], "mark"
    )
    sentence = checked.paragraphs[0].sentences[0]
    assert sentence.citations == []
    assert sentence.text.endswith("[unsupported].")
    assert counts.sentences_marked == 1 and counts.sentences_removed == 0


async def test_sentence_naming_an_unsupported_source_goes_even_with_mark() -> None:
    draft = draft_of(Sentence(text=f"@pumps2021 shows that {CLAIM}", citations=["pumps2021"]))
    checked, counts = await check(draft, ["pumps2021"], "mark")
    assert checked.paragraphs == []
    assert counts.sentences_removed == 1


def test_the_same_sentence_written_by_two_agents_is_merged_with_both_citations() -> None:
    first = SectionDraft(
        title="Introduction",
        paragraphs=[DraftParagraph(sentences=[Sentence(text=CLAIM, citations=["gardens2020"])])],
    )
    second = SectionDraft(
        title="Stormwater",
        paragraphs=[
            DraftParagraph(
                sentences=[
                    Sentence(text=CLAIM.replace("the captured", "captured"), citations=["x"])
                ]
            ),
            DraftParagraph(sentences=[Sentence(text="Another point.", citations=["x"])]),
        ],
    )
    assert dedupe([first, second]) == 1
    assert first.paragraphs[0].sentences[0].citations == ["gardens2020", "x"]
    assert [s.text for p in second.paragraphs for s in p.sentences] == ["Another point."]


def test_sentences_naming_different_sources_are_not_duplicates() -> None:
    drafts = [
        draft_of(Sentence(text="Representative contributions include @a and @b.", citations=[])),
        draft_of(Sentence(text="Representative contributions include @c and @d.", citations=[])),
    ]
    assert dedupe(drafts) == 0


async def test_two_sources_that_disagree_get_a_sentence_citing_both() -> None:
    texts = {
        "lee2019": "Green roofs retain rainfall in dense city blocks. Green roofs reduce "
        "peak runoff from city blocks during summer storms.",
        "kim2021": "Green roofs were monitored on office blocks. Green roofs do not reduce "
        "peak runoff from city blocks during winter storms.",
    }
    sources = [
        NotedSource(
            key=key,
            title=f"Green roofs {key}",
            notes=SourceNotes(finding=text.split(". ")[1].rstrip(".")),
        )
        for key, text in texts.items()
    ]
    [sentence] = conflict_sentences(sources)
    assert sentence.citations == ["lee2019", "kim2021"]
    assert sentence.text.startswith("@lee2019 reports that") and "whereas @kim2021" in sentence.text
    for source in sources:
        assert verify(sentence.text, source, texts[source.key]).supported
    agreeing = [s.model_copy(update={"notes": sources[0].notes}) for s in sources]
    assert conflict_sentences(agreeing) == []


@pytest.fixture(scope="module")
def planted_review(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("planted")
    corpus = planted.write_corpus(out / "corpus")
    return asyncio.run(review_state(planted.PROMPT, corpus, out / "out", True)), corpus


def test_planted_themes_are_covered_and_no_fact_is_misattributed(planted_review) -> None:
    state, corpus = planted_review
    figures = measure(state, corpus, planted.documents())
    assert figures["coverage"] >= 0.9
    assert figures["misattributed"] == 0
    assert figures["precision"] == 1.0
    run = state["run"]
    for name in ("claims_checked", "claims_supported", "citations_replaced"):
        assert name in run
    assert run["claims_checked"] >= run["claims_supported"] > 0
    assert run["sentences_removed"] >= 0 and run["duplicates_removed"] >= 0


def test_arxiv_review_with_checks_on_cites_only_what_passes_verify(
    tmp_path: Path, arxiv_records: Path
) -> None:
    state = asyncio.run(review_state(ARXIV_PROMPT, arxiv_records, tmp_path, True))
    figures = measure(state, arxiv_records)
    assert figures["citations"] >= 50
    assert figures["precision"] == 1.0
    assert figures["duplicate_rate"] == 0.0


def test_on_unsupported_is_a_run_setting_checked_when_given() -> None:
    args = parse_args(["run", "urban water", "--on-unsupported", "mark"])
    assert context_from(args).on_unsupported == "mark"
    assert context_from(parse_args(["run", "urban water"])).on_unsupported == "drop"
    with pytest.raises(SwarmError, match="drop or mark"):
        Context(on_unsupported="flag")
