"""Every stage streams: issue 2's "Done means", checked against real `kaish`
processes (`python -m kaish_kernel -c SCRIPT`, stdin from /dev/null).

The time bounds are generous on purpose (CI machines are shared and slow to
start Python); what they tell apart is "returns once the reader is satisfied"
from "runs the producer to the end", which is minutes here. Each test prints
what it measured (`pytest -s` shows it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

# Enough for interpreter start-up on a loaded machine; far below what running
# any of these producers to completion would take.
QUICK = 10.0
RSS_LIMIT_KB = 100 * 1024


def _command(script: str) -> list[str]:
    return [sys.executable, "-m", "kaish_kernel", "-c", script]


def _env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


def _run_timed(script: str, cwd: Path, timeout: float = 120.0) -> tuple[str, int, float]:
    start = time.monotonic()
    done = subprocess.run(
        _command(script),
        cwd=cwd,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode(), done.returncode, elapsed


def _startup(cwd: Path) -> float:
    """What `kaish -c true` costs here, to read the other numbers against."""
    return _run_timed("true", cwd)[2]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("yes | head -n 1", "y\n"),
        ("seq 1 100000000 | head -n 1", "1\n"),
    ],
    ids=["yes", "seq-100M"],
)
def test_an_endless_or_huge_producer_stops_when_head_is_satisfied(
    script: str, expected: str, tmp_path: Path
) -> None:
    out, _, elapsed = _run_timed(script, tmp_path, timeout=QUICK * 6)
    print(f"\n{script!r}: {elapsed:.2f}s (kaish -c true: {_startup(tmp_path):.2f}s)")
    assert out == expected
    assert elapsed < QUICK


def _peak_rss_kib(pid: int) -> int | None:
    """The process's own high-water RSS (VmHWM), or None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None  # a zombie has no memory lines


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_hundred_megabytes_through_a_pipeline_run_in_constant_memory(tmp_path: Path) -> None:
    """Peak RSS of the kaish process itself, sampled from /proc while it runs
    (ru_maxrss of a child would also count the pytest process it was forked
    from)."""
    script = "yes | head -c 100000000 | wc -c"
    proc = subprocess.Popen(
        _command(script),
        cwd=tmp_path,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    start = time.monotonic()
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            value = _peak_rss_kib(proc.pid)
            if value is not None:
                peak = max(peak, value)
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        done.set()
        sampler.join()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    elapsed = time.monotonic() - start
    print(f"\n{script!r}: {elapsed:.2f}s, peak RSS {peak / 1024:.1f} MiB")
    assert proc.returncode == 0, err.decode(errors="replace")
    assert out.decode().strip() == "100000000"
    assert 0 < peak < RSS_LIMIT_KB


def test_a_compound_stage_streams_into_the_next_stage(tmp_path: Path) -> None:
    """The loop stops once `head` has its line; running a million `echo`s
    would take minutes. (The head `$(seq 1 1000000)` is evaluated first.)"""
    script = "for i in $(seq 1 1000000); do echo $i; done | head -n 1"
    out, _, elapsed = _run_timed(script, tmp_path, timeout=120.0)
    print(f"\n{script!r}: {elapsed:.2f}s")
    assert out == "1\n"
    assert elapsed < QUICK * 2


def test_a_compound_stage_of_externals_stops_too(tmp_path: Path) -> None:
    script = "for i in $(seq 1 100000); do /bin/echo $i; done | head -n 2"
    out, _, elapsed = _run_timed(script, tmp_path, timeout=120.0)
    print(f"\n{script!r}: {elapsed:.2f}s")
    assert out == "1\n2\n"
    assert elapsed < QUICK * 2


def test_an_endless_loop_stops_when_the_programs_own_reader_leaves(tmp_path: Path) -> None:
    """`kaish -c 'while true; do echo x; done' | head -n 1`: kaish's stdout
    is the OS pipe; once a write fails, the loop ends (as SIGPIPE ends sh)."""
    reader = subprocess.Popen(
        ["head", "-n", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path
    )
    assert reader.stdin is not None
    start = time.monotonic()
    try:
        code = subprocess.run(
            _command("while true; do echo x; done; echo never > after.txt"),
            cwd=tmp_path,
            env=_env(),
            stdin=subprocess.DEVNULL,
            stdout=reader.stdin,
            stderr=subprocess.PIPE,
            timeout=QUICK * 3,
            check=False,
        ).returncode
    finally:
        reader.stdin.close()
        assert reader.stdout is not None
        out = reader.stdout.read()
        reader.wait(timeout=30)
    elapsed = time.monotonic() - start
    print(f"\nendless loop into head -n 1: {elapsed:.2f}s")
    assert out == b"x\n"
    assert code == 0
    assert not (tmp_path / "after.txt").exists()


def test_output_reaches_a_pipe_reader_before_the_command_ends(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        _command("echo a; sleep 1; echo b"),
        cwd=tmp_path,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline()
        first_at = time.monotonic()
        still_running = proc.poll() is None
        rest = proc.stdout.read()
        ended_at = time.monotonic()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    gap = ended_at - first_at
    print(f"\n'a' arrived {gap:.2f}s before the end")
    assert first == b"a\n"
    assert rest == b"b\n"
    assert still_running
    # buffered output would arrive all at once, at the end
    assert gap >= 0.5


def test_a_builtin_pipeline_stage_streams_before_its_producer_ends(tmp_path: Path) -> None:
    """`cat` in the middle passes each line on as it comes."""
    proc = subprocess.Popen(
        _command("for i in 1 2; do echo $i; sleep 1; done | cat"),
        cwd=tmp_path,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline()
        first_at = time.monotonic()
        rest = proc.stdout.read()
        gap = time.monotonic() - first_at
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (first, rest) == (b"1\n", b"2\n")
    assert gap >= 1.0
