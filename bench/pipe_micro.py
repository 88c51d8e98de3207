"""Micro-benchmark: bytes per second through one in-process pipe.

    python bench/pipe_micro.py [--mb 2048] [--chunk 65536]

Runs a producer writing `chunk`-sized bytes objects and a consumer reading
with the default read size (and, separately, a line-counting consumer like
`wc -l`), and prints MB/s plus the per-chunk overhead in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

# bench/ holds scripts named like stdlib modules (json.py); keep them off sys.path
# before the package (which imports json) is loaded.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

from kaish_kernel.scheduler.pipe_stream import pipe_stream_default  # noqa: E402


async def _through_pipe(total: int, chunk: int, count_lines: bool) -> float:
    writer, reader = pipe_stream_default()
    block = (b"x" * 63 + b"\n") * (chunk // 64) or b"x" * chunk
    rounds = total // len(block)

    async def produce() -> None:
        for _ in range(rounds):
            await writer.write(block)
        await writer.close()

    async def consume() -> int:
        got = 0
        lines = 0
        while data := await reader.read():
            got += len(data)
            if count_lines:
                lines += data.count(b"\n")
        return got

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(produce())
        got_task = tg.create_task(consume())
    elapsed = time.perf_counter() - start
    assert got_task.result() == rounds * len(block)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=2048)
    parser.add_argument("--chunk", type=int, default=65536)
    args = parser.parse_args()
    total = args.mb * 1024 * 1024
    for label, count in (("raw", False), ("count-lines", True)):
        elapsed = asyncio.run(_through_pipe(total, args.chunk, count))
        chunks = total // args.chunk
        print(
            f"{label:12s} {args.mb} MiB in {elapsed:.3f}s: {args.mb / elapsed:8.0f} MiB/s, "
            f"{elapsed / chunks * 1e6:.2f} us per {args.chunk}-byte chunk"
        )


if __name__ == "__main__":
    main()
