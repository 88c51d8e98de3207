"""Scope, Session forks and the small helpers of the executor, in isolation."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.interpreter.executor import _lines
from kaish_kernel.interpreter.scope import Scope, normalize_name, positional_text
from kaish_kernel.interpreter.session import Session
from kaish_kernel.tools.registry import default_registry
from kaish_kernel.vfs.router import VfsRouter


def _session(cwd: Path) -> Session:
    return Session(registry=default_registry(), vfs=VfsRouter(), cwd=str(cwd))


# -- Scope -------------------------------------------------------------------------


def test_set_updates_the_innermost_binding_else_makes_a_global() -> None:
    scope = Scope()
    scope.set("g", 1)
    scope.push_frame("f", [])
    scope.set_local("l", 2)
    scope.set("l", 3)  # the local exists: it is the one updated
    scope.set("new", 4)  # nothing to update: a global
    assert scope.frames[-1].locals == {"l": 3}
    assert scope.globals == {"g": 1, "new": 4}
    scope.pop_frame()
    assert scope.lookup("l") == (False, None)


def test_unset_removes_the_innermost_binding_and_its_export() -> None:
    scope = Scope()
    scope.set("v", "global")
    scope.exported.add("v")
    scope.push_frame("f", [])
    scope.set_local("v", "local")
    scope.unset("v")
    assert scope.get("v") == "global" and "v" in scope.exported
    scope.unset("v")
    assert not scope.has("v") and "v" not in scope.exported


def test_a_snapshot_is_independent_both_ways() -> None:
    scope = Scope()
    scope.set("a", [1, 2])
    scope.push_frame("f", ["x"])
    copy = scope.snapshot()
    copy.set("a", "changed")
    copy.frames[-1].args.append("y")
    scope.set("b", 1)
    assert scope.get("a") == [1, 2] and scope.args == ["x"]
    assert not copy.has("b") and copy.args == ["x", "y"]


def test_positional_parameters_are_text() -> None:
    scope = Scope()
    scope.push_frame("f", [5, True, None, [1, "a"], {"k": 1.5}, "s", b"\xff"])
    assert scope.args == ["5", "true", "null", '[1,"a"]', '{"k":1.5}', "s", b"\xff"]
    assert scope.arg0 == "f"
    assert positional_text(b"ok") == b"ok"


def test_names_are_nfc_normalized() -> None:
    decomposed = unicodedata.normalize("NFD", "café")
    assert decomposed != "café"
    assert normalize_name(decomposed) == "café"
    assert normalize_name("plain") == "plain"


# -- Session ----------------------------------------------------------------------------


def test_a_fork_shares_the_filesystem_and_jobs_but_not_state(tmp_path: Path) -> None:
    session = _session(tmp_path)
    session.scope.set("v", 1)
    session.alias_table["a"] = "echo a"
    fork = session.fork()
    fork.scope.set("v", 2)
    fork.alias_table["b"] = "echo b"
    fork.opts.errexit = True
    assert session.scope.get("v") == 1 and "b" not in session.alias_table
    assert not session.opts.errexit
    assert fork.vfs is session.vfs and fork.registry is session.registry


def test_adopt_takes_the_forks_changes(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    session = _session(tmp_path)
    fork = session.fork()
    fork.scope.set("v", "from-fork")
    fork.chdir("d")
    session.adopt(fork)
    assert session.scope.get("v") == "from-fork"
    assert session.cwd == str(tmp_path / "d")


def test_chdir_tracks_pwd_and_oldpwd_and_refuses_files(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    session = _session(tmp_path)
    session.chdir("d")
    assert session.get_var("PWD") == str(tmp_path / "d")
    assert session.get_var("OLDPWD") == str(tmp_path)
    with pytest.raises(KaishRuntimeError, match="Not a directory"):
        session.chdir(str(tmp_path / "f"))
    with pytest.raises(KaishRuntimeError, match="No such file"):
        session.chdir("missing")
    assert session.cwd == str(tmp_path / "d")


def test_tilde_uses_the_session_home_only(tmp_path: Path) -> None:
    session = _session(tmp_path)
    assert session.expand_tilde("~/x") == "~/x"  # no HOME in this session
    session.scope.set("HOME", "/home/someone")
    assert session.expand_tilde("~") == "/home/someone"
    assert session.expand_tilde("~/x") == "/home/someone/x"
    assert session.expand_tilde("a~b") == "a~b"
    assert session.expand_tilde("~no_such_user_kq/x") == "~no_such_user_kq/x"
    session.scope.set("HOME", 5)  # not text: not a home
    assert session.expand_tilde("~") == "~"


def test_process_env_is_exported_text_only(tmp_path: Path) -> None:
    session = _session(tmp_path)
    session.scope.set("A", 1)
    session.scope.set("N", None)
    session.scope.set("HIDDEN", "x")
    session.scope.exported.update({"A", "N", "GONE"})
    assert session.process_env() == {"A": "1", "N": ""}
    session.scope.set("L", [1])
    session.scope.exported.add("L")
    with pytest.raises(KaishRuntimeError, match="tojson"):
        session.process_env()
    session.scope.set("L", b"\xff\xfe")
    with pytest.raises(KaishRuntimeError, match="binary"):
        session.process_env()


# -- the for-head line splitter --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("a", ["a"]),
        ("a\nb\n", ["a", "b"]),
        ("a\r\n\r\nb", ["a", "", "b"]),
        ("\n\n x \n", ["", "", " x "]),
        ("a\r\r\n\n\r\n", ["a"]),
        ("tab\there\n", ["tab\there"]),
    ],
)
def test_for_head_lines(text: str, lines: list[str]) -> None:
    assert list(_lines(text)) == lines


def test_for_head_lines_are_lazy() -> None:
    first = next(_lines("1\n" * 1_000_000))
    assert first == "1"
