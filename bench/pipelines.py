"""Pipeline throughput: the same pipelines under `kaish -c` and `bash -c`.

    python bench/pipelines.py [--repeat 3] [--target 1.0] [--only NAME ...]

Each pipeline reads a generated text file (or, for `seq`, a count) sized so
that bash needs about `--target` seconds, so start-up does not hide the
pipeline. Sizes are found by timing bash on a small input and scaling
(files in half-octave steps of size); they live in bench/_data/
(gitignored) and are reused. Then every pipeline runs `--repeat` times under each shell,
alternating, and the script prints for each:

    wall  median seconds per shell and the throughput ratio
          (kaish throughput / bash throughput = bash time / kaish time)
    cpu   the same from the children's CPU time (user + system, every
          process of the pipeline included), steadier on a busy machine

and whether kaish printed what bash printed. Targets: builtin pipelines at
least 0.3, the external|external pipeline at least 0.8.

The text: lines of two to six words drawn from a small vocabulary with a
Zipf-like weighting, so `sort | uniq -c | sort -rn | head` has a clear top
ten (no tie decides the order) and `grep -c WORD` matches about one line in
seven.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import statistics
import sys
import time
from dataclasses import dataclass

_HERE = os.path.dirname(os.path.abspath(__file__))
# bench/ holds scripts named like stdlib modules (json.py); keep them off sys.path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
DATA_DIR = os.path.join(_HERE, "_data")
WORD = "kaish"
SEQ_LITERAL = 2_000_000

_VOCABULARY = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho"
    " sigma tau upsilon phi chi psi omega shell pipe stream value record list scatter gather"
    " job wait kill echo grep sed awk sort uniq head tail wc cut tr seq cat tee find date"
    " printf read test true false export unset source alias help"
).split()


@dataclass(frozen=True, slots=True)
class Pipeline:
    name: str
    template: str  # {F} is the file, {N} the count
    builtin: bool
    sized_by: str  # "file" or "count"


PIPELINES = (
    Pipeline("cat|wc -l", "cat {F} | wc -l", True, "file"),
    Pipeline("cat|grep -c", "cat {F} | grep -c " + WORD, True, "file"),
    Pipeline("seq|wc -l", "seq 1 {N} | wc -l", True, "count"),
    Pipeline(
        "sort|uniq -c|sort -rn|head", "cat {F} | sort | uniq -c | sort -rn | head", True, "file"
    ),
    Pipeline("/usr/bin/cat|/usr/bin/wc -l", "/usr/bin/cat {F} | /usr/bin/wc -l", False, "file"),
)


# ---------------------------------------------------------------- data


def _base_block(size: int = 8 << 20) -> bytes:
    """About `size` bytes of deterministic text (one block, repeated to make files)."""
    rng = random.Random(20240601)
    words = list(_VOCABULARY)
    phrases = []
    for _ in range(5000):
        count = rng.randint(2, 6)
        phrase = rng.sample(words, count)
        if rng.random() < 0.15 and WORD not in phrase:
            phrase[rng.randrange(count)] = WORD
        phrases.append(" ".join(phrase) + "\n")
    weights = [1.0 / (rank + 8) ** 1.1 for rank in range(len(phrases))]
    lines: list[str] = []
    total = 0
    while total < size:
        batch = rng.choices(phrases, weights=weights, k=4096)
        lines.extend(batch)
        total += sum(map(len, batch))
    return "".join(lines).encode()


_BLOCK: bytes | None = None


def text_file(megabytes: int) -> str:
    """bench/_data/text-<MB>MB.txt, made once (whole copies of the base block)."""
    global _BLOCK
    path = os.path.join(DATA_DIR, f"text-{megabytes}MB.txt")
    want = megabytes << 20
    if os.path.exists(path) and os.path.getsize(path) == want:
        return path
    os.makedirs(DATA_DIR, exist_ok=True)
    if _BLOCK is None:
        _BLOCK = _base_block()
    block = _BLOCK
    tmp = path + ".tmp"
    with open(tmp, "wb") as out:
        written = 0
        while written < want:
            piece = block[: want - written]
            if written + len(piece) == want and not piece.endswith(b"\n"):
                cut = piece.rfind(b"\n") + 1
                piece = piece[:cut] + b"x" * (len(piece) - cut - 1) + b"\n"
            out.write(piece)
            written += len(piece)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- running


def run(argv: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, CPU seconds of the whole process tree, and stdout."""
    read_fd, write_fd = os.pipe()
    devnull = os.open(os.devnull, os.O_RDWR)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read_fd)
            os.dup2(devnull, 0)
            os.dup2(write_fd, 1)
            os.dup2(devnull, 2)  # `sort` complaining that `head` left is not news
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    os.close(write_fd)
    os.close(devnull)
    chunks = []
    while chunk := os.read(read_fd, 1 << 16):
        chunks.append(chunk)
    os.close(read_fd)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv!r} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime, b"".join(chunks)


def _command(shell: list[str], pipeline: Pipeline, size: int) -> list[str]:
    if pipeline.sized_by == "file":
        script = pipeline.template.format(F=text_file(size))
    else:
        script = pipeline.template.format(N=size)
    return [*shell, "-c", script]


def calibrate(bash: list[str], pipeline: Pipeline, target: float, max_mb: int) -> int:
    """The file size (MB) or count that makes bash take about `target` seconds."""
    probe = 32 if pipeline.sized_by == "file" else 4_000_000
    while True:
        times = [run(_command(bash, pipeline, probe))[0] for _ in range(3)]
        took = statistics.median(times)
        if took >= 0.2 or (pipeline.sized_by == "file" and probe >= max_mb):
            break
        probe *= 4
    size = int(probe * target / max(took, 1e-3))
    if pipeline.sized_by == "file":
        # half-octave steps (…, 256, 362, 512, 724, 1024 …): files get reused
        step = 2 ** (round(2 * math.log2(max(size, 1))) / 2)
        return max(1, min(round(step), max_mb))
    return max(1000, size // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class Result:
    pipeline: Pipeline
    size: int
    bash_wall: float
    bash_cpu: float
    kaish_wall: float
    kaish_cpu: float
    same_output: bool


def measure(
    bash: list[str], kaish: list[str], pipeline: Pipeline, size: int, repeat: int
) -> Result:
    walls: dict[str, list[float]] = {"bash": [], "kaish": []}
    cpus: dict[str, list[float]] = {"bash": [], "kaish": []}
    outputs: dict[str, bytes] = {}
    for _ in range(repeat):
        for label, shell in (("bash", bash), ("kaish", kaish)):
            wall, cpu, out = run(_command(shell, pipeline, size))
            walls[label].append(wall)
            cpus[label].append(cpu)
            outputs[label] = out
    return Result(
        pipeline,
        size,
        statistics.median(walls["bash"]),
        statistics.median(cpus["bash"]),
        statistics.median(walls["kaish"]),
        statistics.median(cpus["kaish"]),
        outputs["bash"] == outputs["kaish"],
    )


def _size_text(pipeline: Pipeline, size: int) -> str:
    return f"{size} MB" if pipeline.sized_by == "file" else f"N={size:,}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per shell and pipeline")
    parser.add_argument("--target", type=float, default=1.0, help="seconds bash should need")
    parser.add_argument("--max-mb", type=int, default=2048, help="largest text file to make")
    parser.add_argument("--kaish", default=os.path.join(os.path.dirname(sys.executable), "kaish"))
    parser.add_argument("--bash", default=shutil.which("bash") or "/bin/bash")
    parser.add_argument("--only", nargs="*", help="pipeline names (see the table) to run")
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="NAME=SIZE",
        help="skip calibration: MB for a file pipeline, N for seq",
    )
    opts = parser.parse_args()
    bash, kaish = [opts.bash], [opts.kaish]
    fixed = dict(item.split("=", 1) for item in opts.size)

    chosen = [p for p in PIPELINES if not opts.only or p.name in opts.only]
    results = []
    for pipeline in chosen:
        if pipeline.name in fixed:
            size = int(fixed[pipeline.name])
        else:
            size = calibrate(bash, pipeline, opts.target, opts.max_mb)
        print(f"{pipeline.name:<30} {_size_text(pipeline, size):>14} ...", flush=True)
        results.append(measure(bash, kaish, pipeline, size, opts.repeat))
    literal = next((p for p in chosen if p.sized_by == "count"), None)
    if literal is not None:
        results.append(measure(bash, kaish, literal, SEQ_LITERAL, opts.repeat))

    print()
    print(
        f"{'pipeline':<30} {'size':>14}  {'bash s':>7} {'kaish s':>7} {'ratio':>6}"
        f"   {'bash cpu':>8} {'kaish cpu':>9} {'ratio':>6}  target  output"
    )
    for r in results:
        wall_ratio = r.bash_wall / r.kaish_wall
        cpu_ratio = r.bash_cpu / r.kaish_cpu if r.kaish_cpu else float("inf")
        target = 0.3 if r.pipeline.builtin else 0.8
        verdict = (
            "ok"
            if min(wall_ratio, cpu_ratio) >= target
            else ("wall" if cpu_ratio >= target else "MISS")
        )
        note = (
            " (start-up dominated)"
            if r.size == SEQ_LITERAL and r.pipeline.sized_by == "count"
            else ""
        )
        print(
            f"{r.pipeline.name:<30} {_size_text(r.pipeline, r.size):>14}"
            f"  {r.bash_wall:7.3f} {r.kaish_wall:7.3f} {wall_ratio:6.2f}"
            f"   {r.bash_cpu:8.3f} {r.kaish_cpu:9.3f} {cpu_ratio:6.2f}"
            f"  {target:4.1f} {verdict:<4}  {'same' if r.same_output else 'DIFFERS'}{note}"
        )
    print(
        f"\n{opts.repeat} runs each, medians; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
