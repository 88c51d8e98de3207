"""The builtin registry: a static index, modules imported on first use."""

from __future__ import annotations

import importlib
import subprocess
import sys

from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.registry import (
    BUILTIN_INDEX,
    BUILTIN_MODULES,
    ToolRegistry,
    default_registry,
)
from kaish_kernel.tools.schema import Schema


def _real_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for mod_name in BUILTIN_MODULES:
        module = importlib.import_module(f"kaish_kernel.tools.builtins.{mod_name}")
        for cls in module.TOOLS:
            for name in (cls.schema.name, *getattr(cls, "aliases", ())):
                assert name not in index, f"{name} is defined by {index[name]} and {mod_name}"
                index[name] = mod_name
    return index


def test_index_matches_every_modules_tools() -> None:
    assert BUILTIN_INDEX == _real_index()


def test_every_indexed_module_is_a_family() -> None:
    assert set(BUILTIN_INDEX.values()) == set(BUILTIN_MODULES)


def test_names_and_membership_import_nothing() -> None:
    registry = default_registry()
    assert registry.names() == sorted(BUILTIN_INDEX)
    assert "awk" in registry and "no-such-tool" not in registry
    assert registry._tools == {}


def test_get_loads_the_family_once() -> None:
    registry = default_registry()
    sort = registry.get("sort")
    assert sort is not None and sort.schema.name == "sort"
    assert registry.get("uniq") is not None
    assert registry.get("sort") is sort
    assert registry.get("true") is registry.get(":")
    assert registry.get("no-such-tool") is None


def test_schemas_load_everything_once_per_tool() -> None:
    names = [schema.name for schema in default_registry().schemas()]
    assert len(names) == len(set(names))
    assert {"awk", "jq", "sed", "true"} <= set(names)
    assert ":" not in names  # an alias, not a second tool


class _MyPwd(Tool):
    schema = Schema(name="pwd", summary="a replacement")

    async def run(self, ctx: ToolContext) -> int:
        return 0


def test_an_explicit_registration_wins_over_the_index() -> None:
    registry = default_registry()
    mine = _MyPwd()
    registry.register(mine)
    assert registry.get("cd") is not None  # loads the session family
    assert registry.get("pwd") is mine


def test_load_modules_registers_a_family_eagerly() -> None:
    registry = ToolRegistry()
    registry.load_modules(("lines",))
    assert {"sort", "uniq", "cut", "tr"} <= set(registry._tools)


def test_kaish_c_true_imports_no_unused_builtin_family() -> None:
    code = (
        "import sys\n"
        "from kaish_kernel.cli import main\n"
        "main(['-c', 'true'])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('kaish_kernel.tools.builtins.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    for heavy in ("awk", "sed", "jq", "find", "_jq_engine", "_awk_ast", "_sed_program"):
        assert f"kaish_kernel.tools.builtins.{heavy}" not in loaded
