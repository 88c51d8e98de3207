"""The kaish side of the magics: one Shell on a loop thread, results, output routing.

    KaishSession.run(source, call) ── LoopThread ──► Shell.execute
        │                                              │ bytes
        │                                  _Capture ◄──┘ decode, keep (bounded), show
        │                                      └──► CellStreams.write ──► the cell
        │                                  tee_factory(job) reads _CALL (the call's
        │                                      context, inherited by its jobs)
        │                                      └──► _JobSink ──► the starting cell
        ▼
    KaishResult(code, out, err, data)  ── non-zero ──► KaishCommandError

Nothing here knows about magics or option syntax (magics.py); nothing here
imports IPython, so it can be tested with plain threads.
"""

from __future__ import annotations

import codecs
import contextvars
import math
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kaish_kernel.errors import KaishError, KaishSyntaxError
from kaish_kernel.jupyter.loop_thread import LoopThread
from kaish_kernel.shell import ExecResult, Shell

__all__ = [
    "CAPTURE_LIMIT",
    "CellStreams",
    "JobRow",
    "KaishCommandError",
    "KaishResult",
    "KaishSession",
    "MagicCall",
    "to_kaish_value",
]

CAPTURE_LIMIT = 16 << 20  # characters kept per stream in a result; the display is not capped
_CLOSE_TIMEOUT = 6.0  # seconds for TERM, grace and KILL of every job at exit


# -- what a call returns ----------------------------------------------------------------


def _preview(text: Any, limit: int = 60) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class KaishResult:
    """What `x = %kaish CMD` returns: subprocess.CompletedProcess plus the typed value.

    `out`/`err` are the text the command wrote (kept up to CAPTURE_LIMIT
    characters each; `truncated` says when more was written), `data` the typed
    value of the last command (`has_data` tells a JSON null from no value),
    `code` the exit status. Iterating yields the lines of `out`.
    """

    command: str
    code: int
    out: str = ""
    err: str = ""
    data: Any = None
    has_data: bool = False
    syntax_error: KaishSyntaxError | None = None
    truncated: bool = False

    @property
    def returncode(self) -> int:
        """The subprocess spelling of `code`."""
        return self.code

    @property
    def stdout(self) -> str:
        return self.out

    @property
    def stderr(self) -> str:
        return self.err

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def check(self) -> KaishResult:
        """Raise KaishCommandError when the exit status is non-zero; else self."""
        if self.code != 0:
            raise KaishCommandError(self)
        return self

    def __repr__(self) -> str:
        parts = [f"code={self.code}", f"out={_preview(self.out)}"]
        if self.err:
            parts.append(f"err={_preview(self.err)}")
        if self.has_data:
            parts.append(f"data={_preview(self.data)}")
        if self.truncated:
            parts.append("truncated=True")
        return f"KaishResult({_preview(self.command, 40)}, {', '.join(parts)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class KaishCommandError(KaishError):
    """A %kaish command exited non-zero (like subprocess.CalledProcessError).

    `code`/`returncode` is the exit status, `stderr`/`stdout` the text it wrote,
    `cmd` the kaish source, `result` the whole KaishResult.
    """

    def __init__(self, result: KaishResult) -> None:
        self.result = result
        self.code = self.returncode = result.code
        self.cmd = result.command
        self.stdout = self.output = result.out
        self.stderr = result.err
        super().__init__(self._message())

    def _message(self) -> str:
        message = f"kaish exited with status {self.code}"
        if self.result.syntax_error is not None:
            summary = self.result.syntax_error.render().splitlines()[0]
        else:
            lines = [line for line in self.stderr.splitlines() if line.strip()]
            summary = lines[-1] if lines else ""
        return f"{message}: {summary}" if summary else message

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback through the magic's
        internals: the command's own stderr has already told the story."""
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


# -- Python values into kaish -----------------------------------------------------------


def to_kaish_value(value: Any, where: str = "value") -> Any:
    """The kaish value for a JSON-able Python value (tuples become lists).

    Raises TypeError naming the offending part (`xs[2]`, `cfg['a']`) for
    anything else: sets, objects, non-string keys, self-containing containers.
    """
    return _convert(value, where, set())


def _convert(value: Any, where: str, active: set[int]) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else value
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list | tuple | dict):
        if id(value) in active:
            raise TypeError(f"{where} contains itself")
        active.add(id(value))
        try:
            if isinstance(value, dict):
                out = {}
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise TypeError(
                            f"{where} has a {type(key).__name__} key {key!r}; kaish record keys are strings"
                        )
                    out[key] = _convert(item, f"{where}[{key!r}]", active)
                return out
            return [_convert(item, f"{where}[{i}]", active) for i, item in enumerate(value)]
        finally:
            active.discard(id(value))
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which has no kaish value; "
        "kaish takes None, bool, int, float, str, bytes and lists/tuples/dicts (str keys) of those"
    )


# -- where output goes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellStreams:
    """The cell a magic call belongs to: its sys.stdout/sys.stderr and, in
    ipykernel, its parent header (so writes from any thread, at any later
    time, are shown in that cell)."""

    stdout: Any
    stderr: Any
    parent: dict[str, Any] | None = None

    @classmethod
    def current(cls) -> CellStreams:
        """Capture the calling thread's streams (call this in the cell's thread)."""
        header = getattr(sys.stdout, "parent_header", None)
        parent = dict(header) if isinstance(header, dict) and header else None
        return cls(sys.stdout, sys.stderr, parent)

    def write(self, name: str, text: str) -> None:
        """Show `text` on stream `name` ("stdout"/"stderr"); never raises (a
        closed stream must not take a job down)."""
        stream = self.stdout if name == "stdout" else self.stderr
        try:
            if self.parent is not None and hasattr(stream, "set_thread_parent"):
                # ipykernel's OutStream: batched per parent header, sent by its IO thread
                token = stream.set_thread_parent(self.parent)
                try:
                    stream.write(text)
                finally:
                    stream.reset_thread_parent(token)
            else:
                stream.write(text)
                stream.flush()
        except Exception:
            pass


class _Capture:
    """One stream of one call: decode UTF-8 incrementally, keep the text
    (bounded), and show it live unless the call redirected it."""

    def __init__(self, name: str, show: CellStreams | None, limit: int = CAPTURE_LIMIT) -> None:
        self._name = name
        self._show = show
        self._limit = limit
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._parts: list[str] = []
        self._size = 0
        self._shown_last = "\n"  # the last character shown (nothing shown counts as a line end)
        self.truncated = False

    def write(self, data: bytes) -> None:
        text = self._decoder.decode(bytes(data))
        if text:
            self._emit(text)

    def _emit(self, text: str) -> None:
        room = self._limit - self._size
        if room >= len(text):
            self._parts.append(text)
            self._size += len(text)
        else:
            if room > 0:
                self._parts.append(text[:room])
                self._size += room
            self.truncated = True
        if self._show is not None:
            self._show.write(self._name, text)
            self._shown_last = text[-1]

    def finish(self) -> str:
        """The kept text; the display gets its last line ended (a typed value
        such as `typeof`'s prints no newline, and the next output must not
        run on from it)."""
        tail = self._decoder.decode(b"", final=True)
        if tail:
            self._emit(tail)
        if self._show is not None and self._shown_last != "\n":
            self._show.write(self._name, "\n")
        return "".join(self._parts)


@dataclass(eq=False)
class MagicCall:
    """One magic call, as seen from the loop thread (through _CALL): where its
    jobs' output goes, and which jobs it started."""

    streams: CellStreams
    origin: int | None = None  # IPython execution count
    background_label: str | None = None  # set for a --bg cell: the job's display name
    started: list[int] = field(default_factory=list)


_CALL: contextvars.ContextVar[MagicCall | None] = contextvars.ContextVar(
    "kaish_magic_call", default=None
)


class _JobSink:
    """A background job's output on its way to the cell that started it."""

    def __init__(self, job_id: int, label: str, streams: CellStreams) -> None:
        self.job_id = job_id
        self.label = label
        self._streams = streams
        self._decoders = {
            name: codecs.getincrementaldecoder("utf-8")("replace") for name in ("stdout", "stderr")
        }
        self._open_line = {"stdout": False, "stderr": False}  # last text shown lacks "\n"

    def tee(self, name: str, data: bytes) -> None:
        self._show(name, self._decoders[name].decode(data))

    def _show(self, name: str, text: str) -> None:
        if text:
            self._streams.write(name, text)
            self._open_line[name] = not text.endswith("\n")

    def finish(self, status: str, ok: bool) -> None:
        """The undecoded tails, each stream's last line ended, then the status line."""
        for name, decoder in self._decoders.items():
            self._show(name, decoder.decode(b"", final=True))
            if self._open_line[name]:
                self._show(name, "\n")
        self._streams.write(
            "stdout" if ok else "stderr", f"[{self.job_id}] {status}  {self.label}\n"
        )


# -- the session ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobRow:
    """One line of %kaish_jobs."""

    id: int
    status: str
    label: str
    origin: int | None
    pgids: tuple[int, ...]


class KaishSession:
    """One kaish Shell on a private event-loop thread, shared by every magic
    call of one IPython shell. Calls run one at a time; jobs run in between."""

    def __init__(self, *, env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self._thread = LoopThread("kaish-magics")
        self.shell: Shell = self._thread.run(self._build(env, cwd))
        self._lock = threading.Lock()
        self._sinks: dict[int, _JobSink] = {}
        self._origins: dict[int, tuple[str, int | None]] = {}  # job id -> (label, In[n])
        self.closed = False
        jobs = self.shell.jobs
        if jobs is not None:
            jobs.tee_factory = self._tee_for
            jobs.on_finish.append(self._job_finished)

    def __repr__(self) -> str:
        state = "closed" if self.closed else repr(self.shell)
        return f"<KaishSession {state}>"

    @staticmethod
    async def _build(env: dict[str, str] | None, cwd: str | None) -> Shell:
        # built on its own loop: anything it makes that binds to a loop binds to this one
        return Shell(env=env, cwd=cwd, script_name="kaish", guard_orphans=True)

    # -- running ----------------------------------------------------------------------
    def run(
        self,
        source: str,
        call: MagicCall,
        *,
        bindings: dict[str, Any] | None = None,
        show_out: bool = True,
        show_err: bool = True,
    ) -> KaishResult:
        """Run `source` to completion, streaming to `call.streams` unless told not to.

        Cancellation: KeyboardInterrupt in the waiting thread cancels the
        kaish work (externals get TERM, grace, KILL), then re-raises.
        """
        if self.closed:
            raise RuntimeError("this kaish session is closed")
        out = _Capture("stdout", call.streams if show_out else None)
        err = _Capture("stderr", call.streams if show_err else None)
        with self._lock:
            submission = self._thread.submit(self._execute(source, call, bindings or {}, out, err))
            result: ExecResult = self._thread.wait(submission)
        return KaishResult(
            command=source,
            code=result.code,
            out=out.finish(),
            err=err.finish(),
            data=result.data,
            has_data=result.has_data,
            syntax_error=result.error,
            truncated=out.truncated or err.truncated,
        )

    async def _execute(
        self, source: str, call: MagicCall, bindings: dict[str, Any], out: _Capture, err: _Capture
    ) -> ExecResult:
        _CALL.set(call)  # this task's context: jobs it starts copy it
        for name, value in bindings.items():
            self.shell.set_var(name, value)
        return await self.shell.execute(source, stdout=out.write, stderr=err.write)

    def call_in_loop(self, function: Any, *args: Any) -> Any:
        """Run a plain function on the loop thread (to read state jobs mutate)."""

        async def call() -> Any:
            return function(*args)

        return self._thread.run(call(), timeout=10)

    # -- jobs -------------------------------------------------------------------------
    def _tee_for(self, job: Any) -> Any:
        """tee_factory: a job shows its output in the cell whose call started it."""
        call = _CALL.get()
        if call is None:
            return None
        label = job.command
        if call.background_label is not None and not call.started:
            label = call.background_label
            call.streams.write("stdout", f"[{job.id}] started in the background: {label}\n")
        call.started.append(job.id)
        sink = _JobSink(job.id, label, call.streams)
        self._sinks[job.id] = sink
        self._origins[job.id] = (label, call.origin)
        if len(self._origins) > 2 * self.shell.jobs.finished_retention:
            # the JobManager forgets old finished jobs; forget their labels too
            known = set(self.shell.jobs.list_ids())
            self._origins = {i: o for i, o in self._origins.items() if i in known}
        return sink.tee

    def _job_finished(self, job: Any) -> None:
        sink = self._sinks.pop(job.id, None)
        if sink is not None:
            sink.finish(job.status_string, job.result is not None and job.result.ok)

    def job_rows(self) -> list[JobRow]:
        def rows() -> list[JobRow]:
            out = []
            for job in self.shell.jobs.jobs() if self.shell.jobs is not None else []:
                label, origin = self._origins.get(job.id, (job.command, None))
                out.append(JobRow(job.id, job.status_string, label, origin, tuple(job.pgids)))
            return out

        result: list[JobRow] = self.call_in_loop(rows)
        return result

    # -- ending -----------------------------------------------------------------------
    def close(self) -> None:
        """Kill every job's process group (TERM, grace, KILL), then stop the loop."""
        if self.closed:
            return
        self.closed = True
        try:
            self._thread.run(self.shell.close(), timeout=_CLOSE_TIMEOUT)
        except BaseException:  # at exit, or interrupted: the SIGKILL below still happens
            pass
        finally:
            if self.shell.jobs is not None:
                self.shell.jobs.kill_all_now()
            self._thread.stop()
