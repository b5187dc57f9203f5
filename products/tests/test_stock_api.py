"""The stock API polled by every open page: GET /api/products?ids=… (SPEC §6)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments.models import Order
from products.api import MAX_ID, MAX_IDS
from products.models import Product

pytestmark = pytest.mark.django_db

URL = "/api/products"


def get(client: Client, ids: str | None, **headers: str):
    data = {} if ids is None else {"ids": ids}
    return client.get(URL, data, headers=headers)


def ids_of(*products: Product) -> str:
    return ",".join(str(p.pk) for p in products)


def hold(product: Product, *, until: timedelta) -> Order:
    """Hold `product` for an open order until now + `until` (negative: a lapsed hold)."""
    order = Order.objects.create(total=product.price, status=Order.Status.PENDING)
    Product.objects.filter(pk=product.pk).update(held_by=order, held_until=timezone.now() + until)
    return order


def test_url_is_the_named_route():
    """The pages read the API's address from the `stock-api` route."""
    assert reverse("stock-api") == URL


def test_shape_lists_existing_products_by_id(client, make_product):
    """Only ids that exist come back, ordered by id, with exactly id, slug, status, in_stock."""
    first, second = make_product(), make_product()
    missing = second.pk + 1000

    response = get(client, f"{missing},{second.pk},{first.pk}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "products": [
            {"id": first.pk, "slug": first.slug, "status": "available", "in_stock": True},
            {"id": second.pk, "slug": second.slug, "status": "available", "in_stock": True},
        ]
    }


def test_unknown_ids_only_give_an_empty_list(client):
    """Ids that match nothing are not an error: the piece may have been deleted."""
    response = get(client, f"1,2,{MAX_ID}")

    assert response.status_code == 200
    assert response.json() == {"products": []}


@pytest.mark.parametrize(
    ("state", "status", "in_stock"),
    [
        ("available", "available", True),
        ("held", "reserved", True),
        ("hold_lapsed", "available", True),
        ("sold", "sold", False),
        ("sold_while_held", "sold", False),
    ],
)
def test_status_is_the_global_one(client, make_product, state, status, in_stock):
    """Sold beats a hold, a live hold means reserved, a lapsed hold is available again."""
    product = make_product()
    if state in {"held", "sold_while_held"}:
        hold(product, until=timedelta(minutes=30))
    if state == "hold_lapsed":
        hold(product, until=-timedelta(seconds=1))
    if state.startswith("sold"):
        Product.objects.filter(pk=product.pk).update(in_stock=False)

    [entry] = get(client, str(product.pk)).json()["products"]

    assert entry["status"] == status
    assert entry["in_stock"] is in_stock


EARLY_PATH = "products.middleware.StockPollMiddleware"


@pytest.mark.parametrize("path", ["early", "full stack"])
@pytest.mark.parametrize("shared_seconds", [5, 12])
def test_a_shared_cache_may_hold_an_answer_a_few_seconds_browsers_revalidate(
    client, make_product, settings, path, shared_seconds
):
    """Every answer (fresh, not modified, refused) says `public, max-age=0,
    s-maxage=STOCK_SHARED_SECONDS`, and nothing per visitor: no cookie set, no `Vary:
    Cookie`, even for a visitor who sends a session and a CSRF cookie. Both through the
    polls' early path (products/middleware.py) and through the whole middleware stack."""
    settings.STOCK_SHARED_SECONDS = shared_seconds
    if path == "full stack":
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != EARLY_PATH]
    product = make_product()
    client.post(reverse("cart:add", args=[product.pk]))  # a session, as an open tab has
    client.get("/")  # and a CSRF cookie
    assert {"sessionid", "csrftoken"} <= client.cookies.keys()

    fresh = get(client, str(product.pk))
    not_modified = get(client, str(product.pk), if_none_match=fresh["ETag"])
    refused = get(client, "abc")

    assert (fresh.status_code, not_modified.status_code, refused.status_code) == (200, 304, 400)
    for response in (fresh, not_modified, refused):
        assert response["Cache-Control"] == f"public, max-age=0, s-maxage={shared_seconds}"
        assert "Set-Cookie" not in response.headers
        assert not response.cookies
        assert "cookie" not in response.headers.get("Vary", "").lower()
    assert not_modified["ETag"] == fresh["ETag"]


def test_matching_etag_gives_304_without_a_body(client, make_product):
    """A page that already has the current state gets `304` and no body."""
    product = make_product()
    first = get(client, str(product.pk))
    etag = first["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')

    again = get(client, str(product.pk), if_none_match=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


@pytest.mark.parametrize(
    "header",
    ["{etag}", "W/{etag}", '"other", {etag}', "*"],
    ids=["strong", "weak", "list", "star"],
)
def test_if_none_match_forms(client, make_product, header):
    """Weak tags (a proxy may weaken them), lists and `*` are understood."""
    product = make_product()
    etag = get(client, str(product.pk))["ETag"]

    response = get(client, str(product.pk), if_none_match=header.format(etag=etag))

    assert response.status_code == 304


def test_stale_etag_gets_the_full_answer(client, make_product):
    """An ETag that is not the current one gets `200` and the body."""
    product = make_product()

    response = get(client, str(product.pk), if_none_match='"not-the-current-one"')

    assert response.status_code == 200
    assert response.json()["products"][0]["id"] == product.pk


def test_etag_is_over_exactly_what_is_returned(client, make_product):
    """The ETag depends on the answer only: same products in any order, same tag."""
    first, second = make_product(), make_product()

    one = get(client, ids_of(first, second))
    two = get(client, f"{second.pk},{first.pk},{second.pk},{second.pk + 1000}")
    only_first = get(client, ids_of(first))

    assert one.content == two.content
    assert one["ETag"] == two["ETag"]
    assert only_first["ETag"] != one["ETag"]


@pytest.mark.parametrize("change", ["sold", "held", "hold_released"])
def test_a_change_of_status_gives_a_new_etag(client, make_product, change):
    """After a sale, a hold or a released hold, the old ETag no longer matches."""
    product = make_product()
    if change == "hold_released":
        hold(product, until=timedelta(minutes=30))
    before = get(client, str(product.pk))

    if change == "sold":
        Product.objects.filter(pk=product.pk).update(in_stock=False)
    elif change == "held":
        hold(product, until=timedelta(minutes=30))
    else:
        Product.objects.filter(pk=product.pk).update(held_by=None, held_until=None)
    after = get(client, str(product.pk), if_none_match=before["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert after.json()["products"][0]["status"] != before.json()["products"][0]["status"]


def test_a_lapsing_hold_changes_the_etag_without_any_write(client, make_product):
    """The status is computed on the database clock: a lapsed hold is seen at once."""
    product = make_product()
    hold(product, until=timedelta(minutes=30))
    held = get(client, str(product.pk))
    assert held.json()["products"][0]["status"] == "reserved"

    # The same row, seen after its hold has run out.
    Product.objects.filter(pk=product.pk).update(held_until=timezone.now() - timedelta(seconds=1))
    lapsed = get(client, str(product.pk), if_none_match=held["ETag"])

    assert lapsed.status_code == 200
    assert lapsed.json()["products"][0]["status"] == "available"


def test_one_query_for_a_full_answer(client, make_products, django_assert_num_queries):
    """A full page of ids costs exactly one SQL query."""
    products = make_products(24)
    ids = ids_of(*products)

    with django_assert_num_queries(1):
        response = get(client, ids)

    assert response.status_code == 200
    assert len(response.json()["products"]) == 24


def test_one_query_for_a_304(client, make_products, django_assert_num_queries):
    """A `304` costs the same one small query."""
    ids = ids_of(*make_products(24))
    etag = get(client, ids)["ETag"]

    with django_assert_num_queries(1):
        response = get(client, ids, if_none_match=etag)

    assert response.status_code == 304


def test_a_shoppers_session_adds_no_query(client, make_products, django_assert_num_queries):
    """Browsers send the session cookie with each poll: the API never loads the session."""
    products = make_products(3)
    session = client.session
    session["cart"] = [p.pk for p in products]
    session.save()
    client.cookies["sessionid"] = session.session_key
    ids = ids_of(*products)
    etag = get(client, ids)["ETag"]

    with django_assert_num_queries(1):
        response = get(client, ids, if_none_match=etag)

    assert response.status_code == 304
    assert "Cookie" not in response.get("Vary", "")


def test_the_maximum_number_of_ids_is_accepted(client, make_products):
    """`MAX_IDS` ids, duplicates included, are one valid request."""
    products = make_products(3)
    ids = ",".join(str(products[i % 3].pk) for i in range(MAX_IDS))

    response = get(client, ids)

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["products"]] == sorted(p.pk for p in products)


@pytest.mark.parametrize(
    "ids",
    [
        None,
        "",
        " ",
        ",",
        "1,",
        ",1",
        "1,,2",
        "abc",
        "1,abc",
        "1;2",
        "1 2",
        "-1",
        "+1",
        "0",
        "000",
        "1.5",
        "1e3",
        "0x10",
        "1_000",
        "١٢",  # Arabic-Indic digits: str.isdigit() says yes, ids are ASCII
        "１",  # a full-width digit
        str(MAX_ID + 1),
        "9" * 40,
        "1" + "0" * 5000,  # beyond Python's default int() digit limit
        ",".join(["1"] * (MAX_IDS + 1)),
        ",".join(str(n) for n in range(1, 100_000)),
    ],
    ids=lambda value: repr(value)[:24],
)
def test_bad_ids_are_a_400_with_a_french_message(client, django_assert_num_queries, ids):
    """Unreadable ids answer `400` `{"error": …}` (never a 500) without touching the database."""
    with django_assert_num_queries(0):
        response = get(client, ids)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert isinstance(error, str)
    assert error
    assert "identifiant" in error.lower() or "ids" in error


def test_leading_zeros_and_spaces_are_read_as_numbers(client, make_product):
    """`007` is id 7 and `1, 2` is two ids: lenient on form, strict on meaning."""
    product = make_product()

    response = get(client, f" 000{product.pk} , {product.pk}")

    assert response.status_code == 200
    assert [p["id"] for p in response.json()["products"]] == [product.pk]


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get_is_allowed(client, make_product, method):
    """The API only reads: other methods get `405`."""
    product = make_product()

    response = getattr(client, method)(f"{URL}?ids={product.pk}")

    assert response.status_code == 405
