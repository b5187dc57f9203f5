"""gunicorn settings, read from the working directory by `gunicorn shop.wsgi` (Procfile `web:`).

The platform gives PORT and WEB_CONCURRENCY; anything else can be overridden without a
deploy through GUNICORN_CMD_ARGS (e.g. `GUNICORN_CMD_ARGS="--timeout 60"`).
"""

import socket
from pathlib import Path

import environ

from shop.logs import build_logging_config

_env = environ.Env()
if Path(".env").is_file():
    environ.Env.read_env(".env")

bind = f"0.0.0.0:{_env.int('PORT', default=8000)}"
# Sync workers, one request each: several processes (and machines) share PostgreSQL, and
# correctness rests on its row locks, never on process memory. Four, not two: a buyer who
# wins a piece waits for Stripe (0.3-0.5 s) inside a worker, and in a drop ten such waits
# on two workers held the whole shop for ~2.5 s, on four ~1 s (BENCHMARKS.md, "The drop").
# A worker forked from the preloaded app adds ~25-50 MB of its own (measured): four and
# the master fit in 512 MB. Platforms that know the machine's memory set WEB_CONCURRENCY.
workers = _env.int("WEB_CONCURRENCY", default=4)

# A request taking longer than this kills its worker: the platform's router gives up after
# 30 s anyway (Heroku); calls to Stripe have their own timeouts (payments/stripe_client.py).
timeout = 30
# On SIGTERM (deploy, restart), finish the requests in flight: platforms wait 30 s before SIGKILL.
graceful_timeout = 25
# Connections from the router are reused between requests.
keepalive = 5
# The application is imported once, by the master, before it forks the workers: a worker
# starts (or is replaced) in milliseconds instead of re-importing Django for a second of
# CPU. A deploy starts new processes, so new code is always loaded.
preload_app = True
# Recycle workers now and then, staggered, so a slow leak never takes the site down. Rare
# enough not to show under load: at 1,000 requests/s it was 18 restarts in a 10 s run with
# 1,000 (BENCHMARKS.md); with the app preloaded a restart is a fork.
max_requests = 20000
max_requests_jitter = 2000
# The worker heartbeat file in memory, not on a possibly slow container disk.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"
# No control socket: nothing uses it, and two servers on one machine would share its path.
control_socket_disable = True

# Logs: the access log on stdout, with the request id Django put on the response, in the
# same format as the application's lines (JSON with DEBUG off, see shop/logs.py).
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
logconfig_dict = build_logging_config(
    log_format=_env.str(
        "LOG_FORMAT", default="plain" if _env.bool("DEBUG", default=False) else "json"
    ),
    level=_env.str("LOG_LEVEL", default="INFO"),
)


# How long the kernel keeps a connection that has sent nothing yet (see when_ready).
DEFER_ACCEPT_SECONDS = 5


def when_ready(server):
    """Hand a connection to a worker only once its request has arrived (Linux's
    TCP_DEFER_ACCEPT, as nginx's `deferred`): a sync worker serves one connection at a time,
    and one accepted before its client has written would hold the worker idle, and every
    request queued behind it, until the request comes (BENCHMARKS.md, "Connections that
    send nothing yet")."""
    option = getattr(socket, "TCP_DEFER_ACCEPT", None)
    if option is None:
        return
    for listener in server.LISTENERS:
        if listener.FAMILY in (socket.AF_INET, socket.AF_INET6):
            listener.sock.setsockopt(socket.IPPROTO_TCP, option, DEFER_ACCEPT_SECONDS)
