"""Stock API benchmark: what one poll of an open page costs, as a 200 and as a 304.

    .venv/bin/python bench/stock_api.py [--ids 24] [--requests 500] [--max-seconds 60] [--http]

Builds a throwaway database (a temporary SQLite file, or `test_<name>` next to
the database of $DATABASE_URL: never the database itself) with --ids pieces (some
sold, some held by a checkout), then asks `GET /api/products?ids=...` for all of
them --requests times without `If-None-Match` (200, the full body) and as many
times with the current ETag (304, no body). Requests go through Django's test
client (the full middleware stack, no network); with --http also to a gunicorn
started on 127.0.0.1 on a free port, over one keep-alive connection. Prints
median, p95 and max in milliseconds, the body size and the SQL queries of each
request. Exits 1 when a median is over its budget (bench/README.md), when a
request runs other than one query, or when an answer has the wrong status.
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from harness import ROOT, p95, throwaway_database

# Budgets for the median, in milliseconds, on a developer's machine.
BUDGET_MS = {
    ("test client", 200): 8.0,
    ("test client", 304): 5.0,
    ("gunicorn", 200): 15.0,
    ("gunicorn", 304): 10.0,
}


@dataclass
class Result:
    via: str
    expected: int
    timings_ms: list[float] = field(default_factory=list)
    statuses: set[int] = field(default_factory=set)
    queries: set[int] = field(default_factory=set)  # per request; empty over HTTP
    body_bytes: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95(self) -> float:
        return p95(self.timings_ms)

    @property
    def budget(self) -> float | None:
        return BUDGET_MS.get((self.via, self.expected))

    def problems(self) -> list[str]:
        found = []
        if self.budget is not None and self.median > self.budget:
            found.append(f"over budget ({self.budget:.0f} ms)")
        if self.statuses != {self.expected}:
            found.append(f"HTTP {sorted(self.statuses)}")
        if self.queries and self.queries != {1}:
            found.append(f"{sorted(self.queries)} queries")
        return found


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=24, help="pieces asked about in one poll")
    parser.add_argument("--requests", type=int, default=500, help="timed requests per case")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit")
    parser.add_argument("--http", action="store_true", help="also measure a local gunicorn")
    args = parser.parse_args()
    if not 1 <= args.ids <= 200:
        parser.error("--ids: between 1 and 200 (the API's cap)")
    return args


def create_pieces(count: int) -> list[int]:
    """`count` pieces: one in six sold, one in six held by a live checkout, the rest free."""
    from django.utils import timezone

    from payments.models import Order
    from products.models import Product

    order = Order.objects.create(total=Decimal("10.00"))
    now = timezone.now()
    created = Product.objects.bulk_create(
        Product(
            name=f"Pièce de banc d'essai n° {i}",
            slug=f"piece-stock-{i}",
            price=Decimal("10.00") + i,
            in_stock=i % 6 != 1,
            held_by=order if i % 6 == 4 else None,
            held_until=now + timedelta(hours=2) if i % 6 == 4 else None,
        )
        for i in range(count)
    )
    return [p.pk for p in created]


def measure_test_client(path: str, requests: int, deadline: float) -> tuple[Result, Result]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    for _ in range(5):  # warm up: URL resolver, connection
        etag = client.get(path)["ETag"]
    full, not_modified = Result("test client", 200), Result("test client", 304)
    # Alternate the two cases so that a busy moment of the machine hits both alike.
    for _ in range(requests):
        if time.monotonic() > deadline and full.timings_ms:
            break
        for result, headers in ((full, {}), (not_modified, {"If-None-Match": etag})):
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(path, headers=headers)
                elapsed = (time.perf_counter() - start) * 1000
            result.timings_ms.append(elapsed)
            result.statuses.add(response.status_code)
            result.queries.add(len(queries))
            result.body_bytes = len(response.content)
    return full, not_modified


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int) -> subprocess.Popen:
    """gunicorn on 127.0.0.1 only, on the throwaway database, two sync workers."""
    from django.db import connection

    settings = connection.settings_dict
    env = dict(os.environ)
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{settings['NAME']}"
    else:  # the test database create_database() made next to $DATABASE_URL's
        url = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(url._replace(path="/" + settings["NAME"]))
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "shop.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--env",
            "PYTHONWARNINGS=ignore",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        if process.poll() is not None:
            raise RuntimeError("gunicorn stopped: " + process.stderr.read().decode()[-2000:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("gunicorn did not start within 10 s")


def measure_http(port: int, path: str, requests: int, deadline: float) -> tuple[Result, Result]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(headers: dict[str, str]) -> tuple[int, str, int]:
        conn.request("GET", path, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        body = response.read()
        return response.status, response.getheader("ETag", ""), len(body)

    try:
        for _ in range(10):  # warm up both workers
            _, etag, _ = get({})
        full, not_modified = Result("gunicorn", 200), Result("gunicorn", 304)
        for _ in range(requests):
            if time.monotonic() > deadline and full.timings_ms:
                break
            for result, headers in ((full, {}), (not_modified, {"If-None-Match": etag})):
                start = time.perf_counter()
                status, _, size = get(headers)
                result.timings_ms.append((time.perf_counter() - start) * 1000)
                result.statuses.add(status)
                result.body_bytes = size
    finally:
        conn.close()
    return full, not_modified


def report(results: list[Result], *, ids: int, vendor: str) -> bool:
    """Print the table; return True when nothing is over budget or wrong."""
    print(f"\nBoutique stock API benchmark: {ids} ids per poll, {vendor}\n")
    header = (
        f"{'via':<12} {'answer':>6} {'n':>5} {'median':>8} {'p95':>8} {'max':>8} "
        f"{'body':>7} {'SQL':>4}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for r in results:
        problems = r.problems()
        ok = ok and not problems
        queries = "/".join(str(q) for q in sorted(r.queries)) or "-"
        print(
            f"{r.via:<12} {r.expected:>6} {len(r.timings_ms):>5} {r.median:>6.2f}ms "
            f"{r.p95:>6.2f}ms {max(r.timings_ms):>6.2f}ms {r.body_bytes:>6}B {queries:>4}"
            + ("  " + ", ".join(problems) if problems else "")
        )
    print(
        "\nbudgets (median): "
        + ", ".join(f"{via} {status} {ms:.0f} ms" for (via, status), ms in BUDGET_MS.items())
    )
    return ok


def main() -> int:
    args = parse_args()
    with throwaway_database("boutique-bench-stock-") as vendor:
        ids = create_pieces(args.ids)
        path = "/api/products?ids=" + ",".join(str(pk) for pk in ids)
        deadline = time.monotonic() + args.max_seconds
        share = args.max_seconds / (2 if args.http else 1)
        results = list(measure_test_client(path, args.requests, time.monotonic() + share))
        if args.http:
            server = start_gunicorn(free_port())
            try:
                port = int(server.args[server.args.index("--bind") + 1].rsplit(":", 1)[1])
                results += measure_http(port, path, args.requests, deadline)
            finally:
                server.terminate()
                server.wait(timeout=10)
        ok = report(results, ids=args.ids, vendor=vendor)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
