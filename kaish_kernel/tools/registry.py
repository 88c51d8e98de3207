"""The table of builtins, by name, loaded lazily.

Builtin modules (`kaish_kernel/tools/builtins/*.py`) each export `TOOLS`, a
tuple of Tool classes. Importing all of them costs more than the rest of
start-up together (awk, sed and jq define dozens of dataclasses), so the
registry starts from `BUILTIN_INDEX`, a static map from every builtin name
(aliases included) to the module that defines it, and imports a module the
first time one of its names is looked up:

    get("sort") ──► in the table? ──yes──► Tool
                        │ no
                        ▼
                  BUILTIN_INDEX["sort"] == "lines"
                        │ import kaish_kernel.tools.builtins.lines,
                        ▼ instantiate and register every tool in its TOOLS
                    the table ──► Tool

Names, membership and `/v/bin` listings answer from the index without
importing anything; `schemas()` (help, completion) loads every module.
A test checks the index against the modules' real `TOOLS`, so it cannot
drift. A tool registered explicitly (`register`) wins over the index.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

from kaish_kernel.tools.base import Tool
from kaish_kernel.tools.schema import Schema

__all__ = ["BUILTIN_INDEX", "BUILTIN_MODULES", "ToolRegistry", "default_registry"]

# One module per family. Adding a family means adding its module name here
# and its names to BUILTIN_INDEX (tests/tools/test_registry.py says which).
BUILTIN_MODULES: tuple[str, ...] = (
    "basic",  # echo, printf, true, false, :, sleep, seq, basename, dirname, ...
    "_date",  # date (datetime, calendar and email.utils are slow to import)
    "text",  # cat, head, tail, wc, tac, tee
    "lines",  # sort, uniq, cut, tr
    "grep",
    "sed",
    "awk",
    "files",  # ls, cp, mv, rm, mkdir, touch, write, glob, readlink, realpath, ...
    "find",
    "bytetools",  # xxd, dd
    "digest",  # base64, cmp, checksum
    "diff",
    "test_cmd",  # test, assert
    "json",  # fromjson, tojson, fromjsonl, tojsonl, keys, values, typeof, split
    "jq",
    "session",  # cd, pwd, export, unset, set, read, alias, which, help, source, ...
    "env",
    "jobs",  # jobs, wait, kill, fg, bg, timeout, spawn
    "scatter",  # scatter, gather (outside a scatter pipeline)
    "introspect",  # kaish-last, kaish-validate
)


def _index(families: dict[str, str]) -> dict[str, str]:
    return {name: module for module, names in families.items() for name in names.split()}


# name -> module in BUILTIN_MODULES. Kept by hand (importing the modules to
# build it would defeat its purpose); tests/tools/test_registry.py compares it
# with every module's TOOLS.
BUILTIN_INDEX: dict[str, str] = _index(
    {
        "basic": "echo printf true : false sleep seq basename dirname hostname uname",
        "_date": "date",
        "text": "cat head tail wc tac tee",
        "lines": "sort uniq cut tr",
        "grep": "grep",
        "sed": "sed",
        "awk": "awk",
        "files": "ls glob tree cp mv rm mkdir touch write ln readlink realpath mktemp stat",
        "find": "find",
        "bytetools": "xxd dd",
        "digest": "base64 cmp checksum",
        "diff": "diff",
        "test_cmd": "test assert",
        "json": "fromjson tojson fromjsonl tojsonl keys values typeof split",
        "jq": "jq",
        "session": "cd pwd export unset set read alias unalias push kaish-vars vars"
        " which type help source",
        "env": "env",
        "jobs": "jobs wait kill fg bg timeout spawn",
        "scatter": "scatter gather",
        "introspect": "kaish-last kaish-validate",
    }
)


class ToolRegistry:
    """Builtins by name: tools already made, and names whose module is not
    imported yet (`_pending`: name -> module)."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}
        self._pending: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<ToolRegistry loaded={len(self._tools)} pending={len(self._pending)}>"

    def register(self, tool: Tool, *names: str) -> None:
        for name in names or (tool.schema.name,):
            self._tools[name] = tool
            self._pending.pop(name, None)

    def get(self, name: str) -> Tool | None:
        tool = self._tools.get(name)
        if tool is None and name in self._pending:
            self._load(self._pending[name])
            tool = self._tools.get(name)
        return tool

    def __contains__(self, name: str) -> bool:
        return name in self._tools or name in self._pending

    def names(self) -> list[str]:
        """Every builtin name, aliases included, sorted (imports nothing)."""
        return sorted(self._tools.keys() | self._pending.keys())

    def schemas(self) -> Iterator[Schema]:
        """Each tool's schema once, in name order (imports every pending module)."""
        self.load_all()
        seen: set[int] = set()
        for name in self.names():
            tool = self._tools[name]
            if id(tool) not in seen:
                seen.add(id(tool))
                yield tool.schema

    def add_lazy(self, index: dict[str, str]) -> None:
        """Make index's names (name -> builtin module) known without importing."""
        for name, module in index.items():
            if name not in self._tools:
                self._pending[name] = module

    def load_all(self) -> None:
        for module in sorted(set(self._pending.values())):
            self._load(module)

    def load_modules(self, modules: tuple[str, ...] = BUILTIN_MODULES) -> None:
        """Import the named builtin modules now and register all their tools."""
        for mod_name in modules:
            self._load(mod_name, replace=True)

    def _load(self, mod_name: str, *, replace: bool = False) -> None:
        """Import one builtin module and register its tools. Names that were
        registered explicitly meanwhile keep their tool unless `replace`."""
        try:
            module = importlib.import_module(f"kaish_kernel.tools.builtins.{mod_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kaish_kernel.tools.builtins.{mod_name}":
                raise
            module = None  # a family not written yet
        for cls in getattr(module, "TOOLS", ()):
            tool = cls()
            for name in (cls.schema.name, *getattr(cls, "aliases", ())):
                if replace or name not in self._tools:
                    self._tools[name] = tool
                self._pending.pop(name, None)
        # Names the index promised but the module does not define are gone.
        for name in [n for n, m in self._pending.items() if m == mod_name]:
            del self._pending[name]


def default_registry() -> ToolRegistry:
    """Every builtin, each module imported on first use."""
    registry = ToolRegistry()
    registry.add_lazy(BUILTIN_INDEX)
    return registry
