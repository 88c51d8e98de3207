"""KaishKernel: kaish cells on ipykernel's wrapper-kernel API.

    shell channel ── execute_request ──► do_execute ──► cell task: Shell.execute(code, …)
                                                          │ stdout/stderr bytes
                                                          ▼
                                  StreamCoalescer ──► iopub `stream` (this cell's parent)
    `cmd &` ──► JobManager.register ──► tee_factory ──► JobView: status line + output
                                                         in the cell that started the job
    SIGINT (signal mode) ─┐
    interrupt_request ────┴──► cancel the cell task; again after 0.5 s (TERM → KILL at once)
    scatter progress ──► ProgressView: one display_id'd line per scatter, in its cell
    shutdown_request ────────► cancel the cell, Shell.close() (every job's process group),
                               then any child process group left, /v/cells removed

Threads: ipykernel 7 runs control messages (interrupt, shutdown) on a control
thread with its own loop. The Shell, its jobs and every cell live on the main
thread's loop (`self._loop`), so control handlers hop over with
`call_soon_threadsafe` / `run_coroutine_threadsafe`. Background jobs keep
running on that loop while the kernel is idle.

What a cell's reply means (the convention; the README should repeat it):

    exit status 0          status "ok"; a typed value from the last command is
                           shown once, as execute_result (JSON, text, HTML table)
    exit status N != 0     status "error", ename "ExitStatus", evalue "exit status N"
    syntax error           status "error", ename "KaishSyntaxError", the traceback is
                           the source line, a caret under the column and the hint
    interrupted            status "error", ename "KeyboardInterrupt",
                           evalue "interrupted (exit status 130)"

Output is capped per cell (KAISH_OUTPUT_LIMIT bytes, env or a kaish variable,
`0` for no cap; suffixes K/M/G); the full text of a capped cell is readable at
/v/cells/N/stdout. A scatter shows a live progress line (done / failed /
running / total) in its cell, updated in place and finalised at the end.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import fnmatch
import os
import signal
from typing import Any

import zmq
from ipykernel._version import kernel_protocol_version
from ipykernel.kernelbase import Kernel
from traitlets import Float, Integer, default

from kaish_kernel import __version__
from kaish_kernel.jupyter.cellfs import MOUNT, CellOutputStore
from kaish_kernel.jupyter.completion import complete, inspect
from kaish_kernel.jupyter.display import (
    error_content,
    exit_status_error,
    interrupt_error,
    syntax_error,
    value_bundle,
)
from kaish_kernel.jupyter.output import (
    DEFAULT_OUTPUT_LIMIT,
    CellStdout,
    JobView,
    ProgressView,
    StreamCoalescer,
)
from kaish_kernel.jupyter.stdin import EOF_ANSWER, FrontendInput, NoFrontendInput
from kaish_kernel.shell import Shell

__all__ = ["KaishKernel", "launch", "parse_size"]

# The parent header of the cell whose task is running. Tasks copy the context
# they are created in, so a job started by a cell (or by a job of that cell)
# still sees the cell's parent when the JobManager asks where to show it.
_CELL_PARENT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "kaish_cell_parent", default=None
)

LIMIT_VARIABLE = "KAISH_OUTPUT_LIMIT"


def parse_size(text: str) -> int | None:
    """`1048576`, `512K`, `10M`, `1G` → bytes; None when not a size."""
    text = str(text).strip().upper().removesuffix("B").removesuffix("I")
    scale = 1
    if text and text[-1] in "KMG":
        scale = 1024 ** ("KMG".index(text[-1]) + 1)
        text = text[:-1]
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value * scale) if value >= 0 else None


def _child_process_groups() -> list[int]:
    """Process groups led by our direct children (externals, in their own groups)."""
    me, mine = os.getpid(), os.getpgrp()
    groups: set[int] = set()
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        try:
            ppid, pgrp = int(fields[1]), int(fields[2])
        except (IndexError, ValueError):
            continue
        if ppid == me and pgrp not in (mine, 0):
            groups.add(pgrp)
    return sorted(groups)


class KaishKernel(Kernel):
    """One kaish Shell per kernel; cells, jobs and output on the kernel's loop."""

    implementation = "kaish-kernel"
    implementation_version = __version__
    language = "kaish"
    language_version = __version__
    language_info = {  # noqa: RUF012 - ipykernel reads it as a class attribute
        "name": "kaish",
        "version": __version__,
        "mimetype": "text/x-kaish",
        "file_extension": ".kai",
        "codemirror_mode": "shell",
        "pygments_lexer": "kaish",
    }
    banner = (
        f"kaish {__version__} — a predictable shell with JSON values.\n"
        "Output streams as it comes; `cmd &` keeps running across cells; `help` lists builtins."
    )
    help_links = [  # noqa: RUF012
        {"text": "kaish (reference shell)", "url": "https://github.com/tobert/kaish"},
    ]

    output_limit = Integer(
        help="Bytes of output shown per cell before the rest goes to /v/cells/N (0: no cap)."
    ).tag(config=True)
    interrupt_escalation = Float(
        0.5, help="Seconds after an interrupt before it is repeated (externals then get SIGKILL)."
    ).tag(config=True)

    @default("output_limit")
    def _default_output_limit(self) -> int:
        size = parse_size(os.environ.get(LIMIT_VARIABLE, ""))
        return DEFAULT_OUTPUT_LIMIT if size is None else size

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Not `self.shell`: IPKernelApp treats a kernel's `shell` as an IPython shell.
        self.kaish = Shell(
            env=dict(os.environ), cwd=os.getcwd(), script_name="kaish", guard_orphans=True
        )
        self.cells = CellOutputStore()
        with contextlib.suppress(Exception):
            self.kaish.vfs.mount(MOUNT, self.cells)
        self.kaish.set_scatter_progress(self._scatter_progress)
        jobs = self.kaish.jobs
        if jobs is not None:
            jobs.tee_factory = self._job_tee
            jobs.on_finish.append(self._job_finished)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cell_task: asyncio.Task[Any] | None = None
        self._interrupted = False
        self._views: dict[int, JobView] = {}
        self._progress_count = 0
        self._progress: dict[int, ProgressView] = {}  # running scatter lines, by cell
        self._announced: set[int] = set()  # jobs whose "[N]" notice the status line replaces
        self._history: list[list[Any]] = []  # [line, input, output text or None]
        self._closed = False
        atexit.register(self._kill_everything_now)

    def __repr__(self) -> str:
        return f"<KaishKernel cell={'running' if self._cell_task else 'idle'} {self.kaish!r}>"

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        super().start()
        self._loop = self.io_loop.asyncio_loop  # type: ignore[attr-defined]
        assert self._loop is not None
        self._loop.add_signal_handler(signal.SIGINT, self._interrupt_cell)
        self._loop.add_signal_handler(signal.SIGTERM, self._on_sigterm)

    def pre_handler_hook(self) -> None:
        """Keep our SIGINT handler: ipykernel's default would raise
        KeyboardInterrupt into the event loop and take the kernel down."""

    def post_handler_hook(self) -> None:
        """See pre_handler_hook."""

    @property
    def kernel_info(self) -> dict[str, Any]:
        return {
            "protocol_version": kernel_protocol_version,
            "implementation": self.implementation,
            "implementation_version": self.implementation_version,
            "language_info": self.language_info,
            "banner": self.banner,
            "help_links": self.help_links,
            "supported_features": [],  # no subshells, no debugger
        }

    # -- execution ---------------------------------------------------------------
    def _send(self, msg_type: str, content: dict[str, Any], parent: dict[str, Any]) -> None:
        if self.session is not None:
            self.session.send(self.iopub_socket, msg_type, content, parent=parent, ident=self._topic(msg_type))

    def _output_limit(self) -> int:
        """The kaish variable KAISH_OUTPUT_LIMIT wins, so a notebook can change the cap."""
        if self.kaish.has_var(LIMIT_VARIABLE):
            with contextlib.suppress(Exception):
                size = parse_size(self.kaish.get_var(LIMIT_VARIABLE))
                if size is not None:
                    return size
        return int(self.output_limit)

    def _cell_output(self, parent: dict[str, Any], count: int, silent: bool) -> StreamCoalescer:
        if silent:
            return StreamCoalescer(lambda *_: None, parent, limit=0)
        return StreamCoalescer(
            self._send,
            parent,
            limit=self._output_limit(),
            spill=self.cells.spill_for(count),
            cap_hint=f"Change the cap with {LIMIT_VARIABLE}=10M (0: no cap).",
        )

    async def do_execute(  # type: ignore[override]
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        try:
            return await self._execute(code, silent, store_history, allow_stdin)
        except Exception as exc:  # a kernel bug: still answer, or the front end waits forever
            self.log.exception("execute_request failed")
            content = error_content("InternalError", f"{type(exc).__name__}: {exc}", [])
            return self._error(content, self.get_parent("shell"), self.execution_count, silent)

    async def _execute(self, code: str, silent: bool, store_history: bool, allow_stdin: bool) -> dict[str, Any]:
        count = self.execution_count
        parent = self.get_parent("shell")
        ident = self._get_shell_context_var(self._shell_parent_ident)
        entry = [count, code, None]
        if store_history and not silent:
            self._history.append(entry)
        if not code.strip():
            return self._ok(count)
        out = self._cell_output(parent, count, silent)

        async def ask(bulk: bool) -> str | None:
            prompt = out.take_partial_line()
            out.flush()
            return await self._ask_frontend(prompt, parent, ident)

        stdin = FrontendInput(ask) if allow_stdin and not silent else NoFrontendInput()
        self._interrupted = False
        task = asyncio.get_running_loop().create_task(
            self._run_cell(code, out, stdin, None if silent else parent)
        )
        self._cell_task = task
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            if self._cell_task is task:
                self._cell_task = None
        return self._finish_cell(task, out, parent, count, silent, entry)

    async def _run_cell(
        self, code: str, out: StreamCoalescer, stdin: Any, parent: dict[str, Any] | None
    ) -> Any:
        _CELL_PARENT.set(parent)  # None for silent cells: their jobs show nowhere

        def stderr(data: bytes) -> None:
            # `cmd &` announces "[N]" on stderr; the job's status line already
            # says so, and a lone stderr line renders like an error in a notebook.
            if data.startswith(b"[") and data.endswith(b"]\n") and data[1:-2].isdigit():
                if int(data[1:-2]) in self._announced:
                    self._announced.discard(int(data[1:-2]))
                    return
            out.write_stderr(data)

        out.cell_stdout = CellStdout(out)
        return await self.kaish.execute(code, stdout=out.cell_stdout, stderr=stderr, stdin=stdin)

    def _finish_cell(
        self,
        task: asyncio.Task[Any],
        out: StreamCoalescer,
        parent: dict[str, Any],
        count: int,
        silent: bool,
        entry: list[Any],
    ) -> dict[str, Any]:
        progress = self._progress.pop(id(parent), None)
        if progress is not None:
            progress.stop()
        shows_value = (
            not silent
            and not (task.cancelled() or self._interrupted)
            and task.exception() is None
            and task.result().error is None
            and task.result().code == 0
            and task.result().has_data
        )
        if out.cell_stdout is not None:
            # the value's text is shown as the execute_result, or else as output
            if shows_value:
                out.cell_stdout.drop()
            else:
                out.cell_stdout.release()
        if task.cancelled() or self._interrupted:
            out.close()
            return self._error(interrupt_error(), parent, count, silent)
        exc = task.exception()
        if exc is not None:  # Shell.execute turns failures into codes; this is a kaish bug
            out.write_stderr(f"kaish: internal error: {type(exc).__name__}: {exc}\n".encode())
            out.close()
            return self._error(error_content("InternalError", str(exc), []), parent, count, silent)
        result = task.result()
        if result.error is not None:
            out.drop_pending("stderr")  # the error message below shows the same text
            out.close()
            return self._error(syntax_error(result.error), parent, count, silent)
        if result.code != 0:
            out.close()
            return self._error(exit_status_error(result.code), parent, count, silent)
        if shows_value:
            out.close()
            bundle = value_bundle(result.data)
            self._send("execute_result", {"execution_count": count, "data": bundle, "metadata": {}}, parent)
            entry[2] = bundle["text/plain"][:10_000]  # history keeps a bounded copy
        else:
            out.close()
        return self._ok(count)

    def _ok(self, count: int) -> dict[str, Any]:
        return {"status": "ok", "execution_count": count, "payload": [], "user_expressions": {}}

    def _error(self, content: dict[str, Any], parent: dict[str, Any], count: int, silent: bool) -> dict[str, Any]:
        if not silent:
            self._send("error", content, parent)
        return {"status": "error", "execution_count": count, **content}

    async def _ask_frontend(self, prompt: str, parent: dict[str, Any], ident: Any) -> str | None:
        """input_request without blocking the loop (jobs keep streaming meanwhile)."""
        assert self.session is not None
        sock = self.stdin_socket
        while sock.poll(0):  # stale replies from an earlier, interrupted request
            sock.recv_multipart(zmq.NOBLOCK)
        self.session.send(sock, "input_request", {"prompt": prompt, "password": False}, parent, ident=ident)
        while True:
            if sock.poll(0):
                _, reply = self.session.recv(sock, mode=zmq.NOBLOCK)
                if reply is not None:
                    break
            else:
                await asyncio.sleep(0.02)
        value = reply.get("content", {}).get("value", "")
        return None if value == EOF_ANSWER else str(value)

    # -- background jobs -----------------------------------------------------------
    def _job_tee(self, job: Any) -> Any:
        parent = _CELL_PARENT.get()
        if parent is None or self.session is None:
            return None
        view = JobView(
            self._send,
            parent,
            job_id=job.id,
            command=job.command,
            display_id=f"kaish-job-{self.ident}-{job.id}",
            limit=self._output_limit(),
        )
        self._views[job.id] = view
        self._announced.add(job.id)
        view.show(job.status_string)
        return view.tee

    def _job_finished(self, job: Any) -> None:
        view = self._views.pop(job.id, None)
        if view is None:
            return
        seconds = (job.finished - job.started).total_seconds() if job.finished else None
        view.finish(job.status_string, seconds)

    def progress_view(self, title: str = "scatter") -> ProgressView | None:
        """A live progress line in the cell whose task is asking (None outside one)."""
        parent = _CELL_PARENT.get()
        if parent is None or self.session is None:
            return None
        self._progress_count += 1
        return ProgressView(
            self._send, parent, display_id=f"kaish-progress-{self.ident}-{self._progress_count}", title=title
        )

    def _scatter_progress(self, progress: Any) -> None:
        """Scatter's progress callback: one line per scatter run, finalised when
        every item is done. `done` counts failures too; the line shows ok/failed."""
        if progress.total == 0:
            return
        key = id(_CELL_PARENT.get())
        view = self._progress.get(key)
        if view is None or view.finished:
            view = self.progress_view()
            if view is None:
                return
            self._progress[key] = view
        final = progress.done == progress.total and progress.running == 0
        ok = progress.done - progress.failed
        view.update(ok, progress.failed, progress.running, progress.total, final=final)
        if final:
            self._progress.pop(key, None)

    # -- interrupt and shutdown ----------------------------------------------------
    def _interrupt_cell(self) -> None:
        """Cancel the running cell (never a background job); repeat it shortly
        so externals that ignore SIGTERM get SIGKILL without the full grace."""
        task = self._cell_task
        if task is None or task.done() or self._loop is None:
            return
        self._interrupted = True
        task.cancel()
        self._loop.call_later(self.interrupt_escalation, self._escalate, task)

    @staticmethod
    def _escalate(task: asyncio.Task[Any]) -> None:
        if not task.done():
            task.cancel()

    def _send_interrupt_children(self) -> None:
        """Message-mode interrupt (control thread): cancel on the main loop directly."""
        if self._loop is None:
            super()._send_interrupt_children()
            return
        self._loop.call_soon_threadsafe(self._interrupt_cell)

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:  # type: ignore[override]
        """Runs on the control thread; the cleanup itself runs on the main loop.

        Bounded at ~4.5 s because jupyter_client SIGKILLs a kernel that has not
        exited about 5 s after asking it to shut down."""
        loop = self._loop
        if loop is not None and loop.is_running() and asyncio.get_running_loop() is not loop:
            future = asyncio.run_coroutine_threadsafe(self._close(), loop)
            try:
                await asyncio.wait_for(asyncio.wrap_future(future), 4.5)
            except Exception:
                self._kill_everything_now()
        else:
            await self._close()
        return {"status": "ok", "restart": restart}

    async def _close(self) -> None:
        """Cancel the cell, let jobs end (TERM, grace), then SIGKILL whatever is left."""
        if self._closed:
            return
        self._closed = True
        task = self._cell_task
        if task is not None and not task.done():
            self._interrupted = True
            task.cancel()
            asyncio.get_running_loop().call_later(0.2, self._escalate, task)
            await asyncio.wait({task}, timeout=1.5)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.kaish.close(), 2.5)
        self._kill_everything_now()
        self.cells.cleanup()

    def _kill_everything_now(self) -> None:
        """Last resort (SIGTERM, atexit): SIGKILL every job's and child's process group."""
        self.kaish.set_scatter_progress(self._scatter_progress)
        jobs = self.kaish.jobs
        if jobs is not None:
            with contextlib.suppress(Exception):
                jobs.kill_all_now()
        for pgid in _child_process_groups():
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)

    def _on_sigterm(self) -> None:
        self._kill_everything_now()
        self.cells.cleanup()
        os._exit(128 + signal.SIGTERM)

    # -- subshells: not supported (the Shell is single-threaded) -------------------
    async def create_subshell_request(self, socket: Any, ident: Any, parent: Any) -> None:
        if self.session is not None:
            content = error_content("NotImplementedError", "the kaish kernel has no subshells", [])
            self.session.send(socket, "create_subshell_reply", {"status": "error", **content}, parent, ident)

    async def list_subshell_request(self, socket: Any, ident: Any, parent: Any) -> None:
        if self.session is not None:
            self.session.send(socket, "list_subshell_reply", {"status": "ok", "subshell_id": []}, parent, ident)

    async def delete_subshell_request(self, socket: Any, ident: Any, parent: Any) -> None:
        if self.session is not None:
            content = error_content("NotImplementedError", "the kaish kernel has no subshells", [])
            self.session.send(socket, "delete_subshell_reply", {"status": "error", **content}, parent, ident)

    # -- introspection -------------------------------------------------------------
    async def do_complete(self, code: str, cursor_pos: int | None) -> dict[str, Any]:  # type: ignore[override]
        pos = self._cursor(code, cursor_pos)
        try:
            return complete(self.kaish, code, pos)
        except Exception:  # a completion bug must not cost the user the kernel
            self.log.exception("complete_request failed")
            return {"status": "ok", "matches": [], "cursor_start": pos, "cursor_end": pos, "metadata": {}}

    async def do_inspect(  # type: ignore[override]
        self, code: str, cursor_pos: int | None, detail_level: int = 0, omit_sections: Any = ()
    ) -> dict[str, Any]:
        try:
            return inspect(self.kaish, code, self._cursor(code, cursor_pos))
        except Exception:
            self.log.exception("inspect_request failed")
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}

    @staticmethod
    def _cursor(code: str, cursor_pos: int | None) -> int:
        return len(code) if cursor_pos is None else min(max(int(cursor_pos), 0), len(code))

    async def do_is_complete(self, code: str) -> dict[str, Any]:  # type: ignore[override]
        try:
            status, indent = self.kaish.is_complete(code)
        except Exception:
            return {"status": "unknown"}
        return {"status": status, "indent": indent} if status == "incomplete" else {"status": status}

    async def do_history(  # type: ignore[override]
        self,
        hist_access_type: str,
        output: bool,
        raw: bool,
        session: int | None = None,
        start: int | None = None,
        stop: int | None = None,
        n: int | None = None,
        pattern: str | None = None,
        unique: bool = False,
    ) -> dict[str, Any]:
        """This session's cells, kept in memory (session number 1)."""
        entries = list(self._history)
        if hist_access_type == "range":
            lo = start or 0
            entries = [e for e in entries if e[0] >= lo and (stop is None or e[0] < stop)]
        elif hist_access_type == "search":
            glob = pattern or "*"
            entries = [e for e in entries if fnmatch.fnmatchcase(e[1], glob)]
            if unique:
                seen: dict[str, list[Any]] = {}
                for e in entries:
                    seen.pop(e[1], None)
                    seen[e[1]] = e
                entries = sorted(seen.values(), key=lambda e: e[0])
        if hist_access_type in ("tail", "search") and n is not None:
            entries = entries[-n:] if n > 0 else []
        history = [(1, line, (code, out) if output else code) for line, code, out in entries]
        return {"status": "ok", "history": history}


def launch() -> None:
    """Start the kernel process (what kernel.json's argv runs)."""
    from ipykernel.kernelapp import IPKernelApp

    IPKernelApp.launch_instance(kernel_class=KaishKernel)
