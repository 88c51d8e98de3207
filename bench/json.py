"""Benchmark: kaish's jq against the jq CLI on a large JSON document.

    python bench/json.py [--mb 50] [--repeat 3] [--kaish PATH] [--dir DIR] [--in-process]

Generates a ~50 MB JSON document (a record with an `items` list of
records), then for each filter times

    kaish -c 'cat big.json | jq FILTER'      (the whole kaish CLI, pipeline included)
    jq FILTER big.json                       (the jq CLI reading the file itself)

and prints the best of `--repeat` runs, wall-clock and CPU (user+sys), and
their ratios (target: kaish no worse than 2x). CPU time is the steadier
measure on a busy machine. Outputs are compared byte for byte. `kaish -c true`
is timed too, so the fixed start-up cost can be told apart.

The jq CLI comes from Debian (`apt-get install -y jq`), installed here if
missing. kaish uses the `jq` package's libjq, which that package compiles
without optimisation; `KAISH_LIBJQ=/usr/lib/x86_64-linux-gnu/libjq.so.1
python bench/json.py` measures kaish on the distribution's build instead. `--in-process` times the jq builtin directly (no CLI, no pipeline),
which works even before the kaish CLI exists.
"""

from __future__ import annotations

import os
import sys

# Run as `python bench/json.py`, this file's directory heads sys.path and the
# file itself would shadow the standard `json` module for everything below.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import asyncio
import json
import random
import resource
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

FILTERS: tuple[tuple[str, str], ...] = (
    ("count", ".items | length"),
    ("select", "[.items[] | select(.active and .score > 50) | .id] | length"),
    ("pick one", ".items[1234]"),
    ("group", "[.items[] | .tags[0]] | group_by(.) | map({k: .[0], n: length})"),
    ("stream ids", "-c .items[].id"),
)


def generate(path: Path, megabytes: int) -> None:
    """A deterministic document of about `megabytes` MB."""
    rng = random.Random(42)
    words = ["alpha", "beta", "gamma", "delta", "kappa", "omega", "sigma", "tau"]
    target = megabytes * 1_000_000
    with path.open("w") as out:
        out.write('{"meta": {"generator": "kaish bench", "version": 1}, "items": [\n')
        written = 0
        i = 0
        while written < target:
            item = {
                "id": i,
                "name": f"item-{i:07d}",
                "active": rng.random() < 0.5,
                "score": round(rng.random() * 100, 3),
                "tags": rng.sample(words, 3),
                "owner": {"name": rng.choice(words).title(), "uid": rng.randrange(10_000)},
                "note": "é ü — " + " ".join(rng.choices(words, k=8)),
            }
            line = ("" if i == 0 else ",\n") + json.dumps(item, ensure_ascii=False)
            out.write(line)
            written += len(line.encode())
            i += 1
        out.write("\n]}\n")


def ensure_jq_cli() -> str | None:
    found = shutil.which("jq")
    if found:
        return found
    command = ["apt-get", "install", "-y", "jq"]
    if os.geteuid() != 0 and shutil.which("sudo"):
        command.insert(0, "sudo")
    print("jq CLI not found; running:", " ".join(command), file=sys.stderr)
    try:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"could not install jq: {exc}", file=sys.stderr)
        return None
    return shutil.which("jq")


def default_kaish() -> str | None:
    beside = Path(sys.executable).with_name("kaish")
    if beside.exists():
        return str(beside)
    return shutil.which("kaish")


def best_of(repeat: int, run: Callable[[], bytes]) -> tuple[float, float, bytes]:
    """Best wall-clock and best CPU seconds (user+sys, children and this process)."""
    best_wall = best_cpu = float("inf")
    output = b""
    for _ in range(repeat):
        before = _cpu()
        start = time.perf_counter()
        output = run()
        best_wall = min(best_wall, time.perf_counter() - start)
        best_cpu = min(best_cpu, _cpu() - before)
    return best_wall, best_cpu, output


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime + time.process_time()


def run_command(argv: list[str], cwd: Path) -> bytes:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv!r} exited {done.returncode}: {done.stderr.decode()[:500]}")
    return done.stdout


def jq_words(spec: str) -> list[str]:
    """`-c .items[].id` -> ['-c', '.items[].id']; a plain filter stays whole."""
    return spec.split(" ", 1) if spec.startswith("-") else [spec]


def in_process(document: Path, words: list[str]) -> bytes:
    from kaish_kernel.scheduler.stage import BytesInput, CaptureOutput
    from kaish_kernel.tools.base import ToolContext
    from kaish_kernel.tools.builtins.jq import Jq
    from kaish_kernel.tools.schema import RawArg, bind

    raw = [RawArg("short", name=w[1:]) if w.startswith("-") else RawArg("pos", w) for w in words]
    out = CaptureOutput()

    class Errors:
        def write(self, data: bytes | str) -> None:
            sys.stderr.write(data if isinstance(data, str) else data.decode())

    async def go() -> int:
        ctx = ToolContext(
            "jq", bind(Jq.schema, raw), BytesInput(document.read_bytes()), out, Errors(),
            shell=None,  # type: ignore[arg-type]
        )
        return await Jq().run(ctx)

    if asyncio.run(go()) != 0:
        raise RuntimeError("jq builtin failed")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--mb", type=int, default=50, help="document size in MB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--kaish", default=None, help="the kaish CLI (default: beside python)")
    parser.add_argument("--dir", default=None, help="where to write big.json (kept)")
    parser.add_argument("--in-process", action="store_true", help="time the builtin directly")
    args = parser.parse_args()

    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="kaish-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    document = workdir / "big.json"
    if not document.exists() or document.stat().st_size < args.mb * 900_000:
        print(f"generating {document} ...", file=sys.stderr)
        generate(document, args.mb)
    size_mb = document.stat().st_size / 1e6
    jq_cli = ensure_jq_cli()
    kaish = args.kaish or default_kaish()
    if kaish is None and not args.in_process:
        print("no kaish CLI found; falling back to --in-process", file=sys.stderr)
        args.in_process = True

    print(f"document: {size_mb:.1f} MB, best of {args.repeat}")
    library = os.environ.get("KAISH_LIBJQ") or "the jq package's own (libjq 1.8, built -O0)"
    print(f"kaish's libjq: {library}")
    if jq_cli:
        version = subprocess.run([jq_cli, "--version"], capture_output=True, text=True).stdout
        print(f"jq CLI: {jq_cli} ({version.strip()})")
    if not args.in_process:
        wall, cpu, _ = best_of(args.repeat, lambda: run_command([kaish, "-c", "true"], workdir))
        print(f"kaish start-up (kaish -c true): {wall:.3f}s wall, {cpu:.3f}s cpu")
    label = "builtin" if args.in_process else "kaish"
    print(
        f"\n{'filter':<11} {label + ' wall':>11} {'jq wall':>9} {'ratio':>6}"
        f" {label + ' cpu':>11} {'jq cpu':>8} {'ratio':>6}  same output"
    )
    worst_wall = worst_cpu = 0.0
    for name, spec in FILTERS:
        words = jq_words(spec)
        if args.in_process:
            ours = best_of(args.repeat, lambda w=words: in_process(document, w))
        else:
            script = "cat big.json | jq " + " ".join(shlex.quote(w) for w in words)
            ours = best_of(args.repeat, lambda s=script: run_command([kaish, "-c", s], workdir))
        if not jq_cli:
            print(f"{name:<11} {ours[0]:10.3f}s {'-':>9} {'-':>6} {ours[1]:10.3f}s")
            continue
        theirs = best_of(
            args.repeat, lambda w=words: run_command([jq_cli, *w, "big.json"], workdir)
        )
        wall_ratio, cpu_ratio = ours[0] / theirs[0], ours[1] / theirs[1]
        worst_wall, worst_cpu = max(worst_wall, wall_ratio), max(worst_cpu, cpu_ratio)
        same = "yes" if ours[2] == theirs[2] else "NO"
        print(
            f"{name:<11} {ours[0]:10.3f}s {theirs[0]:8.3f}s {wall_ratio:5.2f}x"
            f" {ours[1]:10.3f}s {theirs[1]:7.3f}s {cpu_ratio:5.2f}x  {same}"
        )
    if jq_cli:
        verdict = "within" if max(worst_wall, worst_cpu) <= 2.0 else "OVER"
        print(
            f"\nworst ratio: {worst_wall:.2f}x wall, {worst_cpu:.2f}x cpu — {verdict} the 2x target"
        )


if __name__ == "__main__":
    main()
