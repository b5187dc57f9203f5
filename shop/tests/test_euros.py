"""Amounts typed by the owner (shop/euros.py): the French comma, a point, and nothing that
could mean two amounts."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from shop.euros import EurosField, EurosInput, parse_euros

NBSP = "\N{NO-BREAK SPACE}"


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("320,50", "320.50"),
        ("320.50", "320.50"),
        ("320,5", "320.50"),
        ("320", "320.00"),
        (" 89 € ", "89.00"),
        ("1 250", "1250.00"),
        ("1 250,00", "1250.00"),
        (f"1{NBSP}250,00{NBSP}€", "1250.00"),  # as the shop writes it, pasted back
        ("1\u202f250,5", "1250.50"),  # a narrow no-break space, as some spreadsheets do
        ("12 500 000", "12500000.00"),
    ],
)
def test_amounts_the_owner_may_type(typed, amount):
    assert parse_euros(typed) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        # A separator before three digits: 1 250 € or 1,25 €? Asked, never guessed.
        ("1,250", f"« 1,250 » est ambigu : 1{NBSP}250 € ou 1,25 € ?"),
        ("1.250", f"« 1.250 » est ambigu : 1{NBSP}250 € ou 1,25 € ?"),
        ("1.250,00", f"Écrivez par exemple 1250,00 (ou 1{NBSP}250,00)."),
        ("1,250.00", f"Écrivez par exemple 1250,00 (ou 1{NBSP}250,00)."),
        ("1.250.000", f"Écrivez par exemple 1250000 (ou 1{NBSP}250{NBSP}000)."),
        ("12 50", "les espaces ne peuvent séparer que les milliers"),
        ("1,2345", "les centimes en ont deux au plus. Écrivez par exemple 1,23."),
        ("320,", "n'est pas un prix"),
        ("-5", "n'est pas un prix"),
        ("3e5", "n'est pas un prix"),
        ("douze", "n'est pas un prix"),
    ],
)
def test_ambiguous_or_wrong_amounts_are_refused_with_the_rule(typed, says):
    with pytest.raises(ValidationError) as refused:
        parse_euros(typed)

    assert says in refused.value.messages[0]


def test_the_field_keeps_the_model_fields_limits():
    field = EurosField(max_digits=10, decimal_places=2)

    assert field.clean("320,50") == Decimal("320.50")
    with pytest.raises(ValidationError):
        field.clean("123456789,00")  # 11 digits


def test_the_input_is_text_with_the_amount_shown_beside_it():
    """Not a number input (it drops a French comma); the amount is written back with a comma
    and shown as the shop shows it."""
    html = EurosInput().render("price", Decimal("1250.5"), attrs={"id": "id_price"})

    assert 'type="text"' in html
    assert 'inputmode="decimal"' in html
    assert 'value="1250,50"' in html
    assert (
        f'<output class="euros-preview" for="id_price" data-euros-preview aria-live="polite">'
        f"1{NBSP}250,50{NBSP}€</output>"
    ) in html
