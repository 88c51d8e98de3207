"""The shared glob engine: kaish's dotfile rule, `**`, braces, spelling of results."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kaish_kernel.tools.builtins._globbing import (
    IgnoreRules,
    expand_glob,
    glob_match,
    is_glob_pattern,
    split_braces,
)
from kaish_kernel.vfs.router import VfsRouter


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    for rel in [
        "a.txt",
        "b.txt",
        "c.rs",
        ".env",
        "sub/x.rs",
        "sub/.env",
        "sub/deep/y.rs",
        ".github/config.yml",
        ".github/.secret",
        ".github/.env",
        ".hid/z.rs",
    ]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")
    return tmp_path


def g(pattern: str, cwd: Path, **kw: object) -> list[str]:
    return expand_glob(pattern, str(cwd), **kw)  # type: ignore[arg-type]


def test_star_skips_dotfiles(tree: Path) -> None:
    assert g("*", tree) == ["a.txt", "b.txt", "c.rs", "sub"]


def test_dot_star_matches_only_dotfiles(tree: Path) -> None:
    assert g(".*", tree) == [".env", ".github", ".hid"]


def test_named_dot_dir_is_entered_but_star_inside_still_hides(tree: Path) -> None:
    assert g(".github/*", tree) == [".github/config.yml"]


def test_globstar_recurses_but_never_into_hidden_dirs(tree: Path) -> None:
    assert g("**/*.rs", tree) == ["c.rs", "sub/deep/y.rs", "sub/x.rs"]


def test_globstar_reaches_explicit_dotfile_in_visible_dirs(tree: Path) -> None:
    assert g("**/.env", tree) == [".env", "sub/.env"]


def test_dotglob_lifts_the_rule(tree: Path) -> None:
    assert ".hid/z.rs" in g("**/*.rs", tree, dotglob=True)
    assert ".env" in g("*", tree, dotglob=True)


def test_results_are_sorted_and_deduplicated(tree: Path) -> None:
    assert g("*.{txt,txt}", tree) == ["a.txt", "b.txt"]
    assert g("{b,a}.txt", tree) == ["a.txt", "b.txt"]


def test_relative_pattern_gives_relative_results(tree: Path) -> None:
    assert g("sub/*.rs", tree) == ["sub/x.rs"]
    assert g("./*.txt", tree) == ["./a.txt", "./b.txt"]


def test_absolute_pattern_gives_absolute_results(tree: Path) -> None:
    assert g(f"{tree}/*.txt", tree / "sub") == [f"{tree}/a.txt", f"{tree}/b.txt"]


def test_parent_relative_pattern_keeps_its_spelling(tree: Path) -> None:
    assert g("../*.rs", tree / "sub") == ["../c.rs"]


def test_no_match_is_empty(tree: Path) -> None:
    assert g("*.none", tree) == []
    assert g("missing/*.txt", tree) == []


def test_literal_path_is_checked_for_existence(tree: Path) -> None:
    assert g("sub/x.rs", tree) == ["sub/x.rs"]
    assert g("sub/nope.rs", tree) == []


def test_trailing_slash_matches_directories_only(tree: Path) -> None:
    assert g("*/", tree) == ["sub/"]


def test_files_and_dirs_filters(tree: Path) -> None:
    assert g("**/*", tree, files=False) == ["sub", "sub/deep"]
    assert "sub" not in g("**/*", tree, dirs=False)


def test_max_depth_counts_directories_below_the_root(tree: Path) -> None:
    assert g("**/*.rs", tree, max_depth=0) == ["c.rs"]
    assert g("**/*.rs", tree, max_depth=1) == ["c.rs", "sub/x.rs"]


def test_character_classes_and_question_mark(tree: Path) -> None:
    assert g("[ab].txt", tree) == ["a.txt", "b.txt"]
    assert g("[!a].txt", tree) == ["b.txt"]
    assert g("?.rs", tree) == ["c.rs"]


def test_globstar_does_not_follow_symlinked_dirs(tree: Path) -> None:
    os.symlink(tree / "sub", tree / "link")
    assert g("**/y.rs", tree) == ["sub/deep/y.rs"]
    assert "link" in g("*", tree)


def test_ignore_prunes_directories(tree: Path) -> None:
    (tree / "node_modules").mkdir()
    (tree / "node_modules" / "m.rs").write_text("x")
    rules = IgnoreRules.for_root(VfsRouter(), str(tree))
    assert "node_modules/m.rs" in g("**/*.rs", tree)
    assert "node_modules/m.rs" not in g("**/*.rs", tree, ignore=rules)


def test_gitignore_rules(tree: Path) -> None:
    (tree / ".gitignore").write_text("*.txt\n!b.txt\n/sub/deep/\n")
    rules = IgnoreRules.for_root(VfsRouter(), str(tree))
    assert g("**/*", tree, ignore=rules, dirs=False) == ["b.txt", "c.rs", "sub/x.rs"]


def test_virtual_mount_points_are_listed(tmp_path: Path) -> None:
    from kaish_kernel.vfs.base import EntryInfo, Filesystem

    class Tiny(Filesystem):
        def stat(self, path: str) -> EntryInfo:
            if path in ("/", "/one"):
                return EntryInfo(path.strip("/") or "/", "dir" if path == "/" else "file")
            raise FileNotFoundError(path)

        def listdir(self, path: str) -> list[EntryInfo]:
            return [EntryInfo("one", "file")]

        def read_bytes(self, path: str) -> bytes:
            return b""

    vfs = VfsRouter()
    vfs.mount(str(tmp_path / "v"), Tiny())
    assert expand_glob("v/*", str(tmp_path), vfs=vfs) == ["v/one"]


def test_helpers() -> None:
    assert is_glob_pattern("*.rs") and is_glob_pattern("a?") and is_glob_pattern("[x]")
    assert not is_glob_pattern("plain.txt") and not is_glob_pattern(r"\*.txt")
    assert split_braces("a.{x,y}") == ["a.x", "a.y"]
    assert glob_match("*.rs", ".hidden.rs")
    assert glob_match("*/sub/*", "./sub/f")
    assert glob_match("*.RS", "a.rs", ignore_case=True)
    assert not glob_match("*.RS", "a.rs")
