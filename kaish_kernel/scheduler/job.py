"""Background jobs: the table behind `cmd &`, `jobs`, `wait`, `kill`, /v/jobs.

    register ──► Job(id, command, stdout ring, stderr ring) ──► task runs the pipeline
                   │                                              │ writes live into the rings
                   │◄──────────── finish(code) ◄──────────────────┘ (rings closed first)
    wait(id) ──────┘  an Event per job; waiting never removes the job
    kill %N ──► terminate(): mark killed ─► signal its live process groups
                             ─► cancel its task if it outlives the signal
    shutdown ─► cancel every job, wait (bounded), SIGKILL what its groups left

Ids start at 1 and are never reused. A finished job stays in the table (with
its result and output) until `jobs --cleanup`, `remove`, or retention (the
oldest finished jobs beyond `finished_retention` go first). A job is
detached: only `kill`, `cancel_all_jobs` and `shutdown` reach it — its task
is not a child of any foreground task, and its externals run in their own
process groups.

A process group is only signalled while it is still the group the job
started (checked in /proc where there is one: the leader's start time, or a
surviving member in this session): once all its processes have exited, its
number can be reused by a stranger, who must never be hit.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import datetime as dt
import enum
import os
import signal
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from kaish_kernel.records import record
from kaish_kernel.scheduler.stage import OutputStream
from kaish_kernel.scheduler.stream import DEFAULT_STREAM_MAX_SIZE, BoundedStream

__all__ = [
    "Job",
    "JobErrors",
    "JobId",
    "JobInfo",
    "JobManager",
    "JobOutput",
    "JobResult",
    "JobStatus",
    "rfc3339",
]

JobId: TypeAlias = int

TERMINATING = {"TERM", "KILL", "INT", "HUP", "QUIT"}


def rfc3339(moment: dt.datetime) -> str:
    """`2023-11-14T22:13:20.123Z`: UTC, milliseconds truncated."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class JobStatus(enum.Enum):
    RUNNING = "running"
    STOPPED = "stopped"
    DONE = "done"
    KILLED = "killed"
    FAILED = "failed"

    @property
    def display(self) -> str:
        """The human spelling (`jobs`, `wait`): Running, Done, ..."""
        return self.value.capitalize()


@record
class JobResult:
    code: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 0


@record
class JobInfo:
    """A snapshot of one job, serialized with keys in this order."""

    id: JobId
    command: str
    status: str
    started_at: str
    exit_code: int | None = None
    finished_at: str | None = None
    pid: int | None = None
    output_file: str | None = None
    pgids: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "command": self.command, "status": self.status}
        if self.output_file is not None:
            out["output_file"] = self.output_file
        if self.pid is not None:
            out["pid"] = self.pid
        if self.exit_code is not None:
            out["exit_code"] = self.exit_code
        out["started_at"] = self.started_at
        if self.finished_at is not None:
            out["finished_at"] = self.finished_at
        if self.pgids:
            out["pgids"] = list(self.pgids)
        return out


@dataclass(eq=False)
class Job:
    id: JobId
    command: str
    stdout: BoundedStream
    stderr: BoundedStream
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished: dt.datetime | None = None
    result: JobResult | None = None
    task: asyncio.Task[Any] | None = None
    killed: bool = False
    stopped: bool = False
    pgids: list[int] = field(default_factory=list)
    pgid_starts: dict[int, int] = field(default_factory=dict)  # leader start times
    done: asyncio.Event = field(default_factory=asyncio.Event)
    tee: Callable[[str, bytes], None] | None = None  # a notebook's "show it in my cell"
    parent: JobId | None = None  # the job whose script started this one (None: the shell)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.status_string} {self.command!r}>"

    @property
    def status(self) -> JobStatus:
        if self.stopped:
            return JobStatus.STOPPED
        if self.result is None:
            return JobStatus.RUNNING
        if self.result.ok:
            return JobStatus.DONE
        return JobStatus.KILLED if self.killed else JobStatus.FAILED

    @property
    def status_string(self) -> str:
        status = self.status
        if status in (JobStatus.RUNNING, JobStatus.STOPPED):
            return status.value
        assert self.result is not None
        if status is JobStatus.DONE:
            return "done:0"
        return f"{status.value}:{self.result.code}"

    def info(self) -> JobInfo:
        return JobInfo(
            id=self.id,
            command=self.command,
            status=self.status.value,
            started_at=rfc3339(self.started),
            exit_code=None if self.result is None else self.result.code,
            finished_at=None if self.finished is None else rfc3339(self.finished),
            pgids=tuple(self.pgids),
        )


class JobOutput(OutputStream):
    """A job's stdout: into its ring buffer (and the notebook tee), never blocking."""

    def __init__(self, job: Job, which: str = "stdout") -> None:
        self._job = job
        self._stream = job.stdout if which == "stdout" else job.stderr
        self._which = which

    async def write(self, data: bytes) -> None:
        self._stream.write(data)
        if self._job.tee is not None:
            self._job.tee(self._which, bytes(data))


class JobErrors:
    """A job's stderr sink (ErrorSink): its ring buffer plus the tee."""

    def __init__(self, job: Job) -> None:
        self._job = job

    def write(self, data: bytes | str) -> None:
        chunk = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        if not chunk:
            return
        self._job.stderr.write(chunk)
        if self._job.tee is not None:
            self._job.tee("stderr", chunk)


class JobManager:
    """The job table. One per Shell; shared by every fork of its session."""

    def __init__(
        self,
        *,
        kill_grace: float = 2.0,
        finished_retention: int = 100,
        stream_max_size: int = DEFAULT_STREAM_MAX_SIZE,
    ) -> None:
        self.kill_grace = kill_grace
        self.finished_retention = finished_retention
        self.stream_max_size = stream_max_size
        self._jobs: dict[JobId, Job] = {}
        # finished job ids, oldest finish first (an OrderedDict: popping the
        # front of a plain dict degrades as deleted slots pile up)
        self._finished: OrderedDict[JobId, None] = OrderedDict()
        self._next_id = 1
        self.on_finish: list[Callable[[Job], None]] = []
        # an embedder's hook: given a new job, where should its output also go?
        self.tee_factory: Callable[[Job], Callable[[str, bytes], None] | None] | None = None

    def __repr__(self) -> str:
        return f"<JobManager {len(self._jobs)} jobs, next id {self._next_id}>"

    # -- creation --
    def register(self, command: str) -> Job:
        job = Job(
            self._next_id,
            command,
            BoundedStream(self.stream_max_size),
            BoundedStream(self.stream_max_size),
        )
        self._next_id += 1
        self._jobs[job.id] = job
        if self.tee_factory is not None:
            job.tee = self.tee_factory(job)
        self._apply_retention()
        return job

    def spawn(self, command: str, work: Callable[[Job], Coroutine[Any, Any, int]]) -> Job:
        """Register a job and start `work(job)` as a detached task.

        `work` returns the exit code; cancellation ends it with 130; an
        unexpected exception ends it with 1 and a message.
        """
        job = self.register(command)
        job.task = asyncio.get_running_loop().create_task(self._run(job, work), name=f"job-{job.id}")
        # a task cancelled before its first step never enters _run: finish it here
        job.task.add_done_callback(lambda task: self.finish(job, 130 if task.cancelled() else 1))
        return job

    async def _run(self, job: Job, work: Callable[[Job], Coroutine[Any, Any, int]]) -> None:
        error = ""
        try:
            code = await work(job)
        except asyncio.CancelledError:
            code = 130
        except Exception as exc:
            code = 1
            error = f"job task ended without a result ({type(exc).__name__}: {exc}); likely a kaish fault"
            job.stderr.write((error + "\n").encode())
        self.finish(job, code, error)

    def finish(self, job: Job, code: int, error: str = "") -> None:
        """Close the streams, then publish the result (in that order)."""
        if job.result is not None:
            return
        if job.stdout.has_overflowed() and not job.killed:
            code = 3  # the spill contract: output was capped (a kill keeps its own code)
        job.stdout.close()
        job.stderr.close()
        job.finished = dt.datetime.now(dt.UTC)
        job.result = JobResult(code, error)
        if job.id in self._jobs:
            self._finished[job.id] = None
        job.done.set()
        for callback in list(self.on_finish):
            with contextlib.suppress(Exception):
                callback(job)

    # -- queries --
    def get(self, job_id: JobId) -> Job | None:
        return self._jobs.get(job_id)

    def exists(self, job_id: JobId) -> bool:
        return job_id in self._jobs

    def list_ids(self) -> list[JobId]:
        return sorted(self._jobs)

    def jobs(self) -> list[Job]:
        return [self._jobs[i] for i in sorted(self._jobs)]

    def list(self) -> builtins.list[JobInfo]:
        infos = [job.info() for job in self.jobs()]
        self._apply_retention()
        return infos

    def get_command(self, job_id: JobId) -> str | None:
        job = self._jobs.get(job_id)
        return None if job is None else job.command

    def get_status_string(self, job_id: JobId) -> str | None:
        job = self._jobs.get(job_id)
        return None if job is None else job.status_string

    def try_result(self, job_id: JobId) -> JobResult | None:
        job = self._jobs.get(job_id)
        return None if job is None else job.result

    def running_count(self) -> int:
        return sum(1 for job in self._jobs.values() if job.status is JobStatus.RUNNING)

    def streams(self, job_id: JobId) -> tuple[BoundedStream, BoundedStream] | None:
        job = self._jobs.get(job_id)
        return None if job is None else (job.stdout, job.stderr)

    def read_stdout(self, job_id: JobId) -> bytes | None:
        job = self._jobs.get(job_id)
        return None if job is None else job.stdout.read()

    def read_stderr(self, job_id: JobId) -> bytes | None:
        job = self._jobs.get(job_id)
        return None if job is None else job.stderr.read()

    # -- waiting --
    async def wait(self, job_id: JobId) -> JobResult | None:
        """The job's result once it finishes (None: unknown or stopped)."""
        job = self._jobs.get(job_id)
        if job is None or job.stopped:
            return None
        await job.done.wait()
        self._apply_retention()
        return job.result

    async def wait_all(self) -> builtins.list[tuple[JobId, JobResult]]:
        out: builtins.list[tuple[JobId, JobResult]] = []
        for job_id in [j.id for j in self.jobs() if not j.stopped]:
            result = await self.wait(job_id)
            if result is not None:
                out.append((job_id, result))
        return out

    # -- removal --
    def reap_finished(self) -> builtins.list[JobInfo]:
        gone = [self._jobs[i] for i in sorted(self._finished)]
        for job in gone:
            del self._jobs[job.id]
        self._finished.clear()
        return [job.info() for job in gone]

    def cleanup(self) -> int:
        return len(self.reap_finished())

    def reap_notices(self) -> builtins.list[str]:
        """What the interactive REPL prints before a prompt: every finished job
        is reaped, one line each (`[2] Done make all`)."""
        return [
            f"[{info.id}] {JobStatus(info.status).display} {info.command}\n"
            for info in self.reap_finished()
        ]

    def remove(self, job_id: JobId) -> bool:
        self._finished.pop(job_id, None)
        return self._jobs.pop(job_id, None) is not None

    def _apply_retention(self) -> None:
        """Drop the oldest finished jobs beyond `finished_retention` (O(1) each:
        `_finished` is kept in the order the jobs finished)."""
        finished = self._finished
        while len(finished) > max(self.finished_retention, 0):
            oldest, _ = finished.popitem(last=False)
            self._jobs.pop(oldest, None)

    # -- killing --
    def add_pgid(self, job_id: JobId, pgid: int) -> None:
        """Record a process group the job started (its leader's start time too,
        so a later reuse of the number is recognised)."""
        job = self._jobs.get(job_id)
        if job is not None and pgid not in job.pgids:
            job.pgids.append(pgid)
            stat = _proc_stat(pgid)
            if stat is not None and stat.pgrp == pgid:
                job.pgid_starts[pgid] = stat.start

    def job_pgids(self, job_id: JobId) -> builtins.list[int]:
        job = self._jobs.get(job_id)
        return [] if job is None else list(job.pgids)

    def live_pgids(self, job_id: JobId) -> builtins.list[int]:
        """The job's process groups that still exist and are still its own."""
        job = self._jobs.get(job_id)
        return [] if job is None else [pg for pg in job.pgids if _group_is_ours(job, pg)]

    def signal_job(self, job_id: JobId, signame: str) -> builtins.list[int]:
        """Send SIG<signame> to every live process group of the job; the groups reached."""
        sig = getattr(signal, f"SIG{signame}")
        reached = []
        for pgid in self.live_pgids(job_id):
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                continue
            reached.append(pgid)
        return reached

    def mark_killed_and_cancel(self, job_id: JobId, delivered: bool = False) -> bool:
        """Mark the job killed (before cancelling, so it cannot be misread) and
        cancel its task. False when there was no way to reach it."""
        job = self._jobs.get(job_id)
        if job is None or job.result is not None:
            return False
        if job.task is None and not delivered:
            return False
        job.killed = True
        if job.task is not None:
            job.task.cancel()
        return True

    def terminate(self, job_id: JobId, signame: str = "TERM", *, settle: float = 0.25) -> builtins.list[int] | None:
        """End a running job the way `kill %N` does.

            mark killed ─► SIG<signame> to its live process groups ─► cancel its task
                                                     (after `settle` s, if it still runs)

        Signalling the groups first lets the job's externals die of the signal
        itself, so the job ends `killed:143` (TERM) or `killed:137` (KILL) as
        in kaish; a job that outlives the signal — a loop, a builtin, a
        program that ignores TERM — is then cancelled (130; its externals get
        TERM, the grace period, KILL). Returns the groups signalled, or None
        when there is nothing to deliver the termination to (unknown,
        finished, or neither a task nor a live group).
        """
        job = self._jobs.get(job_id)
        if job is None or job.result is not None:
            return None
        groups = self.live_pgids(job_id)
        if job.task is None and not groups:
            return None
        job.killed = True  # set before anything can end the job
        sig = getattr(signal, f"SIG{signame}")
        reached = []
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
                reached.append(pgid)
        if job.task is not None:
            if reached and settle > 0:
                asyncio.get_running_loop().call_later(settle, self._cancel_if_running, job)
            else:
                job.task.cancel()
        return reached

    @staticmethod
    def _cancel_if_running(job: Job) -> None:
        if job.result is None and job.task is not None:
            job.task.cancel()

    def cancel(self, job_id: JobId) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.task is None or job.result is not None:
            return False
        job.task.cancel()
        return True

    def cancel_all_jobs(self) -> int:
        return sum(1 for job_id in list(self._jobs) if self.mark_killed_and_cancel(job_id))

    async def shutdown(self) -> None:
        """Kill every job and wait (bounded) for each to unwind; then SIGKILL
        whatever is left in any job's process groups (a finished job's
        daemonised grandchildren included), so no orphan survives."""
        self.cancel_all_jobs()
        for job in self.jobs():
            if job.result is None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(job.done.wait(), self.kill_grace + 3)
        self.kill_all_now()

    def kill_all_now(self) -> None:
        """Synchronous last resort (shutdown, atexit, kernel death): SIGKILL
        every live process group of every job."""
        for job in list(self._jobs.values()):
            for pgid in job.pgids:
                if _group_is_ours(job, pgid):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(pgid, signal.SIGKILL)


# ----------------------------------------------------------------------
# process groups: is this number still the group the job started?
# ----------------------------------------------------------------------
@record
class _ProcStat:
    state: str
    pgrp: int
    session: int
    start: int  # clock ticks after boot


_HAVE_PROC = os.path.isdir("/proc/self")


def _parse_stat(raw: bytes) -> _ProcStat:
    # after the ")" that ends the command name: state ppid pgrp session ... (starttime is 22nd)
    fields = raw[raw.rindex(b")") + 2 :].split()
    return _ProcStat(fields[0].decode(), int(fields[2]), int(fields[3]), int(fields[19]))


def _proc_stat(pid: int) -> _ProcStat | None:
    if not _HAVE_PROC:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return _parse_stat(handle.read())
    except (OSError, ValueError, IndexError):
        return None


def _group_is_ours(job: Job, pgid: int) -> bool:
    """Does process group `pgid` still exist, and is it still the one `job` started?

    Its leader alive: the leader must be the process recorded at spawn (same
    start time). Its leader gone (members can outlive it: `sh -c 'sleep 99 &'`):
    a live member must be in this session. Without /proc: the group exists.
    """
    if pgid <= 1:
        return False
    if not _HAVE_PROC:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return False
        return True
    leader = _proc_stat(pgid)
    if leader is not None:
        recorded = job.pgid_starts.get(pgid)
        return leader.pgrp == pgid and (recorded is None or leader.start == recorded)
    session = os.getsid(0)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = _proc_stat(int(name))
        if stat is not None and stat.pgrp == pgid and stat.state != "Z":
            return stat.session == session
    return False
