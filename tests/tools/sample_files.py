"""Small real PDF and DOCX files for reader tests, made with reportlab and python-docx."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import docx
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def write_pdf(
    path: Path, pages: list[list[str]], *, title: str | None = None, author: str | None = None
) -> Path:
    """A real PDF with one line of text per string, one list of strings per page."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    if title:
        pdf.setTitle(title)
    if author:
        pdf.setAuthor(author)
    for lines in pages:
        y = 800
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return path


def write_docx(
    path: Path, paragraphs: list[str], *, title: str = "", author: str = "", year: int = 0
) -> Path:
    """A real DOCX; core properties left empty keep python-docx's template values."""
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    props = document.core_properties
    if title:
        props.title = title
    if author:
        props.author = author
    if year:
        props.created = datetime(year, 1, 1)
    document.save(str(path))
    return path
