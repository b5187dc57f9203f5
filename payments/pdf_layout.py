"""The layout of an invoice's or a credit note's PDF, with fpdf2: what `payments.pdf.render`
loads when a process makes its first PDF (fpdf2 and fontTools weigh ~34 MB and ~0.2 s).

`content` is what the document states, decided when it was issued
(payments/document_content.py); this module only lays it out, with fpdf2. The font is
Helvetica, one of the fourteen every PDF reader carries, written in Windows-1252: « € »,
accents, « œ », guillemets and the no-break space of French amounts. Nothing is embedded, so
a PDF costs ~8 ms of CPU and ~2 KB instead of ~64 ms and ~30 KB with a subset TrueType font
and fpdf2's letter-by-letter line breaking (BENCHMARKS.md, "The webhook, third pass"): each
sale makes one, for its confirmation. A
character outside Windows-1252 (a piece named in another script) is printed as its closest
Latin form, or « ? ».
"""

import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from django.utils import formats, translation
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from payments.document_content import CREDIT_NOTE
from products.templatetags.shop_words import country_name

FONT = "helvetica"
ENCODING = "windows-1252"
NBSP = "\N{NO-BREAK SPACE}"
GREY = (90, 90, 90)

LINE = (200, 200, 200)
HEADING_FILL = (240, 240, 240)
ROW = 6  # mm, a table row


def render(content: Mapping[str, Any], number: str) -> bytes:
    """The document's PDF (A4, one page for a usual order, more if its lines need them)."""
    pdf = _Document(content, number)
    pdf.add_page()
    pdf.header_block()
    pdf.parties()
    pdf.lines_table()
    pdf.totals()
    pdf.mentions()
    return bytes(pdf.output())


@cache
def _printable() -> frozenset[int]:
    return frozenset(map(ord, bytes(range(32, 256)).decode(ENCODING, errors="ignore")))


def printable(text: str) -> str:
    """`text` with what the font cannot print replaced by its closest Latin form, else
    « ? » (a narrow no-break space becomes a no-break space)."""
    known = _printable()
    out = []
    for char in str(text).replace("\N{NARROW NO-BREAK SPACE}", NBSP):
        if ord(char) in known or char in "\n":
            out.append(char)
            continue
        folded = unicodedata.normalize("NFKD", char)
        folded = "".join(c for c in folded if ord(c) in known and not unicodedata.combining(c))
        out.append(folded or "?")
    return "".join(out)


def one_line(text: str) -> str:
    """`printable(text)` for a cell that never wraps, with plain spaces: fpdf2's wrapping text
    prints the no-break spaces it keeps together as spaces too, and the whole document then
    reads (and is searched, copied) one way."""
    return printable(text).replace(NBSP, " ")


def wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str] | None:
    """`text` in lines no wider than `width` (by `measure`), broken at plain spaces; None when
    one word alone is wider. Measuring whole lines, not letters, makes this several times
    cheaper than fpdf2's `multi_cell` (BENCHMARKS.md, "The webhook, third pass")."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if measure(word) > width:
                return None
            candidate = f"{line} {word}" if line else word
            if line and measure(candidate) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


def euros(amount: str | Decimal) -> str:
    with translation.override("fr"):
        text = formats.number_format(
            Decimal(amount), decimal_pos=2, use_l10n=True, force_grouping=True
        )
    return f"{text}{NBSP}€"


def french_date(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y")


def address_lines(address: Mapping[str, Any] | None) -> list[str]:
    if not address:
        return []
    postal = address.get("address") or {}
    city = " ".join(part for part in (postal.get("postal_code"), postal.get("city")) if part)
    if postal.get("state"):
        city = f"{city}, {postal['state']}"
    lines = [
        address.get("name") or "",
        postal.get("line1") or "",
        postal.get("line2") or "",
        city,
        country_name(postal.get("country") or ""),
    ]
    return [line for line in lines if line]


class _Document(FPDF):
    def __init__(self, content: Mapping[str, Any], number: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.content = content
        self.number = number
        self.credit_note = content["kind"] == CREDIT_NOTE
        self.vat = content["vat"]
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=22)
        seller = content["seller"]
        self.set_title(f"{self.title_word} {number}")
        self.set_author(printable(seller["name"] or seller["shop_name"]))
        self.set_creator(printable(seller["shop_name"]))
        self.alias_nb_pages()

    @property
    def title_word(self) -> str:
        return "Avoir" if self.credit_note else "Facture"

    def text_line(self, text: str, *, size: float = 9.5, style: str = "", h: float = 4.6):
        """A paragraph, wrapped at spaces (no-break spaces hold amounts and dates together)."""
        self.set_font(FONT, style, size)
        text = printable(text)
        lines = wrap(text, self.epw, self.get_string_width)
        if lines is None:  # a word wider than the page: fpdf2 breaks it
            self.multi_cell(0, h, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        for line in lines:
            self.cell(0, h, line.replace(NBSP, " "), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        seller = self.content["seller"]
        self.set_y(-15)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*GREY)
        parts = [seller["name"] or seller["shop_name"]]
        if seller["siren"]:
            parts.append(f"SIREN {seller['siren']}")
        parts.append(f"{self.title_word} {self.number}")
        parts.append(f"page {self.page_no()}/{{nb}}")
        self.cell(0, 5, one_line(" · ".join(parts)), align="C")
        self.set_text_color(0, 0, 0)

    # --- Blocks -----------------------------------------------------------------------------

    def header_block(self) -> None:
        seller, content = self.content["seller"], self.content
        top = self.get_y()
        self.set_font(FONT, "B", 15)
        self.cell(100, 8, one_line(seller["shop_name"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 9)
        lines = [seller["name"], *seller["address"].splitlines()]
        if seller["siren"]:
            lines.append(f"SIREN : {seller['siren']}")
        if seller["vat_number"]:
            lines.append(f"N° de TVA intracommunautaire : {seller['vat_number']}")
        if seller["email"]:
            lines.append(seller["email"])
        for line in filter(None, (line.strip() for line in lines)):
            self.cell(100, 4.4, one_line(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        left_bottom = self.get_y()

        self.set_xy(120, top)
        self.set_font(FONT, "B", 16)
        self.cell(72, 8, self.title_word.upper(), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font(FONT, "", 9.5)
        facts = [
            ("N°", self.number),
            ("Date", french_date(content["date"])),
            ("Commande", content["order"]),
        ]
        if self.credit_note:
            invoice = content["invoice"]
            facts.append(("Facture", f"{invoice['number']} du {french_date(invoice['date'])}"))
        for label, value in facts:
            self.set_x(120)
            self.cell(72, 5, one_line(f"{label} : {value}"), align="R")
            self.ln(5)
        self.set_y(max(left_bottom, self.get_y()) + 6)

    def parties(self) -> None:
        buyer = self.content["buyer"]
        address = address_lines(self.content.get("shipping_address"))
        top = self.get_y()
        self.set_font(FONT, "B", 9.5)
        self.cell(85, 5, "Client", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 9.5)
        for line in [buyer["name"], buyer["email"]]:
            if line:
                self.cell(85, 4.6, one_line(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        left_bottom = self.get_y()
        if address:
            self.set_xy(110, top)
            self.set_font(FONT, "B", 9.5)
            self.cell(82, 5, "Adresse de livraison et de facturation")
            self.set_font(FONT, "", 9.5)
            for line in address:
                self.ln(4.6)
                self.set_x(110)
                self.cell(82, 4.6, one_line(line))
            self.ln(4.6)
        self.set_y(max(left_bottom, self.get_y()) + 6)
        if self.credit_note:
            invoice = self.content["invoice"]
            self.text_line(
                f"Avoir sur la facture {invoice['number']} du {french_date(invoice['date'])}, "
                f"pour le remboursement de {euros(self.content['refund']['amount'])}.",
                style="B",
            )
            if self.content.get("reason"):
                self.text_line(f"Motif : {self.content['reason']}")
            self.ln(3)

    def lines_table(self) -> None:
        rows = list(self.content["lines"])
        shipping = self.content.get("shipping")
        if shipping is not None:
            ttc = Decimal(shipping["ttc"])
            rows.append({**shipping, "label": "Livraison" + ("" if ttc else " (offerte)")})
        if self.vat["applies"]:
            rate = _rate(self.vat["rate"])
            headings = ["Désignation", "Prix HT", f"TVA {rate} %", "Prix TTC"]
            widths = (94, 26, 26, 28)
            cells = [(r["label"], euros(r["ht"]), euros(r["vat"]), euros(r["ttc"])) for r in rows]
        else:
            headings = ["Désignation", "Prix"]
            widths = (146, 28)
            cells = [(r["label"], euros(r["ttc"])) for r in rows]
        headings = [printable(h) for h in headings]
        cells = [[printable(value) for value in row] for row in cells]
        self.set_draw_color(*LINE)
        self.set_font(FONT, "", 9.5)
        room = widths[0] - 2 * self.c_margin
        if all(self.get_string_width(row[0]) <= room for row in cells):
            self._one_line_rows(headings, widths, cells)
        else:  # a label on several lines: fpdf2's table wraps it (several times slower)
            with self.table(
                col_widths=widths,
                text_align=("LEFT", *("RIGHT",) * (len(widths) - 1)),
                line_height=6,
                borders_layout="HORIZONTAL_LINES",
                headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
                first_row_as_headings=True,
            ) as table:
                table.row(headings)
                for row in cells:
                    table.row(row)
        self.ln(3)

    def _one_line_rows(self, headings: list[str], widths, cells: list[list[str]]) -> None:
        """The lines as fpdf2's table draws them (headings on grey, a rule between rows),
        one cell each."""
        aligns = ("L", *("R",) * (len(widths) - 1))
        self.set_font(FONT, "B", 9.5)
        self.set_fill_color(*HEADING_FILL)
        for text, width, align in zip(headings, widths, aligns, strict=True):
            self.cell(width, ROW, text, align=align, fill=True)
        self.ln(ROW)
        self.set_font(FONT, "", 9.5)
        for row in cells:
            y = self.get_y()
            self.line(self.l_margin, y, self.l_margin + sum(widths), y)
            for text, width, align in zip(row, widths, aligns, strict=True):
                self.cell(width, ROW, text.replace(NBSP, " "), align=align)
            self.ln(ROW)

    def totals(self) -> None:
        totals = self.content["totals"]
        label = "Total remboursé" if self.credit_note else "Total"
        rows: list[tuple[str, str, str]] = []
        if self.vat["applies"]:
            rows += [
                ("Total HT", euros(totals["ht"]), ""),
                (f"TVA {_rate(self.vat['rate'])} %", euros(totals["vat"]), ""),
                (f"{label} TTC", euros(totals["ttc"]), "B"),
            ]
        else:
            rows.append((label, euros(totals["ttc"]), "B"))
        for name, amount, style in rows:
            self.set_x(110)
            self.set_font(FONT, style, 10.5 if style else 9.5)
            self.cell(54, 6, one_line(name), align="R")
            self.cell(28, 6, one_line(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)

    def mentions(self) -> None:
        content = self.content
        if self.vat["mention"]:
            self.text_line(self.vat["mention"], style="B")
        payment = content["payment"]
        paid = f"Payée le {french_date(payment['date'])} · {payment['method']}"
        if payment.get("reference"):
            paid += f" · référence du paiement : {payment['reference']}"
        if self.credit_note:
            refund = content["refund"]
            self.text_line(
                f"Remboursement de {euros(refund['amount'])} effectué le "
                f"{french_date(refund['date'])} sur le moyen de paiement de la commande "
                f"(paiement du {french_date(payment['date'])}"
                + (f", référence {payment['reference']}" if payment.get("reference") else "")
                + ")."
            )
        else:
            self.text_line(paid)
        self.ln(2)
        mediator = content["mediator"]
        if mediator["name"] or mediator["url"]:
            who = " · ".join(part for part in (mediator["name"], mediator["url"]) if part)
            self.text_line(
                "En cas de litige, vous pouvez recourir gratuitement au médiateur de la "
                f"consommation : {who}.",
                size=8.5,
            )
        seller = content["seller"]
        if seller["email"]:
            self.text_line(f"Une question ? Écrivez-nous : {seller['email']}.", size=8.5)


def _rate(rate: str) -> str:
    """« 20 », « 5,5 »: the rate as a French reader writes it."""
    value = Decimal(rate).normalize()
    return f"{value:f}".replace(".", ",")
