"""--profile DIR: py-spy samples the shop's workers during each of its runs, and a summary of
where their time went."""

import os
import re
import subprocess
import sys
from pathlib import Path

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
