"""External commands as pipeline stages.

`run_external` starts one program in its own process group and connects it
to a stage's streams, copying through Python only where it must:

    stdin  InputStream ── fileno()? ──yes──► the child inherits the fd
                          EMPTY_INPUT ─────► /dev/null
                          otherwise ───────► pipe ◄── pump task (reads the stream)
    stdout OutputStream ─ fileno()? ──yes──► the child inherits the fd
                          otherwise ───────► pipe ──► pump task ──► await stdout.write()
    stderr ErrorSink ──── fileno()? ──yes──► the child inherits the fd
                          otherwise ───────► pipe ──► pump task ──► sink.write()

Output is forwarded as it arrives, while the child runs. The stage ends when
the child has exited *and* its stdout/stderr reached EOF (a grandchild that
keeps them open keeps the stage alive, as in sh).

Invariants:

- The child leads a new process group (pgid == pid), so signals sent to the
  group reach everything it started. Its environment is exactly `env`.
- The child starts with SIGPIPE at its default action (Python ignores it in
  the parent): when our reader stops (`yes | head -n 1`), the pump closes its
  end of the child's stdout and the child dies of SIGPIPE.
- Exit code: the status, or 128+N when killed by signal N.
- Cancellation: SIGTERM to the group, up to `kill_grace` seconds for the
  child to exit, then SIGKILL to the group, reap, and CancelledError is
  raised again. Reaping happens after the group KILL, so the pgid cannot
  have been reused by then.
- Every fd this module opens is closed before it returns or raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import stat
import subprocess
import threading
from collections.abc import Callable
from typing import Final

from kaish_kernel.scheduler import guardian
from kaish_kernel.scheduler.stage import (
    READ_CHUNK,
    EmptyInput,
    InputStream,
    OutputStream,
)
from kaish_kernel.scheduler.stderr_stream import ErrorSink, sink_fileno

__all__ = [
    "DEFAULT_KILL_GRACE",
    "exit_code_from_status",
    "find_executable",
    "run_external",
    "signal_group",
]

DEFAULT_KILL_GRACE: Final = 2.0

# Pumps move data in big gulps through an enlarged OS pipe from an enlarged OS pipe, so a fast child
# runs ahead while Python is busy and each wake-up moves more bytes.
PUMP_PIPE_SIZE: Final = 256 * 1024
PUMP_READ: Final = 128 * 1024  # larger reads cost an mmap per chunk in malloc
_F_SETPIPE_SZ: Final = 1031  # Linux; absent from older fcntl modules

CODE_NOT_FOUND: Final = 127
CODE_NOT_EXECUTABLE: Final = 126


def find_executable(name: str, path_env: str | None, cwd: str | None = None) -> str | None:
    """The path `name` resolves to on `path_env` (a PATH string), or None.

    A name containing `/` is not searched: it is returned as is (made
    absolute against `cwd` when relative), whether or not it exists, so the
    caller reports the precise problem. Relative or empty PATH entries are
    taken relative to `cwd` when one is given and skipped otherwise.
    """
    if not name:
        return None
    if "/" in name:
        if cwd is not None and not os.path.isabs(name):
            return os.path.normpath(os.path.join(cwd, name))
        return name
    for entry in (path_env or "").split(os.pathsep):
        if not os.path.isabs(entry or "."):
            if cwd is None:
                continue
            entry = os.path.join(cwd, entry or ".")
        candidate = os.path.join(entry, name)
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and os.access(candidate, os.X_OK):
            return candidate
    return None


def exit_code_from_status(returncode: int) -> int:
    """A Popen-style return code (negative for a signal) as a shell exit code."""
    return 128 - returncode if returncode < 0 else returncode


def signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to process group `pgid`; False if the group is gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _launch_problem(program: str, name: str) -> tuple[int, str] | None:
    """Why `program` cannot be started (code, message), checked before forking."""
    try:
        st = os.stat(program)
    except FileNotFoundError:
        return CODE_NOT_FOUND, f"{name}: No such file or directory\n"
    except NotADirectoryError:
        return CODE_NOT_FOUND, f"{name}: Not a directory\n"
    except OSError as exc:
        return CODE_NOT_EXECUTABLE, f"{name}: {exc.strerror or exc}\n"
    if stat.S_ISDIR(st.st_mode):
        return CODE_NOT_EXECUTABLE, f"{name}: Is a directory\n"
    if not os.access(program, os.X_OK):
        return CODE_NOT_EXECUTABLE, f"{name}: Permission denied\n"
    return None


class _Fd:
    """An fd this module owns; `close` is idempotent."""

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            with contextlib.suppress(OSError):
                os.close(fd)


async def _wait_fd(fd: int, *, write: bool) -> None:
    """Wait until `fd` is readable (or writable). Cancellation: safe."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def _on_ready() -> None:
        if not ready.done():
            ready.set_result(None)

    if write:
        loop.add_writer(fd, _on_ready)
    else:
        loop.add_reader(fd, _on_ready)
    try:
        await ready
    finally:
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


class _ExitWatch:
    """Learns that a child exited without reaping it (a pidfd, else a thread).

    Leaving the zombie in place until we reap keeps its pid (and pgid)
    reserved, so a group signal sent before reaping cannot hit a stranger.
    """

    def __init__(self, pid: int) -> None:
        loop = asyncio.get_running_loop()
        self.exited: asyncio.Future[None] = loop.create_future()
        self._pidfd = -1
        self._loop = loop
        try:
            self._pidfd = os.pidfd_open(pid)
            loop.add_reader(self._pidfd, self._on_exit)
        except (AttributeError, OSError):
            if self._pidfd >= 0:
                os.close(self._pidfd)
                self._pidfd = -1
            threading.Thread(target=self._wait_thread, args=(pid,), daemon=True).start()

    def _on_exit(self) -> None:
        self._loop.remove_reader(self._pidfd)
        if not self.exited.done():
            self.exited.set_result(None)

    def _wait_thread(self, pid: int) -> None:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._set_exited)

    def _set_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def close(self) -> None:
        if self._pidfd >= 0:
            if not self.exited.done():
                self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1


async def _pump_stdin(source: InputStream, fd: _Fd, name: str, stderr: ErrorSink) -> None:
    """Copy `source` into the child's stdin until EOF or until the child closes it."""
    try:
        while True:
            chunk = await source.read(PUMP_READ)
            if not chunk:
                return
            view = memoryview(chunk)
            while view:
                try:
                    written = os.write(fd.fd, view)
                except BlockingIOError:
                    await _wait_fd(fd.fd, write=True)
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    return  # the child stopped reading: not an error
                view = view[written:]
    except Exception as exc:
        stderr.write(f"{name}: error feeding stdin: {exc}\n")
    finally:
        fd.close()


async def _pump_stdout(fd: _Fd, sink: OutputStream) -> None:
    """Forward the child's stdout as it arrives; on a broken pipe, hang up."""
    try:
        while True:
            try:
                chunk = os.read(fd.fd, PUMP_READ)
            except BlockingIOError:
                await _wait_fd(fd.fd, write=False)
                continue
            if not chunk:
                return
            try:
                await sink.write(chunk)
            except BrokenPipeError:
                return  # closing our end gives the child SIGPIPE on its next write
    finally:
        fd.close()


async def _pump_stderr(fd: _Fd, sink: ErrorSink) -> None:
    """Forward the child's stderr to the error sink as it arrives."""
    try:
        while True:
            try:
                chunk = os.read(fd.fd, READ_CHUNK)
            except BlockingIOError:
                await _wait_fd(fd.fd, write=False)
                continue
            if not chunk:
                return
            sink.write(chunk)
    finally:
        fd.close()


def _pipe_for_us(*, we_read: bool, size: int = 0) -> tuple[_Fd, _Fd]:
    """(our end, the child's end); only our end is made non-blocking."""
    read_fd, write_fd = os.pipe()
    ours, theirs = (read_fd, write_fd) if we_read else (write_fd, read_fd)
    os.set_blocking(ours, False)
    if size:
        with contextlib.suppress(OSError):  # over the user's pipe quota: keep 64 KiB
            fcntl.fcntl(ours, getattr(fcntl, "F_SETPIPE_SZ", _F_SETPIPE_SZ), size)
    return _Fd(ours), _Fd(theirs)


async def _wait_exit_deferring_cancel(watch: _ExitWatch) -> bool:
    """Wait for the child to exit even if cancelled meanwhile; True if a cancel arrived."""
    cancelled = False
    while not watch.exited.done():
        try:
            await asyncio.wait([watch.exited])
        except asyncio.CancelledError:
            cancelled = True
    return cancelled


async def _terminate(proc: subprocess.Popen[bytes], watch: _ExitWatch, kill_grace: float) -> None:
    """SIGTERM the group, wait up to `kill_grace`, SIGKILL the group, reap.

    Raises CancelledError if the caller is cancelled again meanwhile, but
    only after the child is dead and reaped.
    """
    pgid = proc.pid
    again = False
    signal_group(pgid, signal.SIGTERM)
    if kill_grace > 0 and not watch.exited.done():
        try:
            await asyncio.wait([watch.exited], timeout=kill_grace)
        except asyncio.CancelledError:
            again = True
    # The leader may be gone while members that ignored TERM live on.
    signal_group(pgid, signal.SIGKILL)
    again = await _wait_exit_deferring_cancel(watch) or again
    proc.wait()
    if again:
        raise asyncio.CancelledError


async def run_external(
    argv: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    stdin: InputStream,
    stdout: OutputStream,
    stderr: ErrorSink,
    kill_grace: float = DEFAULT_KILL_GRACE,
    on_spawn: Callable[[int], None] | None = None,
) -> int:
    """Run one external program as a pipeline stage; return its exit code.

    Input: `argv[0]` is the program's path, already resolved by the caller
    (see `find_executable`); `env` is the child's whole environment; `cwd`
    must be a real directory.

    Output: the exit status, 128+N if killed by signal N, 127 when the
    program or cwd does not exist and 126 when it cannot be executed (both
    with a message on `stderr`). `on_spawn(pgid)` is called once the child
    runs.

    Cancellation: the process group gets SIGTERM, then SIGKILL after
    `kill_grace` seconds (at once if 0); the child is reaped and
    CancelledError propagates.

    Raises: whatever `stdout.write` raises other than BrokenPipeError (after
    the child has been reaped).
    """
    if not argv:
        raise ValueError("run_external needs at least a program")
    program = argv[0]
    name = program
    problem = _launch_problem(program, name)
    if problem is not None:
        stderr.write(problem[1])
        return problem[0]
    if not os.path.isdir(cwd):
        stderr.write(f"{name}: cannot run: working directory {cwd!r} does not exist on this host\n")
        return CODE_NOT_FOUND

    owned: list[_Fd] = []  # the child's ends, closed right after the spawn
    pump_fds: list[_Fd] = []  # our ends, closed by the pumps or at the end
    try:
        # stdin
        stdin_arg: int
        stdin_pipe: _Fd | None = None
        fd = stdin.fileno()
        if fd is not None:
            stdin_arg = fd
        elif isinstance(stdin, EmptyInput) and not stdin.has_buffered():
            stdin_arg = subprocess.DEVNULL
        else:
            stdin_pipe, child_end = _pipe_for_us(we_read=False, size=PUMP_PIPE_SIZE)
            pump_fds.append(stdin_pipe)
            owned.append(child_end)
            stdin_arg = child_end.fd

        # stdout
        stdout_pipe: _Fd | None = None
        fd = stdout.fileno()
        if fd is not None:
            stdout.flush_pending()
            stdout_arg = fd
        else:
            stdout_pipe, child_end = _pipe_for_us(we_read=True, size=PUMP_PIPE_SIZE)
            pump_fds.append(stdout_pipe)
            owned.append(child_end)
            stdout_arg = child_end.fd

        # stderr
        stderr_pipe: _Fd | None = None
        fd = sink_fileno(stderr)
        if fd is not None:
            flush = getattr(stderr, "flush", None)
            if callable(flush):
                flush()
            stderr_arg = fd
        else:
            stderr_pipe, child_end = _pipe_for_us(we_read=True)
            pump_fds.append(stderr_pipe)
            owned.append(child_end)
            stderr_arg = child_end.fd

        try:
            proc = subprocess.Popen(
                argv,
                stdin=stdin_arg,
                stdout=stdout_arg,
                stderr=stderr_arg,
                cwd=cwd,
                env=env,
                close_fds=True,
                restore_signals=True,  # SIGPIPE back to its default in the child
                process_group=0,
            )
        except FileNotFoundError:
            stderr.write(f"{name}: No such file or directory\n")
            return CODE_NOT_FOUND
        except OSError as exc:
            stderr.write(f"{name}: {exc.strerror or exc}\n")
            return CODE_NOT_EXECUTABLE
        finally:
            for end in owned:
                end.close()

        return await _supervise(
            proc,
            on_spawn=on_spawn,
            name=name,
            stdin=stdin,
            stdin_pipe=stdin_pipe,
            stdout=stdout,
            stdout_pipe=stdout_pipe,
            stderr=stderr,
            stderr_pipe=stderr_pipe,
            kill_grace=kill_grace,
        )
    finally:
        for end in owned + pump_fds:
            end.close()


async def _supervise(
    proc: subprocess.Popen[bytes],
    *,
    on_spawn: Callable[[int], None] | None,
    name: str,
    stdin: InputStream,
    stdin_pipe: _Fd | None,
    stdout: OutputStream,
    stdout_pipe: _Fd | None,
    stderr: ErrorSink,
    stderr_pipe: _Fd | None,
    kill_grace: float,
) -> int:
    """Pump the child's streams, wait for it, and handle cancellation.

    Whatever interrupts the wait (cancellation, or `on_spawn` raising) ends
    the child with the TERM/grace/KILL sequence before it propagates.
    """
    watch = _ExitWatch(proc.pid)
    guardian.track(proc.pid)  # its own group: pgid == pid
    in_task = out_task = err_task = None
    try:
        try:
            if on_spawn is not None:
                on_spawn(proc.pid)
            if stdin_pipe is not None:
                in_task = asyncio.create_task(_pump_stdin(stdin, stdin_pipe, name, stderr))
            if stdout_pipe is not None:
                out_task = asyncio.create_task(_pump_stdout(stdout_pipe, stdout))
            if stderr_pipe is not None:
                err_task = asyncio.create_task(_pump_stderr(stderr_pipe, stderr))
            outputs = [t for t in (out_task, err_task) if t is not None]
            await asyncio.wait([watch.exited, *outputs])
        except BaseException:
            await _terminate(proc, watch, kill_grace)
            raise
        returncode = proc.wait()  # already exited: reaps at once
        for task in (out_task, err_task):
            if task is not None and (exc := task.exception()) is not None:
                raise exc
        return exit_code_from_status(returncode)
    finally:
        tasks = [t for t in (in_task, out_task, err_task) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            # Let the pumps unwind; a further cancel of ours still propagates.
            await asyncio.wait(tasks)
        watch.close()
