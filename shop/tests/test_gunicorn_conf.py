"""gunicorn.conf.py as the Procfile's `web:` line reads it, in a real gunicorn."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def one_worker():
    """gunicorn with the project's settings and a single sync worker, on 127.0.0.1."""
    port = free_port()
    env = {**os.environ, "WEB_CONCURRENCY": "1", "LOG_LEVEL": "WARNING"}
    command = [str(GUNICORN), "shop.tests.wsgi_hello", "--bind", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.skipif(not hasattr(socket, "TCP_DEFER_ACCEPT"), reason="Linux socket option")
def test_a_connection_that_sends_nothing_does_not_hold_the_worker(one_worker):
    """A sync worker serves one connection at a time: one accepted before its client wrote
    anything would keep it waiting (up to `timeout`, 30 s) while others queue behind."""
    idle = socket.create_connection(("127.0.0.1", one_worker))
    try:
        time.sleep(0.2)  # the idle connection is first in line
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", one_worker), timeout=5) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = client.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 OK")
        assert time.monotonic() - started < 2
    finally:
        idle.close()
