"""printf: the format engine (data-driven) and the builtin around it."""

from __future__ import annotations

import pytest

from kaish_kernel.tools.builtins.basic import Printf
from kaish_kernel.tools.builtins.printf_format import (
    display_width,
    format_cycling,
    format_once,
    interpret_escapes,
)
from tests.tool_harness import run_tool

# (format, arguments, expected) — GNU printf agrees with every row.
ENGINE = [
    # sign flags
    ("%+d", [5], "+5"),
    ("%+d", [-5], "-5"),
    ("% d", [5], " 5"),
    ("% d", [-5], "-5"),
    ("% +d", [5], "+5"),
    ("%+6d", [5], "    +5"),
    ("%+06d", [5], "+00005"),
    ("%-05d", [42], "42   "),
    ("%-6d|", [42], "42    |"),
    ("%6d", [42], "    42"),
    ("%08d", [42], "00000042"),
    ("%08d", [-42], "-0000042"),
    # alternate form
    ("%#x", [255], "0xff"),
    ("%#X", [255], "0XFF"),
    ("%#o", [8], "010"),
    ("%#x", [0], "0"),
    ("%#o", [0], "0"),
    ("%08x", [255], "000000ff"),
    ("%x", [-1], "ffffffffffffffff"),
    ("%+x", [255], "ff"),
    # integer precision
    ("%.3d", [5], "005"),
    ("%.5d", [0], "00000"),
    ("%.4x", [255], "00ff"),
    ("%05.3d", [5], "  005"),
    ("%.3d", [-5], "-005"),
    ("%u", [5], "5"),
    ("%i", [7], "7"),
    # strings
    ("%.3s", ["abcdef"], "abc"),
    ("%.10s", ["hello"], "hello"),
    ("%10s", ["hi"], "        hi"),
    ("%-10s|", ["hi"], "hi        |"),
    ("%.0s", ["gone"], ""),
    ("%s", [True], "true"),
    ("%s", [3.0], "3"),
    ("%s", [None], ""),
    ("%s", [[1, "a"]], '[1,"a"]'),
    # display width for wide and combining characters
    ("%10s", ["日本語"], "    日本語"),
    ("%-10s", ["日本語"], "日本語    "),
    ("%5s", ["🎉"], "   🎉"),
    ("%5c", ["日"], "   日"),
    ("%.2s", ["日本語"], "日本"),
    ("%010s", ["日本語"], "0000日本語"),
    ("%10.2s", ["日本語"], "      日本"),
    ("%5s", ["\u0301"], "     \u0301"),
    # floats
    ("%.2f", [3.14159], "3.14"),
    ("%10.2f", [3.14], "      3.14"),
    ("%f", [1], "1.000000"),
    ("%+.1f", [2.25], "+2.2"),
    ("%e", [1000], "1.000000e+03"),
    ("%E", [1000], "1.000000E+03"),
    ("%E", [-1000], "-1.000000E+03"),
    ("%.2E", [1000], "1.00E+03"),
    ("%e", [0.00012], "1.200000e-04"),
    ("%g", [1234567], "1.23457e+06"),
    ("%G", [1234567], "1.23457E+06"),
    ("%G", [0.000123], "0.000123"),
    ("%G", [1.0], "1"),
    ("%g", [100000], "100000"),
    ("%g", [0.0001], "0.0001"),
    ("%g", [1e-5], "1e-05"),
    ("%g", [0], "0"),
    ("%.3g", [3.14159], "3.14"),
    # characters
    ("%c", ["hello"], "h"),
    ("%c", [65], "A"),
    ("%c", [""], ""),
    # %b and escapes
    ("%b", ["\\t"], "\t"),
    ("%b", ["hello\\nworld"], "hello\nworld"),
    ("%b", ["\\101"], "A"),
    ("%b", ["hello"], "hello"),
    ("\\0101", [], "\x081"),
    ("\\012", [], "\n"),
    ("\\0377", [], "\x1f7"),
    ("\\101", [], "A"),
    ("\\0", [], "\0"),
    ("a\\tb\\\\c", [], "a\tb\\c"),
    ("\\x41\\u00e9", [], "Aé"),
    ("\\q", [], "\\q"),
    ("trailing\\", [], "trailing\\"),
    ("100%%", [], "100%"),
    ("%", [], "%"),
    ("%z", [1], "%z"),
    ("---", [], "---"),
    # \c stops everything
    ("a\\cb", [], "a"),
    ("%b%s", ["x\\cy", "z"], "x"),
    # argument conversions
    ("%d", ["abc"], "0"),
    ("%d", ["42"], "42"),
    ("%d", [3.9], "3"),
    ("%d", ["3.9"], "3"),
    ("%d", [True], "1"),
    ("%f", ["2.5"], "2.500000"),
]


@pytest.mark.parametrize(("fmt", "args", "expected"), ENGINE)
def test_engine(fmt: str, args: list[object], expected: str) -> None:
    assert format_once(fmt, args) == expected


@pytest.mark.parametrize(
    ("fmt", "args", "expected"),
    [
        ("%s\\n", ["a", "b", "c"], "a\nb\nc\n"),
        ("%s-%s ", ["a", "b", "c", "d"], "a-b c-d "),
        ("%s-%s ", ["a", "b", "c"], "a-b c- "),
        ("hello\\n", ["a", "b"], "hello\n"),
        ("%s is %d", ["Alice", 30], "Alice is 30"),
        ("%s\\n", [], "\n"),
        ("%d|", [], "0|"),
        ("%s\\c%s\\n", ["a", "b", "c"], "a"),
    ],
)
def test_format_is_reused_until_arguments_run_out(fmt: str, args: list[object], expected: str) -> None:
    assert format_cycling(fmt, args) == expected


def test_helpers() -> None:
    assert interpret_escapes("a\\nb\\cc") == ("a\nb", True)
    assert interpret_escapes("plain") == ("plain", False)
    assert display_width("日本語") == 6
    assert display_width("e\u0301") == 1


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["%+d", 5], "+5"),
        (["%+d", "--", -5], "-5"),
        (["% d", "--", -5], "-5"),
        (["%E", "--", -1000], "-1.000000E+03"),
        (["---"], "---"),
        (["--", "---"], "---"),
        (["%s\\n", "line"], "line\n"),
        (["%s %s %s\\n", 42, True, 3.5], "42 true 3.5\n"),
        (["%s,", "a", "b"], "a,b,"),
        (["%s", "-x"], "-x"),
    ],
)
def test_printf_tool(words: list[object], expected: str) -> None:
    run = run_tool(Printf, *words)
    assert (run.code, run.out, run.stderr) == (0, expected, "")


def test_printf_needs_a_format() -> None:
    run = run_tool(Printf)
    assert (run.code, run.stderr) == (1, "printf: missing format argument\n")


def test_printf_refuses_binary_operands() -> None:
    run = run_tool(Printf, "%s", b"\xff")
    assert run.code == 1 and run.stdout == b"" and run.stderr.startswith("printf: ")
