"""The drop: pollers and browsers at 70% of the rates measured alone, while 50 buyers race for
10 new pieces (5 per piece); then each winner pays, through the webhook. Exactly 10 sales,
none twice, every other buyer refused cleanly."""

import http.client
import secrets
import statistics
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from clients import ROUTER_HEADERS, Browser
from cpu import BurstCPU
from load import Run, parse_wrk, request_lines, wrk_file
from profiling import profile_end, profile_start
from shop_data import catalogue_ids, etag_of, webhook_request


@dataclass
class Buyer:
    piece_id: int
    slug: str
    status: int = 0
    location: str = ""
    ms: float = 0.0
    error: str = ""


def drop(port: int, args, workdir: Path, saturation: dict[str, Run], runs: list[Run]) -> bool:
    """Pollers and browsers at 70% of the rates measured alone, while 50 buyers race
    for 10 new pieces (5 per piece); then each winner pays, through the webhook."""
    from products.models import Product

    new = Product.objects.bulk_create(
        Product(
            name=f"Nouveauté n° {i}",
            slug=f"drop-{secrets.token_hex(3)}-{i}",
            price=Decimal("95.00"),
            image=f"products/drop-{i}.jpg",
        )
        for i in range(10)
    )
    poll_file, browse_file = _traffic_files(port, workdir, new)
    # 70% of saturation, shared: pollers take half of it, browsers the other half.
    poll_rate = 0.35 * saturation["stock304"].per_second
    page_rate = 0.35 * statistics.mean(
        [saturation["catalogue"].per_second, saturation["product"].per_second]
    )
    seconds = max(6.0, 2 * args.seconds)
    buyers = [Buyer(p.pk, p.slug) for p in new for _ in range(5)]
    browsers, tokens = _buyers_with_a_cart(port, buyers)

    profiler = profile_start("drop", port, seconds)  # --profile: the whole drop
    pollers = wrk_file(port, poll_file, seconds=seconds, connections=64, threads=1, rate=poll_rate)
    readers = wrk_file(
        port, browse_file, seconds=seconds, connections=16, threads=1, rate=page_rate
    )
    time.sleep(seconds / 3)
    burst = _race(port, buyers, browsers, tokens)
    poll_out, _ = pollers.communicate(timeout=seconds + 30)
    page_out, _ = readers.communicate(timeout=seconds + 30)
    profile_end(profiler)
    poll_run = parse_wrk(f"drop: polls ({poll_rate:.0f}/s asked)", poll_out)
    page_run = parse_wrk(f"drop: pages ({page_rate:.0f}/s asked)", page_out)

    buy_run, ok = _winners_pay(port, buyers, [p.pk for p in new])
    buy_run.notes.insert(0, burst.report())
    runs.extend([poll_run, page_run, buy_run])
    return ok


def _traffic_files(port: int, workdir: Path, new: list) -> tuple[Path, Path]:
    """The pollers' requests (the first five catalogue pages' stock, with their ETag) and the
    browsers' (those pages, the new pieces, twenty others), as files for requests.lua."""
    from products.models import Product

    polls, browse = [], []
    for page in range(1, 6):
        ids = catalogue_ids(port, page)
        api = "/api/products?ids=" + ",".join(map(str, ids))
        polls.append(("GET", api, "", {"If-None-Match": etag_of(port, api)}))
        browse.append(("GET", "/" if page == 1 else f"/?page={page}", "", {}))
    browse += [("GET", p.get_absolute_url(), "", {}) for p in new]
    browse += [("GET", p.get_absolute_url(), "", {}) for p in Product.objects.order_by("?")[:20]]
    poll_file, browse_file = workdir / "polls.txt", workdir / "browse.txt"
    poll_file.write_text(request_lines(polls))
    browse_file.write_text(request_lines(browse))
    return poll_file, browse_file


def _buyers_with_a_cart(port: int, buyers: list[Buyer]) -> tuple[list[Browser], list[str]]:
    """Buyers first get a page and put their piece in their cart (a session, a CSRF token).
    Each from an address of its own (TEST-NET-3): fifty people, not one client opening fifty
    checkouts, which the per-client limits would refuse (429)."""
    browsers = [Browser(port, address=f"203.0.113.{n + 1}") for n in range(len(buyers))]
    tokens = []
    for buyer, browser in zip(buyers, browsers, strict=True):
        response, html = browser.request("GET", f"/produits/{buyer.slug}/")
        token = browser.csrf_token(html)
        response, _ = browser.request(
            "POST",
            f"/panier/ajouter/{buyer.piece_id}/",
            form={"csrfmiddlewaretoken": token, "next": "/panier/"},
        )
        if response.status != 302:
            raise RuntimeError(f"adding to the cart: HTTP {response.status}")
        tokens.append(token)
    return browsers, tokens


def _race(port: int, buyers: list[Buyer], browsers: list[Browser], tokens: list[str]) -> BurstCPU:
    """Every buyer clicks « Commander » at the same instant; where the cores went meanwhile."""
    barrier = threading.Barrier(len(buyers))

    def buy(buyer: Buyer, browser: Browser, token: str) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            response, _ = browser.request(
                "POST", "/commande/", form={"csrfmiddlewaretoken": token, "cgv": "on"}
            )
            buyer.status, buyer.location = response.status, response.getheader("Location", "")
        except Exception as error:
            buyer.error = repr(error)
        buyer.ms = (time.perf_counter() - started) * 1000

    threads = [
        threading.Thread(target=buy, args=trio)
        for trio in zip(buyers, browsers, tokens, strict=True)
    ]
    burst = BurstCPU(port)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    burst.stop()
    for browser in browsers:
        browser.close()
    return burst


def _winners_pay(port: int, buyers: list[Buyer], piece_ids: list[int]) -> tuple[Run, bool]:
    """The race's figures; then Stripe's signed event for each winner's session, and the
    checks: 10 winners, 40 refused back to the cart, exactly 10 sales, none twice."""
    from payments.models import Order, OrderItem
    from products.models import Product

    winners = [b for b in buyers if b.status == 303]
    refused = [b for b in buyers if b.status == 302 and b.location.endswith("/panier/")]
    times = sorted(b.ms for b in buyers)
    buy_run = Run(
        "drop: 50 buyers, Commander",
        requests=len(buyers),
        seconds=1,
        p50_ms=statistics.median(times),
        p99_ms=times[-1],
        errors=len(buyers) - len(winners) - len(refused),
    )
    buy_run.rate, buy_run.unit = float(len(winners)), "won"

    orders = list(
        Order.objects.filter(
            items__product_id__in=piece_ids, status=Order.Status.PENDING
        ).distinct()
    )
    for order in orders:
        method, path, body, headers = webhook_request(order)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(method, path, body=body.encode(), headers={**ROUTER_HEADERS, **headers})
        conn.getresponse().read()
        conn.close()
    sold = OrderItem.objects.filter(product_id__in=piece_ids, sold=True)
    checks = {
        "10 winners": len(winners) == 10,
        "40 refused cleanly (back to the cart)": len(refused) == 40,
        "one winner per piece": len({b.piece_id for b in winners}) == 10,
        "exactly 10 sales": sold.count() == 10
        and Order.objects.filter(items__product_id__in=piece_ids, status=Order.Status.PAID)
        .distinct()
        .count()
        == 10,
        "no piece sold twice": sold.values("product_id").distinct().count() == 10,
        "all 10 pieces sold": not Product.objects.filter(pk__in=piece_ids, in_stock=True).exists(),
    }
    buy_run.notes.append(", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in checks.items()))
    if any(b.error for b in buyers):
        buy_run.notes.append("buyer errors: " + "; ".join(b.error for b in buyers if b.error))
    return buy_run, all(checks.values())
