"""The mail server hangs, then answers; a web worker is killed while it sends; `send_mails` is
stopped in the middle of a batch, and two of them run at once (SPEC §13): shoppers are not
kept waiting, no e-mail is lost, none is sent twice."""

import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shop.tests.faults.conftest import (
    BASE_DIR,
    BIN,
    paid_event,
    pending_orders,
    percentile,
    report,
    wait_for,
)

pytestmark = pytest.mark.faults


def outbox(postgres) -> dict[str, int]:
    return dict(postgres.query("SELECT status, count(*) FROM payments_outboxmessage GROUP BY 1"))


def clear_outbox(postgres) -> None:
    """Each test counts its own messages (a shop without an outbox table has none to clear)."""
    if postgres.query("SELECT to_regclass('payments_outboxmessage')")[0][0]:
        postgres.query("DELETE FROM payments_outboxmessage")


def received(mail_server, orders) -> list[tuple[str, tuple[str, ...]]]:
    """The e-mails about these orders that reached the mail server, as (subject, recipients):
    each message the shop means to send has its own."""
    references = [order[0] for order in orders]
    return [
        (subject, to)
        for _, subject, to in list(mail_server.received)
        if any(reference in subject for reference in references)
    ]


def delivered_once(mail_server, orders, expected: int) -> None:
    got = received(mail_server, orders)
    assert len(set(got)) == expected, f"{len(set(got))} of {expected} e-mails arrived"
    assert len(got) == len(set(got)), f"{len(got) - len(set(got))} e-mail(s) sent twice"


def probe_on_schedule(shop, paths, *, every: float, until: threading.Event) -> list[float]:
    """Open-loop probes: one request every `every` seconds whatever the previous ones do, as
    shoppers arrive; a stalled shop shows in every probe sent while it stalls."""
    seconds: list[float] = []
    with ThreadPoolExecutor(64) as pool:
        futures = []
        n = 0
        while not until.is_set():
            futures.append(pool.submit(shop.timed_get, paths[n % len(paths)], timeout=40))
            n += 1
            time.sleep(every)
        for future in futures:
            status, spent = future.result()
            seconds.append(spent if status == 200 else float("inf"))
    return seconds


def test_a_hung_mail_server_keeps_no_shopper_waiting_and_loses_nothing(
    make_shop, postgres, mail_server
):
    mail_server.hang()
    shop = make_shop(EMAIL_URL=f"smtp://127.0.0.1:{mail_server.port}")
    clear_outbox(postgres)
    orders = pending_orders(shop, 6)
    stop = threading.Event()
    probes: list[float] = []
    prober = threading.Thread(
        target=lambda: probes.extend(
            probe_on_schedule(shop, ["/healthz", "/"], every=0.05, until=stop)
        )
    )
    prober.start()
    time.sleep(0.5)
    with ThreadPoolExecutor(len(orders)) as pool:  # six sales at once
        started = time.monotonic()
        answers = list(pool.map(lambda order: shop.post_webhook(paid_event(order)), orders))
        webhook_seconds = time.monotonic() - started
    time.sleep(3)
    stop.set()
    prober.join()

    assert [answer.status_code for answer in answers] == [200] * 6
    p99 = percentile(probes, 0.99)
    report(
        "mail server hung",
        sales=6,
        webhooks_seconds=round(webhook_seconds, 2),
        probes=len(probes),
        p50_ms=round(percentile(probes, 0.5) * 1000),
        p99_ms=round(p99 * 1000),
        max_ms=round(max(probes) * 1000),
    )
    assert webhook_seconds < 2  # Stripe's deliveries are answered at once, too
    assert p99 < 1.0
    assert outbox(postgres) == {"pending": 12}  # every message kept, none tried against it

    mail_server.answer()
    shop.manage("send_mails", "--once")

    delivered_once(mail_server, orders, 12)
    assert outbox(postgres) == {"sent": 12}


def test_a_worker_killed_while_it_sends_loses_no_mail(make_shop, postgres, mail_server):
    """The sale's e-mails and a refund's (an amount that does not match: refunded at once),
    each being sent by its web worker when the workers are killed."""
    mail_server.hang()
    shop = make_shop(
        EMAIL_URL=f"smtp://127.0.0.1:{mail_server.port}",
        MAIL_REQUEST_TIMEOUT="8",
        MAIL_CLAIM_SECONDS="3",
    )
    clear_outbox(postgres)
    sold, mismatched = pending_orders(shop, 2)
    assert shop.post_webhook(paid_event(sold)).status_code == 200
    assert shop.post_webhook(paid_event(mismatched, amount=1)).status_code == 200
    time.sleep(0.5)  # both workers are now waiting for the mail server

    killed = shop.workers()
    for pid in killed:
        subprocess.run(["kill", "-KILL", str(pid)], check=True)
    wait_for(lambda: len(set(shop.workers()) - set(killed)) == 4, timeout=20, what="new workers")
    mail_server.answer()
    time.sleep(3.5)  # the dead workers' claims lapse
    shop.manage("send_mails", "--once")

    got = received(mail_server, [sold, mismatched])
    report("worker killed while sending", workers_killed=len(killed), delivered=len(got))
    assert any("remboursée" in subject for subject, _ in got)
    # The confirmation and the owner's note, the refund and the owner's incident note.
    delivered_once(mail_server, [sold, mismatched], 4)


def test_stopping_send_mails_mid_batch_and_two_at_once_send_each_mail_once(
    make_shop, postgres, mail_server
):
    mail_server.delay = 0.1  # each message takes the server a moment
    shop = make_shop(EMAIL_URL=f"smtp://127.0.0.1:{mail_server.port}", MAIL_WORKER="on")
    clear_outbox(postgres)
    orders = pending_orders(shop, 15)
    for order in orders:
        assert shop.post_webhook(paid_event(order)).status_code == 200
    assert mail_server.ids() == []  # MAIL_WORKER: the web sends nothing

    command = [str(BIN / "python"), "manage.py", "send_mails"]
    worker = subprocess.Popen(command, cwd=BASE_DIR, env=shop.env)
    wait_for(lambda: len(received(mail_server, orders)) >= 8, timeout=30, what="eight e-mails")
    worker.send_signal(signal.SIGTERM)  # a deploy stops the worker
    worker.wait(timeout=15)
    after_stop = len(received(mail_server, orders))

    both = [subprocess.Popen([*command, "--once"], cwd=BASE_DIR, env=shop.env) for _ in range(2)]
    for process in both:
        assert process.wait(timeout=60) == 0

    got = received(mail_server, orders)
    report(
        "send_mails stopped mid-batch, then two at once",
        before_stop=after_stop,
        delivered=len(got),
        duplicates=len(got) - len(set(got)),
        lost=30 - len(set(got)),
    )
    delivered_once(mail_server, orders, 30)
    assert worker.returncode == 0  # it stopped cleanly, after the message in hand
    assert outbox(postgres) == {"sent": 30}
