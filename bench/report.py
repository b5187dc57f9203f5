"""The run's table: each scenario's rate, latencies, errors, its ratio to the bare view
measured just before it, and CPU per request; and the machine it ran on."""

import contextlib
import os
import re
from pathlib import Path

from load import Run


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
