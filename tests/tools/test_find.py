"""find: walking order, depth limits and each predicate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaish_kernel.scheduler.stage import OutputStream
from kaish_kernel.tools.builtins.find import Find
from tests.tool_harness import FakeShell, run_tool


def make(root: Path, rel: str, content: str = "x") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


@pytest.fixture()
def tree(tmp_path: Path) -> FakeShell:
    """top.txt, sub/mid.txt, sub/deep/bottom.txt, .hid, proj/{src/*.rs,docs/README.md}."""
    make(tmp_path, "top.txt", "top\n")
    make(tmp_path, "sub/mid.txt", "mid\n")
    make(tmp_path, "sub/deep/bottom.txt", "bottom\n")
    make(tmp_path, ".hid")
    make(tmp_path, "proj/src/main.rs", "fn main() {}")
    make(tmp_path, "proj/src/lib.rs", "pub mod lib;")
    make(tmp_path, "proj/docs/README.md", "# Docs")
    return FakeShell(cwd_path=str(tmp_path))


def lines(shell: FakeShell, *words: object) -> list[str]:
    run = run_tool(Find, *words, shell=shell)
    assert run.code == 0, run.stderr
    return run.out.splitlines()


def test_default_walks_everything_depth_first_sorted(tree: FakeShell) -> None:
    assert lines(tree) == [
        ".",
        "./.hid",
        "./proj",
        "./proj/docs",
        "./proj/docs/README.md",
        "./proj/src",
        "./proj/src/lib.rs",
        "./proj/src/main.rs",
        "./sub",
        "./sub/deep",
        "./sub/deep/bottom.txt",
        "./sub/mid.txt",
        "./top.txt",
    ]


def test_name_keeps_the_start_spelling(tree: FakeShell) -> None:
    assert lines(tree, "proj", "-name", "*.rs") == ["proj/src/lib.rs", "proj/src/main.rs"]
    assert lines(tree, "./proj/", "-name", "*.md") == ["./proj/docs/README.md"]


def test_iname_and_name_match_dotfiles(tree: FakeShell) -> None:
    assert lines(tree, ".", "-iname", "readme.MD") == ["./proj/docs/README.md"]
    assert lines(tree, ".", "-name", ".*") == [".", "./.hid"]


def test_type(tree: FakeShell, tmp_path: Path) -> None:
    os.symlink("top.txt", tmp_path / "ln")
    assert lines(tree, "sub", "-type", "d") == ["sub", "sub/deep"]
    assert lines(tree, "sub", "-type", "f") == ["sub/deep/bottom.txt", "sub/mid.txt"]
    assert lines(tree, ".", "-type", "l") == ["./ln"]
    bad = run_tool(Find, ".", "-type", "x", shell=tree)
    assert bad.code == 1 and "invalid type" in bad.stderr


def test_maxdepth_and_mindepth(tree: FakeShell) -> None:
    assert lines(tree, ".", "-maxdepth", 0) == ["."]
    assert lines(tree, ".", "-maxdepth", 1) == [".", "./.hid", "./proj", "./sub", "./top.txt"]
    shallow = lines(tree, ".", "-mindepth", 1, "-maxdepth", 1)
    assert "." not in shallow and "./top.txt" in shallow
    deep = lines(tree, "sub", "-mindepth", 2)
    assert deep == ["sub/deep/bottom.txt"]
    assert run_tool(Find, ".", "-maxdepth", "x", shell=tree).code == 2


def test_path_and_ipath(tree: FakeShell) -> None:
    assert lines(tree, ".", "-path", "*/sub/*") == ["./sub/deep", "./sub/deep/bottom.txt", "./sub/mid.txt"]
    assert lines(tree, ".", "-path", "*/SUB/*") == []
    assert lines(tree, ".", "-ipath", "*/SUB/*.txt") == ["./sub/deep/bottom.txt", "./sub/mid.txt"]


def test_size_and_mtime(tree: FakeShell, tmp_path: Path) -> None:
    assert lines(tree, "top.txt", "-size", "+1k") == []
    assert lines(tree, "top.txt", "-size", "+0") == ["top.txt"]
    assert lines(tree, "top.txt", "-size", 4) == ["top.txt"]
    assert lines(tree, ".", "-maxdepth", 0, "-size", "+1M") == []
    os.utime(tmp_path / "top.txt", (1_000_000_000, 1_000_000_000))
    assert lines(tree, ".", "-maxdepth", 1, "-type", "f", "-mtime", "+30") == ["./top.txt"]
    assert "./top.txt" not in lines(tree, ".", "-type", "f", "-mtime", -1)
    assert run_tool(Find, ".", "-size", "lots", shell=tree).code == 1


def test_file_start_is_printed_and_not_walked(tree: FakeShell) -> None:
    assert lines(tree, "top.txt") == ["top.txt"]
    assert lines(tree, "top.txt", "sub/mid.txt") == ["top.txt", "sub/mid.txt"]


def test_missing_start_is_reported_others_continue(tree: FakeShell) -> None:
    run = run_tool(Find, "nope", "top.txt", shell=tree)
    assert run.code == 1
    assert run.stderr == "find: 'nope': No such file or directory\n"
    assert run.out == "top.txt\n"


def test_absolute_start(tree: FakeShell, tmp_path: Path) -> None:
    assert lines(tree, str(tmp_path / "sub"), "-type", "f") == [
        f"{tmp_path}/sub/deep/bottom.txt",
        f"{tmp_path}/sub/mid.txt",
    ]


def test_symlinked_dirs_are_listed_not_followed(tree: FakeShell, tmp_path: Path) -> None:
    os.symlink("sub", tmp_path / "alias")
    out = lines(tree, ".", "-name", "mid.txt")
    assert out == ["./sub/mid.txt"]


def test_typed_view_and_json(tree: FakeShell) -> None:
    run = run_tool(Find, "sub", "-type", "f", shell=tree)
    assert run.data == ["sub/deep/bottom.txt", "sub/mid.txt"] and not run.is_value
    js = run_tool(Find, "sub", "-type", "f", "--json", shell=tree)
    assert js.out == '["sub/deep/bottom.txt","sub/mid.txt"]' and js.is_value


def test_newline_names_need_json(tree: FakeShell, tmp_path: Path) -> None:
    make(tmp_path, "odd/a\nb")
    run = run_tool(Find, "odd", shell=tree)
    assert run.code == 2 and "--json" in run.stderr
    assert run_tool(Find, "odd", "--json", shell=tree).data == ["odd", "odd/a\nb"]


class _Gone(OutputStream):
    async def write(self, data: bytes) -> None:
        raise BrokenPipeError


def test_stops_quietly_when_the_reader_leaves(tree: FakeShell) -> None:
    import asyncio

    from kaish_kernel.scheduler.stage import EMPTY_INPUT
    from kaish_kernel.tools.base import ToolContext
    from kaish_kernel.tools.schema import bind
    from tests.tool_harness import ErrorBuffer

    ctx = ToolContext("find", bind(Find.schema, []), EMPTY_INPUT, _Gone(), ErrorBuffer(), tree)
    assert asyncio.run(Find().run(ctx)) == 0
