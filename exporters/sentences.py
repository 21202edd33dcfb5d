"""Sentences of a paragraph's runs, each keeping the citations it makes.

Slides take the first sentences of a paragraph as key points and the workbook
lists one evidence row per cited sentence; both cut runs here so they agree.
"""

from __future__ import annotations

import re

from exporters.document import Cite, Run, Text

# One citation each in the flattened text (CleanText keeps both out of documents): a
# parenthetical one closes the sentence before it, a narrative one opens the next.
_MARK = "\x00"
_NARRATIVE = "\x01"
_END = re.compile(r"[.!?][\"'”’)\]]*\x00*(?:\s+|(?=\x01))|[。！？][”’」』）]*\x00*\s*")
_ABBREVIATIONS = frozenset(
    "al cf e.g eg etc fig figs i.e ie vs viz approx eq eqs no nos sec dr mr mrs ms prof st".split()
)


def sentences(runs: list[Run]) -> list[list[Run]]:
    """The runs cut into sentences; a citation stays with the sentence it closes, a
    narrative one ("Lewis et al. (2020) showed") with the sentence it is part of."""
    cites = [run for run in runs if isinstance(run, Cite)]
    flat = "".join(_flat(run) for run in runs)
    pieces: list[str] = []
    start = 0
    for match in _END.finditer(flat):
        if _is_boundary(flat, match):
            pieces.append(flat[start : match.end()])
            start = match.end()
    pieces.append(flat[start:])

    result: list[list[Run]] = []
    cite_index = 0
    for piece in pieces:
        sentence: list[Run] = []
        for part in re.split(f"([{_MARK}{_NARRATIVE}])", piece):
            if part in (_MARK, _NARRATIVE):
                sentence.append(cites[cite_index])
                cite_index += 1
            elif part:
                sentence.append(Text(text=part))
        sentence = _strip(sentence)
        if not any(isinstance(run, Text) for run in sentence) and result:
            result[-1].extend(sentence)
        elif sentence:
            result.append(sentence)
    return result


def _flat(run: Run) -> str:
    if isinstance(run, Cite):
        return _NARRATIVE if run.narrative else _MARK
    return run.text.replace(_MARK, "").replace(_NARRATIVE, "")


def _is_boundary(flat: str, match: re.Match[str]) -> bool:
    following = flat[match.end() : match.end() + 1]
    if following and following.islower():
        return False
    if match.group().startswith("."):
        word = re.search(r"([\w.]+)$", flat[: match.start()])
        if word and word.group(1).lower() in _ABBREVIATIONS:
            return False
        if word and len(word.group(1)) == 1 and word.group(1).isupper():
            return False  # an initial, as in "J. Smith"
    return True


def _strip(sentence: list[Run]) -> list[Run]:
    if sentence and isinstance(sentence[0], Text):
        sentence[0] = Text(text=sentence[0].text.lstrip())
    if sentence and isinstance(sentence[-1], Text):
        sentence[-1] = Text(text=sentence[-1].text.rstrip())
    return [run for run in sentence if not (isinstance(run, Text) and not run.text)]
