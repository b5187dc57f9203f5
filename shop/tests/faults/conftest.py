"""The fault suite's machinery (SPEC §13): the shop under gunicorn with production settings
(DEBUG off) on a PostgreSQL cluster of its own, and neighbours made to misbehave, all on the
loopback:

- `postgres`: a private, throwaway cluster started with Debian's binaries
  (/usr/lib/postgresql/*/bin) as the `postgres` user on a free port, logging every statement;
  the tests restart it. The shared server (127.0.0.1:5432) is never touched.
- `mail_server`: a local SMTP server (aiosmtpd) behind a switch that makes it hang (accept,
  never answer) and answer again; it records every message with its Message-ID.
- `hung_port` / `closed_port`: a socket that accepts and never answers; a port nobody
  listens on (Redis, the mail server).
- `stripe`: bench/stripe_stub.py, whose answers can be slowed past the shop's timeout.
- `Shop`: gunicorn started from the Procfile's command, its workers, its management
  commands, its database.

These tests need no Django test database: the test process only talks HTTP and SQL.
"""

import contextlib
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests

BASE_DIR = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
WEBHOOK_SECRET = "whsec_faults_not_a_real_secret"
OWNER = "proprietaire@example.com"
ROUTER = {"X-Forwarded-Proto": "https"}  # what the platform's router adds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


# --- PostgreSQL of our own ------------------------------------------------------------------


class Postgres:
    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.root = bindir, root
        self.data, self.log = root / "data", root / "postgres.log"
        self.port = free_port()
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/boutique"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/boutique"

    def _as_postgres(self, *command: str, timeout: float = 60) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def init(self) -> None:
        self._as_postgres(
            str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self.start()
        self._as_postgres(
            str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "boutique"
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c log_statement=all -c fsync=off -c full_page_writes=off"
        )
        self._as_postgres(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "start",
        )  # fmt: skip

    def restart(self) -> None:
        """What a platform's maintenance does: every connection is cut, the server comes back."""
        self._as_postgres(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "restart",
        )  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._as_postgres(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"
            )

    def statements(self) -> int:
        """Statements the server has logged so far (log_statement=all)."""
        return self.log.read_text(errors="replace").count("LOG:  statement:")

    def query(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins or not shutil.which("runuser"):
        _missing("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="boutique-faults-pg-"))
    shutil.chown(root, "postgres")
    server = Postgres(bins[-1].parent, root)
    try:
        server.init()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- The shop under gunicorn ----------------------------------------------------------------


def shop_environment(postgres: Postgres, **overrides: str) -> dict[str, str]:
    """Production settings, as a platform runs them (nothing from a local .env)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "STRIPE_", "EMAIL_", "MAIL_", "CACHE_", "REDIS_"))
        and key not in ("DEBUG", "DATABASE_URL", "SECURE_SSL_REDIRECT", "TEST_CACHE_URL")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "shop.settings",
            "SECRET_KEY": "faults-" + "x" * 50,
            "STRIPE_SECRET_KEY": "sk_test_faults_not_a_real_key",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": f"http://127.0.0.1:{closed_port_number()}",
            "DATABASE_URL": postgres.url,
            "CACHE_URL": "locmemcache://",
            "EMAIL_URL": f"smtp://127.0.0.1:{closed_port_number()}",
            "OWNER_EMAIL": OWNER,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_FORMAT": "json",
            "WEB_CONCURRENCY": "4",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def closed_port_number() -> int:
    return free_port()  # bound, then released: nobody listens there


@dataclass
class Shop:
    """gunicorn from the Procfile's `web:` line, on a free port."""

    env: dict[str, str]
    root: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def https_base(self) -> str:
        """The address a browser sees behind the router: what a form's Referer names."""
        return f"https://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode:
            raise AssertionError(f"manage.py {' '.join(args)}:\n{result.stderr[-3000:]}")
        return result.stdout

    def shell(self, code: str) -> object:
        """Run Python in the shop's environment (manage.py shell); returns what it prints as
        JSON on its last line."""
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start(self) -> "Shop":
        # Not this machine: with DEBUG off the settings refuse a local APP_URL.
        self.env["APP_URL"] = "https://boutique-faults.test"
        self.env["PORT"] = str(self.port)
        self.log = (self.root / f"gunicorn-{self.port}.log").open("w")
        procfile = (BASE_DIR / "Procfile").read_text()
        web = next(line for line in procfile.splitlines() if line.startswith("web:"))
        command = web.split(":", 1)[1].split() + ["--bind", f"127.0.0.1:{self.port}"]
        command[0] = str(BIN / command[0])
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_for(self._healthy, timeout=30, what="gunicorn to answer /healthz")
        wait_for(
            lambda: len(self.workers()) == int(self.env["WEB_CONCURRENCY"]),
            timeout=30,
            what="every worker",
        )
        return self

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("gunicorn exited:\n" + self.output()[-3000:])
        try:
            return requests.get(self.base + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        self.log.flush()
        return (self.root / f"gunicorn-{self.port}.log").read_text(errors="replace")

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return requests.get(self.base + path, headers=ROUTER, allow_redirects=False, **kwargs)

    def timed_get(self, path: str, *, timeout: float = 60) -> tuple[int, float]:
        started = time.monotonic()
        try:
            status = self.get(path, timeout=timeout).status_code
        except requests.RequestException:
            status = 0  # no answer at all (a worker killed at its timeout)
        return status, time.monotonic() - started

    def post_webhook(self, event: dict, *, timeout: float = 60) -> requests.Response:
        body = json.dumps(event).encode()
        stamp = int(time.time())
        signature = hmac.new(
            WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return requests.post(
            self.base + "/api/webhooks/stripe",
            data=body,
            headers={
                **ROUTER,
                "Content-Type": "application/json",
                "Stripe-Signature": f"t={stamp},v1={signature}",
            },
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def built(postgres, tmp_path_factory) -> Path:
    """What a deploy does once: collectstatic (the build), the release's migrate, and the
    demo pieces."""
    root = tmp_path_factory.mktemp("build")
    shop = Shop(env=shop_environment(postgres, STATIC_ROOT=str(root / "static")), root=root)
    shop.manage("collectstatic", "--noinput", "-v", "0")
    shop.manage("migrate", "--noinput", "-v", "0")
    shop.manage("load_demo", "--if-empty")
    return root


@pytest.fixture
def make_shop(postgres, built, tmp_path) -> Iterator:
    """`make_shop(**env)`: gunicorn started on the built shop, with these settings."""
    started: list[Shop] = []

    def make(**overrides: str) -> Shop:
        env = shop_environment(postgres, STATIC_ROOT=str(built / "static"), **overrides)
        env.setdefault("MEDIA_ROOT", str(tmp_path / "media"))
        shop = Shop(env=env, root=tmp_path)
        started.append(shop)
        return shop.start()

    yield make
    for shop in started:
        shop.stop()


PENDING_ORDERS = """
import json
from datetime import timedelta
from django.db.models import Q
from django.utils import timezone
from payments.models import Order, OrderItem
from products.models import Product
orders = []
free = Product.objects.filter(in_stock=True, held_by=None).order_by("pk")[:{count}]
for n, piece in enumerate(free):
    order = Order.objects.create(
        items_total=piece.price, total=piece.price, shopper_id="faults",
        stripe_session_id=f"cs_test_faults_{{timezone.now().timestamp():.0f}}_{{n}}",
    )
    OrderItem.objects.create(order=order, product=piece, name=piece.name, price=piece.price)
    Product.objects.filter(pk=piece.pk).update(
        held_by=order, held_until=timezone.now() + timedelta(minutes=33)
    )
    orders.append([order.reference, order.stripe_session_id, int(order.total * 100)])
print(json.dumps(orders))
"""


def pending_orders(shop: Shop, count: int) -> list[list]:
    """`count` pending orders holding a piece each, as Commander leaves them:
    [[reference, session id, amount in cents], ...]."""
    orders = shop.shell(PENDING_ORDERS.format(count=count))
    assert len(orders) == count, "not enough pieces on sale"
    return orders


def paid_event(order: list, *, amount: int | None = None, n: int = 0) -> dict:
    """Stripe's `checkout.session.completed` for one of `pending_orders`."""
    reference, session_id, cents = order
    return {
        "id": f"evt_faults_{session_id}_{n}",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": cents if amount is None else amount,
                "currency": "eur",
                "client_reference_id": reference,
                "metadata": {"order_id": reference},
                "payment_intent": f"pi_faults_{session_id}",
                "customer_details": {"email": f"client-{reference.lower()}@example.com"},
            }
        },
    }


# --- Neighbours that misbehave --------------------------------------------------------------


class HungPort:
    """Accepts connections and never answers, until `answer(port)` lets new ones through to
    a real server (the connections it held stay dead: their senders gave up)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(128)
        self.port = self.server.getsockname()[1]
        self.target: int | None = None
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def answer(self, port: int) -> None:
        self.target = port

    def hang(self) -> None:
        self.target = None

    def _accept(self) -> None:
        self.server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            if self.target is None:
                self.held.append(conn)
            else:
                threading.Thread(target=self._pipe, args=(conn, self.target), daemon=True).start()

    def _pipe(self, client: socket.socket, port: int) -> None:
        upstream = socket.create_connection(("127.0.0.1", port))

        def copy(source: socket.socket, sink: socket.socket) -> None:
            with contextlib.suppress(OSError):
                while data := source.recv(65536):
                    sink.sendall(data)
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

        threading.Thread(target=copy, args=(upstream, client), daemon=True).start()
        copy(client, upstream)

    def close(self) -> None:
        self._stop.set()
        for conn in self.held:
            conn.close()
        self.server.close()


@pytest.fixture
def hung_port() -> Iterator[HungPort]:
    port = HungPort()
    yield port
    port.close()


@pytest.fixture
def closed_port() -> int:
    return closed_port_number()


class MailServer:
    """aiosmtpd on the loopback, behind a HungPort: `port` is where the shop sends."""

    def __init__(self, *, delay: float = 0.0) -> None:
        from aiosmtpd.controller import Controller

        self.received: list[tuple[str, str, tuple[str, ...]]] = []  # (Message-ID, subject, to)
        self.delay = delay
        self._lock = threading.Lock()
        mail_server = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import asyncio
                from email import message_from_bytes, policy

                if mail_server.delay:
                    await asyncio.sleep(mail_server.delay)
                message = message_from_bytes(envelope.content, policy=policy.default)
                with mail_server._lock:
                    mail_server.received.append(
                        (
                            str(message["Message-ID"]),
                            str(message["Subject"]),
                            tuple(envelope.rcpt_tos),
                        )
                    )
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.front = HungPort()
        self.front.answer(self.controller.port)
        self.port = self.front.port

    def hang(self) -> None:
        self.front.hang()

    def answer(self) -> None:
        self.front.answer(self.controller.port)

    def ids(self) -> list[str]:
        with self._lock:
            return [message_id for message_id, _, _ in self.received]

    def close(self) -> None:
        self.front.close()
        self.controller.stop()


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    try:
        import aiosmtpd  # noqa: F401
    except ImportError:
        _missing("aiosmtpd is not installed (requirements-dev.txt)")
    server = MailServer()
    yield server
    server.close()


@pytest.fixture
def stripe():
    """bench/stripe_stub.py on a free port: `stripe.start(latency=...)`."""
    sys.path.insert(0, str(BASE_DIR))
    from bench import stripe_stub

    servers = []

    class Stub:
        def start(self, *, latency: float = 0.0) -> int:
            port = free_port()
            servers.append(stripe_stub.start(port, latency=latency))
            return port

    yield Stub()
    for server in servers:
        server.shutdown()
        server.server_close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report(name: str, **figures) -> None:
    """The figures of a fault, printed (`make faults` shows them with -s) and kept for the
    run's summary."""
    line = ", ".join(f"{key}={value}" for key, value in figures.items())
    print(f"\nFAULT FIGURES {name}: {line}")
    FIGURES.append(f"{name}: {line}")


FIGURES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("fault figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
