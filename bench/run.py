"""`make bench`: the shop at its machine's limit, beside a bare Django view, in one run.

    .venv/bin/python bench/run.py [--seconds 5] [--connections 16] [--threads 2]
                                  [--orders 1000] [--no-growth] [--json FILE]

Needs PostgreSQL ($BENCH_DATABASE_URL, else $DATABASE_URL: only its server and credentials
are used), `wrk` and `nginx` (Debian's packages; `make bench` installs them when run as root),
`redis-server` (a private one is started on a free port, unless $BENCH_CACHE_URL names one)
and aiosmtpd (requirements-dev.txt: the local mail server the shop sends to).

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
   10 sales, none twice, every other buyer refused cleanly); the proxied drop (the same behind
   nginx's proxy_cache, bench/proxy.py, with ten times the pollers as fast as it answers:
   polls per second at the proxy beside gunicorn's alone, the polls that reached gunicorn,
   at most one per id set per STOCK_SHARED_SECONDS, exactly 10 sales).
4. Unless --no-growth: brings the shop to 10,000 pieces and measures the pages again.
5. Stops everything and drops the database. Exits 1 when a correctness check fails or a
   request errs.
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import stripe_stub
from cpu import MAIL_WORKER, SERVERS, children
from drop import drop
from load import Run
from profiling import PROFILE
from proxy import Proxy
from report import machine, report
from scenarios import pages, webhook
from servers import ROOT, free_port, gunicorn, redis_cache, smtp_sink, stop
from shop_data import WEBHOOK_SECRET, create_database, drop_database, load_pieces

# bench/ is this script's folder, first on the path; the shop's packages are beside it.
sys.path.insert(0, str(ROOT))


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
    parser.add_argument(
        "--only", default="", help="comma-separated: pages,webhook,drop,proxy (the proxied drop)"
    )
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


def main() -> int:
    args = parse_args()
    # Stopped from outside (timeout, kill): clean up as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    server_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        print(
            "make bench needs PostgreSQL: set DATABASE_URL (or BENCH_DATABASE_URL) to "
            "postgres://user:password@127.0.0.1:5432/name; a throwaway database is created "
            "beside it and dropped afterwards.",
            file=sys.stderr,
        )
        return 2
    missing = [tool for tool in ("wrk", "nginx") if not shutil.which(tool)]
    if missing:
        print(
            f"make bench needs {' and '.join(missing)}: apt-get install wrk nginx-light",
            file=sys.stderr,
        )
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="boutique-bench-"))
    db_name = None
    processes: list[subprocess.Popen] = []
    stub = None
    ok = False
    started = time.monotonic()
    try:
        with redis_cache(workdir) as cache_url, smtp_sink(workdir) as (mail_url, args.mails):
            db_name, db_url = create_database(server_url)
            shop_port, bare_port, stub_port = free_port(), free_port(), free_port()
            stub = stripe_stub.start(stub_port, latency=args.stripe_latency)
            env = shop_environment(args, workdir, db_url, cache_url, mail_url, stub_port)
            prepare_shop(env, args)
            processes += start_servers(env, args, workdir, shop_port, bare_port)
            ok = measure(args, workdir, shop_port, bare_port, started=started)
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


def shop_environment(
    args, workdir: Path, db_url: str, cache_url: str, mail_url: str, stub_port: int
) -> dict[str, str]:
    """The production settings of the README, with bench values for the secrets; e-mail over
    SMTP to the bench's local mail server."""
    return {
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
        # Refused on this machine's addresses with DEBUG off (shop/public_url.py); nothing
        # follows a link to it (.test never resolves, RFC 6761).
        "APP_URL": "https://boutique-bench.test",
        "STATIC_ROOT": str(workdir / "static"),
        "MEDIA_ROOT": str(workdir / "media"),
        "OWNER_EMAIL": "proprietaire@example.com",
        "EMAIL_URL": mail_url,
        "MAIL_WORKER": "true" if args.mail_worker else "false",
        "PYTHONWARNINGS": "ignore",
    }


def prepare_shop(env: dict[str, str], args) -> None:
    """Django in this process, on the throwaway database: migrated, static files collected,
    --pieces pieces loaded, an empty cache."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    load_pieces(args.pieces)
    cache.clear()


def start_servers(
    env: dict[str, str], args, workdir: Path, shop_port: int, bare_port: int
) -> list[subprocess.Popen]:
    """The shop and the bare site under gunicorn, and the send_mails worker if asked."""
    log = workdir / "gunicorn.log"
    shop = gunicorn("shop.wsgi", shop_port, env, log)
    SERVERS[shop_port] = shop.pid
    SERVERS[-1] = shop_port  # whose database backends count
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        PROFILE["dir"] = args.profile
        PROFILE["masters"][shop_port] = shop.pid
    bare = gunicorn("bare.wsgi", bare_port, env, log, "--pythonpath", "bench")
    SERVERS[bare_port] = bare.pid
    args.bare_port = bare_port
    processes = [shop, bare]
    if args.mail_worker:
        with open(log, "ab") as out:
            command = [sys.executable, "manage.py", "send_mails", "--interval", "0.5"]
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out))
        MAIL_WORKER["pid"] = processes[-1].pid
    return processes


def measure(args, workdir: Path, shop_port: int, bare_port: int, *, started: float) -> bool:
    """The scenarios asked for (--only), the growth check, the report; whether every
    correctness check passed and no request erred."""
    from django.core.cache import cache

    only = set(filter(None, args.only.split(","))) or {"pages", "webhook", "drop", "proxy"}
    ok = True
    runs: list[Run] = []
    saturation = {}
    if only & {"pages", "drop", "proxy"}:
        saturation = pages("", shop_port, bare_port, args, runs)
    if "webhook" in only:
        ok = webhook(shop_port, args, workdir, runs) and ok
    if "drop" in only:
        ok = drop(shop_port, args, workdir, saturation, runs) and ok
    if "proxy" in only:
        proxy = Proxy(free_port(), shop_port)
        try:
            ok = drop(shop_port, args, workdir, saturation, runs, proxy=proxy) and ok
        finally:
            proxy.stop()
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
        f"(Procfile, gunicorn.conf.py, {len(children(SERVERS[shop_port]))} workers), "
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
    return ok


if __name__ == "__main__":
    sys.exit(main())
