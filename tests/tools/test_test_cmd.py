"""The `test` builtin: exit 0 true, 1 false, 2 for a wrong expression."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaish_kernel.scheduler.stage import EMPTY_INPUT, CaptureOutput
from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins.test_cmd import ConditionError, Test, evaluate
from kaish_kernel.tools.schema import BoundArgs
from tests.tool_harness import ErrorBuffer, FakeShell, run_tool


@pytest.fixture()
def shell(tmp_path: Path) -> FakeShell:
    (tmp_path / "file.txt").write_text("hi\n")
    (tmp_path / "sub").mkdir()
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return FakeShell(cwd_path=str(tmp_path))


CASES = [
    (["-z", ""], 0),
    (["-z", "x"], 1),
    (["-n", ""], 1),
    (["-n", "x"], 0),
    (["x"], 0),
    ([""], 1),
    (["a", "=", "a"], 0),
    (["a", "=", "b"], 1),
    (["a", "==", "a"], 0),
    (["a", "!=", "b"], 0),
    (["a", "!=", "a"], 1),
    (["-n", "=", "-n"], 0),
    (["-o", "=", "-o"], 0),
    ([5, "-eq", 5], 0),
    ([5, "-eq", 3], 1),
    ([5, "-ne", 3], 0),
    ([3, "-gt", 5], 1),
    ([5, "-ge", 5], 0),
    ([4, "-le", 5], 0),
    (["08", "-eq", "8"], 0),
    ([0, "-gt", -5], 0),
    ([-5, "-lt", 0], 0),
    ([1.5, "-gt", 1], 0),
    ([1.0, "-eq", 1], 0),
    ([2.5, "-lt", 2], 1),
    (["abc", "-eq", 5], 2),
    ([True, "-eq", 1], 2),
    (["-e", "file.txt"], 0),
    (["-e", "nope"], 1),
    (["-f", "file.txt"], 0),
    (["-f", "sub"], 1),
    (["-d", "sub"], 0),
    (["-d", "file.txt"], 1),
    (["-r", "file.txt"], 0),
    (["-w", "file.txt"], 0),
    (["-x", "run.sh"], 0),
    (["-x", "file.txt"], 1),
    (["-e", ""], 1),
    (["-f", ""], 1),
    (["-d", ""], 1),
    (["-d", "/"], 0),
    (["-f", "-f"], 1),
    (["!", "-f", "nope"], 0),
    (["!", "-f", "file.txt"], 1),
    (["!", "a", "=", "a"], 1),
    (["!", "-z", "x"], 0),
    (["!", "!", "x"], 0),
    (["!", "!"], 2),
    (["!", "=", "x"], 2),
    ([], 1),
    (["-z"], 2),
    (["a", "b"], 2),
    (["a", "b", "c"], 2),
    (["a", "=", "b", "c"], 2),
    ([[1, 2, 3], "=", "foo"], 2),
    ([[1, 2], "=", [1, 2]], 0),
    ([{"a": 1}, "!=", {"a": 2}], 0),
    ([[1]], 2),
    (["-z", [1]], 2),
    ([[1], "-gt", 0], 2),
    ([1, "=", "1"], 0),
    ([1, "=", 1.0], 0),
    ([True, "=", "true"], 0),
]


@pytest.mark.parametrize(("words", "code"), CASES)
def test_test_exit_codes(shell: FakeShell, words: list[object], code: int) -> None:
    run = run_tool(Test, *words, shell=shell)
    assert run.code == code, run.stderr
    assert run.stdout == b""
    if code == 2:
        assert run.stderr.startswith("test: ") and run.stderr.endswith("\n")
    else:
        assert run.stderr == ""


@pytest.mark.parametrize("word", ["-a", "-o", "(", ")", "-z", "=", "!"])
def test_lone_operator_names_the_missing_operand(word: str) -> None:
    run = run_tool(Test, word)
    assert run.code == 2 and "operand" in run.stderr


@pytest.mark.parametrize(
    "words",
    [
        ["a", "=", "a", "-o", "b", "=", "c"],
        ["a", "=", "a", "-a", "b", "=", "b"],
        ["(", "a", "=", "a", ")"],
        ["-f", "x", "-a", "-f", "y"],
        ["-a", "x"],
        ["x", "-o", "y"],
    ],
)
def test_compound_operators_are_refused_with_a_hint(words: list[str]) -> None:
    run = run_tool(Test, *words)
    assert run.code == 2
    assert "&&" in run.stderr and "||" in run.stderr


def _ctx(shell: FakeShell) -> ToolContext:
    return ToolContext("test", BoundArgs(), EMPTY_INPUT, CaptureOutput(), ErrorBuffer(), shell)


def test_string_equality_is_literal_for_typed_strings(shell: FakeShell) -> None:
    ctx = _ctx(shell)
    assert evaluate(ctx, ["01", "=", 1]) is False
    assert evaluate(ctx, ["01", "-eq", 1]) is True
    assert evaluate(ctx, ["*.txt", "=", "*.txt"]) is True
    assert evaluate(ctx, ["a*", "=", "abc"]) is False
    with pytest.raises(ConditionError):
        evaluate(ctx, ["1_000", "-eq", 1000])


def test_numeric_error_names_the_operand() -> None:
    run = run_tool(Test, "abc", "-eq", 5)
    assert "abc" in run.stderr
