"""Shell: the one place that builds and wires a kaish session.

    Shell ─┬─ ToolRegistry (builtins)       shared by every fork
           ├─ VfsRouter (/, /v/jobs, /v/bin) shared
           ├─ JobManager                     shared
           └─ Session + Executor             the top-level state

Front ends (the CLI, the Jupyter kernel, the magics) talk to `Shell` only:
`await shell.execute(source, stdout=..., stderr=...)` streams bytes to the
sinks as they are produced and returns an `ExecResult`. Nothing the user
writes can crash it: syntax errors, runtime errors and unexpected exceptions
all become a non-zero code and a message on stderr.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from kaish_kernel.errors import KaishRuntimeError, KaishSyntaxError
from kaish_kernel.interpreter.executor import IO, Executor
from kaish_kernel.interpreter.prevalidate import prevalidate
from kaish_kernel.interpreter.session import Session
from kaish_kernel.lang.parser import parse, validate
from kaish_kernel.records import record
from kaish_kernel.scheduler.stage import (
    EMPTY_INPUT,
    NO_DATA,
    CallbackOutput,
    InputStream,
    OutputStream,
    resolve_data,
)
from kaish_kernel.tools.base import ErrorSink
from kaish_kernel.tools.registry import ToolRegistry, default_registry
from kaish_kernel.values import Value
from kaish_kernel.vfs.router import VfsRouter

__all__ = ["ExecResult", "Shell"]


@record
class ExecResult:
    """What one `execute` call produced.

    `data` is the typed value of the last command when it made one (fromjson,
    jq, gather ...); `has_data` tells a JSON null apart from no value.
    `error` holds the syntax error, if the source did not parse.
    """

    code: int
    data: Value = None
    has_data: bool = False
    error: KaishSyntaxError | None = None


class _CallbackErrors:
    def __init__(self, callback: Callable[[bytes], object]) -> None:
        self._callback = callback

    def write(self, data: bytes | str) -> None:
        self._callback(data.encode("utf-8") if isinstance(data, str) else data)


class Shell:
    """A kaish session: parse and run source, keep state across calls."""

    def __init__(
        self,
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        interactive: bool = False,
        registry: ToolRegistry | None = None,
        script_name: str = "kaish",
        args: list[Value] | None = None,
        guard_orphans: bool = False,
    ) -> None:
        """`guard_orphans`: a long-lived front end (kernel, magics) asks for the
        guardian process, which ends every external command's process group
        if this process dies without cleaning up (see scheduler/guardian.py)."""
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
        if guard_orphans:
            from kaish_kernel.scheduler import guardian

            guardian.enable()
        self.registry = registry or default_registry()
        self.vfs = VfsRouter()
        self.jobs: Any = self._make_job_manager()
        self.session = Session(
            registry=self.registry,
            vfs=self.vfs,
            jobs=self.jobs,
            cwd=cwd,
            home=(env or {}).get("HOME") if env is not None else None,
        )
        self.session.interactive = interactive
        self.session.scope.script_name = script_name
        self.session.scope.script_args = list(args or [])
        for name, value in (env or {}).items():
            if name not in ("PWD", "OLDPWD"):
                self.session.scope.globals[name] = value
                self.session.scope.exported.add(name)
        self.session.scope.globals["PWD"] = self.session.cwd_path
        self.session.scope.exported.add("PWD")
        self.executor = Executor(self.session)
        self._mount_virtual()

    def __repr__(self) -> str:
        return f"<Shell cwd={self.session.cwd_path!r} status={self.session.last_status}>"

    def _make_job_manager(self) -> Any:
        try:
            from kaish_kernel.scheduler.job import JobManager
        except ImportError:
            return None
        return JobManager()

    def _mount_virtual(self) -> None:
        from kaish_kernel.vfs.memory import MemoryFs

        self.vfs.mount("/v", MemoryFs())  # scratch space; /v/jobs and /v/bin sit on top
        try:
            from kaish_kernel.vfs.jobfs import JobFs

            if self.jobs is not None:
                self.vfs.mount("/v/jobs", JobFs(self.jobs))
        except ImportError:
            pass
        try:
            from kaish_kernel.vfs.binfs import BinFs

            self.vfs.mount("/v/bin", BinFs(self.registry))
        except ImportError:
            pass

    @property
    def cwd(self) -> str:
        return self.session.cwd_path

    @property
    def last_status(self) -> int:
        return self.session.last_status

    def get_var(self, name: str) -> Value:
        return self.session.get_var(name)

    def set_var(self, name: str, value: Value) -> None:
        self.session.set_var(name, value)

    # -- read-only views for front ends (notebook completion, inspection) --
    # Completion and inspection must answer from the session's real tables
    # and the tools' declared schemas, never by running code.

    def builtin_names(self) -> list[str]:
        """Every builtin command name (aliases of a tool included), sorted."""
        return self.registry.names()

    def function_names(self) -> list[str]:
        return self.session.function_names()

    def alias_names(self) -> list[str]:
        return sorted(self.session.aliases)

    def alias_value(self, name: str) -> str | None:
        return self.session.aliases.get(name)

    def variable_names(self) -> list[str]:
        """Every visible variable name (locals shadow globals), sorted."""
        return sorted(self.session.variables())

    def has_var(self, name: str) -> bool:
        return self.session.has_var(name)

    def job_ids(self) -> list[int]:
        return list(self.jobs.list_ids()) if self.jobs is not None else []

    def tool_schema(self, name: str) -> Any:
        """The builtin's Schema (kaish_kernel.tools.schema.Schema), or None."""
        tool = self.registry.get(name)
        return None if tool is None else tool.schema

    def tool_help(self, name: str) -> str | None:
        """`help NAME` text, rendered from the tool's schema; None if no such builtin."""
        from kaish_kernel.tools.schema import format_help

        schema = self.tool_schema(name)
        return None if schema is None else format_help(schema)

    def tool_flags(self, name: str) -> list[tuple[str, str]]:
        """(spelling, help) for the builtin's flags: `-s` and `--name`, not the
        compatibility aliases; `--json` and `--help` when they apply."""
        schema = self.tool_schema(name)
        if schema is None or schema.raw:
            return []
        out = [(spelling, p.help) for p in schema.flags for spelling in p.spellings()[: 2 if p.short else 1]]
        seen = {spelling for spelling, _ in out}
        if schema.json_output and "--json" not in seen:
            out.append(("--json", "Emit the structured (JSON) form of the output."))
        if "--help" not in seen:
            out.append(("--help", "Show this tool's help."))
        return out

    def set_scatter_progress(self, callback: Callable[[Any], None] | None) -> None:
        """Where scatter reports progress (a ScatterProgress: total, done, failed,
        running) as workers start and finish; the notebook draws a live line."""
        self.session.scatter_progress = callback

    def is_complete(self, source: str) -> tuple[str, str]:
        """("complete" | "incomplete" | "invalid", indent), from the real parser."""
        from kaish_kernel.lang.parser import is_complete

        return is_complete(source)

    def resolve_path(self, path: str) -> str:
        """`path` made absolute against the cwd, `~` expanded."""
        return self.session.resolve_path(path)

    def list_dir(self, path: str) -> list[tuple[str, bool]]:
        """(name, is_dir) for entries of `path` (through the VFS, mount points
        included even where no host directory holds them: `/v`); [] when unreadable."""
        import posixpath

        target = self.session.resolve_path(path or ".")
        out: dict[str, bool] = {}
        try:
            entries = self.vfs.listdir(target)
        except (OSError, ValueError):
            entries = []
        for entry in entries:
            is_dir = entry.is_dir
            if entry.kind == "symlink":
                is_dir = self.vfs.is_dir(posixpath.join(target, entry.name))
            out[entry.name] = is_dir
        base = target.rstrip("/") + "/"
        for prefix in self.vfs.mounts():
            if prefix.startswith(base) and prefix != base:
                out[prefix[len(base) :].split("/")[0]] = True
        return sorted(out.items())

    async def execute(
        self,
        source: str,
        *,
        stdout: OutputStream | Callable[[bytes], object],
        stderr: ErrorSink | Callable[[bytes], object],
        stdin: InputStream | None = None,
    ) -> ExecResult:
        """Parse and run `source`. Cancelling the awaiting task cancels the
        foreground work (externals get TERM, grace, KILL) and re-raises."""
        out = stdout if isinstance(stdout, OutputStream) else CallbackOutput(stdout)
        err: ErrorSink = stderr if hasattr(stderr, "write") else _CallbackErrors(stderr)  # type: ignore[arg-type]
        try:
            program = parse(source)
            warnings = validate(program)
            warnings += prevalidate(program, self.registry, set(self.session.functions))
        except KaishSyntaxError as exc:
            err.write(exc.render() + "\n")
            self.session.last_status = 1
            return ExecResult(1, error=exc)
        for warning in sorted(warnings, key=lambda w: w.offset):
            err.write(warning.render() + "\n")
        io = IO(stdin or EMPTY_INPUT, out, err)
        try:
            code = await self.executor.run_program(program, io)
        except KaishRuntimeError as exc:
            err.write(exc.message.rstrip("\n") + "\n")
            code = exc.code
        except RecursionError:
            err.write("maximum recursion depth exceeded\n")
            code = 1
        except Exception as exc:  # never let a bug take the shell down
            err.write(f"kaish: internal error: {type(exc).__name__}: {exc}\n")
            if os.environ.get("KAISH_DEBUG"):
                err.write(traceback.format_exc())
            code = 1
        self.session.last_status = code
        data = out.data
        if data is NO_DATA or not out.is_value:
            return ExecResult(code)
        try:
            return ExecResult(code, resolve_data(data), True)
        except Exception:
            return ExecResult(code)

    async def close(self) -> None:
        """End the session: every job's process group is killed, and the Dask
        clients scatter opened (if any) are closed."""
        if self.jobs is not None and hasattr(self.jobs, "shutdown"):
            await self.jobs.shutdown()
        engine = sys.modules.get("kaish_kernel.interpreter.dask_engine")  # loaded only if used
        if engine is not None:
            await engine.close_clients(self.session)
