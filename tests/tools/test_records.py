from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.readers import UnreadableDocument
from tools.records import read_records


def test_json_lines_records_use_id_as_arxiv_id_and_skip_malformed_lines(write) -> None:
    path = write(
        "abstracts.jsonl",
        json.dumps(
            {
                "id": "2101.00001",
                "title": "Photon pairs in a synthetic record",
                "authors": ["C. Bal\\'azs", "E. L. Berger"],
                "year": 2007,
                "abstract": "Diphoton $\\gamma\\gamma$ pairs at the LHC.",
                "categories": ["hep-ph"],
                "doi": "10.1000/synthetic.1",
            }
        )
        + "\n{not json\n\n"
        + json.dumps({"id": "2101.00002", "title": "Sparsity", "authors": "A; B", "year": 2007})
        + "\n[1, 2]\n"
        + json.dumps({"id": "x", "abstract": "no title"})
        + "\n",
    )

    entries, skipped = read_records(path)

    (first, text), (second, _) = entries
    assert first.authors == ["C. Balázs", "E. L. Berger"]
    assert first.arxiv_id == "2101.00001"
    assert first.identity == "doi:10.1000/synthetic.1"
    assert first.origin == f"{path}#2101.00001"
    assert text == "Photon pairs in a synthetic record\n\nDiphoton γγ pairs at the LHC."
    assert second.authors == ["A", "B"]
    assert second.identity == "arxiv:2101.00002"
    assert second.abstract == ""
    assert set(skipped) == {f"{path}#2", f"{path}#5", f"{path}#x"}
    assert skipped[f"{path}#2"].startswith("invalid JSON")
    assert skipped[f"{path}#x"] == "no title"


def test_zotero_csv_export_columns_are_understood(write) -> None:
    path = write(
        "zotero.csv",
        '"Key","Item Type","Publication Year","Author","Title","Publication Title","DOI",'
        '"Url","Abstract Note"\n'
        '"AB12CD34","journalArticle","2020","Lewis, Patrick; Perez, Ethan",'
        '"Retrieval-Augmented Generation","NeurIPS","","https://arxiv.org/abs/2005.11401v4",'
        '"We explore RAG."\n'
        '"EF56","journalArticle","2019","","","","","",""\n',
    )

    entries, skipped = read_records(path)

    [(source, text)] = entries
    assert source.title == "Retrieval-Augmented Generation"
    assert source.authors == ["Lewis, Patrick", "Perez, Ethan"]
    assert source.year == 2020
    assert source.venue == "NeurIPS"
    assert source.identity == "arxiv:2005.11401"
    assert source.origin == f"{path}#AB12CD34"
    assert text == "Retrieval-Augmented Generation\n\nWe explore RAG."
    assert skipped == {f"{path}#EF56": "no title"}


def test_csv_headers_match_case_insensitively_and_rows_fall_back_to_line_numbers(write) -> None:
    path = write(
        "plain.csv",
        "TITLE,Authors,date,Journal,eprint\n"
        "Control charts,Ann Lee and Bo Chen,2011-02-01,Quality Eng.,arXiv:1101.0001\n",
    )

    [(source, _)], skipped = read_records(path)

    assert source.authors == ["Ann Lee", "Bo Chen"]
    assert source.year == 2011
    assert source.venue == "Quality Eng."
    assert source.arxiv_id == "1101.0001"
    assert source.origin == f"{path}#2"
    assert skipped == {}


def test_bibtex_fields_are_cleaned_of_braces_and_latex(write) -> None:
    path = write(
        "refs.bib",
        "@string{jqt = {Journal of Quality Technology}}\n"
        "@article{lewis2020,\n"
        '  title = {{Retrieval-Augmented} Generation for {\\"o}ffline {NLP}},\n'
        "  author = {Lewis, Patrick and Bal\\'azs, C. and {Barnes and Noble}},\n"
        "  year = 2020,\n  journal = jqt,\n  doi = {10.1000/RAG},\n"
        "  abstract = {Uses $\\alpha$~retrieval.},\n}\n"
        '@misc{vaswani2017, title = "Attention Is All You Need", eprint = {1706.03762},\n'
        "  archivePrefix = {arXiv}, url = {https://example.org/~v}}\n"
        "@article{broken, title = {never closed\n",
    )

    entries, skipped = read_records(path)

    (rag, text), (attention, _) = entries
    assert rag.title == "Retrieval-Augmented Generation for öffline NLP"
    assert rag.authors == ["Lewis, Patrick", "Balázs, C.", "Barnes and Noble"]
    assert rag.venue == "Journal of Quality Technology"
    assert rag.identity == "doi:10.1000/rag"
    assert rag.origin == f"{path}#lewis2020"
    assert text.endswith("Uses α retrieval.")
    assert attention.arxiv_id == "1706.03762"
    assert attention.url == "https://example.org/~v"
    assert len(skipped) == 1
    assert next(iter(skipped.values())).startswith("invalid BibTeX")


def test_csl_json_items_are_read(write) -> None:
    items = [
        {
            "id": "http://zotero.org/items/1",
            "type": "article-journal",
            "title": "Degradation modelling",
            "author": [{"family": "Kim", "given": "Ji"}, {"literal": "The RAMS Group"}],
            "issued": {"date-parts": [[2021, 5, 2]]},
            "container-title": "Reliability Engineering",
            "DOI": "10.1000/DEG",
            "abstract": "Gamma processes.",
        },
        {"id": "2", "title": "Preprint", "number": "arXiv:2101.00001", "issued": {"raw": "2021"}},
        {"id": "3", "author": []},
        "not an object",
    ]
    path = write("library.json", json.dumps(items))

    entries, skipped = read_records(path)

    (paper, _), (preprint, _) = entries
    assert paper.authors == ["Kim, Ji", "The RAMS Group"]
    assert paper.year == 2021
    assert paper.venue == "Reliability Engineering"
    assert paper.identity == "doi:10.1000/deg"
    assert preprint.identity == "arxiv:2101.00001"
    assert preprint.year == 2021
    assert skipped == {f"{path}#3": "no title", f"{path}#4": "not a JSON object"}


def test_json_that_is_not_csl_is_unreadable(write) -> None:
    path = write("package.json", '{"name": "something"}')

    with pytest.raises(UnreadableDocument, match="CSL-JSON"):
        read_records(path)


def test_csv_saved_in_windows_encoding_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("title,year\nCaf\xe9 charts,2012\n".encode("cp1252"))

    [(source, _)], _ = read_records(path)

    assert source.title == "Café charts"
