"""The table of builtins, by name.

Builtin modules (`kaish_kernel/tools/builtins/*.py`) each export `TOOLS`, a
tuple of Tool classes. The registry imports them once, when a Shell is
built, and instantiates each tool. Heavy third-party imports (jq, wcmatch)
stay inside the tools' `run` so `kaish -c true` starts fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from kaish_kernel.tools.base import Tool
from kaish_kernel.tools.schema import Schema

__all__ = ["BUILTIN_MODULES", "ToolRegistry", "default_registry"]

# One module per family. Adding a family means adding its module name here.
BUILTIN_MODULES: tuple[str, ...] = (
    "basic",  # echo, printf, true, false, :, sleep, seq, date, basename, dirname, ...
    "text",  # cat, head, tail, wc, tac, tee
    "lines",  # sort, uniq, cut, tr
    "grep",
    "sed",
    "awk",
    "files",  # ls, cp, mv, rm, mkdir, touch, write, glob, readlink, realpath, ...
    "find",
    "test_cmd",  # test
    "json",  # fromjson, tojson, fromjsonl, tojsonl, keys, values, typeof, split
    "jq",
    "session",  # cd, pwd, export, unset, set, read, alias, env, which, help, source, ...
    "jobs",  # jobs, wait, kill, fg, bg, timeout, spawn
    "scatter",  # scatter, gather (outside a scatter pipeline)
)


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool, *names: str) -> None:
        for name in names or (tool.schema.name,):
            self._tools[name] = tool

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        return sorted(self._tools)

    def schemas(self) -> Iterator[Schema]:
        seen: set[int] = set()
        for name in self.names():
            tool = self._tools[name]
            if id(tool) not in seen:
                seen.add(id(tool))
                yield tool.schema

    def load_modules(self, modules: tuple[str, ...] = BUILTIN_MODULES) -> None:
        for mod_name in modules:
            try:
                module = importlib.import_module(f"kaish_kernel.tools.builtins.{mod_name}")
            except ModuleNotFoundError as exc:
                if exc.name == f"kaish_kernel.tools.builtins.{mod_name}":
                    continue  # a family not written yet
                raise
            for cls in getattr(module, "TOOLS", ()):
                tool = cls()
                self.register(tool, cls.schema.name, *getattr(cls, "aliases", ()))


def default_registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.load_modules()
    return registry
