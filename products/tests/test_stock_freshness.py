"""Cached stock answers are never stale: each way a status changes is seen by the very next
poll (docs/decisions/0007-stock-version-and-caches.md).

The tests commit for real (`transaction=True`), as production does: the stock version changes
after commit. They run with the test settings' cache: the per-process memory cache by
default (no shared version: answers come from the database), and Redis when
TEST_CACHE_URL=redis://... is set (the version lives there and answers are cached), as CI
does (.ci/run).
"""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.test import Client
from django.urls import reverse

from payments import services
from payments.models import Order, OrderItem
from products import stock, stock_version
from products.models import Product

pytestmark = pytest.mark.django_db(transaction=True)

_events = iter(range(1, 10**6))

# The management form of the admin's "autres photos" inline, with no photo added.
NO_MORE_PHOTOS = {"images-TOTAL_FORMS": "0", "images-INITIAL_FORMS": "0"}


def poll(client: Client, *products: Product, etag: str = "") -> tuple[dict[int, str], str]:
    """The statuses the stock API gives for these pieces, and its ETag."""
    headers = {"If-None-Match": etag} if etag else {}
    response = client.get(
        "/api/products", {"ids": ",".join(str(p.pk) for p in products)}, headers=headers
    )
    assert response.status_code == 200, response.status_code
    return {e["id"]: e["status"] for e in response.json()["products"]}, response["ETag"]


def open_order(*products: Product, until=None) -> Order:
    """An open checkout holding these pieces, made as Commander makes it (locks, then holds)."""
    total = sum((p.price for p in products), Decimal(0))
    with transaction.atomic():
        order = Order.objects.create(total=total, stripe_session_id=f"cs_test_fresh_{total}")
        for product in products:
            OrderItem.objects.create(
                order=order, product=product, name=product.name, price=product.price
            )
        locked = stock.lock_products(p.pk for p in products)
        stock.hold_products(
            locked,
            order_id=order.pk,
            until=until or ExpressionWrapper(Now() + timedelta(minutes=30), DateTimeField()),
        )
    return order


def send_event(event_type: str, session: dict) -> None:
    payload = json.dumps(
        {
            "id": f"evt_fresh_{next(_events)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": session},
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(
        payload, settings.STRIPE_WEBHOOK_SECRET
    )
    response = Client().post(
        reverse("payments:stripe-webhook"),
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )
    assert response.status_code == 200, response.content


def session_of(order: Order, **fields) -> dict:
    return {
        "id": order.stripe_session_id,
        "object": "checkout.session",
        "client_reference_id": order.reference,
        "metadata": {"order_id": order.reference},
        "amount_total": order.total_cents,
        "currency": order.currency,
        **fields,
    }


def test_the_cache_in_use_is_the_one_asked_for():
    """CI runs this file twice; make sure the second run really uses a shared cache."""
    import os

    assert stock_version.shared() == bool(os.environ.get("TEST_CACHE_URL"))


def test_a_hold_is_seen_by_the_next_poll(client, pieces):
    first, _ = poll(client, *pieces)
    assert set(first.values()) == {"available"}

    open_order(pieces[0])

    assert poll(client, *pieces)[0][pieces[0].pk] == "reserved"


def test_a_sale_by_the_webhook_is_seen_by_the_next_poll(client, pieces):
    order = open_order(pieces[1])
    assert poll(client, *pieces)[0][pieces[1].pk] == "reserved"

    send_event(
        "checkout.session.completed",
        session_of(order, status="complete", payment_status="paid", payment_intent="pi_fresh"),
    )

    statuses, _ = poll(client, *pieces)
    assert statuses[pieces[1].pk] == "sold"
    assert statuses[pieces[0].pk] == "available"


def test_an_expired_session_is_seen_by_the_next_poll(client, pieces):
    order = open_order(pieces[0], pieces[2])
    assert poll(client, *pieces)[0][pieces[2].pk] == "reserved"

    send_event("checkout.session.expired", session_of(order, status="expired"))

    assert set(poll(client, *pieces)[0].values()) == {"available"}


def test_a_cancelled_checkout_is_seen_by_the_next_poll(client, pieces, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # the session's expiry may fail: no matter
    order = open_order(pieces[0])
    assert poll(client, *pieces)[0][pieces[0].pk] == "reserved"

    services.cancel_order(order_id=order.pk)

    assert poll(client, *pieces)[0][pieces[0].pk] == "available"


def test_a_lapsing_hold_is_seen_by_the_next_poll_without_any_write(client, pieces):
    """Nothing is written when a hold runs out: the version carries the next lapse."""
    open_order(pieces[0], until=ExpressionWrapper(Now() + timedelta(seconds=2), DateTimeField()))
    reserved, etag = poll(client, *pieces)
    assert reserved[pieces[0].pk] == "reserved"
    assert poll(client, *pieces)[0][pieces[0].pk] == "reserved"  # cached, still right

    lapse = Product.objects.get(pk=pieces[0].pk).held_until
    while time.time() < lapse.timestamp() + 0.05:
        time.sleep(0.05)

    statuses, new_etag = poll(client, *pieces, etag=etag)
    assert statuses[pieces[0].pk] == "available"
    assert new_etag != etag


def test_the_owners_actions_are_seen_by_the_next_poll(client, pieces, staff_client):
    changelist = reverse("admin:products_product_changelist")

    staff_client.post(
        changelist, {"action": "withdraw_from_sale", "_selected_action": [pieces[0].pk]}
    )
    assert poll(client, *pieces)[0][pieces[0].pk] == "sold"

    staff_client.post(
        changelist, {"action": "put_back_on_sale", "_selected_action": [pieces[0].pk]}
    )
    assert poll(client, *pieces)[0][pieces[0].pk] == "available"


def test_the_owners_change_form_is_seen_by_the_next_poll(client, pieces, staff_client):
    product = pieces[1]
    change = reverse("admin:products_product_change", args=[product.pk])
    form = {
        "name": product.name,
        "slug": product.slug,
        "price": "100.00",
        "description": "",
        **NO_MORE_PHOTOS,
    }
    assert poll(client, *pieces)[0][product.pk] == "available"

    saved = staff_client.post(change, form)  # "en stock" unticked: sold outside the shop
    assert saved.status_code == 302
    assert poll(client, *pieces)[0][product.pk] == "sold"

    saved = staff_client.post(change, {**form, "slug": "nouveau-nom", "in_stock": "on"})
    assert saved.status_code == 302
    response = client.get("/api/products", {"ids": str(product.pk)})
    assert response.json()["products"] == [
        {"id": product.pk, "slug": "nouveau-nom", "status": "available", "in_stock": True}
    ]


@pytest.mark.parametrize("field", ["name", "price"])
def test_name_and_price_edits_change_the_version(pieces, staff_client, field):
    """Pages show names and prices: an edit gives a new version, even though the stock API's
    body (and so its ETag) does not change."""
    if not stock_version.shared():
        assert stock_version.current() is None
        return
    product = pieces[2]
    before = stock_version.current()
    change = reverse("admin:products_product_change", args=[product.pk])
    form = {
        "name": product.name,
        "slug": product.slug,
        "price": "100.00",
        "in_stock": "on",
        **NO_MORE_PHOTOS,
    }

    saved = staff_client.post(
        change, {**form, field: "Nouveau nom" if field == "name" else "150.00"}
    )
    assert saved.status_code == 302

    assert stock_version.current() != before


def test_a_write_outside_the_services_is_seen_too(client, pieces):
    """update() and bulk_create() on pieces change the version as well (tests, scripts)."""
    poll(client, *pieces)
    Product.objects.filter(pk=pieces[2].pk).update(in_stock=False)
    assert poll(client, *pieces)[0][pieces[2].pk] == "sold"

    (new,) = Product.objects.bulk_create([Product(name="Nouvelle", slug="nouvelle", price=5)])
    assert poll(client, *pieces, new)[0][new.pk] == "available"


def test_the_version_changes_only_after_commit(pieces):
    if not stock_version.shared():
        pytest.skip("no shared cache: no version (TEST_CACHE_URL=redis://... runs this)")
    before = stock_version.current()
    with transaction.atomic():
        Product.objects.filter(pk=pieces[0].pk).update(in_stock=False)
        # Another process reading now must not file the old status under a new version.
        assert stock_version.current() == before
    assert stock_version.current() != before


def test_versions_are_random_tokens_not_a_counter(pieces):
    """After a flush of the cache, a version never names a state again."""
    if not stock_version.shared():
        pytest.skip("no shared cache: no version (TEST_CACHE_URL=redis://... runs this)")
    seen = {stock_version.current()}
    for _ in range(3):
        cache.clear()
        seen.add(stock_version.current())
        Product.objects.filter(pk=pieces[0].pk).update(in_stock=False)
        seen.add(stock_version.current())
    assert len(seen) == 7


def test_a_cached_304_runs_no_query(client, make_products, django_assert_num_queries):
    if not stock_version.shared():
        pytest.skip("no shared cache: every poll reads the database (test_stock_api.py)")
    products = make_products(24)
    _, etag = poll(client, *products)

    with django_assert_num_queries(0):
        response = client.get(
            "/api/products",
            {"ids": ",".join(str(p.pk) for p in products)},
            headers={"If-None-Match": etag},
        )

    assert response.status_code == 304


def test_with_the_cache_down_polls_are_answered_from_the_database(client, pieces, settings):
    """A Redis that does not answer costs speed, never a 500 nor a stale answer."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
        }
    }
    assert poll(client, *pieces)[0][pieces[0].pk] == "available"

    Product.objects.filter(pk=pieces[0].pk).update(in_stock=False)

    assert poll(client, *pieces)[0][pieces[0].pk] == "sold"
