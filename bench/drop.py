"""The drop: pollers and browsers at 70% of the rates measured alone, while 50 buyers race for
10 new pieces (5 per piece); then each winner pays, through the webhook. Exactly 10 sales,
none twice, every other buyer refused cleanly.

The proxied drop runs it again behind nginx's proxy_cache (bench/proxy.py, the CDN's stand-in)
with ten times the pollers, as fast as the proxy answers them: polls answered per second at
the proxy beside what gunicorn answers alone, and the polls that reached gunicorn, at most one
per id set per STOCK_SHARED_SECONDS."""

import http.client
import math
import secrets
import statistics
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from clients import ROUTER_HEADERS, Browser
from cpu import BurstCPU, cpu_seconds
from load import Run, parse_wrk, request_lines, wrk_file
from profiling import profile_end, profile_start
from proxy import Proxy, upstream_polls
from shop_data import catalogue_ids, etag_of, webhook_request

POLLERS = 64
PROXIED_POLLERS = 10 * POLLERS
# What the proxy should answer, at least, for each poll gunicorn answers alone (issue target).
PROXY_FACTOR = 20


@dataclass
class Buyer:
    piece_id: int
    slug: str
    status: int = 0
    location: str = ""
    ms: float = 0.0
    error: str = ""


def drop(
    port: int,
    args,
    workdir: Path,
    saturation: dict[str, Run],
    runs: list[Run],
    *,
    proxy: Proxy | None = None,
) -> bool:
    """Pollers and browsers at 70% of the rates measured alone, while 50 buyers race
    for 10 new pieces (5 per piece); then each winner pays, through the webhook.
    With `proxy`, every visitor goes through it, and ten times the pollers ask as fast as it
    answers."""
    from django.conf import settings

    from products.models import Product

    name = "proxied drop" if proxy else "drop"
    via = proxy.port if proxy else port
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
    browsers, tokens = _buyers_with_a_cart(via, buyers)

    profiler = profile_start(name, port, seconds)  # --profile: the whole drop
    proxy_cpu = sum(map(cpu_seconds, proxy.workers())) if proxy else 0.0
    started = time.time()
    pollers = wrk_file(
        via,
        poll_file,
        seconds=seconds,
        connections=PROXIED_POLLERS if proxy else POLLERS,
        threads=2 if proxy else 1,
        rate=0 if proxy else poll_rate,
    )
    readers = wrk_file(via, browse_file, seconds=seconds, connections=16, threads=1, rate=page_rate)
    time.sleep(seconds / 3)
    burst = _race(port, buyers, browsers, tokens)
    poll_out, _ = pollers.communicate(timeout=seconds + 30)
    page_out, _ = readers.communicate(timeout=seconds + 30)
    ended = time.time()
    profile_end(profiler)
    asked = "as fast as the proxy answers" if proxy else f"{poll_rate:.0f}/s asked"
    pollers_label = f"{PROXIED_POLLERS if proxy else POLLERS} pollers"
    poll_run = parse_wrk(f"{name}: polls, {pollers_label} ({asked})", poll_out)
    page_run = parse_wrk(f"{name}: pages ({page_rate:.0f}/s asked)", page_out)

    buy_run, ok = _winners_pay(port, buyers, [p.pk for p in new], name=name)
    buy_run.notes.insert(0, burst.report())
    if proxy:
        proxy_cpu = sum(map(cpu_seconds, proxy.workers())) - proxy_cpu
        ok = (
            _through_the_proxy(
                poll_run,
                proxy,
                alone=saturation["stock304"].per_second,
                window=(started, ended),
                shared_seconds=settings.STOCK_SHARED_SECONDS,
                proxy_cpu=proxy_cpu,
                requests=poll_run.requests + page_run.requests + len(buyers),
            )
            and ok
        )
    runs.extend([poll_run, page_run, buy_run])
    return ok


def _through_the_proxy(
    poll_run: Run,
    proxy: Proxy,
    *,
    alone: float,
    window: tuple[float, float],
    shared_seconds: int,
    proxy_cpu: float,
    requests: int,
) -> bool:
    """The proxied drop's own figures and checks: polls at the proxy beside gunicorn's alone,
    what reached gunicorn, the proxy's CPU. Whether at most one poll per id set per
    STOCK_SHARED_SECONDS reached gunicorn (the CDN's promise)."""
    time.sleep(1.5)  # the upstream log is flushed every second
    reached = upstream_polls(proxy.log, after=window[0], until=window[1] + 1)
    seconds = window[1] - window[0]
    allowed = math.ceil(seconds / shared_seconds) + 1 if shared_seconds else None
    factor = poll_run.per_second / alone if alone else 0.0
    poll_run.notes.append(
        f"{factor:.1f}× the polls gunicorn answers alone (stock API 304 above: {alone:.0f}/s); "
        f"target ≥ {PROXY_FACTOR}×: {'met' if factor >= PROXY_FACTOR else 'NOT met'}"
    )
    closest = f"{reached.closest_s:.2f} s" if reached.closest_s is not None else "-"
    within = allowed is not None and reached.most <= allowed
    poll_run.notes.append(
        f"reached gunicorn: {reached.total} polls for {reached.id_sets} id sets in "
        f"{seconds:.1f} s, at most {reached.most} per id set (closest two {closest} apart); "
        f"at most one per id set per {shared_seconds} s (≤ {allowed}): "
        + ("yes" if within else "NO")
    )
    poll_run.notes.append(
        f"nginx: {1e6 * proxy_cpu / max(requests, 1):.0f} µs of CPU per request it passed or "
        f"answered ({requests:,} requests)"
    )
    if errors := proxy.errors():
        poll_run.notes.append(f"nginx's error log: {len(errors)} lines, the first: {errors[0]}")
    return within


def _traffic_files(port: int, workdir: Path, new: list) -> tuple[Path, Path]:
    """The pollers' requests (the first five catalogue pages' stock and each new piece's, with
    their ETag) and the browsers' (those pages, the new pieces, twenty others), as files for
    requests.lua."""
    from products.models import Product

    polls, browse = [], []
    for page in range(1, 6):
        ids = catalogue_ids(port, page)
        api = "/api/products?ids=" + ",".join(map(str, ids))
        polls.append(("GET", api, "", {"If-None-Match": etag_of(port, api)}))
        browse.append(("GET", "/" if page == 1 else f"/?page={page}", "", {}))
    for piece in new:  # a new piece's page polls its own status
        api = f"/api/products?ids={piece.pk}"
        polls.append(("GET", api, "", {"If-None-Match": etag_of(port, api)}))
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


def _winners_pay(
    port: int, buyers: list[Buyer], piece_ids: list[int], *, name: str
) -> tuple[Run, bool]:
    """The race's figures; then Stripe's signed event for each winner's session, and the
    checks: 10 winners, 40 refused back to the cart, exactly 10 sales, none twice."""
    from payments.models import Order, OrderItem
    from products.models import Product

    winners = [b for b in buyers if b.status == 303]
    refused = [b for b in buyers if b.status == 302 and b.location.endswith("/panier/")]
    times = sorted(b.ms for b in buyers)
    buy_run = Run(
        f"{name}: 50 buyers, Commander",
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
