"""The `euros` filter: French prices, whatever language is active."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from products.templatetags.money import euros

NBSP = "\N{NO-BREAK SPACE}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1250.00"), f"1{NBSP}250,00{NBSP}€"),
        (Decimal("1250"), f"1{NBSP}250,00{NBSP}€"),
        (Decimal("89.5"), f"89,50{NBSP}€"),
        (Decimal("0.01"), f"0,01{NBSP}€"),
        (Decimal("999.99"), f"999,99{NBSP}€"),
        (Decimal("1234567.89"), f"1{NBSP}234{NBSP}567,89{NBSP}€"),
        (1250, f"1{NBSP}250,00{NBSP}€"),
    ],
)
def test_euros_formats_like_french_typography(value, expected):
    """Thousands grouped with U+00A0, a decimal comma, two decimals, U+00A0 before `€`."""
    assert euros(value) == expected


def test_euros_has_no_ordinary_or_narrow_spaces():
    """Neither a plain space nor U+202F (narrow no-break space) creeps in."""
    formatted = euros(Decimal("1250.00"))

    assert " " not in formatted
    assert "\N{NARROW NO-BREAK SPACE}" not in formatted


def test_euros_is_french_even_when_another_language_is_active():
    """The shop's prices do not change with the visitor's language."""
    with translation.override("en"):
        assert euros(Decimal("1250.00")) == f"1{NBSP}250,00{NBSP}€"


@pytest.mark.parametrize("value", [None, ""])
def test_euros_of_nothing_is_empty(value):
    """A missing price renders as nothing, not as an error or `None €`."""
    assert euros(value) == ""


def test_euros_in_a_template_is_not_escaped_into_entities():
    """Through the template engine the characters come out as they are."""
    rendered = Template("{% load money %}{{ price|euros }}").render(
        Context({"price": Decimal("1250.00")})
    )

    assert rendered == f"1{NBSP}250,00{NBSP}€"
