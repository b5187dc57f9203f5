"""CPU time per request: what the machine's load cannot blur.

Wall-clock rates move with the other jobs on shared cores; the CPU seconds the server's
processes spend per request do not (much), and they say how many requests per second the
cores could carry.
"""

import os
import time
from pathlib import Path

SERVERS: dict[int, int] = {}  # port -> gunicorn master pid
MAIL_WORKER: dict[str, int] = {}  # "pid" -> the send_mails process, with --mail-worker


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
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


def children(pid: int) -> list[int]:
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
            master: cpu_seconds(master, reaped_children=True),
            **{pid: cpu_seconds(pid) for pid in children(master)},
        },
        "db": {pid: cpu_seconds(pid) for pid in backends},
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
