"""Amounts in euros as the owner types them: « 320,50 », « 320.50 », « 1 250 », « 89 € ».

The rule, the same in the admin's price field, in its preview script (static/js/euros-input.js)
and in imported spreadsheets:

- the euros, then, if there are cents, ONE comma or point followed by one or two digits;
- thousands are not separated, or by spaces (« 1250 » or « 1 250 »), never by a point or a
  comma;
- a trailing « € » is allowed.

So a comma or a point followed by three digits (« 1,250 », « 1.250 ») is refused: the owner
meant either 1 250 € or 1,25 €, and a price silently a thousand times off is worse than a
question. So is a number with both a point and a comma (« 1.250,00 », « 1,250.00 »).
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from products.templatetags.money import euros

# Spaces people (and spreadsheets) put between thousands: plain, no-break, narrow no-break.
_SPACES = " \u00a0\u202f"
_AMOUNT = re.compile(r"(?P<units>\d+)(?:[.,](?P<cents>\d+))?")
_GROUPED = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?")

EXAMPLES = "320,50 ou 320.50"


def parse_euros(value: Any) -> Decimal:
    """The amount `value` means, to the cent; `ValidationError` (in French, saying the rule
    and what to write instead) when it is not one or could mean two amounts."""
    if isinstance(value, Decimal | int):
        return Decimal(value).quantize(Decimal("0.01"))
    text = str(value).strip()
    if text.endswith("€"):
        text = text[:-1].strip()
    shown = text
    if any(space in text for space in _SPACES):
        if not _GROUPED.fullmatch(text):
            raise _error(
                f"« {shown} » n'est pas un prix : les espaces ne peuvent séparer que les "
                f"milliers (1 250,00). Écrivez par exemple {EXAMPLES}."
            )
        text = "".join(c for c in text if c not in _SPACES)
    if not re.fullmatch(r"[\d.,]+", text):
        raise _error(
            f"« {shown} » n'est pas un prix. Écrivez les euros, puis si besoin une virgule ou "
            f"un point et les centimes : {EXAMPLES} (les milliers sans séparateur, ou avec "
            "une espace : 1 250)."
        )
    if text.count(",") + text.count(".") > 1:
        last = max(text.rfind(","), text.rfind("."))
        units, cents = re.sub(r"\D", "", text[:last]), text[last + 1 :]
        digits = re.sub(r"\D", "", text) or "0"
        if "," in text and "." in text and units and cents.isdigit() and len(cents) <= 2:
            example = f"{units},{cents} (ou {_grouped(int(units))},{cents})"
        else:
            example = f"{digits} (ou {_grouped(int(digits))})"
        raise _error(
            f"« {shown} » est ambigu : une virgule ou un point ne sépare que les centimes, une "
            "seule fois ; les milliers s'écrivent sans séparateur, ou avec une espace. "
            f"Écrivez par exemple {example}."
        )
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise _error(
            f"« {shown} » n'est pas un prix. Écrivez les euros, puis si besoin une virgule ou "
            f"un point et les centimes : {EXAMPLES}."
        )
    units, cents = match["units"], match["cents"]
    if cents is not None and len(cents) == 3:
        whole = int(units + cents)
        written = f"{whole} (ou {_grouped(whole)})" if whole >= 1000 else str(whole)
        raise _error(
            f"« {shown} » est ambigu : {_grouped(whole)} € ou {units},{cents[:2]} € ? Après la "
            "virgule ou le point viennent les centimes, deux chiffres au plus. Écrivez "
            f"{written} ou {units},{cents[:2]}."
        )
    if cents is not None and len(cents) > 2:
        raise _error(
            f"« {shown} » a trop de chiffres après la virgule : les centimes en ont deux au "
            f"plus. Écrivez par exemple {units},{cents[:2]}."
        )
    try:
        return Decimal(f"{units}.{cents or '0'}").quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise _error(f"« {shown} » n'est pas un prix.") from None


def _grouped(number: int) -> str:
    """« 1 250 », with a no-break space, as the shop writes amounts."""
    return f"{number:,}".replace(",", "\u00a0")


def _error(message: str) -> ValidationError:
    return ValidationError(message, code="invalid")


def plain(amount: Decimal | None) -> str:
    """« 1250,50 »: the amount as typed back into a field (a comma, no grouping)."""
    if amount is None:
        return ""
    return f"{Decimal(amount):.2f}".replace(".", ",")


class EurosInput(forms.TextInput):
    """A text input (a number input drops « 320,50 »'s comma) with the keyboard of decimals on
    phones, followed by the amount as the shop will show it (« 320,50 € »), updated as the
    owner types by a script of the shop's own (no inline script: the CSP forbids it)."""

    class Media:
        js = ["js/euros-input.js"]

    def __init__(self, attrs: dict | None = None) -> None:
        defaults = {"inputmode": "decimal", "autocomplete": "off", "size": "12"}
        super().__init__({**defaults, **(attrs or {}), "data-euros-input": ""})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal | int):
            return plain(Decimal(value))
        return super().format_value(value)

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer=None) -> str:
        html = super().render(name, value, attrs, renderer)
        try:
            shown = euros(parse_euros(value)) if value not in (None, "") else ""
        except ValidationError:
            shown = ""
        field_id = (attrs or {}).get("id") or self.attrs.get("id") or ""
        return format_html(
            '{} <output class="euros-preview" for="{}" data-euros-preview aria-live="polite">'
            "{}</output>",
            html,
            field_id,
            shown,
        )


class EurosField(forms.DecimalField):
    """An amount in euros typed the French way or with a point (`parse_euros`)."""

    widget = EurosInput

    def to_python(self, value: Any) -> Decimal | None:
        if value in self.empty_values:
            return None
        return parse_euros(value)
