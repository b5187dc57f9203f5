"""The processes a bench run starts: free ports, gunicorn as the Procfile runs it, a private
redis-server, a mail server (bench/smtp_sink.py); each stopped whatever happens."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


@contextlib.contextmanager
def smtp_sink(workdir: Path):
    """A local SMTP server for the run (bench/smtp_sink.py): yields the shop's EMAIL_URL and
    the file where each message it received is one line."""
    port, received = free_port(), workdir / "mails.txt"
    received.touch()
    command = [
        sys.executable,
        str(Path(__file__).with_name("smtp_sink.py")),
        str(port),
        str(received),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, "the SMTP sink")
        yield f"smtp://127.0.0.1:{port}", received
    finally:
        stop(process)
