"""/v/jobs: a read-only, generated view of the job table.

    /v/jobs/
    └── <id>/          one directory per tracked job, in id order
        ├── status     "running\\n", "done:0\\n", "failed:N\\n", "killed:N\\n"
        ├── command    the command string + "\\n"
        ├── stdout     the bytes so far (readable while the job runs)
        └── stderr     the bytes so far

When the 10 MiB stdout ring has dropped bytes, reading `stdout` ends with the
overflow marker line, so a reader always learns that output was lost.
"""

from __future__ import annotations

import errno

from kaish_kernel.scheduler.job import JobManager
from kaish_kernel.scheduler.stage import OutputStream
from kaish_kernel.vfs.base import EntryInfo, Filesystem, fs_error

__all__ = ["JobFs"]

FILES = ("status", "command", "stdout", "stderr")


class JobFs(Filesystem):
    read_only = True

    def __init__(self, jobs: JobManager) -> None:
        self._jobs = jobs

    def _split(self, path: str) -> tuple[int | None, str | None]:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return None, None
        if len(parts) > 2:
            raise fs_error(errno.ENOENT, path)
        try:
            job_id = int(parts[0])
        except ValueError:
            raise fs_error(errno.ENOENT, path, f"job {parts[0]} not found") from None
        if not self._jobs.exists(job_id):
            raise fs_error(errno.ENOENT, path, f"job {job_id} not found")
        if len(parts) == 2:
            if parts[1] not in FILES:
                raise fs_error(errno.ENOENT, path, f"unknown file: {parts[1]}")
            return job_id, parts[1]
        return job_id, None

    def stat(self, path: str) -> EntryInfo:
        job_id, name = self._split(path)
        if job_id is None:
            return EntryInfo("jobs", "dir")
        if name is None:
            return EntryInfo(str(job_id), "dir")
        return EntryInfo(name, "file", 0, 0.0, 0o444)

    def listdir(self, path: str) -> list[EntryInfo]:
        job_id, name = self._split(path)
        if job_id is None:
            return [EntryInfo(str(i), "dir") for i in self._jobs.list_ids()]
        if name is not None:
            raise fs_error(errno.ENOTDIR, path)
        return [EntryInfo(f, "file", 0, 0.0, 0o444) for f in FILES]

    def read_bytes(self, path: str) -> bytes:
        job_id, name = self._split(path)
        if job_id is None or name is None:
            raise fs_error(errno.EISDIR, path)
        job = self._jobs.get(job_id)
        assert job is not None
        if name == "status":
            return (job.status_string + "\n").encode()
        if name == "command":
            return (job.command + "\n").encode()
        if name == "stderr":
            return job.stderr.read()
        data = job.stdout.read()
        if job.stdout.has_overflowed():
            marker = job.stdout.overflow_marker("stdout").encode()
            data = data + (b"" if data.endswith(b"\n") or not data else b"\n") + marker
        return data

    def write_bytes(self, path: str, data: bytes, *, append: bool = False) -> None:
        raise fs_error(errno.EROFS, path, "jobfs is read-only")

    def open_output(self, path: str, *, append: bool = False) -> OutputStream:
        raise fs_error(errno.EROFS, path, "jobfs is read-only")

    def rename(self, src: str, dst: str) -> None:
        raise fs_error(errno.EROFS, src, "jobfs is read-only")

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        raise fs_error(errno.EROFS, path, "jobfs is read-only")

    def remove(self, path: str, *, recursive: bool = False) -> None:
        raise fs_error(errno.EROFS, path, "jobfs is read-only")
