"""The state of one kaish session, and the face it shows builtins (ShellAccess).

    Session ── scope (variables), cwd, options, aliases, functions, $?
       │  shared with every fork: tool registry, VFS, job manager
       └─ fork() ─► an independent snapshot (pipeline stage, $(...), job, worker)

A fork copies what it may change and shares what must stay one thing (the
job table, the filesystem). Only the last stage of a pipeline hands its
changes back (`adopt`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.interpreter.scope import Scope, normalize_name
from kaish_kernel.lang.ast import FunctionDef
from kaish_kernel.scheduler.last_result import LastResult, RecordingOutput
from kaish_kernel.tools.base import ShellOptions, ToolContext
from kaish_kernel.tools.registry import ToolRegistry
from kaish_kernel.values import Value, ValueError_, display, is_collection
from kaish_kernel.vfs.router import VfsRouter

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import Executor

__all__ = ["MAX_RECURSION_DEPTH", "Session"]

MAX_RECURSION_DEPTH = 48


class Session:
    """Variables, cwd, options, aliases and functions of one shell (or fork)."""

    def __init__(
        self,
        *,
        registry: ToolRegistry,
        vfs: VfsRouter,
        jobs: Any = None,
        cwd: str | None = None,
        home: str | None = None,
    ) -> None:
        self.scope = Scope()
        self.cwd_path = cwd or os.getcwd()
        self.prev_cwd = self.cwd_path
        self.home = home or os.environ.get("HOME", "/")
        self.opts = ShellOptions()
        self.alias_table: dict[str, str] = {}
        self.functions: dict[str, FunctionDef] = {}
        self.tool_registry = registry
        self.router = vfs
        self.job_manager = jobs
        self.last_status = 0
        # what kaish-last reads: a LastResult, or the recorder that noted it
        self.last_result: LastResult | RecordingOutput = LastResult()
        self.depth = 0
        self.kill_grace = 2.0
        self.interactive = False
        self.job_id: int | None = None  # set in a background job's fork
        self.scatter_progress: Any = None  # an embedder's progress callback for scatter
        self.pid = os.getpid()
        self.executor: Executor | None = None

    def __repr__(self) -> str:
        return f"<Session cwd={self.cwd_path!r} depth={self.depth} status={self.last_status}>"

    # -- forks --
    def fork(self) -> Session:
        other = Session.__new__(Session)
        other.scope = self.scope.snapshot()
        other.cwd_path = self.cwd_path
        other.prev_cwd = self.prev_cwd
        other.home = self.home
        other.opts = ShellOptions(self.opts.errexit, self.opts.pipefail, self.opts.glob)
        other.alias_table = dict(self.alias_table)
        other.functions = dict(self.functions)
        other.tool_registry = self.tool_registry
        other.router = self.router
        other.job_manager = self.job_manager
        other.last_status = self.last_status
        other.last_result = self.last_result
        other.depth = self.depth
        other.kill_grace = self.kill_grace
        other.interactive = False
        other.job_id = self.job_id
        other.scatter_progress = self.scatter_progress
        other.pid = self.pid
        other.executor = None
        return other

    def adopt(self, other: Session) -> None:
        """Take the last pipeline stage's variables, cwd and aliases."""
        self.scope.adopt(other.scope)
        self.cwd_path = other.cwd_path
        self.prev_cwd = other.prev_cwd
        self.alias_table = other.alias_table
        self.functions = other.functions
        self.opts = other.opts

    # -- ShellAccess: paths --
    @property
    def cwd(self) -> str:
        return self.cwd_path

    def expand_tilde(self, path: str) -> str:
        """`~` and `~/x` from the session's $HOME (never the host's: with no
        string HOME in scope they stay as written); `~user` from the passwd
        database."""
        if not path.startswith("~"):
            return path
        if path == "~" or path.startswith("~/"):
            found, home = self.scope.lookup("HOME")
            if not found or not isinstance(home, str):
                return path
            return home + path[1:]
        user, sep, rest = path[1:].partition("/")
        try:
            import pwd

            return pwd.getpwnam(user).pw_dir + sep + rest
        except (KeyError, ImportError):
            return path

    def resolve_path(self, path: str) -> str:
        path = self.expand_tilde(path)
        joined = posixpath.join(self.cwd_path, path)
        norm = posixpath.normpath(joined)
        return "/" + norm.lstrip("/") if norm.startswith("//") else norm

    def chdir(self, path: str) -> None:
        target = self.resolve_path(path)
        if not self.router.exists(target):
            raise KaishRuntimeError(f"{path}: No such file or directory")
        if not self.router.is_dir(target):
            raise KaishRuntimeError(f"{path}: Not a directory")
        self.prev_cwd, self.cwd_path = self.cwd_path, target
        # $PWD and $OLDPWD follow every successful change (and only those)
        self.scope.set("OLDPWD", self.prev_cwd)
        self.scope.set("PWD", target)

    # -- ShellAccess: variables --
    def get_var(self, name: str) -> Value:
        return self.scope.get(normalize_name(name))

    def has_var(self, name: str) -> bool:
        return self.scope.has(normalize_name(name))

    def set_var(self, name: str, value: Value, *, local: bool = False) -> None:
        name = normalize_name(name)
        if local:
            self.scope.set_local(name, value)
        else:
            self.scope.set(name, value)

    def unset_var(self, name: str) -> None:
        self.scope.unset(normalize_name(name))

    def export_var(self, name: str, value: Value | None = None) -> None:
        name = normalize_name(name)
        if value is not None:
            if is_collection(value):
                raise KaishRuntimeError(
                    f"export: {name} is a {'list' if isinstance(value, list) else 'record'};"
                    f" serialize it first: export {name}=$(tojson ${name})"
                )
            self.scope.set(name, value)
        self.scope.exported.add(name)

    def exported_env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for name in self.scope.exported:
            found, value = self.scope.lookup(name)
            if found and not is_collection(value):
                try:
                    # a null reaches a process as the empty string, as in kaish
                    env[name] = "" if value is None else display(value)
                except ValueError_:
                    continue
        return env

    def process_env(self) -> dict[str, str]:
        """The environment of a process this session starts: the exported
        variables only. A list or record cannot cross into the OS
        environment, nor can bytes that are not text: both are loud errors."""
        env: dict[str, str] = {}
        for name in sorted(self.scope.exported):
            found, value = self.scope.lookup(name)
            if not found:
                continue
            if is_collection(value):
                kind = "list" if isinstance(value, list) else "record"
                raise KaishRuntimeError(
                    f"cannot export '{name}': it holds a {kind}, which can't be an OS environment"
                    f" variable — serialize it explicitly first, e.g. `export {name}=$(tojson ${name})`"
                )
            if value is None:
                env[name] = ""
                continue
            try:
                env[name] = display(value)
            except ValueError_:
                raise KaishRuntimeError(
                    f"{name}: binary data cannot be used as an exported environment variable value"
                ) from None
        return env

    def variables(self) -> Mapping[str, Value]:
        return self.scope.visible()

    # -- ShellAccess: the rest --
    @property
    def options(self) -> ShellOptions:
        return self.opts

    @property
    def aliases(self) -> dict[str, str]:
        return self.alias_table

    @property
    def registry(self) -> ToolRegistry:
        return self.tool_registry

    @property
    def vfs(self) -> VfsRouter:
        return self.router

    @property
    def jobs(self) -> Any:
        return self.job_manager

    def function_names(self) -> list[str]:
        return sorted(self.functions)

    def check_script(self, source: str) -> tuple[int, str | None, list[str]]:
        """Parse and validate `source` as `kaish -c` would, running nothing:
        (0, None, warnings) when it would run; (1, report, []) when the
        validator refuses it; (2, report, []) when it does not parse."""
        from kaish_kernel.errors import KaishSyntaxError, KaishValidationError
        from kaish_kernel.interpreter.prevalidate import prevalidate
        from kaish_kernel.lang.parser import parse, validate

        try:
            program = parse(source)
            warnings = validate(program)
            warnings += prevalidate(program, self.tool_registry, set(self.functions))
        except KaishSyntaxError as exc:
            return (1 if isinstance(exc, KaishValidationError) else 2), exc.render(), []
        return 0, None, [w.render() for w in sorted(warnings, key=lambda w: w.offset)]

    async def dispatch(self, argv: list[Value], ctx: ToolContext) -> int:
        assert self.executor is not None
        return await self.executor.dispatch_words(argv, ctx)

    async def source(self, path: str, args: list[Value], ctx: ToolContext) -> int:
        assert self.executor is not None
        return await self.executor.source_file(path, args, ctx)
