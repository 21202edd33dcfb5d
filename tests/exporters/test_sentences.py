from __future__ import annotations

from exporters.document import Cite, Text
from exporters.sentences import sentences


def _texts(runs: list) -> list[str]:
    return [
        "".join(
            r.text if isinstance(r, Text) else f"{'@' * r.narrative}<{','.join(r.keys)}>" for r in s
        )
        for s in runs
    ]


def test_citation_stays_with_the_sentence_it_closes() -> None:
    runs = [
        Text(text="Retrieval helps "),
        Cite(keys=["a"]),
        Text(text=". Lewis et al. showed it, e.g. on QA "),
        Cite(keys=["b", "c"]),
        Text(text=". J. Smith disagreed."),
        Cite(keys=["d"]),
        Text(text=" 检索增强生成很有效。它也可追溯"),
        Cite(keys=["e"]),
        Text(text="。"),
    ]
    assert _texts(sentences(runs)) == [
        "Retrieval helps <a>.",
        "Lewis et al. showed it, e.g. on QA <b,c>.",
        "J. Smith disagreed.<d>",
        "检索增强生成很有效。",
        "它也可追溯<e>。",
    ]


def test_decimals_and_lowercase_continuations_do_not_end_a_sentence() -> None:
    runs = [Text(text="Accuracy rose by 3.5 points vs. the baseline. it held.")]
    assert _texts(sentences(runs)) == ["Accuracy rose by 3.5 points vs. the baseline. it held."]


def test_narrative_citation_stays_with_the_sentence_it_opens() -> None:
    runs = [
        Text(text="Retrieval helps "),
        Cite(keys=["a"]),
        Text(text=". "),
        Cite(keys=["b"], narrative=True),
        Text(text=" showed it, as did e.g. "),
        Cite(keys=["c"], narrative=True),
        Text(text=" on QA."),
        Cite(keys=["d"], narrative=True),
        Text(text=" disagreed "),
        Cite(keys=["e"]),
        Text(text=". 它有效。"),
        Cite(keys=["f"], narrative=True),
        Text(text="认为可追溯。"),
    ]
    assert _texts(sentences(runs)) == [
        "Retrieval helps <a>.",
        "@<b> showed it, as did e.g. @<c> on QA.",
        "@<d> disagreed <e>.",
        "它有效。",
        "@<f>认为可追溯。",
    ]
