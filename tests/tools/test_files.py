"""ls, glob, cp, mv, rm, mkdir, touch, write, readlink, realpath, mktemp, stat."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaish_kernel.scheduler.stage import EMPTY_INPUT, BytesInput
from kaish_kernel.tools.builtins._listing import human_size
from kaish_kernel.tools.builtins.files import (
    TOOLS,
    Cp,
    Glob,
    Ls,
    Mkdir,
    Mktemp,
    Mv,
    Readlink,
    Realpath,
    Rm,
    Stat,
    Touch,
    Write,
)
from kaish_kernel.tools.schema import format_help
from tests.tool_harness import FakeShell, run_tool


def make(root: Path, rel: str, content: str = "x") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


@pytest.fixture()
def sh(tmp_path: Path) -> FakeShell:
    return FakeShell(cwd_path=str(tmp_path))


def test_every_schema_renders_help() -> None:
    for tool in TOOLS:
        assert tool.schema.name in format_help(tool.schema)


# -- ls ------------------------------------------------------------------------


def test_ls_empty_directory(sh: FakeShell) -> None:
    run = run_tool(Ls, shell=sh)
    assert (run.code, run.stdout) == (0, b"")


def test_ls_lists_sorted_and_hides_dotfiles(tmp_path: Path, sh: FakeShell) -> None:
    for name in ("b.txt", "a.txt", ".hidden", "c.txt"):
        make(tmp_path, name)
    run = run_tool(Ls, shell=sh)
    assert run.out == "a.txt\nb.txt\nc.txt\n"
    assert run.data == ["a.txt", "b.txt", "c.txt"] and not run.is_value
    assert run_tool(Ls, "-a", shell=sh).out == ".hidden\na.txt\nb.txt\nc.txt\n"
    assert run_tool(Ls, "-r", shell=sh).out == "c.txt\nb.txt\na.txt\n"


def test_ls_dash_one_is_a_flag_even_as_a_number(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "alpha.txt")
    assert run_tool(Ls, "-1", shell=sh).out == "alpha.txt\n"
    assert run_tool(Ls, -1, shell=sh).out == "alpha.txt\n"


def test_ls_single_file_shows_its_name(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "data.txt", "0123456789")
    assert run_tool(Ls, "data.txt", shell=sh).out == "data.txt\n"
    run = run_tool(Ls, "-l", "data.txt", shell=sh)
    assert run.out == "data.txt\t-\t10\n"
    assert run.data == [{"NAME": "data.txt", "TYPE": "-", "SIZE": "10"}]


def test_ls_long_and_json(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "f.txt", "abc")
    (tmp_path / "d").mkdir()
    os.symlink("f.txt", tmp_path / "ln")
    long = run_tool(Ls, "-l", shell=sh)
    lines = long.out.splitlines()
    assert lines[1] == "f.txt\t-\t3"
    assert lines[2] == "ln -> f.txt\tl\t3"
    assert lines[0].startswith("d\td\t")
    assert run_tool(Ls, shell=sh).out == "d\nf.txt\nln@\n"
    js = run_tool(Ls, "--json", shell=sh)
    assert js.out == '["d","f.txt","ln@"]' and js.is_value


def test_ls_sorts_by_size_and_time(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "small", "x")
    make(tmp_path, "big", "x" * 100)
    os.utime(tmp_path / "small", (2_000_000_000, 2_000_000_000))
    os.utime(tmp_path / "big", (1_000_000_000, 1_000_000_000))
    assert run_tool(Ls, "-S", shell=sh).out == "big\nsmall\n"
    assert run_tool(Ls, "-t", shell=sh).out == "small\nbig\n"
    assert run_tool(Ls, "-tr", shell=sh).out == "big\nsmall\n"


def test_ls_several_operands_and_a_missing_one(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "real.txt")
    (tmp_path / "dir").mkdir()
    make(tmp_path, "dir/inner")
    run = run_tool(Ls, "real.txt", "dir", "gone.txt", shell=sh)
    assert run.out == "dir\nreal.txt\n"
    assert run.stderr == "ls: cannot access 'gone.txt': No such file or directory\n"
    assert run.code == 1


def test_ls_missing_single_path(sh: FakeShell) -> None:
    run = run_tool(Ls, "does_not_exist", shell=sh)
    assert run.code == 1 and run.stdout == b""
    assert run.stderr == "ls: does_not_exist: No such file or directory\n"


def test_ls_expands_a_quoted_pattern(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "z.txt")
    make(tmp_path, "y.rs")
    assert run_tool(Ls, "*.txt", shell=sh).out == "z.txt\n"
    absolute = run_tool(Ls, f"{tmp_path}/*.txt", shell=FakeShell(cwd_path="/"))
    assert absolute.out == f"{tmp_path}/z.txt\n"


def test_ls_recursive_headers_follow_the_operand(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "top.txt")
    make(tmp_path, "sub/inner/deep.txt")
    run = run_tool(Ls, "-R", shell=sh)
    assert run.out == ".:\nsub\ntop.txt\n\n./sub:\ninner\n\n./sub/inner:\ndeep.txt\n"
    run = run_tool(Ls, "-R", "sub", shell=sh)
    assert run.out == "sub:\ninner\n\nsub/inner:\ndeep.txt\n"
    run = run_tool(Ls, "-R", str(tmp_path / "sub"), shell=sh)
    assert f"{tmp_path}/sub/inner:\n" in run.out


def test_ls_recursive_json_is_a_tree_rooted_at_dot(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "sub/inner/deep.txt")
    run = run_tool(Ls, "-R", "sub", "--json", shell=sh)
    assert run.out == '{".":{"inner":null},"inner":{"deep.txt":null}}'


def test_ls_recursive_skips_ignored_dirs_unless_all(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "node_modules/pkg/index.js")
    make(tmp_path, "src/main.py")
    run = run_tool(Ls, "-R", shell=sh)
    assert "node_modules" not in run.out and "main.py" in run.out
    assert "index.js" in run_tool(Ls, "-Ra", shell=sh).out


def test_ls_refuses_newline_names_in_text(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "bad\nname")
    run = run_tool(Ls, shell=sh)
    assert run.code == 2 and run.stdout == b"" and "--json" in run.stderr
    assert run_tool(Ls, "--json", shell=sh).data == ["bad\nname"]


def test_human_size() -> None:
    assert [human_size(n) for n in (0, 1023, 1024, 1536, 10 * 1024, 5 * 1024**3)] == [
        "0",
        "1023",
        "1.0K",
        "1.5K",
        "10K",
        "5.0G",
    ]


# -- glob ------------------------------------------------------------------------


def test_glob_relative_and_absolute(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "z.txt")
    make(tmp_path, "sub/inner.txt")
    run = run_tool(Glob, "*.txt", shell=sh)
    assert (run.code, run.out, run.data) == (0, "z.txt\n", ["z.txt"])
    assert run_tool(Glob, f"{tmp_path}/*.txt", shell=sh).out == f"{tmp_path}/z.txt\n"
    assert run_tool(Glob, "*.txt", shell=FakeShell(cwd_path=str(tmp_path / "sub"))).out == "inner.txt\n"


def test_glob_no_match_names_the_pattern(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a.rs")
    run = run_tool(Glob, "*.rs", "*.none", shell=sh)
    assert run.code == 1 and run.stdout == b""
    assert run.stderr == "glob: no matches for pattern '*.none'\n"
    assert run_tool(Glob, shell=sh).code == 1


def test_glob_union_dedupes_in_pattern_order(tmp_path: Path, sh: FakeShell) -> None:
    for name in ("main.rs", "notes.md", "data.json"):
        make(tmp_path, name)
    assert run_tool(Glob, "*.rs", "*.md", "main.*", shell=sh).out == "main.rs\nnotes.md\n"


def test_glob_recursion_dotfiles_and_hidden_flag(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "visible.txt")
    make(tmp_path, ".env")
    make(tmp_path, ".github/.env")
    make(tmp_path, "sub/.env")
    assert run_tool(Glob, "*", shell=sh).out == "visible.txt\n"
    assert run_tool(Glob, ".*", shell=sh).out == ".env\n"
    assert run_tool(Glob, "**/.env", shell=sh).out == ".env\nsub/.env\n"
    assert ".github/.env" in run_tool(Glob, "-a", "**/.env", shell=sh).out


def test_glob_entry_kinds_depth_and_filters(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "top.rs")
    make(tmp_path, "sub/main.rs")
    make(tmp_path, "sub/main_test.rs")
    make(tmp_path, "sub/deep/x.py")
    assert run_tool(Glob, "**/*", "-t", "d", shell=sh).out == "sub\nsub/deep\n"
    assert "sub" in run_tool(Glob, "**/*", "-t", "a", shell=sh).data
    assert run_tool(Glob, "**/*.rs", "-d", "0", shell=sh).out == "top.rs\n"
    assert run_tool(Glob, "**/*.rs", "--exclude=*_test.rs", shell=sh).out == "sub/main.rs\ntop.rs\n"
    assert run_tool(Glob, "**/*", "--exclude=sub", shell=sh).out == "top.rs\n"
    assert run_tool(Glob, "**/*", "--include=*.py", shell=sh).out == "sub/deep/x.py\n"
    assert run_tool(Glob, "**/*", "--ftype", "python", shell=sh).out == "sub/deep/x.py\n"
    assert "x.py" not in run_tool(Glob, "**/*", "--ftype-not", "python", shell=sh).out
    assert run_tool(Glob, "**/*", "-t", "x", shell=sh).code == 2
    bad = run_tool(Glob, "**/*", "--ftype", "definitely-not-a-type", shell=sh)
    assert bad.code == 2 and "definitely-not-a-type" in bad.stderr


def test_glob_respects_ignores_unless_told(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "target/debug/out.rs")
    make(tmp_path, "src/lib.rs")
    make(tmp_path, "gen/made.rs")
    make(tmp_path, ".gitignore", "gen/\n")
    assert run_tool(Glob, "**/*.rs", shell=sh).out == "src/lib.rs\n"
    assert run_tool(Glob, "**/*.rs", "--no-ignore", shell=sh).out.count("\n") == 3


def test_glob_ftype_list(sh: FakeShell) -> None:
    run = run_tool(Glob, "--ftype-list", shell=sh)
    assert "rust\t*.rs\n" in run.out


def test_glob_output_modes(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a.txt")
    make(tmp_path, "b.txt")
    assert run_tool(Glob, "--null", "*.txt", shell=sh).stdout == b"a.txt\0b.txt"
    js = run_tool(Glob, "--json", "*.txt", shell=sh)
    assert js.out == '["a.txt","b.txt"]' and js.is_value


def test_glob_refuses_newline_names_without_json(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "bad\nname.txt")
    run = run_tool(Glob, "*.txt", shell=sh)
    assert run.code == 2 and "--json" in run.stderr
    assert run_tool(Glob, "--json", "*.txt", shell=sh).data == ["bad\nname.txt"]


# -- cp ------------------------------------------------------------------------


def test_cp_file_into_file_and_dir(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a.txt", "A")
    (tmp_path / "d").mkdir()
    assert run_tool(Cp, "a.txt", "b.txt", shell=sh).code == 0
    assert (tmp_path / "b.txt").read_text() == "A"
    assert run_tool(Cp, "a.txt", "b.txt", "d", shell=sh).code == 0
    assert (tmp_path / "d/a.txt").read_text() == "A" and (tmp_path / "d/b.txt").exists()


def test_cp_no_clobber(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a.txt", "new")
    make(tmp_path, "b.txt", "old")
    assert run_tool(Cp, "-n", "a.txt", "b.txt", shell=sh).code == 0
    assert (tmp_path / "b.txt").read_text() == "old"


def test_cp_directory_needs_r(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "src/a.txt", "A")
    make(tmp_path, "src/sub/b.txt", "B")
    os.symlink("a.txt", tmp_path / "src/link")
    run = run_tool(Cp, "src", "dst", shell=sh)
    assert run.code == 1 and "use -r" in run.stderr
    assert run_tool(Cp, "-r", "src", "dst", shell=sh).code == 0
    assert (tmp_path / "dst/sub/b.txt").read_text() == "B"
    assert os.readlink(tmp_path / "dst/link") == "a.txt"
    assert run_tool(Cp, "-R", "src", "dst", shell=sh).code == 0
    assert (tmp_path / "dst/src/a.txt").exists()


def test_cp_errors(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a.txt")
    make(tmp_path, "b.txt")
    assert run_tool(Cp, "a.txt", shell=sh).stderr == "cp: missing file operand (need source and destination)\n"
    assert "not a directory" in run_tool(Cp, "a.txt", "b.txt", "c", shell=sh).stderr
    assert run_tool(Cp, "nope", "x", shell=sh).stderr == "cp: nope: No such file or directory\n"
    assert "same file" in run_tool(Cp, "a.txt", "a.txt", shell=sh).stderr
    (tmp_path / "d").mkdir()
    assert "into itself" in run_tool(Cp, "-r", "d", "d/inner", shell=sh).stderr


# -- mv ------------------------------------------------------------------------


def test_mv_rename_and_into_dir(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a.txt", "A")
    (tmp_path / "d").mkdir()
    assert run_tool(Mv, "a.txt", "b.txt", shell=sh).code == 0
    assert not (tmp_path / "a.txt").exists() and (tmp_path / "b.txt").read_text() == "A"
    assert run_tool(Mv, "b.txt", "d", shell=sh).code == 0
    assert (tmp_path / "d/b.txt").exists()


def test_mv_moves_links_not_targets(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "target.txt", "precious")
    os.symlink("target.txt", tmp_path / "link.txt")
    os.symlink("nowhere", tmp_path / "orphan")
    assert run_tool(Mv, "link.txt", "renamed", shell=sh).code == 0
    assert os.path.islink(tmp_path / "renamed")
    assert (tmp_path / "target.txt").read_text() == "precious"
    assert run_tool(Mv, "orphan", "moved", shell=sh).code == 0
    assert os.path.islink(tmp_path / "moved")


def test_mv_no_clobber_missing_and_into_itself(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a", "A")
    make(tmp_path, "b", "B")
    assert run_tool(Mv, "-n", "a", "b", shell=sh).code == 0
    assert (tmp_path / "b").read_text() == "B" and (tmp_path / "a").exists()
    assert run_tool(Mv, "nope", "x", shell=sh).stderr == "mv: nope: No such file or directory\n"
    (tmp_path / "d").mkdir()
    assert "into itself" in run_tool(Mv, "d", "d/x", shell=sh).stderr


# -- rm ------------------------------------------------------------------------


def test_rm_files_and_empty_dirs(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "f")
    (tmp_path / "empty").mkdir()
    assert run_tool(Rm, "f", "empty", shell=sh).code == 0
    assert not (tmp_path / "f").exists() and not (tmp_path / "empty").exists()


def test_rm_nonempty_dir_needs_r_and_others_still_go(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "sub/inside.txt")
    make(tmp_path, "a.txt")
    make(tmp_path, "-rf.txt")
    run = run_tool(Rm, "--", "-rf.txt", "a.txt", "sub", shell=sh)
    assert run.code == 1 and "sub" in run.stderr
    assert (tmp_path / "sub/inside.txt").exists() and not (tmp_path / "a.txt").exists()
    assert not (tmp_path / "-rf.txt").exists()
    assert run_tool(Rm, "-r", "sub", shell=sh).code == 0
    assert not (tmp_path / "sub").exists()


def test_rm_missing_operand_removes_nothing(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "keep")
    run = run_tool(Rm, "keep", "typo", shell=sh)
    assert run.code == 1 and run.stderr == "rm: typo: No such file or directory\n"
    assert (tmp_path / "keep").exists()
    assert run_tool(Rm, "-f", "keep", "typo", shell=sh).code == 0
    assert not (tmp_path / "keep").exists()
    assert run_tool(Rm, shell=sh).stderr == "rm: missing path argument\n"


def test_rm_never_follows_symlinks(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "targetdir/child.txt", "keepme")
    make(tmp_path, "outside/safe.txt", "external")
    make(tmp_path, "victim/own.txt")
    os.symlink("targetdir", tmp_path / "linkdir")
    os.symlink("../outside", tmp_path / "victim/link")
    os.symlink("loop", tmp_path / "loop")
    os.symlink("nowhere", tmp_path / "orphan")
    assert run_tool(Rm, "-r", "linkdir", shell=sh).code == 0
    assert run_tool(Rm, "-r", "victim", shell=sh).code == 0
    assert run_tool(Rm, "-r", "loop", "orphan", shell=sh).code == 0
    assert (tmp_path / "targetdir/child.txt").read_text() == "keepme"
    assert (tmp_path / "outside/safe.txt").read_text() == "external"
    assert not os.path.lexists(tmp_path / "linkdir")
    assert not os.path.lexists(tmp_path / "loop")


@pytest.mark.parametrize("operand", ["/", ".", "..", "sub/.."])
def test_rm_refuses_root_and_dot(tmp_path: Path, sh: FakeShell, operand: str) -> None:
    (tmp_path / "sub").mkdir()
    run = run_tool(Rm, "-rf", operand, shell=sh)
    assert run.code == 1 and "refusing" in run.stderr
    assert tmp_path.exists()


# -- mkdir / touch / write -----------------------------------------------------


def test_mkdir_creates_parents_and_tolerates_existing(tmp_path: Path, sh: FakeShell) -> None:
    assert run_tool(Mkdir, "-p", "a/b/c", shell=sh).code == 0
    assert run_tool(Mkdir, "a/b/c", "x/y", shell=sh).code == 0
    assert (tmp_path / "a/b/c").is_dir() and (tmp_path / "x/y").is_dir()
    make(tmp_path, "file")
    run = run_tool(Mkdir, "file", shell=sh)
    assert run.code == 1 and run.stderr.startswith("mkdir: file: ")


def test_touch_creates_and_refreshes(tmp_path: Path, sh: FakeShell) -> None:
    path = make(tmp_path, "old", "content")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    (tmp_path / "dir").mkdir()
    assert run_tool(Touch, "old", "new", "dir", shell=sh).code == 0
    assert path.stat().st_mtime > 1_000_000_000 and path.read_text() == "content"
    assert (tmp_path / "new").read_bytes() == b""
    assert run_tool(Touch, "missing/dir/f", shell=sh).code == 1


def test_write_operand_stdin_and_refusal(tmp_path: Path, sh: FakeShell) -> None:
    assert run_tool(Write, "f.txt", "hello", shell=sh).stdout == b""
    assert (tmp_path / "f.txt").read_text() == "hello"
    assert run_tool(Write, "g.txt", 42, shell=sh).code == 0
    assert (tmp_path / "g.txt").read_text() == "42"
    assert run_tool(Write, "h.txt", stdin=b"from pipe\n", shell=sh).code == 0
    assert (tmp_path / "h.txt").read_text() == "from pipe\n"
    assert run_tool(Write, "h.txt", stdin=b"", shell=sh).code == 0
    assert (tmp_path / "h.txt").read_bytes() == b""
    make(tmp_path, "keep.txt", "ORIGINAL")
    run = run_tool(Write, "keep.txt", stdin=EMPTY_INPUT, shell=sh)
    assert run.code == 1 and "unchanged" in run.stderr
    assert (tmp_path / "keep.txt").read_text() == "ORIGINAL"
    assert run_tool(Write, "--path", "p.txt", "--content", "named", shell=sh).code == 0
    assert (tmp_path / "p.txt").read_text() == "named"
    assert run_tool(Write, "b.bin", stdin=BytesInput(b"\xff\x00"), shell=sh).code == 0
    assert (tmp_path / "b.bin").read_bytes() == b"\xff\x00"
    assert run_tool(Write, shell=sh).code == 1


# -- readlink / realpath / mktemp / stat ----------------------------------------


def test_readlink_and_realpath(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "target.txt")
    os.symlink("target.txt", tmp_path / "link")
    real = os.path.realpath(tmp_path)
    assert run_tool(Readlink, "link", shell=sh).out == "target.txt\n"
    run = run_tool(Readlink, "target.txt", shell=sh)
    assert run.code == 1 and run.stderr == "readlink: target.txt: not a symbolic link\n"
    assert run_tool(Readlink, "nope", shell=sh).stderr == "readlink: nope: No such file or directory\n"
    assert run_tool(Readlink, "-f", "link", shell=sh).out == f"{real}/target.txt\n"
    assert run_tool(Readlink, "-f", "new-file", shell=sh).out == f"{real}/new-file\n"
    assert run_tool(Readlink, "-f", "no/such/dir", shell=sh).code == 1
    assert run_tool(Realpath, "link", shell=sh).out == f"{real}/target.txt\n"
    run = run_tool(Realpath, "link", "nope", shell=sh)
    assert run.code == 1 and run.out == f"{real}/target.txt\n" and "nope" in run.stderr


def test_mktemp(tmp_path: Path) -> None:
    sh = FakeShell(cwd_path=str(tmp_path), vars={"TMPDIR": str(tmp_path)})
    path = run_tool(Mktemp, shell=sh).out.strip()
    assert path.startswith(f"{tmp_path}/tmp.") and len(path.rsplit(".", 1)[1]) == 10
    assert os.path.isfile(path)
    directory = run_tool(Mktemp, "-d", shell=sh).out.strip()
    assert os.path.isdir(directory)
    named = run_tool(Mktemp, "job.XXX.tmp", shell=sh).out.strip()
    assert named.startswith(f"{tmp_path}/job.") and named.endswith(".tmp") and "XXX" not in named
    other = tmp_path / "other"
    other.mkdir()
    assert run_tool(Mktemp, "-p", str(other), shell=sh).out.startswith(f"{other}/tmp.")


def test_stat(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a.txt", "abc")
    (tmp_path / "d").mkdir()
    run = run_tool(Stat, "a.txt", shell=sh)
    assert run.out == "a.txt\t3\tregular file\n"
    assert run.data == [{"FILE": "a.txt", "SIZE": "3", "TYPE": "regular file"}]
    assert run_tool(Stat, "-c", "%n is %s bytes (%F)", "a.txt", shell=sh).out == "a.txt is 3 bytes (regular file)\n"
    assert run_tool(Stat, "-c", "%F", "d", shell=sh).out == "directory\n"
    missing = run_tool(Stat, "a.txt", "nope", shell=sh)
    assert missing.code == 1 and missing.out == "a.txt\t3\tregular file\n"
    assert run_tool(Stat, "--json", "a.txt", shell=sh).out == '[{"FILE":"a.txt","SIZE":"3","TYPE":"regular file"}]'


def test_json_flag_on_quiet_and_text_tools(tmp_path: Path, sh: FakeShell) -> None:
    make(tmp_path, "a.txt")
    os.symlink("a.txt", tmp_path / "ln")
    real = os.path.realpath(tmp_path)
    assert run_tool(Mkdir, "d", "--json", shell=sh).out == ""
    assert run_tool(Touch, "t", "--json", shell=sh).out == ""
    assert run_tool(Cp, "a.txt", "b.txt", "--json", shell=sh).out == ""
    assert run_tool(Rm, "b.txt", "--json", shell=sh).out == ""
    assert run_tool(Readlink, "ln", "--json", shell=sh).out == '"a.txt\\n"'
    assert run_tool(Realpath, "a.txt", "--json", shell=sh).out == f'"{real}/a.txt\\n"'
    made = run_tool(Mktemp, "-p", str(tmp_path), "--json", shell=sh)
    assert made.is_value and made.data.startswith(f"{tmp_path}/tmp.")


def test_ln_symbolic_only(tmp_path: Path, sh: FakeShell) -> None:
    from kaish_kernel.tools.builtins.files import Ln

    make(tmp_path, "a.txt")
    make(tmp_path, "b.txt")
    assert run_tool(Ln, "-s", "a.txt", "link", shell=sh).code == 0
    assert os.readlink(tmp_path / "link") == "a.txt"
    exists = run_tool(Ln, "-s", "b.txt", "link", shell=sh)
    assert exists.code == 1 and "File exists" in exists.stderr
    assert run_tool(Ln, "-sf", "b.txt", "link", shell=sh).code == 0
    assert os.readlink(tmp_path / "link") == "b.txt"
    hard = run_tool(Ln, "a.txt", "hard", shell=sh)
    assert hard.code == 1 and "-s" in hard.stderr
    assert run_tool(Ln, "-s", "a.txt", shell=sh).code == 2


@pytest.fixture()
def tree_sh(tmp_path: Path) -> FakeShell:
    for rel in ("src/main.rs", "src/lib/a.rs", "top.txt", ".hid", "node_modules/x/y"):
        make(tmp_path, rel)
    (tmp_path / "empty").mkdir()
    return FakeShell(cwd_path=str(tmp_path))


def test_tree_forms(tree_sh: FakeShell) -> None:
    from kaish_kernel.tools.builtins.files import Tree

    assert run_tool(Tree, shell=tree_sh).out == "./{empty,src/{lib/{a.rs},main.rs},top.txt}\n"
    assert run_tool(Tree, "src", shell=tree_sh).out == "src/{lib/{a.rs},main.rs}\n"
    assert run_tool(Tree, "--traditional", "src", shell=tree_sh).out == (
        "src/\n├── lib\n│   └── a.rs\n└── main.rs\n"
    )
    assert run_tool(Tree, "--flat", "src", shell=tree_sh).out == "src/\n  lib/\n    a.rs\n  main.rs\n"
    js = run_tool(Tree, "--json", "src", shell=tree_sh)
    assert js.data == {"lib": {"a.rs": None}, "main.rs": None}
    assert run_tool(Tree, "-L", 1, shell=tree_sh).out == "./{empty,src,top.txt}\n"
    assert run_tool(Tree, "-f", shell=tree_sh).out == "./{src/{lib/{a.rs},main.rs},top.txt}\n"
    everything = run_tool(Tree, "-a", "--no-ignore", shell=tree_sh).out
    assert ".hid" in everything and "node_modules/{x/{y}}" in everything
    missing = run_tool(Tree, "nope", shell=tree_sh)
    assert missing.code == 1 and missing.stderr == "tree: nope: No such file or directory\n"
