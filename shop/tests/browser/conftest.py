"""Browser tests: Playwright (sync API) driving Debian's Chromium against `live_server`.

Every test gets a fresh browser context and page (`page`); any console error or
uncaught page error fails the test. When a browser test fails, the key steps
it recorded (`step`) and the final state of its pages are saved as screenshots
under `test-artifacts/`.
"""

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe
from django.conf import settings as django_settings
from django.utils import timezone

from payments.models import Order, OrderItem
from products.models import Product
from shop.tests.chromium import launched_chromium

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"
POLL_SECONDS = 1


@dataclass
class BrowserRecord:
    """What a test's browser did: its pages, console errors, screenshots of key steps."""

    pages: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    steps: list[tuple[str, bytes]] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def add_error(self, text: str) -> None:
        if not any(pattern.search(text) for pattern in self.allowed):
            self.errors.append(text)


record_key = pytest.StashKey[BrowserRecord]()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module."""
    # Playwright turns the back/forward cache off; shoppers' browsers have it on,
    # and a page restored from it must refresh its stock.
    with launched_chromium(ignore_default_args=["--disable-back-forward-cache"]) as chromium:
        yield chromium


@pytest.fixture
def shop_settings(settings, live_server):
    """Poll every second, and point Stripe and the site's own URL at the live server."""
    settings.STOCK_POLL_SECONDS = POLL_SECONDS
    settings.APP_URL = live_server.url
    settings.STRIPE_API_BASE = live_server.url + "/_stripe"
    return settings


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest, browser, live_server, shop_settings
) -> Iterator[Callable[[], Any]]:
    """Open pages in one fresh context (one shopper); their console errors are collected."""
    record = request.node.stash.setdefault(record_key, BrowserRecord())
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)

    def open_page() -> Any:
        page = context.new_page()
        label = f"page {len(record.pages) + 1}"

        def on_console(message: Any) -> None:
            if message.type == "error":
                where = message.location
                record.add_error(f"{label} console: {message.text} ({where.get('url')})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: record.add_error(f"{label} page error: {error}"))
        record.pages.append(page)
        return page

    yield open_page
    context.close()


@pytest.fixture
def page(new_page) -> Any:
    return new_page()


@pytest.fixture
def step(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """Screenshot a key step; the pictures are written only if the test fails."""
    record = request.node.stash.setdefault(record_key, BrowserRecord())

    def take(page: Any, name: str) -> None:
        record.steps.append((name, page.screenshot(full_page=True)))

    return take


@pytest.fixture
def allow_console_error(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Accept console errors matching a pattern: the browser's own report of a
    request the test made fail on purpose, for instance."""
    record = request.node.stash.setdefault(record_key, BrowserRecord())

    def allow(pattern: str) -> None:
        record.allowed.append(re.compile(pattern))

    return allow


def mark_page(page: Any) -> None:
    """Leave a mark in the page's JavaScript state: a reload would erase it."""
    page.evaluate("window.__stockTestMark = 'still the same page'")


def assert_not_reloaded(page: Any) -> None:
    assert page.evaluate("window.__stockTestMark") == "still the same page", "page was reloaded"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A browser test fails on any console error or uncaught exception in its pages."""
    result = yield
    record = item.stash.get(record_key, None)
    if record and record.errors:
        raise AssertionError("errors in the browser console:\n" + "\n".join(record.errors))
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    record = item.stash.get(record_key, None)
    if record is not None and report.when == "call" and report.failed:
        _save_screenshots(item, record)
    return report


def _save_screenshots(item: pytest.Item, record: BrowserRecord) -> None:
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    for n, (name, picture) in enumerate(record.steps, start=1):
        (folder / f"step-{n:02d}-{_slug(name)}.png").write_bytes(picture)
    for n, page in enumerate(record.pages, start=1):
        if page.is_closed():
            continue
        try:
            page.screenshot(path=str(folder / f"failed-page-{n}.png"), full_page=True)
        except Exception as error:  # the browser may be the thing that broke
            (folder / f"failed-page-{n}.txt").write_text(f"no screenshot: {error}\n")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "step"


# Data and Stripe events.


@pytest.fixture
def make_product(db) -> Callable[..., Product]:
    def make(**overrides: Any) -> Product:
        suffix = uuid.uuid4().hex[:8]
        fields: dict[str, Any] = {
            "name": f"Vase bleu {suffix}",
            "slug": f"vase-bleu-{suffix}",
            "description": "Un vase unique.",
            "price": Decimal("125.00"),
        }
        fields.update(overrides)
        return Product.objects.create(**fields)

    return make


def hold_for_order(product: Product, *, seconds: float) -> Order:
    """Hold `product` for a new pending order until now + `seconds`."""
    order = Order.objects.create(
        total=product.price,
        currency="eur",
        status=Order.Status.PENDING,
        stripe_session_id=f"cs_test_{uuid.uuid4().hex}",
    )
    OrderItem.objects.create(order=order, product=product, name=product.name, price=product.price)
    Product.objects.filter(pk=product.pk).update(
        held_by=order, held_until=timezone.now() + timedelta(seconds=seconds)
    )
    return order


def paid_event(order: Order) -> dict[str, Any]:
    """The `checkout.session.completed` event Stripe sends once `order` is paid."""
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": order.stripe_session_id,
                "object": "checkout.session",
                "mode": "payment",
                "payment_status": "paid",
                "status": "complete",
                "amount_total": order.total_cents,
                "currency": order.currency,
                "client_reference_id": order.reference,
                "metadata": {"order_id": order.reference},
                "payment_intent": f"pi_{uuid.uuid4().hex[:24]}",
                "customer_details": {"email": "a@example.com"},
            }
        },
    }


def post_signed_event(base_url: str, event: dict[str, Any]) -> int:
    """POST `event` to the shop's webhook with a valid `Stripe-Signature`; the HTTP status."""
    payload = json.dumps(event)
    signature = stripe.WebhookSignature.generate_signature_header(
        payload, django_settings.STRIPE_WEBHOOK_SECRET
    )
    request = urllib.request.Request(
        base_url + "/api/webhooks/stripe",
        data=payload.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def sell_through_webhook(live_server) -> Callable[[Product], Order]:
    """Sell a piece the way production does: a checkout hold, then Stripe's signed event."""

    def sell(product: Product) -> Order:
        order = hold_for_order(product, seconds=30 * 60)
        status = post_signed_event(live_server.url, paid_event(order))
        assert status == 200, f"the webhook answered {status}"
        product.refresh_from_db()
        assert product.in_stock is False, "the webhook did not mark the piece sold"
        return order

    return sell
