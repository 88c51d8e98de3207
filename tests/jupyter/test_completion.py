"""Completion and inspection against a real Shell (no kernel needed)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from kaish_kernel.jupyter.completion import complete, context_at, inspect
from kaish_kernel.shell import Shell


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / ".hidden").write_text("x")
    sh = Shell(cwd=str(tmp_path), env={"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")})

    async def setup() -> None:
        await sh.execute(
            "GREETING=hi; GREEN=1; greet() { echo hi; }; alias ll='ls -l'",
            stdout=lambda b: None,
            stderr=lambda b: None,
        )

    asyncio.run(setup())
    return sh


def matches(shell: Shell, code: str, pos: int | None = None) -> list[str]:
    reply = complete(shell, code, len(code) if pos is None else pos)
    assert reply["status"] == "ok"
    assert reply["cursor_end"] == (len(code) if pos is None else pos)
    return reply["matches"]


def test_command_position_offers_builtins_functions_aliases_keywords(shell: Shell) -> None:
    assert "echo" in matches(shell, "ec")
    assert matches(shell, "gre") == ["greet", "grep"]
    assert matches(shell, "l") == sorted(set(matches(shell, "l"))) and "ll" in matches(shell, "l")
    assert "then" in matches(shell, "if true; th")
    assert "grep" in matches(shell, "echo x | gr")
    assert "echo" in matches(shell, "X=1 ec")


def test_variables_after_a_dollar(shell: Shell) -> None:
    assert matches(shell, "echo $GRE") == ["$GREEN", "$GREETING"]
    assert matches(shell, 'echo "x ${GREET') == ["${GREETING}"]
    reply = complete(shell, "echo $GRE", 9)
    assert reply["cursor_start"] == 5


def test_flags_come_from_the_tool_schema(shell: Shell) -> None:
    assert matches(shell, "grep --ignore") == ["--ignore-case"]
    assert "--help" in matches(shell, "grep --")
    assert "-i" in matches(shell, "grep -")
    assert "--json" in matches(shell, "ls --j")


def test_paths_through_the_vfs(shell: Shell) -> None:
    assert matches(shell, "cat no") == ["notebooks/", "notes.txt"]
    assert matches(shell, "cat .h") == [".hidden"]
    assert ".hidden" not in matches(shell, "cat ")
    assert matches(shell, "ls /v/j") == ["/v/jobs/"]
    assert matches(shell, "./no") == ["./notebooks/", "./notes.txt"]


def test_job_ids_after_a_percent(shell: Shell) -> None:
    async def start_job() -> list[str]:
        await shell.execute("sleep 5 &", stdout=lambda b: None, stderr=lambda b: None)
        try:
            return matches(shell, "wait %")
        finally:
            await shell.close()

    assert asyncio.run(start_job()) == ["%1"]


def test_no_completion_inside_a_comment(shell: Shell) -> None:
    assert context_at("echo hi # ec", 12) is None
    assert matches(shell, "echo hi # ec") == []


def test_completion_is_offset_in_code_points(shell: Shell) -> None:
    code = "echo 'é'; ec"
    reply = complete(shell, code, len(code))
    assert reply["cursor_start"] == len(code) - 2


def test_inspect_shows_tool_help_variables_and_functions(shell: Shell) -> None:
    reply = inspect(shell, "grep -i x", 2)
    assert reply["found"] and "grep" in reply["data"]["text/plain"]
    assert "--ignore-case" in reply["data"]["text/plain"]
    on_flag = inspect(shell, "grep -i x", 6)
    assert on_flag["found"] and "grep" in on_flag["data"]["text/plain"]
    var = inspect(shell, "echo $GREETING", 8)
    assert var["found"] and "hi" in var["data"]["text/plain"]
    assert "function" in inspect(shell, "greet", 2)["data"]["text/plain"]
    assert "alias" in inspect(shell, "ll", 1)["data"]["text/plain"]
    assert inspect(shell, "nosuchthing", 3)["found"] is False
