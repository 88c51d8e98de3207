"""The contract between the interpreter and every builtin.

A builtin is a `Tool` with a class-level `schema` and an async `run(ctx)`
that returns its exit status. It reads `ctx.stdin`, writes `ctx.stdout`
(bytes, as it goes — every stage streams), reports on `ctx.stderr`, and
reaches the session only through `ctx.shell` (a `ShellAccess`).

    interpreter ── bind(schema, raw args) ──► ToolContext ──► Tool.run(ctx) -> int
                                                 │
                     stdin: InputStream ◄────────┤
                     stdout: OutputStream ◄──────┤  (may carry a typed value)
                     stderr: ErrorSink ◄─────────┤
                     shell: ShellAccess ◄────────┘  cwd, vars, vfs, jobs, dispatch

Error conventions: a usage error is exit 2 (the binder raises UsageError
before `run`), a runtime failure is exit 1 with `name: message` on stderr.
`BrokenPipeError` from `stdout.write` means the reader left: stop quietly,
exit 0.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from kaish_kernel.scheduler.stage import InputStream, OutputStream
from kaish_kernel.scheduler.stderr_stream import ErrorSink
from kaish_kernel.tools.schema import BoundArgs, Schema
from kaish_kernel.values import Value, ValueError_, coerce_text, to_json

if TYPE_CHECKING:
    from kaish_kernel.tools.registry import ToolRegistry

__all__ = ["ErrorSink", "ShellAccess", "ShellOptions", "Tool", "ToolContext"]


@dataclass(slots=True)
class ShellOptions:
    """Session options that `set` changes."""

    errexit: bool = False
    pipefail: bool = False
    glob: bool = True


class ShellAccess(Protocol):
    """What a builtin may ask of the session (implemented by the interpreter)."""

    @property
    def cwd(self) -> str: ...

    def resolve_path(self, path: str) -> str:
        """An absolute, normalized path for `path` relative to the cwd (`~` expanded)."""
        ...

    def chdir(self, path: str) -> None:
        """Change the cwd; raises OSError/KaishRuntimeError when not a directory."""
        ...

    def get_var(self, name: str) -> Value:
        """The variable's value; raises KeyError when unset."""
        ...

    def has_var(self, name: str) -> bool: ...

    def set_var(self, name: str, value: Value, *, local: bool = False) -> None: ...

    def unset_var(self, name: str) -> None: ...

    def export_var(self, name: str, value: Value | None = None) -> None:
        """Mark exported (and optionally assign); collections are refused."""
        ...

    def exported_env(self) -> dict[str, str]:
        """The environment an external command gets: exported variables only."""
        ...

    def variables(self) -> Mapping[str, Value]:
        """Every visible variable (locals shadow globals)."""
        ...

    @property
    def options(self) -> ShellOptions: ...

    @property
    def aliases(self) -> dict[str, str]: ...

    @property
    def registry(self) -> ToolRegistry: ...

    @property
    def vfs(self) -> Any:
        """The VFS router (kaish_kernel.vfs.router.VfsRouter)."""
        ...

    @property
    def jobs(self) -> Any:
        """The job manager (kaish_kernel.scheduler.job.JobManager)."""
        ...

    def function_names(self) -> list[str]: ...

    @property
    def last_result(self) -> Any:
        """The previous statement's typed value and output
        (kaish_kernel.scheduler.last_result.LastResult), for `kaish-last`."""
        ...

    def check_script(self, source: str) -> tuple[int, str | None, list[str]]:
        """Parse and validate without running: (0, None, warnings), or
        (1, report, []) when refused by the validator, (2, report, []) when
        it does not parse."""
        ...

    async def dispatch(self, argv: list[Value], ctx: ToolContext) -> int:
        """Run a command by words through the full dispatch chain (aliases,
        functions, builtins, externals) with ctx's streams. Used by `timeout`,
        `/v/bin/NAME` and friends."""
        ...

    async def source(self, path: str, args: list[Value], ctx: ToolContext) -> int:
        """Run a kaish script in this session (`source` / `.`)."""
        ...


@dataclass(slots=True)
class ToolContext:
    """Everything one invocation of a tool sees."""

    name: str  # how it was invoked
    args: BoundArgs
    stdin: InputStream
    stdout: OutputStream
    stderr: ErrorSink
    shell: ShellAccess
    interactive: bool = False

    def error(self, message: str, code: int = 1) -> int:
        """Report `name: message` on stderr and return `code` (for `return ctx.error(...)`)."""
        text = message if message.endswith("\n") else message + "\n"
        self.stderr.write(f"{self.name}: {text}")
        return code

    async def write_text(self, text: str) -> None:
        await self.stdout.write(text.encode("utf-8"))

    async def read_text(self) -> str:
        """All of stdin as text; invalid UTF-8 raises ValueError_ (text tools refuse binary)."""
        return coerce_text(await self.stdin.read_all(), "input")

    async def emit_value(self, value: Value, text: str | None = None) -> None:
        """Write a typed value: its text (compact JSON unless given) and the value itself."""
        self.stdout.set_data(value, is_value=True)
        await self.write_text(text if text is not None else to_json(value))


class Tool(abc.ABC):
    """A builtin. Subclasses set `schema` and implement `run`."""

    schema: ClassVar[Schema]

    @property
    def name(self) -> str:
        return self.schema.name

    @abc.abstractmethod
    async def run(self, ctx: ToolContext) -> int:
        """Do the work; return the exit status."""


def text_or_error(ctx: ToolContext, data: bytes, what: str = "input") -> str | None:
    """Decode for a text tool; on binary, report and return None."""
    try:
        return coerce_text(data, what)
    except ValueError_ as exc:
        ctx.error(str(exc))
        return None
