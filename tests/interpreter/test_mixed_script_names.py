"""W007: a variable name spelled in two scripts warns at every place a name is
written, and still binds; names in one writing system stay quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from kaish_kernel.lang.scripts import mixed_script
from tests.interpreter.test_execute import run_all

CYRILLIC_A = "\u0410"
PATH_LOOKALIKE = f"P{CYRILLIC_A}TH"  # reads as PATH, is not PATH


def run(tmp_path: Path, script: str) -> tuple[int, str, str]:
    result, out, err = run_all(tmp_path, script)[0]
    return result.code, out, err


@pytest.mark.parametrize(
    "name",
    ["v", "_x", "x1", "café", "cafe\u0301", "名前", "Ω", "переменная", "😁", "x😁", "変数x", "abcあ", "한글x"],
)
def test_one_writing_system_is_not_mixed(name: str) -> None:
    assert mixed_script(name) is None


def test_the_finding_names_the_character_its_script_and_the_plain_reading() -> None:
    found = mixed_script(PATH_LOOKALIKE)
    assert found is not None
    assert (found.char, found.script, found.other_script, found.reads_as) == (
        CYRILLIC_A,
        "Latin",
        "Cyrillic",
        "PATH",
    )
    # the character that stands out is blamed, even when it comes first
    first = mixed_script(f"{CYRILLIC_A}bc")
    assert first is not None and first.char == CYRILLIC_A and first.script == "Latin"
    # no ASCII reading when a letter has no ASCII twin
    greek = mixed_script("Ωmega")
    assert greek is not None and greek.other_script == "Greek" and greek.reads_as == ""


def test_an_assignment_warns_on_stderr_and_still_binds(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, f"{PATH_LOOKALIKE}=hi; echo ${{{PATH_LOOKALIKE}}}")
    assert (code, out) == (0, "hi\n")
    assert "[warning W007]" in err and "U+0410" in err and "Cyrillic" in err
    assert "`PATH`" in err
    assert err.count("W007") == 1


def test_the_warning_comes_before_any_output_and_points_at_the_name(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, f"echo first\nfor {PATH_LOOKALIKE} in x y; do echo ${PATH_LOOKALIKE}; done")
    assert (code, out) == (0, "first\nx\ny\n")
    assert err.startswith("2:1 [warning W007]: ")
    assert f"  | for {PATH_LOOKALIKE} in x y" in err


def test_a_syntax_error_reports_the_error_alone(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, f'{PATH_LOOKALIKE}=1; echo "open')
    assert code == 1 and "W007" not in err


@pytest.mark.parametrize(
    "script",
    [
        f"export {PATH_LOOKALIKE}=/bin",
        f"export {PATH_LOOKALIKE}",
        f"local {PATH_LOOKALIKE}=1",
        f"{PATH_LOOKALIKE}=1 true",
        f"unset {PATH_LOOKALIKE}",
        f"echo line | read {PATH_LOOKALIKE}",
        f"xs=[a]; push {PATH_LOOKALIKE} b",
        f"seq 1 2 | scatter --as {PATH_LOOKALIKE} | echo hi | gather",
        f"env {PATH_LOOKALIKE}=x true",
        f"env -u {PATH_LOOKALIKE} true",
        f"env '{PATH_LOOKALIKE}=/bin' true",
        # as kaish: an unquoted NAME=value after env's command is judged too
        f"env FOO=1 echo {PATH_LOOKALIKE}=2",
        f"f() {{ {PATH_LOOKALIKE}=1; }}",
        f"echo $({PATH_LOOKALIKE}=1)",
    ],
)
def test_every_place_a_name_is_written_warns(tmp_path: Path, script: str) -> None:
    _, _, err = run(tmp_path, script)
    assert "W007" in err and "U+0410" in err


@pytest.mark.parametrize(
    "script",
    [
        "café=ok",
        "名前=ok",
        "переменная=ok",
        "変数x=ok",
        "export café=ok",
        "for 名前 in a; do echo hi; done",
        "env café=ok true",
        "env -u café true",
        "unset café",
        "xs=[a]; push xs b",
        "echo v | read v",
        # a name known only when the script runs has no spelling to judge
        f"n={PATH_LOOKALIKE}; unset $n",
        f"n={PATH_LOOKALIKE}; echo v | read $n",
        f"n={PATH_LOOKALIKE}; seq 1 2 | scatter --as $n | echo hi | gather",
        # a quoted word after env's command is that command's argument
        f"env FOO=1 echo '{PATH_LOOKALIKE}=2'",
    ],
)
def test_names_in_one_writing_system_and_runtime_names_are_quiet(
    tmp_path: Path, script: str
) -> None:
    _, _, err = run(tmp_path, script)
    assert "W007" not in err


def test_a_sourced_file_warns_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "lib.kai").write_text(f"{PATH_LOOKALIKE}=1\n")
    code, _, err = run(tmp_path, "source lib.kai; echo done")
    assert code == 0
    assert err.startswith("source: lib.kai: 1:1 [warning W007]")
