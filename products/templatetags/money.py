from decimal import Decimal

from django import template
from django.utils import formats, translation

register = template.Library()


@register.filter
def euros(value: Decimal | int | float | None) -> str:
    """`1250` -> `1 250,00 €`, with no-break spaces (U+00A0) as in French typography."""
    if value is None or value == "":
        return ""
    with translation.override("fr"):
        amount = formats.number_format(
            Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True
        )
    return f"{amount}\N{NO-BREAK SPACE}€"
