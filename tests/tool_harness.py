"""Run one builtin in isolation: words in, (code, stdout, stderr) out.

Until a test needs the whole interpreter, a builtin is tested here against a
small in-memory session (`FakeShell`) with real streams from
`kaish_kernel.scheduler.stage`. Words are turned into arguments roughly the
way the kaish lexer does: `--k=v`, `--k`, `-abc`, `--`, typed barewords.
"""

from __future__ import annotations

import asyncio
import os
import posixpath
from dataclasses import dataclass, field
from typing import Any

from kaish_kernel.scheduler.stage import BytesInput, CaptureOutput, InputStream
from kaish_kernel.tools.base import ShellOptions, Tool, ToolContext
from kaish_kernel.tools.registry import ToolRegistry
from kaish_kernel.tools.schema import RawArg, UsageError, bind
from kaish_kernel.values import Value, parse_number
from kaish_kernel.vfs.router import VfsRouter


class ErrorBuffer:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes | str) -> None:
        self.chunks.append(data.encode() if isinstance(data, str) else data)

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")


@dataclass
class FakeShell:
    """Just enough session for a builtin: cwd, variables, options, a VFS."""

    cwd_path: str = field(default_factory=os.getcwd)
    vars: dict[str, Value] = field(default_factory=dict)
    exported: set[str] = field(default_factory=set)
    opts: ShellOptions = field(default_factory=ShellOptions)
    alias_table: dict[str, str] = field(default_factory=dict)
    router: VfsRouter = field(default_factory=VfsRouter)
    tool_registry: ToolRegistry = field(default_factory=ToolRegistry)

    @property
    def cwd(self) -> str:
        return self.cwd_path

    def resolve_path(self, path: str) -> str:
        path = os.path.expanduser(path)
        return posixpath.normpath(posixpath.join(self.cwd_path, path))

    def chdir(self, path: str) -> None:
        target = self.resolve_path(path)
        if not os.path.isdir(target):
            raise NotADirectoryError(20, "Not a directory", path)
        self.cwd_path = target

    def get_var(self, name: str) -> Value:
        return self.vars[name]

    def has_var(self, name: str) -> bool:
        return name in self.vars

    def set_var(self, name: str, value: Value, *, local: bool = False) -> None:
        self.vars[name] = value

    def unset_var(self, name: str) -> None:
        self.vars.pop(name, None)

    def export_var(self, name: str, value: Value | None = None) -> None:
        if value is not None:
            self.vars[name] = value
        self.exported.add(name)

    def exported_env(self) -> dict[str, str]:
        return {k: str(self.vars[k]) for k in self.exported if k in self.vars}

    def variables(self) -> dict[str, Value]:
        return dict(self.vars)

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
        return None

    def function_names(self) -> list[str]:
        return []

    async def dispatch(self, argv: list[Value], ctx: ToolContext) -> int:
        raise NotImplementedError("FakeShell cannot dispatch; use the real Shell")

    async def source(self, path: str, args: list[Value], ctx: ToolContext) -> int:
        raise NotImplementedError


def word_to_raw(word: Any) -> RawArg:
    if not isinstance(word, str):
        return RawArg("pos", word)
    if word == "--":
        return RawArg("dashdash")
    if word.startswith("--") and len(word) > 2:
        name, eq, value = word[2:].partition("=")
        if eq:
            num = parse_number(value)
            return RawArg("named", num if num is not None else value, name)
        return RawArg("long", name=name)
    if word.startswith("-") and len(word) > 1 and parse_number(word) is None:
        return RawArg("short", name=word[1:])
    num = parse_number(word)
    if num is not None:
        return RawArg("pos", num)
    if word in ("true", "false"):
        return RawArg("pos", word == "true")
    return RawArg("pos", word)


@dataclass
class ToolRun:
    code: int
    stdout: bytes
    stderr: str
    data: Any = None
    is_value: bool = False

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8")


async def arun_tool(
    tool_cls: type[Tool],
    *words: Any,
    stdin: bytes | InputStream = b"",
    shell: FakeShell | None = None,
    name: str | None = None,
) -> ToolRun:
    tool = tool_cls()
    shell = shell or FakeShell()
    err = ErrorBuffer()
    out = CaptureOutput()
    inp = BytesInput(stdin) if isinstance(stdin, bytes) else stdin
    try:
        args = bind(tool.schema, [word_to_raw(w) for w in words])
    except UsageError as exc:
        return ToolRun(2, b"", f"{tool.schema.name}: {exc}\n")
    ctx = ToolContext(
        name=name or tool.schema.name, args=args, stdin=inp, stdout=out, stderr=err, shell=shell
    )
    code = await tool.run(ctx)
    return ToolRun(code, out.getvalue(), err.text(), out.data, out.is_value)


def run_tool(tool_cls: type[Tool], *words: Any, **kwargs: Any) -> ToolRun:
    """Synchronous wrapper: `run_tool(Grep, "-c", "x", stdin=b"x\\ny\\n")`."""
    return asyncio.run(arun_tool(tool_cls, *words, **kwargs))
