"""A realistic review to export: nested sections, citations, a table, a chart, a figure, Unicode."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from exporters.document import (
    Bullets,
    Chart,
    Cite,
    Document,
    Figure,
    Paragraph,
    Quote,
    Reference,
    Section,
    Table,
    Text,
)

UNICODE_SAMPLES = ("Balázs", "α β γ", "检索增强生成")
NARRATIVE = {
    "apa": [
        "Lewis et al. (2020) coined the term",
        "Smith (2021a, 2021b) compared costs",
        "while Izacard and Grave (2021) and Karpukhin et al. (2020) scaled",
    ],
    "ieee": [
        "Lewis et al. [1] coined the term",
        "Smith [9], [10] compared costs",
        "while Karpukhin et al. [3] and Izacard and Grave [5] scaled",
    ],
}
"""How the fixture's narrative citations read in the text of every format, per style."""

REFERENCES = [
    Reference(
        key="lewis2020retrieval",
        title="Retrieval-augmented generation for knowledge-intensive NLP tasks",
        authors=["Patrick Lewis", "Ethan Perez", "Aleksandra Piktus", "Fabio Petroni"],
        year=2020,
        venue="Advances in Neural Information Processing Systems (NeurIPS)",
        arxiv_id="2005.11401",
    ),
    Reference(
        key="guu2020realm",
        title="REALM: Retrieval-augmented language model pre-training",
        authors=["Guu, Kelvin", "Lee, Kenton"],
        year=2020,
        venue="Proceedings of the 37th International Conference on Machine Learning",
        arxiv_id="2002.08909",
    ),
    Reference(
        key="karpukhin2020dense",
        title="Dense passage retrieval for open-domain question answering",
        authors=["Vladimir Karpukhin", "Barlas Oğuz", "Sewon Min"],
        year=2020,
        venue="Proceedings of the 2020 Conference on Empirical Methods in Natural Language "
        "Processing (EMNLP)",
        doi="10.18653/v1/2020.emnlp-main.550",
    ),
    Reference(
        key="izacard2021leveraging",
        title="Leveraging passage retrieval with generative models for open domain question "
        "answering",
        authors=["Gautier Izacard", "Edouard Grave"],
        year=2021,
        venue="Proceedings of EACL",
    ),
    Reference(
        key="borgeaud2022improving",
        title="Improving language models by retrieving from trillions of tokens",
        authors=[
            "Sebastian Borgeaud",
            "Arthur Mensch",
            "Jordan Hoffmann",
            "Trevor Cai",
            "Eliza Rutherford",
            "Katie Millican",
            "George van den Driessche",
        ],
        year=2022,
        arxiv_id="2112.04426",
    ),
    Reference(
        key="balazs2007calculation",
        title="Calculation of prompt diphoton production cross sections at Tevatron and LHC "
        "energies",
        authors=["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"],
        year=2007,
        venue="Physical Review D",
        doi="10.1103/PhysRevD.76.013009",
    ),
    Reference(
        key="papadopoulos2019machine",
        title="Μηχανική μάθηση για ανάκτηση πληροφοριών: α β γ",
        authors=["Γεώργιος Παπαδόπουλος"],
        year=2019,
        venue="Journal of Information Retrieval",
    ),
    Reference(
        key="wang2023survey",
        title="检索增强生成综述: a survey of retrieval-augmented generation",
        authors=["王小明", "Li, Hua"],
        year=2023,
        venue="计算机学报",
    ),
    Reference(
        key="anon_nd_open",
        title="Open retrieval benchmarks and leaderboards",
        url="https://example.org/benchmarks?task=qa&split=dev",
    ),
    Reference(
        key="smith2021costs",
        title="Costs & benefits: 100% recall, $\\alpha$-tuning, #hashtags_x and {braces} at ~2^n",
        authors=["John Smith"],
        year=2021,
        venue="Journal of Retrieval Engineering",
        url="https://example.org/smith?a=1&b=2",
    ),
    Reference(
        key="smith2021sparse",
        title="Sparse retrieval revisited",
        authors=["Smith, John"],
        year=2021,
        venue="Journal of Retrieval Engineering",
    ),
    Reference(
        key="nguyen2024vietnamese",
        title="Retrieval for Vietnamese question answering",
        authors=["Nguyễn, Văn An", "O'Brien, Séamus"],
        year=2024,
        venue="Transactions of the Association for Computational Linguistics",
    ),
]


def _p(*parts: str | list[str] | Cite) -> Paragraph:
    """A paragraph of text, parenthetical citations (key lists) and narrative ones (`_by`)."""
    return Paragraph(
        runs=[
            Text(text=p) if isinstance(p, str) else p if isinstance(p, Cite) else Cite(keys=p)
            for p in parts
        ]
    )


def _by(*keys: str) -> Cite:
    """A narrative citation, as Pandoc's `@key`: "Lewis et al. (2020) showed"."""
    return Cite(keys=list(keys), narrative=True)


def make_figure(path: Path) -> None:
    """A small PNG drawn with matplotlib, as a coding agent would leave one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = MplFigure(figsize=(4, 2.5), dpi=80)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot([2019, 2020, 2021, 2022], [3, 7, 12, 20], marker="o")
    axes.set_xticks([2019, 2020, 2021, 2022])
    axes.set_title("Retrieval papers per year")
    figure.savefig(path)


def build_document(folder: Path, style: str = "apa") -> Document:
    """The review every renderer test exports; its figure is written under `folder`."""
    make_figure(folder / "figures" / "papers.png")
    return Document(
        title="Retrieval-Augmented Generation: A Literature Review",
        subtitle="How retrieval changes what language models know",
        metadata={"Engine": "offline", "Date": "2025-01-31", "Thread": "t-42"},
        style=style,
        abstract=[
            _p(
                "Retrieval-augmented generation couples a retriever with a generator ",
                ["lewis2020retrieval"],
                ". This review covers twelve sources.",
            )
        ],
        references=REFERENCES,
        sections=[
            Section(
                title="Introduction",
                blocks=[
                    _p(
                        "Language models store knowledge in their parameters, which is hard "
                        "to update ",
                        ["lewis2020retrieval", "guu2020realm"],
                        ". Retrieval lets a model consult an index at inference time. "
                        "It also makes answers traceable to sources.",
                    ),
                    Bullets(
                        items=[
                            [
                                Text(text="Retriever and generator trained jointly "),
                                Cite(keys=["guu2020realm"]),
                            ],
                            [
                                Text(text="Dense passage retrieval "),
                                Cite(keys=["karpukhin2020dense"]),
                            ],
                            [
                                Text(text="Retrieval from trillions of tokens "),
                                Cite(keys=["borgeaud2022improving"]),
                            ],
                        ]
                    ),
                ],
            ),
            Section(
                title="Background",
                blocks=[
                    _p("Two families of retrievers dominate the literature."),
                    _p(
                        _by("lewis2020retrieval"),
                        " coined the term retrieval-augmented generation. Their model reads "
                        "Wikipedia passages.",
                    ),
                ],
                subsections=[
                    Section(
                        title="Dense retrieval",
                        blocks=[
                            _p(
                                "Dual encoders map questions and passages to one vector space ",
                                ["karpukhin2020dense"],
                                ". They outperform BM25 on open-domain QA.",
                            ),
                            Quote(
                                runs=[
                                    Text(
                                        text="Dense retrieval outperforms sparse baselines by "
                                        "9-19% in top-20 accuracy "
                                    ),
                                    Cite(keys=["karpukhin2020dense"]),
                                ]
                            ),
                        ],
                    ),
                    Section(
                        title="Generation",
                        blocks=[_p("Generators read the retrieved passages.")],
                        subsections=[
                            Section(
                                title="Fusion-in-decoder",
                                blocks=[
                                    _p(
                                        "Fusion-in-decoder encodes passages independently ",
                                        ["izacard2021leveraging"],
                                        ". RETRO retrieves chunks during training ",
                                        ["borgeaud2022improving"],
                                        ".",
                                    )
                                ],
                            )
                        ],
                    ),
                ],
            ),
            Section(
                title="Evidence",
                blocks=[
                    _p("Table 1 lists the evidence; Figure 1 counts the studies per year."),
                    Table(
                        caption="Evidence table: studies, methods and findings",
                        columns=["Study", "Method", "Finding"],
                        rows=[
                            ["lewis2020retrieval", "RAG", "Beats closed-book models on QA"],
                            ["karpukhin2020dense", "DPR", "9-19% better top-20 accuracy"],
                            ["izacard2021leveraging", "FiD", "Scales with passages <&> noise"],
                            ["wang2023survey", "综述", "检索增强生成 survey, α β γ"],
                        ],
                    ),
                    Chart(
                        caption="Studies per year and retriever type",
                        chart_type="bar",
                        categories=["2020", "2021", "2022", "2023"],
                        series={"Dense": [3, 4, 6, 8], "Sparse": [2, 2, 1, 1]},
                        x_label="Year",
                        y_label="Studies",
                    ),
                    Figure(caption="Retrieval papers per year", path="figures/papers.png"),
                ],
            ),
            Section(
                title="Multilingual and scientific sources: Balázs, α β γ, 检索增强生成",
                blocks=[
                    _p(
                        "Balázs and colleagues computed diphoton cross sections with α β γ "
                        "couplings ",
                        ["balazs2007calculation"],
                        ". A Chinese survey covers 检索增强生成 in depth ",
                        ["wang2023survey"],
                        ". Greek work on Μηχανική μάθηση follows ",
                        ["papadopoulos2019machine"],
                        ".",
                    ),
                    _p(
                        "Costs and sparse methods were compared twice in one year ",
                        ["smith2021costs", "smith2021sparse"],
                        ". Vietnamese QA needs its own retrievers ",
                        ["nguyen2024vietnamese"],
                        ". Leaderboards track progress ",
                        ["anon_nd_open"],
                        ".",
                    ),
                    _p(
                        _by("smith2021costs", "smith2021sparse"),
                        " compared costs and sparse retrieval in one year, while ",
                        _by("karpukhin2020dense", "izacard2021leveraging"),
                        " scaled retrievers and readers.",
                    ),
                ],
            ),
            Section(
                title="Conclusion",
                blocks=[
                    _p(
                        "Retrieval is now a standard component of knowledge-intensive systems ",
                        ["lewis2020retrieval", "guu2020realm", "anon_nd_open"],
                        ".",
                    )
                ],
            ),
        ],
    )


def build_large_document(folder: Path, sections: int = 60, paragraphs: int = 12) -> Document:
    """About a hundred pages: many sections of cited paragraphs, a long table, many references."""
    rng = random.Random(7)
    words = (
        "retrieval generation dense sparse index passage model evidence corpus query answer "
        "benchmark accuracy latency encoder decoder training inference knowledge source"
    ).split()
    refs = [
        Reference(
            key=f"author{i}year",
            title=" ".join(rng.choices(words, k=8)).capitalize(),
            authors=[f"Author{i} Family{i}"],
            year=2000 + i % 25,
            venue="Journal of Retrieval" if i % 2 else "Proceedings of the Retrieval Conference",
            doi=f"10.1000/example.{i}",
        )
        for i in range(150)
    ]
    body = []
    for s in range(sections):
        blocks: list = []
        for _ in range(paragraphs):
            runs: list = []
            for _ in range(3):
                sentence = " ".join(rng.choices(words, k=8)).capitalize()
                keys = [ref.key for ref in rng.sample(refs, 2)]
                runs += [Text(text=sentence + " "), Cite(keys=keys), Text(text=". ")]
            blocks.append(Paragraph(runs=runs))
        if s % 10 == 0:
            blocks.append(
                Table(
                    caption=f"Evidence for section {s + 1}",
                    columns=["Claim", "Source", "Strength"],
                    rows=[
                        [" ".join(rng.choices(words, k=12)), refs[r].key, "moderate"]
                        for r in range(60)
                    ],
                )
            )
        body.append(
            Section(
                title=f"Theme {s + 1}: {rng.choice(words)} and {rng.choice(words)}",
                blocks=blocks,
                subsections=[Section(title=f"Details of theme {s + 1}", blocks=blocks[:3])],
            )
        )
    return Document(title="A long review", sections=body, references=refs)


@pytest.fixture
def document(tmp_path: Path) -> Document:
    return build_document(tmp_path)


def section_titles(document: Document) -> list[str]:
    return [section.title for _, section in document.walk()]
