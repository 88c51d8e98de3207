"""Start-up time: `kaish -c true` next to `bash -c true` and `python -c pass`.

    python bench/startup.py [--runs 30] [--kaish PATH] [--python PATH]

Each command is run `--runs` times, interleaved (one of each per round) so a
load spike on a shared machine hits all of them alike. For every run the
wall time and the child's CPU time (user + system, from `os.wait4`) are
recorded; the medians and the best are printed. The target is a median
under 150 ms for `kaish -c true`; CPU time is the steadier number when
other work competes for the processors.

The interpreter is the one that runs `kaish` (the venv's), so `python -c
pass` is the floor any Python program pays, `.pth` hooks included, and
`python asyncio` (importing asyncio, with ssl hidden as the kaish CLI does)
the floor of any asyncio program: kaish's own share is the difference.

`--instructions` also counts the instructions each command executes, under
valgrind (cachegrind, no cache simulation): slow, but the same number on a
busy machine as on a quiet one, so it shows what a change saved.

Bytecode: `kaish` writes its own package's bytecode even when
PYTHONDONTWRITEBYTECODE is set (see kaish_kernel/cli.py), so the first run
after an install or an edit compiles and later runs do not; the warm-up run
below takes that cost. `python -m compileall -q kaish_kernel` does the same
ahead of time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_VENV_BIN = os.path.dirname(sys.executable)


def _run_once(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and child CPU seconds of one run of `argv` (output discarded)."""
    devnull = os.open(os.devnull, os.O_RDWR)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    os.close(devnull)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv!r} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime


def _instructions(argv: list[str]) -> int | None:
    """Instructions `argv` executes (valgrind's `I refs`), or None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    cmd = [
        valgrind,
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        *argv,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    match = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    return int(match.group(1).replace(",", "")) if match else None


def _find(name: str, override: str | None) -> str:
    if override:
        return override
    local = os.path.join(_VENV_BIN, name)
    if os.access(local, os.X_OK):
        return local
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--kaish", help="the kaish executable (default: next to this Python)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions under valgrind"
    )
    opts = parser.parse_args()

    commands = {
        "kaish -c true": [_find("kaish", opts.kaish), "-c", "true"],
        "bash -c true": [_find("bash", None), "-c", "true"],
        "python -c pass": [opts.python, "-c", "pass"],
        # the floor for any asyncio program (ssl hidden, as the kaish CLI does)
        "python asyncio": [
            opts.python,
            "-c",
            "import sys; sys.modules['ssl'] = None; import asyncio",
        ],
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm the page cache and any bytecode caches
        _run_once(argv)
    for _ in range(opts.runs):
        for name, argv in commands.items():
            wall, cpu = _run_once(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)

    print(
        f"{'command':<16} {'wall median':>12} {'wall best':>10} {'cpu median':>11} {'cpu best':>9}   ({opts.runs} runs)"
    )
    for name in commands:
        print(
            f"{name:<16} {statistics.median(walls[name]) * 1000:>10.1f}ms"
            f" {min(walls[name]) * 1000:>8.1f}ms"
            f" {statistics.median(cpus[name]) * 1000:>9.1f}ms"
            f" {min(cpus[name]) * 1000:>7.1f}ms"
        )
    if opts.instructions:
        for name, argv in commands.items():
            count = _instructions(argv)
            shown = "valgrind not found" if count is None else f"{count / 1e6:.0f}M instructions"
            print(f"{name:<16} {shown}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
