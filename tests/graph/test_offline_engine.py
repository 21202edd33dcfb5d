"""The offline engine on real arXiv records (control charts, design of experiments) and on
a small planted corpus: notes, themes, cited writing, frames, claim checks, plans."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from graph.engines.base import (
    NARRATIVE,
    Candidate,
    ClaimRequest,
    FrameRequest,
    Group,
    NotedSource,
    NotesRequest,
    Outline,
    OutlineRequest,
    PlanRequest,
    RunFacts,
    ScreenRequest,
    SectionDraft,
    SectionRequest,
    SectionSummary,
    Sentence,
    SourceBrief,
    Theme,
)
from graph.engines.offline import OfflineEngine
from graph.engines.prose import count_word
from graph.engines.text import clean_latex, normalize_space, split_sentences

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/arxiv/abstracts.jsonl"
TOPIC = "statistical process control and design of experiments"

engine = OfflineEngine()


def _records() -> list[dict]:
    if not DATA.exists():
        pytest.skip(f"shared arXiv records not found at {DATA}")
    with DATA.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _brief(record: dict) -> SourceBrief:
    """A record as a source; its key made fit for `@key` ("0704.0001" -> "arxiv0704_0001")."""
    return SourceBrief(
        key="arxiv" + re.sub(r"[^\w:-]", "_", record["id"]),
        title=record["title"],
        authors=record["authors"],
        year=record["year"],
        abstract=record["abstract"],
    )


async def _noted(briefs: list[SourceBrief], topic: str) -> list[NotedSource]:
    notes = await asyncio.gather(
        *(
            engine.extract_notes(NotesRequest(topic=topic, source=b, text=b.abstract))
            for b in briefs
        )
    )
    return [NotedSource(**b.model_dump(), notes=n) for b, n in zip(briefs, notes, strict=True)]


@pytest.fixture(scope="module")
def slices() -> dict[str, list[SourceBrief]]:
    """~155 control-chart records and 100 design-of-experiments records."""
    records = _records()

    def text(r: dict) -> str:
        return f"{r['title']} {r['abstract']}".lower()

    charts = [
        r for r in records if re.search(r"control chart|statistical process control", text(r))
    ]
    chart_ids = {r["id"] for r in charts}
    doe = [r for r in records if "design of experiments" in text(r) and r["id"] not in chart_ids][
        :100
    ]
    return {"charts": [_brief(r) for r in charts], "doe": [_brief(r) for r in doe]}


@pytest.fixture(scope="module")
def corpus(slices: dict[str, list[SourceBrief]]) -> list[NotedSource]:
    return asyncio.run(_noted(slices["charts"] + slices["doe"], TOPIC))


@pytest.fixture(scope="module")
def outline(corpus: list[NotedSource]) -> Outline:
    return asyncio.run(engine.outline(OutlineRequest(topic=TOPIC, sources=corpus, max_themes=8)))


def _sentences(draft: SectionDraft) -> list[Sentence]:
    return [s for p in draft.paragraphs for s in p.sentences]


def _assert_names_are_markers(sentence: Sentence) -> None:
    """Sources are named by `@key` (the renderer writes the authors), each one cited."""
    assert "et al. (" not in sentence.text, sentence.text
    assert not re.search(r"\(\d{4}[a-z]?\)", sentence.text), sentence.text
    named = NARRATIVE.findall(sentence.text)
    assert set(named) <= set(sentence.citations), (sentence.text, sentence.citations)


def _flat(text: str) -> str:
    return normalize_space(text)


def test_sentence_splitting_keeps_abbreviations_decimals_and_math_together() -> None:
    text = (
        "Lewis et al. (2020) report a rate of 0.05 for Hotelling's $T^2$ chart, e.g. in Fig. 2. "
        "The $\\bar{X}$ chart (i.e. the mean chart) is used. We stop here."
    )
    assert split_sentences(text) == [
        "Lewis et al. (2020) report a rate of 0.05 for Hotelling's $T^2$ chart, e.g. in Fig. 2.",
        "The $\\bar{X}$ chart (i.e. the mean chart) is used.",
        "We stop here.",
    ]
    assert clean_latex("Hotelling's $T^2$ and $\\alpha = 0.05$, Bal\\'azs") == (
        "Hotelling's T² and α = 0.05, Balázs"
    )


def test_line_end_hyphens_are_mended_and_real_compounds_kept() -> None:
    text = (
        "We propose an ap- proach to experi- ments with informa- tion, un- certainty and re-\n"
        "sults. A self- supervised, fine- tuned and three- dimensional state-of-the-\nart "
        "model, BERT- based, handles two- and three-hop questions and in- context learning."
    )
    assert normalize_space(text) == (
        "We propose an approach to experiments with information, uncertainty and results. "
        "A self-supervised, fine-tuned and three-dimensional state-of-the-art model, "
        "BERT-based, handles two- and three-hop questions and in-context learning."
    )
    assert normalize_space("The knowl- edge of the model and its knowledge.") == (
        "The knowledge of the model and its knowledge."
    )


async def test_notes_prefer_sentences_that_stand_alone() -> None:
    text = (
        "Large language models hallucinate facts when answering knowledge-intensive questions. "
        "We propose a retrieval-augmented generator that conditions a language model on "
        "passages retrieved from Wikipedia. "
        "This important problem of hallucination in language models is addressed by retrieving "
        "passages for the language model before it answers questions. "
        "These results show that retrieval of passages reduces hallucination of language "
        "models on knowledge-intensive questions. "
        "Experiments on open-domain question answering show that the retrieval-augmented "
        "generator reduces hallucination and outperforms a closed-book language model. "
        "The generator and the retriever are trained jointly end to end."
    )
    source = SourceBrief(key="k", title="Retrieval-augmented generation for knowledge questions")
    notes = await engine.extract_notes(
        NotesRequest(topic="retrieval-augmented generation", source=source, text=text)
    )
    for sentence in [*notes.key_sentences, notes.method, notes.finding]:
        assert not sentence.startswith(("This", "These", "It ")), sentence
    assert notes.finding.startswith("Experiments on open-domain question answering show")


def test_notes_are_taken_verbatim_from_the_source(corpus: list[NotedSource]) -> None:
    for source in corpus[:60]:
        abstract = _flat(source.abstract)
        notes = source.notes
        assert 2 <= len(notes.key_sentences) <= 4 or len(split_sentences(abstract)) < 4
        for sentence in [*notes.key_sentences, notes.method, notes.finding]:
            assert sentence == "" or sentence in abstract
        readable = clean_latex(f"{source.title} {source.abstract}").lower()
        assert notes.keywords and all(k == k.lower() for k in notes.keywords)
        for keyword in notes.keywords:
            assert all(word in readable for word in keyword.split()), keyword


async def test_notes_pick_the_method_and_finding_by_their_cue_words() -> None:
    text = (
        "Control charts are widely used to monitor industrial processes. "
        "Existing charts are slow to detect small shifts in the process mean. "
        "In this paper, we propose an adaptive EWMA chart that updates its smoothing constant. "
        "Simulation results show that the adaptive chart detects small shifts faster than the "
        "Shewhart chart. "
        "The chart is illustrated with data from a filling process."
    )
    source = SourceBrief(key="k", title="An adaptive EWMA chart")
    notes = await engine.extract_notes(
        NotesRequest(topic="control charts", source=source, text=text)
    )
    assert notes.method.startswith("In this paper, we propose an adaptive EWMA chart")
    assert notes.finding.startswith("Simulation results show")
    assert "adaptive ewma chart" in notes.keywords


def test_outline_places_every_source_in_exactly_one_theme_and_one_group(
    corpus: list[NotedSource], outline: Outline
) -> None:
    keys = [s.key for s in corpus]
    in_themes = [k for t in outline.themes for k in t.keys]
    assert sorted(in_themes) == sorted(keys)
    assert [t.id for t in outline.themes] == [f"t{i}" for i in range(1, len(outline.themes) + 1)]
    assert 3 <= len(outline.themes) <= 8
    for theme in outline.themes:
        grouped = [k for g in theme.groups for k in g.keys]
        assert sorted(grouped) == sorted(theme.keys)
        assert all(1 <= len(g.keys) <= 8 for g in theme.groups)
        assert sum(len(g.keys) == 1 for g in theme.groups) == 0 or len(theme.keys) == 1


def test_outline_names_themes_like_headings_not_keyword_lists(outline: Outline) -> None:
    titles = [t.title for t in outline.themes]
    assert len(set(titles)) == len(titles)
    for theme in outline.themes:
        for name in [theme.title, *(g.label for g in theme.groups)]:
            assert "," not in name and 1 <= len(name.split()) <= 12, name
            assert name[0].isupper(), name
        assert theme.summary.endswith(".") and theme.keywords


def test_outline_keeps_control_charts_and_experimental_design_apart(
    slices: dict[str, list[SourceBrief]], outline: Outline
) -> None:
    charts = {b.key for b in slices["charts"]}
    majority = 0
    for theme in outline.themes:
        inside = sum(k in charts for k in theme.keys)
        majority += max(inside, len(theme.keys) - inside)
    purity = majority / sum(len(t.keys) for t in outline.themes)
    assert purity >= 0.85


async def test_outline_is_deterministic(corpus: list[NotedSource], outline: Outline) -> None:
    again = await engine.outline(OutlineRequest(topic=TOPIC, sources=corpus, max_themes=8))
    assert again.model_dump() == outline.model_dump()


PLANTED = {
    "astronomy": (
        "galaxy telescope redshift stellar spectra supernova dark matter cosmic survey "
        "luminosity exoplanet orbit"
    ).split(),
    "baking": (
        "flour oven dough yeast sourdough bread crust butter pastry fermentation recipe kneading"
    ).split(),
    "finance": (
        "portfolio stock volatility bond investor dividend equity market hedge pricing "
        "liquidity arbitrage"
    ).split(),
}


def _planted_corpus() -> tuple[list[NotedSource], dict[str, str]]:
    """Nine short documents per topic, each drawing eight of its topic's twelve words."""
    sources, truth = [], {}
    for topic, vocab in PLANTED.items():
        for d in range(9):
            w = [vocab[(d + i) % len(vocab)] for i in range(8)]
            abstract = (
                f"We study the {w[0]} {w[1]} and its relation to the {w[2]}. "
                f"Our analysis of the {w[3]} and the {w[4]} shows a clear link to {w[5]}. "
                f"The {w[6]} model explains the {w[7]} data and the {w[0]} well."
            )
            key = f"{topic}{d}"
            truth[key] = topic
            sources.append(
                NotedSource(
                    key=key, title=f"On {w[0]} and {w[3]}", year=2010 + d, abstract=abstract
                )
            )
    return sources, truth


async def test_outline_recovers_planted_topics() -> None:
    sources, truth = _planted_corpus()
    result = await engine.outline(
        OutlineRequest(topic="science and life", sources=sources, max_themes=6)
    )
    assert len(result.themes) == 3
    for theme in result.themes:
        assert len({truth[k] for k in theme.keys}) == 1, theme.title
        assert len(theme.keys) == 9


async def test_group_part_cites_only_its_sources_and_cites_each_of_them(
    corpus: list[NotedSource], outline: Outline
) -> None:
    by_key = {s.key: s for s in corpus}
    for theme in outline.themes:
        for group in theme.groups[:4]:
            request = SectionRequest(
                topic=TOPIC,
                theme=theme,
                part="group",
                group=group,
                sources=[by_key[k] for k in group.keys],
            )
            draft = await engine.write_section(request)
            sentences = _sentences(draft)
            cited = {k for s in sentences for k in s.citations}
            assert cited <= set(group.keys)
            assert cited == set(group.keys)
            assert draft.title == group.label
            if len(sentences) >= 3:
                assert all(3 <= len(p.sentences) <= 7 for p in draft.paragraphs)
            for sentence in sentences:
                _assert_names_are_markers(sentence)
                assert "$" not in sentence.text and "\\" not in sentence.text
                assert sentence.text[0].isupper() or sentence.text[0] == "@"
                assert sentence.text.rstrip("”\"')").endswith((".", "?", "!"))


async def test_written_citations_pass_the_engines_own_claim_check(
    corpus: list[NotedSource], outline: Outline
) -> None:
    by_key = {s.key: s for s in corpus}
    theme = outline.themes[0]
    everything = [by_key[k] for k in theme.keys]
    requests = [SectionRequest(topic=TOPIC, theme=theme, part="overview", sources=everything)]
    for group in theme.groups[:5]:
        sources = [by_key[k] for k in group.keys]
        requests.append(
            SectionRequest(topic=TOPIC, theme=theme, part="group", group=group, sources=sources)
        )
    for request in requests:
        draft = await engine.write_section(request)
        for sentence in [*_sentences(draft), *draft.bullets]:
            for key in sentence.citations:
                source = by_key[key]
                verdict = await engine.verify_claim(
                    ClaimRequest(sentence=sentence.text, source=source, text=source.abstract)
                )
                assert verdict.supported, (sentence.text, key, verdict.score)


async def test_group_part_attributes_sources_and_compares_them(
    corpus: list[NotedSource], outline: Outline
) -> None:
    by_key = {s.key: s for s in corpus}
    theme = outline.themes[0]
    group = max(theme.groups, key=lambda g: len(g.keys))
    draft = await engine.write_section(
        SectionRequest(
            topic=TOPIC,
            theme=theme,
            part="group",
            group=group,
            sources=[by_key[k] for k in group.keys],
        )
    )
    text = " ".join(s.text for s in _sentences(draft))
    named = {k for s in _sentences(draft) for k in NARRATIVE.findall(s.text)}
    assert named and named <= set(group.keys)
    assert re.search(r"@[\w:-]+ (?:propose|present|introduce|develop|show|find|report|note)", text)
    assert re.search(r"\b(?:Whereas|while|Unlike|share|Common to|recurs?)\b", text)
    openings = Counter(s.text.split()[0] for s in _sentences(draft))
    assert openings.most_common(1)[0][1] <= max(3, len(_sentences(draft)) // 2)


async def test_group_part_names_sources_by_marker_with_agreeing_verbs() -> None:
    texts = {
        "lewis2020rag": (
            "Retrieval-augmented generation for knowledge-intensive tasks",
            ["Patrick Lewis", "Ethan Perez", "Douwe Kiela"],
            "Language models store knowledge in their parameters. We propose retrieval-augmented "
            "generation, which conditions a generator on passages from a dense index. Following "
            "Karpukhin et al. (2020), we train the retriever on question answer pairs. Results "
            "show that retrieval-augmented generation improves Recall@10 on open-domain questions.",
        ),
        "smith2021dense": (
            "Unsupervised dense retrieval",
            ["Ann Smith"],
            "Dense retrievers need labelled pairs. We propose an unsupervised dense retriever for "
            "retrieval-augmented generation trained on passages alone. Experiments show that the "
            "unsupervised retriever matches supervised retrieval-augmented generation on passages.",
        ),
    }
    briefs = [
        SourceBrief(key=k, title=title, authors=a, year=2020 + i, abstract=t)
        for i, (k, (title, a, t)) in enumerate(texts.items())
    ]
    sources = await _noted(briefs, "retrieval-augmented generation")
    theme = Theme(id="t1", title="Retrieval-Augmented Generation", keys=[*texts])
    group = Group(label="Retrieval-Augmented Generation", keys=[*texts])
    draft = await engine.write_section(
        SectionRequest(
            topic="retrieval-augmented generation",
            theme=theme,
            part="group",
            group=group,
            sources=sources,
        )
    )
    sentences = _sentences(draft)
    text = " ".join(s.text for s in sentences)
    for sentence in sentences:
        _assert_names_are_markers(sentence)
        assert set(NARRATIVE.findall(sentence.text)) <= set(texts), sentence.text
    assert "@lewis2020rag propose retrieval-augmented generation" in text
    assert "@smith2021dense proposes an unsupervised dense retriever" in text
    assert "Karpukhin" not in text and "Lewis" not in text and "@10" not in text


async def test_overview_states_the_count_the_years_and_lists_open_questions(
    corpus: list[NotedSource], outline: Outline
) -> None:
    by_key = {s.key: s for s in corpus}
    theme = outline.themes[0]
    sources = [by_key[k] for k in theme.keys]
    draft = await engine.write_section(
        SectionRequest(topic=TOPIC, theme=theme, part="overview", sources=sources)
    )
    text = " ".join(s.text for s in _sentences(draft))
    years = [s.year for s in sources if s.year]
    assert f"{count_word(len(sources))} studies" in text
    assert str(min(years)) in text and str(max(years)) in text
    questions = draft.bullets
    assert questions and all(q.citations for q in questions)
    for sentence in [*_sentences(draft), *questions]:
        _assert_names_are_markers(sentence)
    assert any(NARRATIVE.search(s.text) for s in _sentences(draft))
    cited = {k for s in [*_sentences(draft), *questions] for k in s.citations}
    assert cited <= set(theme.keys)
    assert any(
        re.search(r"future|remain|open|challeng|limitation|however|increasingly", q.text, re.I)
        for q in questions
    )


async def test_verify_claim_supports_the_source_and_rejects_another_source(
    corpus: list[NotedSource],
) -> None:
    first, other = corpus[0], corpus[-1]
    own = first.notes.key_sentences[0]
    foreign = other.notes.key_sentences[0]

    async def check(sentence: str) -> tuple[bool, float]:
        verdict = await engine.verify_claim(
            ClaimRequest(sentence=sentence, source=first, text=first.abstract)
        )
        assert 0.0 <= verdict.score <= 1.0
        return verdict.supported, verdict.score

    assert await check(own) == (True, pytest.approx(1.0, abs=0.05))
    supported, score = await check(foreign)
    assert not supported and score < 0.5
    verdict = await engine.verify_claim(
        ClaimRequest(sentence=own, source=first, text=first.abstract)
    )
    assert _flat(own) in verdict.evidence


async def test_verify_claim_accepts_an_attributed_paraphrase() -> None:
    text = (
        "Control charts are used to monitor processes. In this paper, we propose a Bayesian "
        "EWMA control chart for monitoring the ratio of two normal variables. The chart "
        "detects small shifts quickly."
    )
    source = SourceBrief(key="s", title="A Bayesian EWMA chart", authors=["Ann Smith", "Bo Li"])
    claim = (
        "Smith and Li (2021) propose a Bayesian EWMA chart that monitors the ratio of "
        "normal variables."
    )
    verdict = await engine.verify_claim(ClaimRequest(sentence=claim, source=source, text=text))
    assert verdict.supported
    unrelated = "Smith and Li (2021) train a transformer on protein folding benchmarks."
    verdict = await engine.verify_claim(ClaimRequest(sentence=unrelated, source=source, text=text))
    assert not verdict.supported


async def test_verify_claim_reads_narrative_markers() -> None:
    text = (
        "In this paper, we propose a Bayesian EWMA control chart for monitoring the ratio of "
        "two normal variables. The chart detects small shifts quickly."
    )
    source = SourceBrief(key="smith2021bayesian", title="A Bayesian EWMA chart", authors=["Smith"])
    other = "@lee2020deep trains a transformer on protein folding benchmarks"

    async def supported(sentence: str) -> bool:
        request = ClaimRequest(sentence=sentence, source=source, text=text)
        return (await engine.verify_claim(request)).supported

    assert await supported("@smith2021bayesian proposes a Bayesian EWMA chart for the ratio.")
    assert await supported("Representative contributions include @smith2021bayesian.")
    assert not await supported("@smith2021bayesian trains a transformer on protein folding.")
    assert await supported(f"Whereas {other}, @smith2021bayesian monitors a normal ratio.")
    swapped = "@smith2021bayesian trains a transformer, while @lee2020deep proposes an EWMA chart"
    assert not await supported(swapped)


async def test_plan_gives_a_clean_title_and_few_unique_queries(
    slices: dict[str, list[SourceBrief]],
) -> None:
    prompt = (
        "Please write a comprehensive, well-cited literature review of control charts for "
        "statistical process control, focusing on EWMA and CUSUM charts. Use APA style."
    )
    request = PlanRequest(prompt=prompt, probe=slices["charts"][:40], max_queries=6)
    plan = await engine.plan(request)
    assert plan.title == ("Control Charts for Statistical Process Control: A Literature Review")
    assert "review" not in plan.topic and "apa" not in plan.topic
    assert "control" in plan.topic.split() and "charts" in plan.topic.split()
    assert 2 <= len(plan.queries) <= 6
    assert len({frozenset(q.split()) for q in plan.queries}) == len(plan.queries)
    assert plan.queries[0] == "control charts for statistical process control"
    assert await engine.plan(request) == plan


async def test_screen_keeps_strong_on_topic_candidates_only() -> None:
    candidates = [
        Candidate(key="a", title="EWMA control charts", abstract="", score=10.0),
        Candidate(key="b", title="Control charts for counts", abstract="", score=6.0),
        Candidate(key="c", title="Weak match on charts", abstract="", score=1.0),
        Candidate(key="d", title="Protein folding", abstract="deep learning", score=9.0),
    ]
    result = await engine.screen(
        ScreenRequest(topic="control charts", query="control charts", candidates=candidates)
    )
    assert result.keep == ["a", "b"]


async def test_frames_state_the_engine_and_cite_each_section(outline: Outline) -> None:
    sections = [
        SectionSummary(title=t.title, summary=t.summary, keys=t.keys[:3]) for t in outline.themes
    ]
    facts = RunFacts(
        sources_searched=5558,
        sources_found=300,
        sources_screened=270,
        sources_kept=255,
        queries=["control charts", "design of experiments"],
        years=(2008, 2026),
        engine="offline",
    )
    drafts = {}
    for kind in ("introduction", "conclusion", "abstract"):
        drafts[kind] = await engine.write_frame(
            FrameRequest(
                kind=kind,
                topic=TOPIC,
                title="Statistical Process Control: A Literature Review",
                sections=sections,
                facts=facts,
            )
        )
    allowed = {k for s in sections for k in s.keys}
    for draft in drafts.values():
        assert {k for s in _sentences(draft) for k in s.citations} <= allowed
    intro = " ".join(s.text for s in _sentences(drafts["introduction"]))
    assert "offline engine" in intro and "255 sources" in intro and "2008" in intro
    cited = [set(s.citations) for s in _sentences(drafts["introduction"])]
    for section in sections:
        assert any(section.keys[0] in c for c in cited), section.title
        assert section.title in intro
    assert len(drafts["abstract"].paragraphs) == 1
    assert "offline engine" in " ".join(s.text for s in _sentences(drafts["abstract"]))
