"""JobManager: ids, statuses, waiting, retention, output streams, killing, shutdown.

Jobs here are plain coroutines (and real external processes where killing is
the point); the shell-level behaviour (`&`, the builtins) is in
tests/test_jobs_e2e.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import time

import pytest

from kaish_kernel.scheduler.job import (
    Job,
    JobErrors,
    JobManager,
    JobOutput,
    JobStatus,
    _group_is_ours,
    rfc3339,
)
from kaish_kernel.scheduler.processes import run_external
from kaish_kernel.scheduler.stage import EMPTY_INPUT
from tests.scheduler.helpers import processes_in_group, run

SLEEP = "/bin/sleep"
SH = "/bin/sh"


async def _code(code: int, delay: float = 0.0) -> int:
    if delay:
        await asyncio.sleep(delay)
    return code


def _returns(code: int, delay: float = 0.0):  # type: ignore[no-untyped-def]
    async def work(job: Job) -> int:
        return await _code(code, delay)

    return work


def _external(manager: JobManager, argv: list[str], grace: float = 2.0):  # type: ignore[no-untyped-def]
    """A job that runs one external program, recording its group as `&` does."""

    async def work(job: Job) -> int:
        return await run_external(
            argv,
            cwd="/",
            env={"PATH": os.defpath},
            stdin=EMPTY_INPUT,
            stdout=JobOutput(job),
            stderr=JobErrors(job),
            kill_grace=grace,
            on_spawn=lambda pgid: manager.add_pgid(job.id, pgid),
        )

    return work


async def _until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        await asyncio.sleep(0.01)


# ----------------------------------------------------------------------
# ids and statuses
# ----------------------------------------------------------------------
def test_ids_start_at_one_and_are_never_reused() -> None:
    async def main() -> list[int]:
        manager = JobManager()
        first = manager.spawn("a", _returns(0))
        second = manager.spawn("b", _returns(0))
        await manager.wait_all()
        manager.cleanup()
        manager.remove(second.id)
        third = manager.spawn("c", _returns(0))
        await manager.wait(third.id)
        return [first.id, second.id, third.id]

    assert run(main()) == [1, 2, 3]


def test_status_strings_follow_the_result() -> None:
    async def main() -> dict[str, str]:
        manager = JobManager()
        ok = manager.spawn("ok", _returns(0))
        bad = manager.spawn("bad", _returns(7))
        slow = manager.spawn("slow", _returns(0, 30))
        await manager.wait(ok.id)
        await manager.wait(bad.id)
        running = slow.status_string
        manager.terminate(slow.id)
        await manager.wait(slow.id)
        return {
            "ok": ok.status_string,
            "bad": bad.status_string,
            "running": running,
            "killed": slow.status_string,
            "display": slow.status.display,
        }

    assert run(main()) == {
        "ok": "done:0",
        "bad": "failed:7",
        "running": "running",
        "killed": "killed:130",
        "display": "Killed",
    }


def test_a_killed_job_whose_result_is_ok_reads_done() -> None:
    async def main() -> str:
        manager = JobManager()
        job = manager.spawn("x", _returns(0))
        await manager.wait(job.id)
        job.killed = True  # the result wins over a kill that came too late
        return job.status_string

    assert run(main()) == "done:0"


def test_a_crashing_job_is_code_1_with_a_message() -> None:
    async def boom(job: Job) -> int:
        raise RuntimeError("kaput")

    async def main() -> tuple[str, bytes]:
        manager = JobManager()
        job = manager.spawn("x", boom)
        await manager.wait(job.id)
        return job.status_string, job.stderr.read()

    status, err = run(main())
    assert status == "failed:1"
    assert b"job task ended without a result" in err and b"kaput" in err


def test_a_job_cancelled_before_its_first_step_still_finishes() -> None:
    async def main() -> str:
        manager = JobManager()
        job = manager.spawn("x", _returns(0, 5))
        manager.mark_killed_and_cancel(job.id)
        await manager.wait(job.id)
        return job.status_string

    assert run(main()) == "killed:130"


# ----------------------------------------------------------------------
# JobInfo and timestamps
# ----------------------------------------------------------------------
def test_rfc3339_truncates_to_milliseconds() -> None:
    moment = dt.datetime(2023, 11, 14, 22, 13, 20, 123999, tzinfo=dt.UTC)
    assert rfc3339(moment) == "2023-11-14T22:13:20.123Z"


def test_job_info_keys_in_order_and_optional_fields_left_out() -> None:
    async def main() -> tuple[list[str], list[str]]:
        manager = JobManager()
        running = manager.spawn("sleep 30", _returns(0, 30))
        done = manager.spawn("true", _returns(0))
        await manager.wait(done.id)
        keys_running = list(running.info().to_dict())
        keys_done = list(done.info().to_dict())
        manager.terminate(running.id)
        await manager.wait(running.id)
        return keys_running, keys_done

    keys_running, keys_done = run(main())
    assert keys_running == ["id", "command", "status", "started_at"]
    assert keys_done == ["id", "command", "status", "exit_code", "started_at", "finished_at"]


def test_list_is_sorted_by_id() -> None:
    async def main() -> list[int]:
        manager = JobManager()
        for name in "abc":
            manager.spawn(name, _returns(0))
        await manager.wait_all()
        return [info.id for info in manager.list()]

    assert run(main()) == [1, 2, 3]


# ----------------------------------------------------------------------
# waiting
# ----------------------------------------------------------------------
def test_wait_keeps_the_job_and_returns_the_same_result_again() -> None:
    async def main() -> tuple[int, int, bool]:
        manager = JobManager()
        job = manager.spawn("x", _returns(4))
        first = await manager.wait(job.id)
        second = await manager.wait(job.id)
        assert first is not None and second is not None
        return first.code, second.code, manager.exists(job.id)

    assert run(main()) == (4, 4, True)


def test_wait_on_an_unknown_job_is_none() -> None:
    assert run(JobManager().wait(42)) is None


def test_a_cancelled_waiter_does_not_take_the_result_from_others() -> None:
    async def main() -> int:
        manager = JobManager()
        job = manager.spawn("x", _returns(5, 0.1))
        impatient = asyncio.create_task(manager.wait(job.id))
        await asyncio.sleep(0.01)
        impatient.cancel()
        result = await manager.wait(job.id)
        assert result is not None
        return result.code

    assert run(main()) == 5


def test_wait_all_visits_jobs_in_ascending_id_order() -> None:
    async def main() -> list[int]:
        manager = JobManager()
        manager.spawn("slow", _returns(0, 0.1))
        manager.spawn("fast", _returns(1))
        return [job_id for job_id, _ in await manager.wait_all()]

    assert run(main()) == [1, 2]


def test_streams_are_closed_before_the_result_is_published() -> None:
    seen: list[bool] = []

    async def main() -> None:
        manager = JobManager()
        manager.on_finish.append(lambda job: seen.append(job.stdout.closed and job.stderr.closed))

        async def talk(job: Job) -> int:
            await JobOutput(job).write(b"out\n")
            JobErrors(job).write("err\n")
            return 0

        job = manager.spawn("talk", talk)
        await manager.wait(job.id)
        assert manager.read_stdout(job.id) == b"out\n"
        assert manager.read_stderr(job.id) == b"err\n"
        assert manager.read_stdout(99) is None

    run(main())
    assert seen == [True]


def test_job_output_is_teed_to_the_embedder() -> None:
    chunks: list[tuple[str, bytes]] = []

    async def main() -> None:
        manager = JobManager()
        manager.tee_factory = lambda job: lambda which, data: chunks.append((which, data))

        async def talk(job: Job) -> int:
            await JobOutput(job).write(b"o")
            JobErrors(job).write(b"e")
            return 0

        await manager.wait(manager.spawn("talk", talk).id)

    run(main())
    assert chunks == [("stdout", b"o"), ("stderr", b"e")]


def test_an_overflowing_job_is_capped_code_3_and_keeps_the_newest_bytes() -> None:
    async def main() -> tuple[str, bytes, str]:
        manager = JobManager(stream_max_size=10)

        async def chatty(job: Job) -> int:
            out = JobOutput(job)
            for chunk in (b"12345", b"67890", b"ABCDE"):
                await out.write(chunk)
            return 0

        job = manager.spawn("chatty", chatty)
        await manager.wait(job.id)
        return job.status_string, job.stdout.read(), job.stdout.overflow_marker("stdout")

    status, data, marker = run(main())
    assert status == "failed:3"
    assert data == b"67890ABCDE"
    assert marker.startswith("[stdout truncated:") and "first 5 bytes lost (15 bytes total written)" in marker


# ----------------------------------------------------------------------
# retention and reaping
# ----------------------------------------------------------------------
def test_retention_keeps_the_newest_finished_jobs_and_every_running_one() -> None:
    async def main() -> tuple[list[int], int]:
        manager = JobManager(finished_retention=3)
        slow = manager.spawn("slow", _returns(0, 30))
        for i in range(6):
            job = manager.spawn(f"j{i}", _returns(0))
            await manager.wait(job.id)
        ids = manager.list_ids()
        manager.terminate(slow.id)
        await manager.wait(slow.id)
        return ids, slow.id

    ids, slow = run(main())
    assert ids == [slow, 5, 6, 7]


def test_default_retention_is_one_hundred_and_stays_cheap() -> None:
    async def main() -> tuple[list[int], float]:
        manager = JobManager()
        started = time.perf_counter()
        for _ in range(2000):
            manager.spawn("true", _returns(0))
        await manager.wait_all()
        manager.list()
        return manager.list_ids(), time.perf_counter() - started

    ids, elapsed = run(main(), timeout=60)
    assert ids == list(range(1901, 2001))
    assert elapsed < 30


def test_reap_and_cleanup_leave_running_jobs() -> None:
    async def main() -> tuple[list[int], list[int]]:
        manager = JobManager()
        slow = manager.spawn("slow", _returns(0, 30))
        done = manager.spawn("done", _returns(0))
        await manager.wait(done.id)
        reaped = [info.id for info in manager.reap_finished()]
        left = manager.list_ids()
        manager.terminate(slow.id)
        await manager.wait(slow.id)
        return reaped, left

    assert run(main()) == ([2], [1])


# ----------------------------------------------------------------------
# killing external jobs
# ----------------------------------------------------------------------
def test_terminate_lets_an_external_die_of_the_signal() -> None:
    async def main() -> tuple[str, str, list[int]]:
        manager = JobManager()
        term = manager.spawn("sleep", _external(manager, [SLEEP, "30"]))
        hard = manager.spawn("sleep", _external(manager, [SLEEP, "30"]))
        await _until(lambda: bool(term.pgids and hard.pgids))
        manager.terminate(term.id, "TERM")
        manager.terminate(hard.id, "KILL")
        await manager.wait_all()
        return term.status_string, hard.status_string, term.pgids + hard.pgids

    term, hard, pgids = run(main())
    assert (term, hard) == ("killed:143", "killed:137")
    for pgid in pgids:
        assert processes_in_group(pgid) == []


def test_terminate_cancels_a_job_that_outlives_the_signal() -> None:
    async def main() -> tuple[str, float, int]:
        manager = JobManager()
        job = manager.spawn("stubborn", _external(manager, [SH, "-c", "trap '' TERM; sleep 30"], grace=0.3))
        await _until(lambda: bool(job.pgids))
        await asyncio.sleep(0.1)  # let sh install its trap
        started = time.monotonic()
        manager.terminate(job.id, "TERM", settle=0.1)
        await manager.wait(job.id)
        return job.status_string, time.monotonic() - started, job.pgids[0]

    status, elapsed, pgid = run(main())
    assert status == "killed:130"
    assert elapsed < 3
    assert processes_in_group(pgid) == []


def test_terminate_reports_nothing_to_reach() -> None:
    async def main() -> tuple[object, object]:
        manager = JobManager()
        job = manager.spawn("x", _returns(0))
        await manager.wait(job.id)
        return manager.terminate(job.id), manager.terminate(99)

    assert run(main()) == (None, None)


def test_a_stale_or_reused_group_number_is_never_signalled() -> None:
    job = Job(1, "x", None, None)  # type: ignore[arg-type]
    assert not _group_is_ours(job, 999_999_999)  # beyond pid_max: long gone
    assert not _group_is_ours(job, 1)
    assert not _group_is_ours(job, 0)
    # a live group whose leader is not the process the job recorded (the
    # number was reused): never ours; with the leader's real start time, ours
    other = subprocess.Popen([SLEEP, "30"], process_group=0)
    try:
        job.pgid_starts[other.pid] = -1
        assert not _group_is_ours(job, other.pid)
        del job.pgid_starts[other.pid]
        assert _group_is_ours(job, other.pid)
    finally:
        other.kill()
        other.wait()


def test_non_terminating_signals_reach_the_groups() -> None:
    async def main() -> tuple[list[int], str]:
        manager = JobManager()
        job = manager.spawn("sleep", _external(manager, [SLEEP, "30"]))
        await _until(lambda: bool(job.pgids))
        reached = manager.signal_job(job.id, "STOP")
        await asyncio.sleep(0.05)
        with open(f"/proc/{job.pgids[0]}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0].decode()
        manager.signal_job(job.id, "CONT")
        manager.terminate(job.id)
        await manager.wait(job.id)
        return reached, state

    reached, state = run(main())
    assert len(reached) == 1
    assert state == "T"


# ----------------------------------------------------------------------
# shutdown
# ----------------------------------------------------------------------
def test_shutdown_kills_every_job_and_what_its_groups_left_behind() -> None:
    async def main() -> tuple[list[str], list[int]]:
        manager = JobManager()
        manager.kill_grace = 0.5
        builtin = manager.spawn("sleep 3600", _returns(0, 3600))
        external = manager.spawn("sleep", _external(manager, [SLEEP, "1000"]))
        # sh exits at once; its background sleep lives on in the job's group
        lingering = manager.spawn(
            "daemon", _external(manager, [SH, "-c", f"{SLEEP} 1000 >/dev/null 2>&1 &"])
        )
        await manager.wait(lingering.id)
        await _until(lambda: bool(external.pgids))
        assert processes_in_group(lingering.pgids[0]), "the grandchild should still run"
        await manager.shutdown()
        return [j.status_string for j in (builtin, external, lingering)], external.pgids + lingering.pgids

    statuses, pgids = run(main(), timeout=20)
    assert statuses == ["killed:130", "killed:130", "done:0"]
    time.sleep(0.1)
    for pgid in pgids:
        assert processes_in_group(pgid) == []


def test_job_status_enum_has_both_spellings() -> None:
    assert [s.value for s in JobStatus] == ["running", "stopped", "done", "killed", "failed"]
    assert [s.display for s in JobStatus] == ["Running", "Stopped", "Done", "Killed", "Failed"]


@pytest.mark.parametrize("retention", [0, 1])
def test_tiny_retention_drops_each_finished_job(retention: int) -> None:
    async def main() -> list[int]:
        manager = JobManager(finished_retention=retention)
        for _ in range(3):
            await manager.wait(manager.spawn("x", _returns(0)).id)
        manager.list()
        return manager.list_ids()

    assert run(main()) == ([] if retention == 0 else [3])


def test_stderr_sink_of_a_job_accepts_text_and_bytes() -> None:
    async def main() -> bytes:
        manager = JobManager()
        job = manager.register("x")
        sink = JobErrors(job)
        sink.write("a")
        sink.write(b"b")
        sink.write("")
        manager.finish(job, 0)
        return job.stderr.read()

    assert run(main()) == b"ab"


def test_reap_notices_reap_finished_jobs_one_line_each() -> None:
    async def main() -> tuple[list[str], list[int]]:
        manager = JobManager()
        slow = manager.spawn("sleep 30", _returns(0, 30))
        await manager.wait(manager.spawn("make all", _returns(0)).id)
        await manager.wait(manager.spawn("false", _returns(1)).id)
        notices = manager.reap_notices()
        left = manager.list_ids()
        manager.terminate(slow.id)
        await manager.wait(slow.id)
        return notices, left

    notices, left = run(main())
    assert notices == ["[2] Done make all\n", "[3] Failed false\n"]
    assert left == [1]
