"""`make bench`: the shop at its machine's limit, beside a bare Django view, in one run.

    .venv/bin/python bench/run.py [--seconds 5] [--connections 16] [--threads 2]
                                  [--orders 1000] [--no-growth] [--json FILE]

Needs PostgreSQL ($BENCH_DATABASE_URL, else $DATABASE_URL: only its server and credentials
are used), `wrk` (Debian's package; `make bench` installs it when run as root) and
`redis-server` (a private one is started on a free port, unless $BENCH_CACHE_URL names one).

What it does, bounded in time (about two to three minutes):

1. Creates a throwaway database `bench_<pid>` on that server, migrates it, runs
   `collectstatic` into a temporary folder and loads 1,000 pieces (one in ten sold, one in ten
   held by an open checkout).
2. Serves the shop exactly as the Procfile does (`gunicorn shop.wsgi --log-file -` with
   gunicorn.conf.py, bound to 127.0.0.1), with the production settings of the README: DEBUG
   off, whitenoise, Redis as the cache (CACHE_URL), bench values for the secrets, and
   STRIPE_API_BASE pointing at a tiny Stripe-compatible stub (bench/stripe_stub.py) so that
   Commander can open Checkout Sessions. Requests carry `X-Forwarded-Proto: https`, as the
   platform's router adds it. Beside it, the same gunicorn settings serve a minimal Django
   site (bench/bare: startproject's middleware, no database).
3. Drives both with wrk on 127.0.0.1 (`-t2 -c16`, --seconds per scenario after a one-second
   warm-up) and prints requests per second, p50/p99 latency, errors, and the ratio to the
   bare view: the catalogue's first page, a product page, the stock API for 24 ids (`200`,
   and `304` with the current ETag); the webhook for --orders distinct open orders (signed
   `checkout.session.completed` events, paid orders per second, then every order paid and
   every piece sold once); the drop (polling and browsing clients at 70% of the rates
   measured above, while 50 buyers race for 10 new pieces: p50/p99 per kind, then exactly
   10 sales, none twice, every other buyer refused cleanly).
4. Unless --no-growth: brings the shop to 10,000 pieces and measures the pages again.
5. Stops everything and drops the database. Exits 1 when a correctness check fails or a
   request errs.
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "lua"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import stripe_stub  # noqa: E402

WEBHOOK_SECRET = "whsec_bench_" + "0" * 32
ROUTER_HEADERS = {"X-Forwarded-Proto": "https"}  # what the platform's router adds


# --- Processes and ports ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped with status {process.returncode}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within 30 s")


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def gunicorn(module: str, port: int, env: dict[str, str], log: Path, *extra: str):
    """The Procfile's `web:` line, bound to 127.0.0.1 (gunicorn.conf.py binds 0.0.0.0)."""
    command = [str(Path(sys.executable).parent / "gunicorn"), module, "--log-file", "-"]
    command += ["--bind", f"127.0.0.1:{port}", *extra]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    wait_for_port(port, process, f"gunicorn {module} (log: {log})")
    return process


# --- HTTP helpers ------------------------------------------------------------------------------


class Browser:
    """One shopper over one keep-alive connection, keeping its cookies (Secure ones too: the
    router speaks HTTPS to the shopper)."""

    def __init__(self, port: int, *, address: str = "") -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        # The shopper's own address, as the platform's router appends it (TRUSTED_PROXY_COUNT
        # is 1 in production): the per-client limits then count each shopper apart.
        forwarded = {"X-Forwarded-For": address} if address else {}
        self.router_headers = {**ROUTER_HEADERS, **forwarded}

    def request(self, method: str, path: str, *, form: dict | None = None, headers=None):
        all_headers = {**self.router_headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["Origin"] = self.origin
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response, content

    def csrf_token(self, html: bytes) -> str:
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if not found:
            raise RuntimeError("no CSRF token in the page")
        return found.group(1).decode()

    def close(self) -> None:
        self.conn.close()


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={**ROUTER_HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        conn.close()


# --- wrk ---------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    rate: float | None = None  # when the figure is not requests per second (paid orders/s)
    unit: str = "req/s"
    bare: float | None = None  # the bare view's req/s, measured just before this run
    cpu_ms: float | None = None  # CPU time of the server's processes per request (or order)
    db_cpu_ms: float | None = None  # ... of the PostgreSQL backends serving them
    notes: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        if self.rate is not None:
            return self.rate
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_command(
    port: int,
    path: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    script: str,
    args: list[str] = (),
    headers: dict | None = None,
) -> list[str]:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
    ]
    for name, value in {**ROUTER_HEADERS, **(headers or {})}.items():
        command += ["-H", f"{name}: {value}"]
    command += ["-s", str(LUA / script), f"http://127.0.0.1:{port}{path}"]
    return command + (["--", *args] if args else [])


def parse_wrk(name: str, output: str) -> Run:
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no report for {name}:\n{output[-2000:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Run(
        name=name,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
    )


def wrk(
    name: str,
    port: int,
    path: str = "/",
    *,
    seconds: float,
    connections: int,
    threads: int,
    headers: dict | None = None,
    warm_up: bool = True,
) -> Run:
    """As fast as it goes: one URL, wrk's own request, after a one-second warm-up."""
    kwargs = {
        "connections": connections,
        "threads": threads,
        "script": "get.lua",
        "headers": headers,
    }
    if warm_up:
        subprocess.run(wrk_command(port, path, seconds=1, **kwargs), capture_output=True)
    profiler = profile_start(name, port, seconds)
    before = cpu_snapshot(port)
    done = subprocess.run(
        wrk_command(port, path, seconds=seconds, **kwargs), capture_output=True, text=True
    )
    after = cpu_snapshot(port)
    profile_end(profiler)
    run = parse_wrk(name, done.stdout)
    run.cpu_ms, run.db_cpu_ms = cpu_per_request(before, after, run.requests)
    return run


def paired(name: str, port: int, bare_port: int, path: str, **kwargs) -> Run:
    """The bare view, then the shop's page: the machine's load (other jobs on shared cores)
    changes over a run, so each figure is compared with the bare view measured just before."""
    bare = wrk("bare", bare_port, "/", **{k: v for k, v in kwargs.items() if k != "headers"})
    run = wrk(name, port, path, **kwargs)
    run.bare = bare.per_second
    if bare.cpu_ms:
        run.notes.append(f"bare view: {bare.cpu_ms:.2f} ms of CPU per request")
    return run


# CPU time per request: what the machine's load cannot blur. Wall-clock rates move with the
# other jobs on shared cores; the CPU seconds the server's processes spend per request do not
# (much), and they say how many requests per second the cores could carry.
SERVERS: dict[int, int] = {}  # port -> gunicorn master pid
MAIL_WORKER: dict[str, int] = {}  # "pid" -> the send_mails process, with --mail-worker


def _cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """utime + stime of a process (and, if asked, of its children that exited: a gunicorn
    master reaps its recycled workers, whose CPU then shows in its cutime + cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _database_backends() -> list[int]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def cpu_snapshot(port: int) -> dict[str, dict[int, float]] | None:
    master = SERVERS.get(port)
    if master is None:
        return None
    backends = _database_backends() if port == SERVERS.get(-1) else []
    return {
        "app": {
            master: _cpu_seconds(master, reaped_children=True),
            **{pid: _cpu_seconds(pid) for pid in _children(master)},
        },
        "db": {pid: _cpu_seconds(pid) for pid in backends},
    }


def cpu_per_request(before, after, requests: int) -> tuple[float | None, float | None]:
    """Milliseconds of CPU per request, (web processes, database backends); a process that
    started during the run counts from zero."""
    if before is None or after is None or not requests:
        return None, None
    spent = []
    for kind in ("app", "db"):
        pids = set(after[kind]) | set(before[kind])
        seconds = sum(after[kind].get(p, 0.0) - before[kind].get(p, 0.0) for p in pids)
        spent.append(1000 * max(seconds, 0.0) / requests)
    return spent[0], spent[1] if (before["db"] or after["db"]) else None


def _machine_busy_seconds() -> float:
    """CPU time of the whole machine (every core, every process) since boot, idle excluded."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


class BurstCPU:
    """Where the cores went while the drop's buyers raced: the shop's workers, PostgreSQL,
    this process (the buyers' threads and the Stripe stub) and the rest of the machine (wrk,
    Redis, the kernel), in CPU milliseconds over the burst's wall time. Clock ticks are 10 ms:
    each figure is good to about that."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._start = (time.perf_counter(), _machine_busy_seconds(), time.process_time())
        self._shop = cpu_snapshot(port)

    def stop(self) -> None:
        wall, machine, bench = self._start
        self.wall = time.perf_counter() - wall
        self.machine = _machine_busy_seconds() - machine
        self.bench = time.process_time() - bench
        web, db = cpu_per_request(self._shop, cpu_snapshot(self.port), 1)  # ms in all
        self.web, self.db = web or 0.0, db or 0.0

    def report(self) -> str:
        rest = self.machine - (self.web + self.db) / 1000 - self.bench
        cores = os.cpu_count() or 1
        return (
            f"the race, {1000 * self.wall:.0f} ms of wall time ({cores * 1000 * self.wall:.0f} ms "
            f"of CPU on {cores} cores): {1000 * self.machine:.0f} ms busy, of which shop workers "
            f"{self.web:.0f} (polls and pages included), PostgreSQL {self.db:.0f}, the bench's "
            f"buyers and stub {1000 * self.bench:.0f}, the rest {1000 * rest:.0f}"
        )


# --profile DIR: py-spy samples the shop's workers during each of its runs.
PROFILE: dict = {"dir": None, "masters": {}}


def profile_start(name: str, port: int, seconds: float) -> tuple | None:
    if PROFILE["dir"] is None or port not in PROFILE["masters"]:
        return None
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    output = PROFILE["dir"] / f"{slug}.txt"
    command = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(PROFILE["masters"][port]),
        "--subprocesses",
    ]
    command += ["--format", "raw", "--rate", "250", "--duration", str(max(1, round(seconds)))]
    command += ["--output", str(output), "--nonblocking"]
    command += os.environ.get("BENCH_PYSPY_ARGS", "").split()  # e.g. --gil: CPU only
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), output


def profile_end(profiler: tuple | None) -> None:
    if profiler is None:
        return
    process, output = profiler
    process.wait(timeout=60)
    if output.exists():
        output.with_suffix(".summary").write_text(profile_summary(output))


_BOOT_FRAMES = ("process ", "<module> (gunicorn", "run (gunicorn", "Application.run", "Base")


def profile_summary(raw: Path, top: int = 40) -> str:
    """Inclusive share of the samples per function (file:function), from py-spy's collapsed
    stacks; samples of idle workers (waiting in accept/select) are left out."""
    totals: dict[str, int] = {}
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if any(
            f.startswith(("select ", "wait_for ", "sleep "))
            and "arbiter" in f
            or f.startswith("accept ")
            for f in frames[-2:]
        ):
            continue
        samples += int(count)
        for frame in {re.sub(r":\d+\)$", ")", f) for f in frames}:
            if not frame.startswith(_BOOT_FRAMES) and "gunicorn/arbiter" not in frame:
                totals[frame] = totals.get(frame, 0) + int(count)
    lines = [f"{samples} busy samples; inclusive share per function"]
    for frame, count in sorted(totals.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * count / samples:5.1f}%  {frame}")
    return "\n".join(lines) + "\n"


def request_lines(requests: list[tuple[str, str, str, dict]]) -> str:
    lines = []
    for method, path, body, headers in requests:
        fields = [method, path, body] + [f"{k}: {v}" for k, v in headers.items()]
        if any("\t" in f or "\n" in f for f in fields):
            raise ValueError("tabs and newlines cannot be sent through requests.lua")
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def wrk_file(
    port: int, file: Path, *, seconds: float, connections: int, threads: int, rate: float = 0
) -> subprocess.Popen:
    """wrk sending the requests of `file` (bench/lua/requests.lua), in the background."""
    args = [str(file), str(threads), str(connections), str(rate)]
    command = wrk_command(
        port,
        "/",
        seconds=seconds,
        connections=connections,
        threads=threads,
        script="requests.lua",
        args=args,
    )
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# --- Data --------------------------------------------------------------------------------------


def create_database(server_url: str) -> tuple[str, str]:
    """A fresh database beside the one named in `server_url`; returns (name, its URL)."""
    import psycopg

    parts = urlsplit(server_url)
    name = f"bench_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, urlunsplit(parts._replace(path="/" + name))


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_pieces(count: int, *, start: int = 0, prefix: str = "piece") -> list[int]:
    """`count` pieces: one in ten sold, one in ten held by an open checkout, the rest free."""
    from django.utils import timezone

    from payments.models import Order, OrderItem
    from products.models import Product

    now = timezone.now()
    pieces = [
        Product(
            name=f"Pièce n° {i}",
            slug=f"{prefix}-{i}",
            description="Une pièce unique, décrite en quelques lignes. " * 4,
            price=Decimal("10.00") + i % 500,
            image=f"products/{prefix}-{i}.jpg",
            in_stock=i % 10 != 3,
        )
        for i in range(start, start + count)
    ]
    pieces = Product.objects.bulk_create(pieces, batch_size=1000)
    held = [p for p in pieces if int(p.slug.rsplit("-", 1)[1]) % 10 == 7]
    orders = Order.objects.bulk_create(
        Order(
            total=p.price,
            shopper_id=f"held-{p.pk}",
            stripe_session_id=f"cs_held_{p.pk}",
            checkout_expires_at=now + timedelta(hours=2),
        )
        for p in held
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=o, product=p, name=p.name, price=p.price)
        for o, p in zip(orders, held, strict=True)
    )
    for order, piece in zip(orders, held, strict=True):
        piece.held_by = order
        piece.held_until = now + timedelta(hours=2)
    Product.objects.bulk_update(held, ["held_by", "held_until"], batch_size=1000)
    return [p.pk for p in pieces]


def open_orders(count: int) -> list:
    """`count` open checkouts, each holding one piece of its own, as after Commander."""
    from django.utils import timezone

    from payments.models import Order, OrderItem
    from products.models import Product

    now = timezone.now()
    tag = secrets.token_hex(3)
    pieces = Product.objects.bulk_create(
        Product(name=f"Pièce payée n° {i}", slug=f"paid-{tag}-{i}", price=Decimal("42.00"))
        for i in range(count)
    )
    orders = Order.objects.bulk_create(
        Order(
            total=Decimal("42.00"),
            shopper_id=f"buyer-{tag}-{i}",
            stripe_session_id=f"cs_test_bench_{tag}_{i}",
            checkout_url="https://checkout.stripe.com/c/pay/x",
            checkout_expires_at=now + timedelta(hours=1),
        )
        for i in range(count)
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=o, product=p, name=p.name, price=p.price)
        for o, p in zip(orders, pieces, strict=True)
    )
    for order, piece in zip(orders, pieces, strict=True):
        piece.held_by = order
        piece.held_until = now + timedelta(hours=1)
    Product.objects.bulk_update(pieces, ["held_by", "held_until"])
    return orders


def completed_event(order) -> tuple[str, str]:
    """A signed `checkout.session.completed` for an order, as Stripe sends it."""
    import stripe

    payload = json.dumps(
        {
            "id": f"evt_bench_{secrets.token_hex(8)}",
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "type": "checkout.session.completed",
            "livemode": False,
            "pending_webhooks": 1,
            "data": {
                "object": {
                    "id": order.stripe_session_id,
                    "object": "checkout.session",
                    "mode": "payment",
                    "status": "complete",
                    "payment_status": "paid",
                    "amount_total": order.total_cents,
                    "currency": order.currency,
                    "client_reference_id": order.reference,
                    "metadata": {"order_id": order.reference},
                    "payment_intent": f"pi_{order.reference}",
                    "customer_details": {"email": "cliente@example.com", "name": "Camille"},
                    "collected_information": {
                        "shipping_details": {
                            "name": "Camille Martin",
                            "address": {
                                "line1": "3 rue des Lilas",
                                "city": "Lyon",
                                "country": "FR",
                            },
                        }
                    },
                }
            },
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    return payload, header


def webhook_request(order) -> tuple[str, str, str, dict]:
    payload, header = completed_event(order)
    return (
        "POST",
        "/api/webhooks/stripe",
        payload,
        {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header},
    )


def catalogue_ids(port: int, page: int = 1) -> list[int]:
    from django.conf import settings

    from products.models import Product

    size = settings.CATALOGUE_PAGE_SIZE
    offset = (page - 1) * size
    return list(Product.objects.values_list("pk", flat=True)[offset : offset + size])


def etag_of(port: int, path: str) -> str:
    status, headers, _ = get(port, path)
    if status != 200:
        raise RuntimeError(f"{path}: HTTP {status}")
    return headers["ETag"]


# --- Scenarios ---------------------------------------------------------------------------------


def pages(label: str, port: int, bare_port: int, args, runs: list[Run]) -> dict[str, Run]:
    """Catalogue, product page, stock API 200 and 304, as fast as they go."""
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
    runs.extend(found.values())
    return found


def webhook(port: int, args, workdir: Path, runs: list[Run]) -> bool:
    """Signed `checkout.session.completed` for --orders open orders, each sent once by
    --connections senders (threads of this process, like Stripe's parallel deliveries);
    paid orders per second over the whole run, then every order is checked."""
    import queue

    from payments.models import Order, OrderItem, StripeEvent
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
    # Profiled for the first seconds (the run's length is not known in advance).
    profiler = profile_start("webhook", port, min(args.seconds, len(ids) / 400))
    before = cpu_snapshot(port)
    mailer = MAIL_WORKER.get("pid")
    mailer_cpu = _cpu_seconds(mailer) if mailer else 0.0
    started = time.perf_counter()
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    elapsed = time.perf_counter() - started
    after = cpu_snapshot(port)
    profile_end(profiler)
    # The sales' e-mails: after each response (default) or by the send_mails worker.
    waiting = Order.objects.filter(pk__in=ids, paid_mail_pending=True)
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
    if mailer and paid:
        spent = 1000 * (_cpu_seconds(mailer) - mailer_cpu) / paid
        run.notes.append(
            f"sale e-mails by the send_mails worker: all sent {drained:.1f} s after the last "
            f"response; its CPU during the run and the drain: {spent:.2f} ms per order"
        )
    runs.append(run)
    return all(checks.values())


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
    from payments.models import Order, OrderItem
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
    # 70% of saturation, shared: pollers take half of it, browsers the other half.
    poll_rate = 0.35 * saturation["stock304"].per_second
    page_rate = 0.35 * statistics.mean(
        [saturation["catalogue"].per_second, saturation["product"].per_second]
    )
    seconds = max(6.0, 2 * args.seconds)

    # Buyers first get a page and put their piece in their cart (a session, a CSRF token).
    buyers = [Buyer(p.pk, p.slug) for p in new for _ in range(5)]
    # Each buyer from an address of its own (TEST-NET-3): fifty people, not one client
    # opening fifty checkouts, which the per-client limits would refuse (429).
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

    profiler = profile_start("drop", port, seconds)  # --profile: the whole drop
    pollers = wrk_file(port, poll_file, seconds=seconds, connections=64, threads=1, rate=poll_rate)
    readers = wrk_file(
        port, browse_file, seconds=seconds, connections=16, threads=1, rate=page_rate
    )
    time.sleep(seconds / 3)
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
    poll_out, _ = pollers.communicate(timeout=seconds + 30)
    page_out, _ = readers.communicate(timeout=seconds + 30)
    profile_end(profiler)
    poll_run = parse_wrk(f"drop: polls ({poll_rate:.0f}/s asked)", poll_out)
    page_run = parse_wrk(f"drop: pages ({page_rate:.0f}/s asked)", page_out)

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
    buy_run.notes.append(burst.report())

    # The winners pay: Stripe's signed event for each of their sessions.
    piece_ids = [p.pk for p in new]
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
    runs.extend([poll_run, page_run, buy_run])
    return all(checks.values())


# --- Report ------------------------------------------------------------------------------------


def report(runs: list[Run], header: str) -> str:
    lines = [header, ""]
    title = (
        f"{'scenario':<44} {'rate':>15} {'p50':>9} {'p99':>9} {'errors':>6} "
        f"{'bare':>7} {'ratio':>6} {'CPU ms: web + db':>17}"
    )
    lines += [title, "-" * len(title)]
    for run in runs:
        ratio = run.per_second / run.bare if run.bare else None
        cpu = "-"
        if run.cpu_ms is not None:
            cpu = f"{run.cpu_ms:.2f}" + (f" + {run.db_cpu_ms:.2f}" if run.db_cpu_ms else "")
        lines.append(
            f"{run.name:<44} {run.per_second:>8.1f} {run.unit:<6} {run.p50_ms:>7.1f}ms "
            f"{run.p99_ms:>7.1f}ms {run.errors:>6} "
            + (f"{run.bare:>7.0f} {ratio:>5.2f}×" if ratio is not None else f"{'-':>7} {'-':>6}")
            + f" {cpu:>17}"
        )
        lines += [f"    {note}" for note in run.notes]
    return "\n".join(lines)


def machine() -> str:
    import platform

    cpu = ""
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1) if found else ""
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs ({cpu}), load {load[0]:.1f}, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--orders", type=int, default=1000, help="webhook scenario")
    parser.add_argument("--pieces", type=int, default=1000)
    parser.add_argument(
        "--growth", type=int, default=10_000, help="pieces for the growth check (0: skip it)"
    )
    parser.add_argument("--no-growth", dest="growth", action="store_const", const=0)
    parser.add_argument("--json", type=Path, help="also write the figures there")
    parser.add_argument(
        "--profile", type=Path, help="py-spy the shop during each run, into this folder"
    )
    parser.add_argument("--only", default="", help="comma-separated: pages,webhook,drop")
    parser.add_argument(
        "--stripe-latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="the Stripe stub answers after this long (api.stripe.com takes ~0.3-0.5 s)",
    )
    parser.add_argument(
        "--mail-worker",
        action="store_true",
        help="MAIL_WORKER on and `manage.py send_mails` running: sales' e-mails leave the web",
    )
    return parser.parse_args()


@contextlib.contextmanager
def redis_cache(workdir: Path):
    """$BENCH_CACHE_URL, or a private redis-server on a free port for the run."""
    if os.environ.get("BENCH_CACHE_URL"):
        yield os.environ["BENCH_CACHE_URL"]
        return
    if not shutil.which("redis-server"):
        raise SystemExit(
            "make bench needs redis-server (apt-get install redis-server) "
            "or BENCH_CACHE_URL=redis://..."
        )
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(process)


def main() -> int:
    args = parse_args()
    # Stopped from outside (timeout, kill): clean up as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    only = set(filter(None, args.only.split(","))) or {"pages", "webhook", "drop"}
    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        print(
            "make bench needs PostgreSQL: set DATABASE_URL (or BENCH_DATABASE_URL) to "
            "postgres://user:password@127.0.0.1:5432/name; a throwaway database is created "
            "beside it and dropped afterwards.",
            file=sys.stderr,
        )
        return 2
    if not shutil.which("wrk"):
        print("make bench needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="boutique-bench-"))
    db_name = None
    processes: list[subprocess.Popen] = []
    stub = None
    ok = True
    started = time.monotonic()
    try:
        with redis_cache(workdir) as cache_url:
            db_name, db_url = create_database(server_url)
            shop_port, bare_port, stub_port = free_port(), free_port(), free_port()
            stub = stripe_stub.start(stub_port, latency=args.stripe_latency)
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "shop.settings",
                "DEBUG": "false",
                "SECRET_KEY": "bench-" + secrets.token_urlsafe(50),
                "STRIPE_SECRET_KEY": "sk_test_bench",
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": f"http://127.0.0.1:{stub_port}",
                "DATABASE_URL": db_url,
                "CACHE_URL": cache_url,
                "ALLOWED_HOSTS": "127.0.0.1",
                # Refused on this machine's addresses with DEBUG off (shop/public_url.py);
                # nothing follows a link to it (.test never resolves, RFC 6761).
                "APP_URL": "https://boutique-bench.test",
                "STATIC_ROOT": str(workdir / "static"),
                "MEDIA_ROOT": str(workdir / "media"),
                "OWNER_EMAIL": "proprietaire@example.com",
                "EMAIL_URL": "consolemail://",
                "MAIL_WORKER": "true" if args.mail_worker else "false",
                "PYTHONWARNINGS": "ignore",
            }
            os.environ.update(env)
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)
            call_command("collectstatic", verbosity=0, interactive=False)
            load_pieces(args.pieces)
            from django.core.cache import cache

            cache.clear()
            log = workdir / "gunicorn.log"
            processes.append(gunicorn("shop.wsgi", shop_port, env, log))
            SERVERS[shop_port] = processes[-1].pid
            SERVERS[-1] = shop_port  # whose database backends count
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                PROFILE["dir"] = args.profile
                PROFILE["masters"][shop_port] = processes[-1].pid
            processes.append(gunicorn("bare.wsgi", bare_port, env, log, "--pythonpath", "bench"))
            SERVERS[bare_port] = processes[-1].pid
            args.bare_port = bare_port
            if args.mail_worker:
                with open(log, "ab") as out:
                    command = [sys.executable, "manage.py", "send_mails", "--interval", "0.5"]
                    processes.append(
                        subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
                    )
                MAIL_WORKER["pid"] = processes[-1].pid
            runs: list[Run] = []
            saturation = {}
            if "pages" in only or "drop" in only:
                saturation = pages("", shop_port, bare_port, args, runs)
            if "webhook" in only:
                ok = webhook(shop_port, args, workdir, runs) and ok
            if "drop" in only:
                ok = drop(shop_port, args, workdir, saturation, runs) and ok
            if args.growth > args.pieces and "pages" in only:
                from products.models import Product

                count = Product.objects.count()
                load_pieces(args.growth - count, start=count, prefix="more")
                cache.clear()
                pages(f" ({args.growth:,} pieces)", shop_port, bare_port, args, runs)
            ok = ok and all(r.errors == 0 for r in runs)
            bares = [r.bare for r in runs if r.bare] or [0]
            header = (
                f"Boutique bench: {args.pieces:,} pieces, PostgreSQL, Redis cache, gunicorn "
                f"(Procfile, gunicorn.conf.py, {len(_children(SERVERS[shop_port]))} workers), "
                f"wrk -t{args.threads} -c{args.connections} -d{args.seconds:g}s\n"
                f"machine: {machine()}\n"
                f"bare Django view, measured before each scenario: {min(bares):.0f} to "
                f"{max(bares):.0f} req/s; each ratio uses the one just before"
            )
            print(report(runs, header))
            print(
                f"\n{'all checks passed' if ok else 'SOME CHECKS FAILED'}; "
                f"{time.monotonic() - started:.0f} s"
            )
            if args.json:
                figures = [r.__dict__ | {"per_second": r.per_second} for r in runs]
                args.json.write_text(json.dumps({"header": header, "runs": figures}, indent=2))
    finally:
        for process in processes:
            stop(process)
        if stub is not None:
            stub.shutdown()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if db_name:
            drop_database(server_url, db_name)
        if os.environ.get("BENCH_KEEP"):
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
