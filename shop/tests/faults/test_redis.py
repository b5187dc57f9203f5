"""Redis hangs (accepts, never answers), then refuses (SPEC §13): a request waits at most
REDIS_TIMEOUT (0.25 s) for it, one per process and pause, none while the pause lasts; ten
polls at once are not queued behind it; the failure is logged once a minute per process,
without a traceback."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from shop.tests.faults.conftest import percentile, report

pytestmark = pytest.mark.faults


def urls(postgres) -> list[str]:
    ids = ",".join(str(row[0]) for row in postgres.query("SELECT id FROM products_product"))
    slug = postgres.query("SELECT slug FROM products_product LIMIT 1")[0][0]
    return [f"/api/products?ids={ids}", "/", f"/produits/{slug}/"]


def test_a_hung_redis_costs_one_short_wait_per_process_and_pause(make_shop, postgres, hung_port):
    reference = make_shop()  # the same pages without Redis: what they cost anyway
    paths = urls(postgres)
    for _ in range(3):
        [reference.get(path) for path in paths]
    normal_by_path = {path: [reference.timed_get(path)[1] for _ in range(10)] for path in paths}
    normal = [spent for spents in normal_by_path.values() for spent in spents]
    usual = {path: percentile(spents, 0.5) for path, spents in normal_by_path.items()}
    reference.stop()

    shop = make_shop(CACHE_URL=f"redis://127.0.0.1:{hung_port.port}/0", REDIS_PAUSE_SECONDS="3")
    for _ in range(4):  # every worker warm (templates, its database connection), as above...
        [shop.get(path, timeout=10) for path in paths]
    time.sleep(3.2)  # ...then its pause over: the next request of each tries Redis again
    timed, extras = [], []
    for path in paths * 10:
        timed.append(shop.timed_get(path, timeout=10))
        extras.append(timed[-1][1] - usual[path])  # beyond what this page costs anyway
        if timed[-1][1] > 2:
            break  # no need to wait for the others: this is already a failure
    with ThreadPoolExecutor(10) as pool:  # ten open tabs poll at once
        polls = list(pool.map(lambda path: shop.timed_get(path, timeout=10), [paths[0]] * 10))

    assert {status for status, _ in timed + polls} == {200}
    seconds = [s for _, s in timed]
    slow = [s for s in seconds if s > percentile(normal, 0.99) + 0.1]
    worst_extra = max(extras)
    report(
        "redis hung",
        requests=len(seconds),
        normal_p50_ms=round(percentile(normal, 0.5) * 1000),
        worst_extra_ms=round(worst_extra * 1000),
        slow_requests=len(slow),
        p50_ms=round(percentile(seconds, 0.5) * 1000),
        ten_polls_at_once_max_ms=round(max(s for _, s in polls) * 1000),
    )
    # The wait is REDIS_TIMEOUT (0.25 s; measured 251-253 ms beyond the page's own time on a
    # quiet machine); the 0.1 s above it is for a CI machine's other work, not for the shop.
    assert worst_extra < 0.25 + 0.1
    assert len(slow) <= 4  # one per worker: then Redis is skipped for REDIS_PAUSE_SECONDS
    assert percentile(seconds, 0.5) < percentile(normal, 0.5) + 0.05
    assert max(s for _, s in polls) < 0.6


def test_a_refused_redis_is_logged_once_a_minute_per_process_without_traceback(
    make_shop, postgres, closed_port
):
    # No pause: Redis is asked on every call, so that only the log's own limit holds it.
    shop = make_shop(CACHE_URL=f"redis://127.0.0.1:{closed_port}/0", REDIS_PAUSE_SECONDS="0")
    paths = urls(postgres)
    started = time.monotonic()
    timed = [shop.timed_get(path) for path in paths * 60]
    elapsed = time.monotonic() - started

    lines = [json.loads(line) for line in shop.output().splitlines() if line.startswith("{")]
    warnings = [line for line in lines if line["level"] in ("WARNING", "ERROR")]
    report(
        "redis refused",
        requests=len(timed),
        seconds=round(elapsed, 1),
        max_ms=round(max(s for _, s in timed) * 1000),
        warning_lines=len(warnings),
    )
    assert {status for status, _ in timed} == {200}
    assert warnings, "the failure is told"
    assert {line["name"] for line in warnings} == {"shop.cache"}
    assert len(warnings) <= 4  # once per worker (a minute has not passed)
    assert not any("exc_info" in line for line in warnings)
