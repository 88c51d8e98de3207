"""Micro-benchmark: PipelineRunner against bash for `cat FILE | wc -l`.

    python bench/pipeline_micro.py [FILE] [--mb 512]

Without FILE, a temporary text file of `--mb` MiB (63-byte lines) is made.
Three kaish-shaped runs are timed next to `bash -c 'cat F | wc -l'`:

- builtin-like stages: an in-process cat and an in-process line counter
  (256 KiB reads, like the text builtins), joined by an in-process pipe;
- two externals (/bin/cat | /usr/bin/wc -l), joined by an OS pipe;
- an external cat feeding the in-process counter (the stdout pump), and
  the in-process cat feeding an external wc (the stdin pump).

Each is the best of `--repeat` runs (the machine may be shared).
Also prints the per-spawn cost of `run_external(["/bin/true"])`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time

# bench/ holds scripts named like stdlib modules (json.py); keep them off sys.path
# before the package (which imports json) is loaded.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

from kaish_kernel.scheduler import (  # noqa: E402
    EMPTY_INPUT,
    CaptureErrorSink,
    CaptureOutput,
    InputStream,
    OutputStream,
    PipelineRunner,
    StageSpec,
    run_external,
)


def _external(*argv: str) -> StageSpec:
    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        return await run_external(
            list(argv), cwd="/", env={}, stdin=stdin, stdout=stdout, stderr=CaptureErrorSink()
        )

    return StageSpec(stage, external=True)


def _cat(path: str) -> StageSpec:
    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        fd = os.open(path, os.O_RDONLY)
        try:
            while chunk := os.read(fd, 262144):
                await stdout.write(chunk)
        finally:
            os.close(fd)
        return 0

    return StageSpec(stage)


def _count_lines() -> StageSpec:
    async def stage(stdin: InputStream, stdout: OutputStream) -> int:
        lines = 0
        while chunk := await stdin.read(262144):
            lines += chunk.count(b"\n")
        await stdout.write(f"{lines}\n".encode())
        return 0

    return StageSpec(stage)


async def _time_pipeline(stages: list[StageSpec]) -> tuple[float, bytes]:
    out = CaptureOutput()
    start = time.perf_counter()
    codes = await PipelineRunner().run(
        stages, stdin=EMPTY_INPUT, stdout=out, stderr=CaptureErrorSink()
    )
    elapsed = time.perf_counter() - start
    assert codes == [0] * len(stages), codes
    return elapsed, out.getvalue()


async def _spawn_cost(rounds: int = 200) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        await run_external(
            ["/bin/true"],
            cwd="/",
            env={},
            stdin=EMPTY_INPUT,
            stdout=CaptureOutput(),
            stderr=CaptureErrorSink(),
        )
    return (time.perf_counter() - start) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", nargs="?")
    parser.add_argument("--mb", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = args.file
    cleanup = None
    if path is None:
        handle = tempfile.NamedTemporaryFile(delete=False, suffix=".txt")
        line = b"x" * 62 + b"\n"
        block = line * (1048576 // len(line))
        for _ in range(args.mb):
            handle.write(block)
        handle.close()
        path = cleanup = handle.name
    size_mib = os.path.getsize(path) / 1048576
    try:
        bash = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            bash_out = subprocess.run(
                ["bash", "-c", f"cat '{path}' | wc -l"], capture_output=True, check=True
            ).stdout
            bash = min(bash, time.perf_counter() - start)
        print(f"bash cat | wc -l          {bash:7.3f}s {size_mib / bash:8.0f} MiB/s")
        runs = {
            "builtin cat | builtin wc": [_cat(path), _count_lines()],
            "/bin/cat | /usr/bin/wc -l": [
                _external("/bin/cat", path),
                _external("/usr/bin/wc", "-l"),
            ],
            "/bin/cat | builtin wc": [_external("/bin/cat", path), _count_lines()],
            "builtin cat | /usr/bin/wc": [_cat(path), _external("/usr/bin/wc", "-l")],
        }
        for label, stages in runs.items():
            elapsed = float("inf")
            for _ in range(args.repeat):
                took, out = asyncio.run(_time_pipeline(stages))
                assert out.strip() == bash_out.strip(), (out, bash_out)
                elapsed = min(elapsed, took)
            print(
                f"{label:25s} {elapsed:7.3f}s {size_mib / elapsed:8.0f} MiB/s"
                f"  ({bash / elapsed:.2f}x bash)"
            )
        print(f"run_external(/bin/true)   {asyncio.run(_spawn_cost()) * 1e3:.2f} ms per spawn")
    finally:
        if cleanup:
            os.unlink(cleanup)


if __name__ == "__main__":
    main()
