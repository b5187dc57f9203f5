"""Stripe's form encoding read back (what stripe-python sends, see stripe/_encode.py)."""

from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode

from payments.offline.errors import StripeApiError
from payments.offline.params import parse_query


def encode(params: dict) -> str:
    """Exactly what stripe-python puts on the wire (brackets left unescaped)."""
    return urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")


def test_the_librarys_encoding_reads_back_to_the_same_params():
    params = {
        "mode": "payment",
        "line_items": [
            {"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 2599}},
            {"quantity": 2, "price_data": {"product_data": {"name": "Vase & co"}}},
        ],
        "metadata": {"order_id": "B-7K2M", "0": "a digit key"},
        "expand": ["line_items", "payment_intent"],
        "created": {"gte": 1700000000},
    }

    decoded = parse_query(encode(params))

    assert decoded == {
        "mode": "payment",
        "line_items": [
            {"quantity": "1", "price_data": {"currency": "eur", "unit_amount": "2599"}},
            {"quantity": "2", "price_data": {"product_data": {"name": "Vase & co"}}},
        ],
        "metadata": {"order_id": "B-7K2M", "0": "a digit key"},
        "expand": ["line_items", "payment_intent"],
        "created": {"gte": "1700000000"},
    }


def test_empty_brackets_append_and_indexes_sort_numerically():
    assert parse_query("expand[]=a&expand[]=b") == {"expand": ["a", "b"]}
    query = "&".join(f"x[{i}]={i}" for i in (10, 2, 1, 0, 3, 4, 5, 6, 7, 8, 9))
    assert parse_query(query) == {"x": [str(i) for i in range(11)]}


@pytest.mark.parametrize("query", ["a=1&a[b]=2", "a[b]=2&a=1", "[x]=1"])
def test_contradictory_or_malformed_keys_are_invalid_requests(query):
    with pytest.raises(StripeApiError) as error:
        parse_query(query)

    assert error.value.status == 400
