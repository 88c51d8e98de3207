"""Benchmark: scatter/gather fan-out, kaish against xargs.

    python bench/scatter.py [--items 2000] [--repeat 5]

Case 1 — per-item overhead of in-process workers, in one run:

    kaish:  seq 1 N | scatter --limit 8 | echo "$ITEM" | gather
    bash:   seq 1 N | xargs -P 8 -n 1 echo > /dev/null

kaish runs in-process (`Shell.execute`; each worker is a snapshot of the
session running the echo builtin) and end to end (`kaish -c`, start-up
included); bash forks one echo per item. Each is the best of `--repeat`
runs. Per-item overhead is the whole pipeline's time divided by N, so it
also pays for seq and for building the rows. Targets: kaish at least 10x
faster than xargs, under 100 us per item. The machine may be shared: the
load average and kaish's CPU time per item are printed beside wall time.

Case 2 — the limit really bounds external workers:

    seq 1 40 | scatter --limit 8 | /bin/sleep 0.1 | gather

Five waves of 0.1 s: about 0.5 s in total. Concurrency is measured twice,
from timestamps: the scatter progress callback (workers running at each
start and finish) and a sampler counting live `/bin/sleep 0.1` children of
this process (a thread scanning /proc, about every 2 ms). Neither may ever see more than 8.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import threading
import time

# bench/ holds scripts named like stdlib modules (json.py); keep them off sys.path
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

from kaish_kernel.scheduler.scatter import ScatterProgress  # noqa: E402
from kaish_kernel.scheduler.stage import CaptureOutput  # noqa: E402
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink  # noqa: E402
from kaish_kernel.shell import Shell  # noqa: E402

KAISH = os.path.join(os.path.dirname(sys.executable), "kaish")
LIMIT = 8


def _shell() -> Shell:
    return Shell(env={"PATH": os.environ.get("PATH", os.defpath)})


async def _kaish_once(shell: Shell, source: str) -> tuple[float, float, int, int]:
    out, err = CaptureOutput(), CaptureErrorSink()
    wall, cpu = time.perf_counter(), time.process_time()
    result = await shell.execute(source, stdout=out, stderr=err)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, result.code, out.getvalue().count(b"\n") + 1


def _external_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def overhead(items: int, repeat: int) -> bool:
    source = f'seq 1 {items} | scatter --limit {LIMIT} | echo "$ITEM" | gather'
    xargs = f"seq 1 {items} | xargs -P {LIMIT} -n 1 echo > /dev/null"

    async def kaish_runs() -> list[tuple[float, float]]:
        shell = _shell()
        runs = []
        try:
            for _ in range(repeat):
                wall, cpu, code, rows = await _kaish_once(shell, source)
                if code != 0 or rows != items:
                    raise SystemExit(f"kaish run failed: exit {code}, {rows} rows")
                runs.append((wall, cpu))
        finally:
            await shell.close()
        return runs

    k_wall, k_cpu = min(asyncio.run(kaish_runs()))
    c_wall = min(_external_once([KAISH, "-c", source]) for _ in range(repeat))
    x_wall = min(_external_once(["bash", "-c", xargs]) for _ in range(repeat))
    per_item = k_wall / items * 1e6
    ratio = x_wall / k_wall
    print(f"case 1: {items} items, limit {LIMIT}, best of {repeat} (load average {os.getloadavg()[0]:.1f})")
    print(f"  kaish  {source}")
    print(f"         in-process {k_wall * 1000:8.1f} ms  {per_item:7.1f} us/item (cpu {k_cpu / items * 1e6:.1f} us/item)")
    print(f"         kaish -c   {c_wall * 1000:8.1f} ms  {c_wall / items * 1e6:7.1f} us/item (start-up included)")
    print(f"  bash   {xargs}")
    print(f"                    {x_wall * 1000:8.1f} ms  {x_wall / items * 1e6:7.1f} us/item")
    print(f"  ratio xargs / kaish: {ratio:.1f}x in-process, {x_wall / c_wall:.1f}x with kaish -c")
    ok = ratio >= 10 and per_item < 100
    cpu_ok = k_cpu / items * 1e6 < 100
    print(
        f"  targets (>= 10x, < 100 us/item): {'met' if ok else 'NOT met on wall time'}"
        + ("" if ok else f"; cpu per item {'under' if cpu_ok else 'over'} 100 us")
    )
    return ok


def _children_sleeping(marker: bytes) -> int:
    """Live processes whose parent is us and whose command line is `marker`."""
    me = os.getpid()
    count = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            if fields[0] == b"Z" or int(fields[1]) != me:
                continue
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                if handle.read() == marker:
                    count += 1
        except (OSError, IndexError, ValueError):
            continue
    return count


def concurrency() -> bool:
    items, seconds = 40, 0.1
    source = f"seq 1 {items} | scatter --limit {LIMIT} | /bin/sleep {seconds} | gather"
    marker = b"/bin/sleep\x00" + str(seconds).encode() + b"\x00"
    events: list[tuple[float, ScatterProgress]] = []
    samples: list[tuple[float, int]] = []

    async def main() -> tuple[float, int]:
        shell = _shell()
        shell.set_scatter_progress(lambda p: events.append((time.perf_counter(), p)))
        stop = threading.Event()

        def sample() -> None:  # a thread, so scanning /proc never holds up the loop
            while not stop.is_set():
                samples.append((time.perf_counter(), _children_sleeping(marker)))
                stop.wait(0.002)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            start = time.perf_counter()
            _, _, code, _ = await _kaish_once(shell, source)
            return start, code
        finally:
            stop.set()
            sampler.join()
            await shell.close()

    start, code = asyncio.run(main())
    total = events[-1][0] - start
    peak_progress = max(p.running for _, p in events)
    peak_sampled = max(n for _, n in samples)
    starts = [t - start for (_, p), (t, q) in itertools.pairwise(events) if q.running > p.running]
    waves = [round(t, 2) for t in starts[::LIMIT]]
    print(f"case 2: {source}")
    print(f"  exit {code}, finished after {total:.3f} s (five waves of {seconds} s: ~0.5 s when idle)")
    print(f"  running workers, from progress timestamps: max {peak_progress} (limit {LIMIT})")
    print(f"  live /bin/sleep children, sampled from /proc: max {peak_sampled} over {len(samples)} samples")
    print(f"  a wave starts at (s): {waves}")
    ok = code == 0 and peak_progress <= LIMIT and peak_sampled <= LIMIT
    print(f"  bound held: {'yes' if ok else 'NO'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    overhead(args.items, args.repeat)
    print()
    return 0 if concurrency() else 1


if __name__ == "__main__":
    raise SystemExit(main())
