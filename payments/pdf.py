"""The PDF of an invoice or a credit note, behind one function: `render(content, number)`.

`content` is what the document states, decided when it was issued
(payments/document_content.py); payments/pdf_layout.py lays it out with fpdf2, in one of the
fonts every PDF reader carries. That module is imported here, on the first PDF a process
makes, never before: fpdf2 and fontTools add ~34 MB to a process and ~0.2 s to its start,
which a web worker that never makes a PDF (with `MAIL_WORKER`, `send_mails` makes them)
should not pay.
"""

from collections.abc import Mapping
from typing import Any


def render(content: Mapping[str, Any], number: str) -> bytes:
    """The document's PDF (A4)."""
    from payments import pdf_layout

    return pdf_layout.render(content, number)
