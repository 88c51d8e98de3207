"""/v/jobs: a read-only, generated view of the job table (spec §4.6)."""

from __future__ import annotations

import asyncio
import errno

import pytest

from kaish_kernel.scheduler.job import Job, JobManager, JobOutput
from kaish_kernel.vfs.jobfs import JobFs
from kaish_kernel.vfs.router import VfsRouter
from tests.scheduler.helpers import run


def _mounted(manager: JobManager) -> VfsRouter:
    router = VfsRouter()
    router.mount("/v/jobs", JobFs(manager))
    return router


def test_one_directory_per_job_in_id_order_with_four_files() -> None:
    async def main() -> None:
        manager = JobManager()
        for _ in range(11):
            manager.register("true")
        fs = _mounted(manager)
        assert [e.name for e in fs.listdir("/v/jobs")] == [str(i) for i in range(1, 12)]
        assert all(e.is_dir for e in fs.listdir("/v/jobs"))
        entries = fs.listdir("/v/jobs/3")
        assert [e.name for e in entries] == ["status", "command", "stdout", "stderr"]
        assert {(e.kind, e.size) for e in entries} == {("file", 0)}
        assert fs.is_dir("/v/jobs") and fs.is_dir("/v/jobs/3") and fs.is_file("/v/jobs/3/stdout")

    run(main())


def test_files_while_running_and_after() -> None:
    async def main() -> None:
        manager = JobManager()
        fs = _mounted(manager)
        release = asyncio.Event()

        async def work(job: Job) -> int:
            await JobOutput(job).write(b"partial")
            await release.wait()
            await JobOutput(job).write(b" rest")
            job.stderr.write(b"warn\n")
            return 2

        job = manager.spawn("make all", work)
        await asyncio.sleep(0.01)
        assert fs.read_bytes("/v/jobs/1/status") == b"running\n"
        assert fs.read_bytes("/v/jobs/1/command") == b"make all\n"
        assert fs.read_bytes("/v/jobs/1/stdout") == b"partial"  # no newline added
        assert fs.read_bytes("/v/jobs/1/stderr") == b""
        release.set()
        await manager.wait(job.id)
        assert fs.read_bytes("/v/jobs/1/status") == b"failed:2\n"
        assert fs.read_bytes("/v/jobs/1/stdout") == b"partial rest"
        assert fs.read_bytes("/v/jobs/1/stderr") == b"warn\n"

    run(main())


def test_an_overflowed_stdout_ends_with_the_marker() -> None:
    async def main() -> None:
        manager = JobManager(stream_max_size=1048576)
        fs = _mounted(manager)

        async def chatty(job: Job) -> int:
            out = JobOutput(job)
            for _ in range(3):
                await out.write(b"y\n" * 524288)
            await asyncio.sleep(30)
            return 0

        job = manager.spawn("yes", chatty)
        await asyncio.sleep(0.05)
        data = fs.read_bytes("/v/jobs/1/stdout")
        body, marker = data[:-200], data.rsplit(b"\n", 2)[-2] + b"\n"
        assert marker == (
            b"[stdout truncated: output exceeded the 1MB capture buffer \xe2\x80\x94 first 2097152 bytes"
            b" lost (3145728 bytes total written); enable output-limit to spill to disk]\n"
        )
        assert body.startswith(b"y\ny\n")
        assert len(data) == 1048576 + len(marker)
        manager.terminate(job.id)
        await manager.wait(job.id)

    run(main())


def test_a_marker_after_output_without_a_final_newline_starts_its_own_line() -> None:
    async def main() -> None:
        manager = JobManager(stream_max_size=4)
        fs = _mounted(manager)
        job = manager.register("x")
        job.stdout.write(b"abcdef")
        assert fs.read_bytes("/v/jobs/1/stdout").startswith(b"cdef\n[stdout truncated:")

    run(main())


@pytest.mark.parametrize(
    ("path", "message"),
    [("/v/jobs/9/status", "job 9 not found"), ("/v/jobs/x", "job x not found"), ("/v/jobs/1/nope", "unknown file: nope")],
)
def test_unknown_paths_are_not_found(path: str, message: str) -> None:
    manager = JobManager()
    manager.register("x")
    with pytest.raises(OSError) as caught:
        _mounted(manager).read_bytes(path)
    assert caught.value.errno == errno.ENOENT
    assert caught.value.strerror == message


def test_directories_cannot_be_read_and_files_cannot_be_listed() -> None:
    manager = JobManager()
    manager.register("x")
    fs = _mounted(manager)
    for path in ("/v/jobs", "/v/jobs/1"):
        with pytest.raises(OSError) as caught:
            fs.read_bytes(path)
        assert caught.value.errno == errno.EISDIR
    with pytest.raises(OSError) as caught:
        fs.listdir("/v/jobs/1/status")
    assert caught.value.errno == errno.ENOTDIR


def test_everything_that_writes_is_refused() -> None:
    manager = JobManager()
    manager.register("x")
    fs = _mounted(manager)
    attempts = [
        lambda: fs.write_bytes("/v/jobs/1/status", b"done:0\n"),
        lambda: fs.open_output("/v/jobs/1/stdout"),
        lambda: fs.mkdir("/v/jobs/2"),
        lambda: fs.remove("/v/jobs/1", recursive=True),
        lambda: fs.rename("/v/jobs/1/stdout", "/v/jobs/1/old"),
    ]
    for attempt in attempts:
        with pytest.raises(OSError) as caught:
            attempt()
        assert caught.value.errno == errno.EROFS
        assert caught.value.strerror == "jobfs is read-only"


def test_a_reaped_job_disappears() -> None:
    async def main() -> None:
        manager = JobManager()
        fs = _mounted(manager)
        job = manager.spawn("true", lambda job: asyncio.sleep(0, 0))
        await manager.wait(job.id)
        assert fs.exists("/v/jobs/1/status")
        manager.cleanup()
        assert fs.listdir("/v/jobs") == []
        assert not fs.exists("/v/jobs/1")

    run(main())
