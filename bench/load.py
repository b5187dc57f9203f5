"""wrk: one URL as fast as it goes, or a file of requests at a given rate
(bench/lua/requests.lua); each run's figures as a `Run`."""

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from clients import ROUTER_HEADERS
from cpu import cpu_per_request, cpu_snapshot
from profiling import profile_end, profile_start

LUA = Path(__file__).resolve().parent / "lua"


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
    bytes: int = 0  # received, headers included

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
        bytes=data["bytes"],
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
