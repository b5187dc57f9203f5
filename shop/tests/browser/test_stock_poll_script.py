"""How static/js/stock-poll.js asks for stock: conditional requests, pauses, back-off."""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from products.models import Product
from shop.tests.browser.conftest import POLL_SECONDS, assert_not_reloaded, mark_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

API = "/api/products"


@dataclass
class Call:
    at: float
    url: str
    if_none_match: str | None
    status: int | None = None
    etag: str | None = None


def watch_api(page: Any) -> list[Call]:
    """Every request the page makes to the stock API, with its answer."""
    calls: list[Call] = []
    by_request: dict[Any, Call] = {}

    def on_request(request: Any) -> None:
        if API in request.url:
            call = Call(time.monotonic(), request.url, request.headers.get("if-none-match"))
            by_request[request] = call
            calls.append(call)

    def on_response(response: Any) -> None:
        call = by_request.get(response.request)
        if call is not None:
            call.status = response.status
            call.etag = response.headers.get("etag")

    page.on("request", on_request)
    page.on("response", on_response)
    return calls


def wait_until(page: Any, condition: Callable[[], bool], *, seconds: float) -> None:
    """Let the page run until `condition` holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def set_hidden(page: Any, hidden: bool) -> None:
    """Play the tab going to the background (or back), as the browser reports it."""
    page.evaluate(
        """hidden => {
            if (!window.__visibilityPatched) {
                window.__visibilityPatched = true;
                Object.defineProperty(document, "hidden", {
                    configurable: true, get: () => window.__hidden === true,
                });
                Object.defineProperty(document, "visibilityState", {
                    configurable: true, get: () => (window.__hidden ? "hidden" : "visible"),
                });
            }
            window.__hidden = hidden;
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def test_polls_every_interval_with_if_none_match_and_gets_304(page, make_product):
    """The first answer is a 200 with an ETag; the next polls send it back and get 304s."""
    first, second = make_product(), make_product()
    calls = watch_api(page)
    page.goto("/")

    wait_until(page, lambda: len(calls) >= 3 and calls[2].status is not None, seconds=8)

    ids = sorted(int(n) for n in calls[0].url.split("ids=")[1].split(","))
    assert ids == sorted([first.pk, second.pk])
    assert calls[0].if_none_match is None
    assert calls[0].status == 200
    assert calls[0].etag
    for call in calls[1:3]:
        assert call.if_none_match == calls[0].etag
        assert call.status == 304
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:3], strict=False)]
    assert all(POLL_SECONDS * 0.7 < gap < POLL_SECONDS * 2.5 for gap in gaps), gaps


def test_pauses_while_hidden(page, make_product):
    """No request while the tab is hidden."""
    make_product()
    calls = watch_api(page)
    page.goto("/")
    wait_until(page, lambda: len(calls) >= 1 and calls[0].status is not None, seconds=5)

    set_hidden(page, True)
    page.wait_for_timeout(200)  # a request already in flight may still finish
    before = len(calls)
    page.wait_for_timeout(POLL_SECONDS * 3500)

    assert len(calls) == before


def test_polls_at_once_when_visible_again(page, make_product, shop_settings):
    """Back in the foreground, the page asks at once instead of waiting for the interval,
    and shows what changed meanwhile."""
    shop_settings.STOCK_POLL_SECONDS = 600
    product = make_product()
    calls = watch_api(page)
    page.goto(product.get_absolute_url())
    mark_page(page)
    set_hidden(page, True)
    Product.objects.filter(pk=product.pk).update(in_stock=False)
    page.wait_for_timeout(500)
    assert calls == []

    set_hidden(page, False)

    stock = page.locator(f'.stock[data-product-id="{product.pk}"]')
    expect(stock.get_by_text("Vendu")).to_be_visible(timeout=2000)
    assert len(calls) == 1
    assert_not_reloaded(page)


def test_backs_off_on_network_errors_then_resumes(page, make_product, allow_console_error):
    """Failed requests double the delay; the first success brings the interval back."""
    allow_console_error(r"Failed to load resource: net::ERR_")
    make_product()
    failures_left = [2]
    attempts: list[float] = []

    def flaky(route: Any) -> None:
        attempts.append(time.monotonic())
        if failures_left[0] > 0:
            failures_left[0] -= 1
            route.abort("connectionfailed")
        else:
            route.continue_()

    page.route(f"**{API}?*", flaky)
    page.goto("/")
    mark_page(page)

    wait_until(page, lambda: len(attempts) >= 5, seconds=20)

    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    # After a first failure: about 2 intervals, after the second: about 4 (with jitter);
    # once a request succeeds, back to one interval.
    assert 1.5 * POLL_SECONDS <= gaps[0] <= 3 * POLL_SECONDS, gaps
    assert 3 * POLL_SECONDS <= gaps[1] <= 6 * POLL_SECONDS, gaps
    assert gaps[2] <= 1.7 * POLL_SECONDS, gaps
    assert_not_reloaded(page)


def test_no_request_on_a_page_without_pieces(page):
    """An empty cart has nothing to follow: the script stays quiet."""
    calls = watch_api(page)
    page.goto("/panier/")
    expect(page.get_by_text("Votre panier est vide.")).to_be_visible()

    page.wait_for_timeout(POLL_SECONDS * 2500)

    assert calls == []


def test_polls_at_once_on_a_page_restored_by_back(page, make_product, shop_settings):
    """Back restores the page from the back/forward cache, with the stock of then: the
    script asks at once instead of waiting for the interval."""
    shop_settings.STOCK_POLL_SECONDS = 600
    product = make_product()
    page.goto(product.get_absolute_url())
    mark_page(page)
    stock = page.locator(f'.stock[data-product-id="{product.pk}"]')
    expect(stock.get_by_role("button", name="Ajouter au panier")).to_be_visible()
    page.get_by_role("link", name="Retour au catalogue").click()
    expect(page).to_have_url(re.compile(r"/$"))
    Product.objects.filter(pk=product.pk).update(in_stock=False)

    page.go_back(wait_until="commit")  # a page from the bfcache fires no "load"

    expect(stock.get_by_text("Vendu")).to_be_visible(timeout=3000)
    assert_not_reloaded(page)  # restored, not loaded again: the script brought the news
