"""Benchmark: spawning background jobs, kaish against bash.

    python bench/jobs.py [--jobs 1000] [--repeat 5]

Times, in one run,

    for i in $(seq 1 N); do true & done; wait

in kaish (in-process through `Shell.execute`, and end to end through
`kaish -c`, start-up included) and in `bash -c`, each the best of
`--repeat` runs (the machine may be shared: the load average is printed),
and prints the ratio. Target: kaish at least as fast as bash. kaish's `&`
starts a task in a snapshot of the session; bash forks a process per job.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

# bench/ holds scripts named like stdlib modules (json.py); keep them off sys.path
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

from kaish_kernel.scheduler.stage import CaptureOutput  # noqa: E402
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink  # noqa: E402
from kaish_kernel.shell import Shell  # noqa: E402

KAISH = os.path.join(os.path.dirname(sys.executable), "kaish")


def script(jobs: int) -> str:
    return f"for i in $(seq 1 {jobs}); do true & done; wait"


async def _kaish_once(source: str) -> tuple[float, float, int, int]:
    """(wall, cpu, exit code, jobs still listed) for one fresh Shell."""
    shell = Shell(env={"PATH": os.environ.get("PATH", os.defpath)})
    out, err = CaptureOutput(), CaptureErrorSink()
    wall, cpu = time.perf_counter(), time.process_time()
    result = await shell.execute(source, stdout=out, stderr=err)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    listed = len(shell.jobs.list_ids())
    await shell.close()
    return wall, cpu, result.code, listed


def _external_once(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU of the child and everything it waited for)."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    source = script(args.jobs)

    kaish_runs = []
    for _ in range(args.repeat):
        wall, cpu, code, listed = asyncio.run(_kaish_once(source))
        if code != 0:
            print(f"kaish run failed with exit code {code}", file=sys.stderr)
            return 1
        kaish_runs.append((wall, cpu))
    cli_runs = [_external_once([KAISH, "-c", source]) for _ in range(args.repeat)]
    bash_runs = [_external_once(["bash", "-c", source]) for _ in range(args.repeat)]

    k_wall, k_cpu = min(kaish_runs)
    c_wall, _ = min(cli_runs)
    b_wall, b_cpu = min(bash_runs)
    n = args.jobs
    print(f"{source!r}   ({n} jobs, best of {args.repeat}; load average {os.getloadavg()[0]:.1f})")
    print(f"  kaish (Shell.execute)  {k_wall * 1000:8.1f} ms  {k_wall / n * 1e6:7.1f} us/job   cpu {k_cpu / n * 1e6:6.1f} us/job")
    print(f"  kaish -c (with start)  {c_wall * 1000:8.1f} ms  {c_wall / n * 1e6:7.1f} us/job")
    print(f"  bash -c                {b_wall * 1000:8.1f} ms  {b_wall / n * 1e6:7.1f} us/job   cpu {b_cpu / n * 1e6:6.1f} us/job")
    print(f"  ratio bash / kaish: {b_wall / k_wall:.1f}x (in-process), {b_wall / c_wall:.1f}x (kaish -c)")
    print(f"  finished jobs kept after the run: {listed} (retention 100)")
    verdict = "kaish is at least as fast as bash" if k_wall <= b_wall else "kaish is SLOWER than bash"
    print(f"  target (kaish <= bash): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
