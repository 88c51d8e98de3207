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

Case 3 — the Dask column (needs the [dask] extra; --no-dask leaves it out).
A `distributed.LocalCluster` of worker processes (one thread each) is
started here; its start-up and the first run (workers import kaish) are not
timed. Per-item overhead, local against Dask (2 workers):

    seq 1 N | scatter [--engine dask] --limit L | echo "$ITEM" | gather

and throughput for a CPU-bound worker, a checksum over generated data
computed by kaish builtins (in-process Python, so one process cannot run two
at once):

    seq 1 8 | scatter --limit 8 | seq $((ITEM * 100000)) … | awk '{ s = (s * 31 + $1) % P } …' | gather

on the local engine, then on 1 and on 2 Dask workers: two workers should
take about half the time of one (the machine has 2 cores; shared machines
get less). The rows of every run must be equal to the local rows.
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


DASK_ITEMS = 500  # items for the Dask per-item overhead
CPU_ITEMS = 8
CPU_WORKER = (
    "seq $((ITEM * 100000)) $((ITEM * 100000 + 99999))"
    " | awk '{ s = (s * 31 + $1) % 1000000007 } END { print s }'"
)


async def _best(shell: Shell, source: str, repeat: int) -> tuple[float, str]:
    """The best wall time of `repeat` runs (after one untimed warm-up), and the rows."""
    runs: list[float] = []
    rows = ""
    for attempt in range(repeat + 1):
        out, err = CaptureOutput(), CaptureErrorSink()
        start = time.perf_counter()
        result = await shell.execute(source, stdout=out, stderr=err)
        elapsed = time.perf_counter() - start
        if result.code != 0:
            raise SystemExit(f"{source!r} failed: exit {result.code}: {err.text()}")
        rows = out.getvalue().decode()
        if attempt:
            runs.append(elapsed)
    return min(runs), rows


def _noop(i: int) -> int:
    return i


async def _plain_dask(address: str, items: int, limit: int, repeat: int) -> float:
    """Dask's own cost: no-op tasks, submitted with the same bound in flight."""
    from distributed import Client

    async with Client(address, asynchronous=True) as client:
        best = float("inf")
        for _ in range(repeat + 1):
            permits = asyncio.Semaphore(limit)
            start = time.perf_counter()

            async def one(i: int, permits: asyncio.Semaphore = permits) -> None:
                try:
                    await client.submit(_noop, i, pure=False)
                finally:
                    permits.release()

            async with asyncio.TaskGroup() as group:
                for i in range(items):
                    await permits.acquire()
                    group.create_task(one(i))
            best = min(best, time.perf_counter() - start)
        return best


def dask_column(repeat: int) -> bool:
    try:
        from distributed import LocalCluster
    except ImportError:
        print("case 3: skipped (the [dask] extra is not installed: pip install 'kaish-kernel[dask]')")
        return True
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)

    plain: list[float] = []

    def on(workers: int, sources: list[str]) -> list[tuple[float, str]]:
        with LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster:

            async def runs() -> list[tuple[float, str]]:
                shell = _shell()
                shell.set_var("KAISH_SCATTER_ENGINE", "dask")
                shell.set_var("KAISH_DASK_SCHEDULER", cluster.scheduler_address)
                try:
                    return [await _best(shell, source, repeat) for source in sources]
                finally:
                    await shell.close()

            timed = asyncio.run(runs())
            if workers == 2:
                for limit in (8, 64):
                    plain.append(asyncio.run(_plain_dask(cluster.scheduler_address, DASK_ITEMS, limit, repeat)))
            return timed

    async def local(sources: list[str]) -> list[tuple[float, str]]:
        shell = _shell()
        try:
            return [await _best(shell, source, repeat) for source in sources]
        finally:
            await shell.close()

    echo = [f'seq 1 {DASK_ITEMS} | scatter --limit {limit} | echo "$ITEM" | gather' for limit in (8, 64)]
    cpu = f"seq 1 {CPU_ITEMS} | scatter --limit {CPU_ITEMS} | {CPU_WORKER} | gather"
    local_runs = asyncio.run(local([*echo, cpu]))
    one = on(1, [cpu])
    two = on(2, [*echo, cpu])
    print(f"case 3: the Dask engine on a LocalCluster, best of {repeat} (load average {os.getloadavg()[0]:.1f})")
    print(f"  per-item overhead, {DASK_ITEMS} items of echo \"$ITEM\", 2 workers:")
    for index, limit in enumerate((8, 64)):
        (l_wall, l_rows), (d_wall, d_rows) = local_runs[index], two[index]
        print(
            f"    --limit {limit:<3} local {l_wall / DASK_ITEMS * 1e6:8.1f} us/item"
            f"   dask {d_wall / DASK_ITEMS * 1e6:8.1f} us/item"
            f"   rows equal: {'yes' if l_rows == d_rows else 'NO'}"
            f"   (a no-op Dask task: {plain[index] / DASK_ITEMS * 1e6:.1f} us)"
        )
    (l_wall, l_rows), (one_wall, one_rows), (two_wall, two_rows) = local_runs[-1], one[0], two[-1]
    print(f"  CPU-bound: {CPU_ITEMS} checksums of 100000 generated lines (kaish seq | awk)")
    print(f"    local engine       {l_wall:7.2f} s   {CPU_ITEMS / l_wall:5.2f} items/s")
    print(f"    dask, 1 worker     {one_wall:7.2f} s   {CPU_ITEMS / one_wall:5.2f} items/s")
    print(f"    dask, 2 workers    {two_wall:7.2f} s   {CPU_ITEMS / two_wall:5.2f} items/s")
    speedup = one_wall / two_wall
    equal = l_rows == one_rows == two_rows
    print(f"    2 workers / 1 worker: {speedup:.2f}x speed-up; rows equal to local: {'yes' if equal else 'NO'}")
    return equal and all(mine == theirs for (_, mine), (_, theirs) in zip(local_runs, two, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-dask", action="store_true", help="leave out case 3 (the Dask column)")
    args = parser.parse_args()
    overhead(args.items, args.repeat)
    print()
    ok = concurrency()
    if not args.no_dask:
        print()
        ok = dask_column(min(args.repeat, 3)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
