"""The scenarios measured as fast as they go: the pages (catalogue, product page, stock API
200 and 304), each beside the bare view, and the webhook paying --orders open checkouts.
The drop, where they all run at once, is bench/drop.py."""

import http.client
import statistics
import threading
import time
from pathlib import Path

from clients import ROUTER_HEADERS, get
from cpu import MAIL_WORKER, cpu_per_request, cpu_seconds, cpu_snapshot
from load import Run, paired, wrk
from profiling import profile_end, profile_start
from shop_data import catalogue_ids, etag_of, open_orders, webhook_request

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def pages(label: str, port: int, bare_port: int, args, runs: list[Run]) -> dict[str, Run]:
    """Catalogue, product page, stock API 200 and 304, as fast as they go; the first time,
    the catalogue and the product page again, compressed."""
    from products.models import Product

    ids = catalogue_ids(port, 1) + catalogue_ids(port, 2)
    api = "/api/products?ids=" + ",".join(map(str, ids))
    product = Product.objects.available().order_by("pk")[len(ids)]
    product_path = product.get_absolute_url()
    for path in ("/", product_path, api):
        status, _, _ = get(port, path)
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status} before the run")
    common = {"seconds": args.seconds, "connections": args.connections, "threads": args.threads}
    found = {
        "catalogue": paired(f"catalogue `/`{label}", port, bare_port, "/", **common),
        "product": paired(f"product page{label}", port, bare_port, product_path, **common),
        "stock200": paired(f"stock API, 24 ids, 200{label}", port, bare_port, api, **common),
        "stock304": paired(
            f"stock API, 24 ids, 304{label}",
            port,
            bare_port,
            api,
            headers={"If-None-Match": etag_of(port, api)},
            **common,
        ),
    }
    if not label:
        # What compressing costs: the same pages for a browser that accepts gzip (all do).
        for key, path in (("catalogue", "/"), ("product", product_path)):
            run = paired(f"{found[key].name}, gzip", port, bare_port, path, headers=GZIP, **common)
            plain, packed = (r.bytes / max(r.requests, 1) / 1024 for r in (found[key], run))
            run.notes.append(f"{packed:.1f} KB per answer instead of {plain:.1f} KB")
            found[f"{key}-gzip"] = run
    runs.extend(found.values())
    return found


def webhook(port: int, args, workdir: Path, runs: list[Run]) -> bool:
    """Signed `checkout.session.completed` for --orders open orders, each sent once by
    --connections senders (threads of this process, like Stripe's parallel deliveries);
    paid orders per second over the whole run, then every order is checked."""
    import queue

    from payments.models import Order, OrderItem, OutboxMessage, StripeEvent
    from products.models import Product

    orders = open_orders(args.orders)
    ids = [o.pk for o in orders]
    bare = wrk(
        "bare", args.bare_port, "/", seconds=args.seconds, connections=16, threads=args.threads
    )
    pending: queue.SimpleQueue = queue.SimpleQueue()
    for order in orders:
        pending.put(webhook_request(order))
    latencies: list[float] = []
    statuses: list[int] = []

    def send() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            try:
                method, path, body, headers = pending.get_nowait()
            except queue.Empty:
                break
            started = time.perf_counter()
            conn.request(method, path, body=body.encode(), headers={**ROUTER_HEADERS, **headers})
            response = conn.getresponse()
            response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            statuses.append(response.status)
        conn.close()

    senders = [threading.Thread(target=send) for _ in range(args.connections)]
    # Profiled for --seconds (the run's length is not known in advance; idle samples do not
    # count).
    profiler = profile_start("webhook", port, args.seconds)
    before = cpu_snapshot(port)
    mailer = MAIL_WORKER.get("pid")
    mailer_cpu = cpu_seconds(mailer) if mailer else 0.0
    started = time.perf_counter()
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    elapsed = time.perf_counter() - started
    after = cpu_snapshot(port)
    profile_end(profiler)
    # The sales' e-mails: after each response (default) or by the send_mails worker.
    waiting = OutboxMessage.objects.filter(order_id__in=ids, status=OutboxMessage.Status.PENDING)
    drain_started = time.perf_counter()
    while waiting.exists() and time.perf_counter() - drain_started < 120:
        time.sleep(0.2)
    drained = time.perf_counter() - elapsed - started
    latencies.sort()
    paid = Order.objects.filter(pk__in=ids, status=Order.Status.PAID).count()
    run = Run(
        f"webhook: {len(ids)} orders, {args.connections} senders",
        requests=len(statuses),
        seconds=elapsed,
        p50_ms=statistics.median(latencies),
        p99_ms=latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
        errors=sum(1 for status in statuses if status != 200),
    )
    run.rate, run.unit, run.bare = paid / elapsed, "orders/s", bare.per_second
    run.cpu_ms, run.db_cpu_ms = cpu_per_request(before, after, paid)
    # Correctness: every order paid, every piece sold once, each event processed once.
    sold_items = OrderItem.objects.filter(order_id__in=ids, sold=True)
    checks = {
        "every order paid": paid == len(ids),
        "every piece sold": not Product.objects.filter(
            order_items__order_id__in=ids, in_stock=True
        ).exists(),
        "each piece sold once": sold_items.count() == len(ids)
        and sold_items.values("product_id").distinct().count() == len(ids),
        "no refund": not Order.objects.filter(pk__in=ids, refund_reason__gt="").exists(),
        "each event processed": StripeEvent.objects.filter(
            order_id__in=ids, outcome=StripeEvent.Outcome.PROCESSED
        ).count()
        == len(ids),
        "every confirmation sent": not waiting.exists(),
    }
    run.notes.append(
        f"{paid}/{len(ids)} paid in {elapsed:.1f} s; "
        + ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks.items())
    )
    received = len(args.mails.read_text().splitlines())
    run.notes.append(
        f"e-mails received over SMTP by the local mail server since the run began: {received:,}"
    )
    if mailer and paid:
        spent = 1000 * (cpu_seconds(mailer) - mailer_cpu) / paid
        run.notes.append(
            f"sale e-mails by the send_mails worker: all sent {drained:.1f} s after the last "
            f"response; its CPU during the run and the drain: {spent:.2f} ms per order"
        )
    runs.append(run)
    return all(checks.values())
