"""`test EXPR`: exit 0 when true, 1 when false, 2 when the expression is wrong.

It follows `[[ ]]`, not POSIX arg-count magic:

    test                      → 1 (no expression)
    test WORD                 → 0 if WORD is non-empty; a lone operator is an error
    test [!]... -z|-n|-e|-f|-d|-r|-w|-x OPERAND
    test [!]... LEFT =|==|!=|-eq|-ne|-gt|-lt|-ge|-le RIGHT
    anything longer           → 2

Numbers compare as JSON numbers (`1.5 -gt 1`, `08 -eq 8`); a non-number is an
error, never zero. `=` is literal equality on the typed values. `-a`, `-o`
and parentheses are refused (chain `test ... && test ...` or use `[[ ]]`).
File tests go through the VFS, so `/v/jobs/1` answers like a real path.
The words are read raw, in source order, so `test "$x" = -n` works.
"""

from __future__ import annotations

import math
import re

from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import Param, Schema
from kaish_kernel.values import Value, ValueError_, display, render_float, to_json, type_name

__all__ = ["TOOLS", "Assert", "ConditionError", "Test", "evaluate"]

_UNARY = frozenset({"-z", "-n", "-e", "-f", "-d", "-r", "-w", "-x"})
_BINARY = frozenset({"=", "==", "!=", "-eq", "-ne", "-gt", "-lt", "-ge", "-le"})
_COMPOUND = frozenset({"-a", "-o", "(", ")"})
_HINT = "kaish `test` has no -a/-o/() compound — chain with shell `&&`/`||` or use `[[ ... ]]`"
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)\Z", re.I)


class ConditionError(Exception):
    """A malformed expression or an operand of the wrong shape (exit 2)."""


def _word(value: Value) -> str:
    """How an operand reads when asked whether it is an operator."""
    if isinstance(value, float):
        return render_float(value)
    if isinstance(value, list | dict):
        return to_json(value)
    try:
        return display(value)
    except ValueError_ as exc:
        raise ConditionError(str(exc)) from None


def _collection_kind(value: Value) -> str | None:
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "record"
    return None


def _scalar(op: str, value: Value) -> None:
    kind = _collection_kind(value)
    if kind:
        raise ConditionError(
            f"`{op}` needs a scalar; got a {kind} — use `${{#x}}` for length, "
            "`-list`/`-record` to test shape, or `in` for membership"
        )


def _number(value: Value) -> int | float:
    if isinstance(value, bool) or value is None:
        raise ConditionError(f"expected a numeric operand, got {display(value) or 'null'}")
    if isinstance(value, int | float):
        return value
    text = _word(value).strip()
    if "_" not in text:  # Python's int() would take `1_000`; kaish does not
        try:
            return int(text)
        except ValueError:
            pass
        if _NUMBER.match(text):
            return float(text)
    raise ConditionError(f"expected a numeric operand, got non-numeric string {text!r}")


def _equal(left: Value, right: Value) -> bool:
    lk, rk = _collection_kind(left), _collection_kind(right)
    if lk and rk:
        return to_json(left) == to_json(right)
    if lk or rk:
        kind, other = (lk, right) if lk else (rk, left)
        raise ConditionError(
            f"cannot compare a {kind} to a {type_name(other)} with ==/!= — "
            "test membership with `[[ x in $coll ]]`, or compare structures with `jq`"
        )
    numeric = (int, float)
    if (
        isinstance(left, numeric)
        and isinstance(right, numeric)
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    ):
        return left == right
    if isinstance(left, bytes | bytearray) and isinstance(right, bytes | bytearray):
        return bytes(left) == bytes(right)
    return _word(left) == _word(right)


def _compare(left: Value, op: str, right: Value) -> bool:
    _scalar(op, left)
    _scalar(op, right)
    a, b = _number(left), _number(right)
    if (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        raise ConditionError("NaN comparison")
    return {
        "-eq": a == b,
        "-ne": a != b,
        "-gt": a > b,
        "-lt": a < b,
        "-ge": a >= b,
        "-le": a <= b,
    }[op]


def _file_test(ctx: ToolContext, op: str, path: str) -> bool:
    if not path:
        return False  # the empty path names no file (it would resolve to the cwd)
    try:
        info = ctx.shell.vfs.stat(ctx.shell.resolve_path(path))
    except OSError:
        return False
    mode = info.mode
    if op == "-e":
        return True
    if op == "-f":
        return bool(info.is_file)
    if op == "-d":
        return bool(info.is_dir)
    if op == "-r":
        return mode == 0 or bool(mode & 0o444)
    if op == "-w":
        return mode == 0 or bool(mode & 0o222)
    return bool(mode & 0o111)


def _unary(ctx: ToolContext, op: str, operand: Value) -> bool:
    _scalar(op, operand)
    text = _word(operand)
    if op == "-z":
        return text == ""
    if op == "-n":
        return text != ""
    return _file_test(ctx, op, text)


def evaluate(ctx: ToolContext, operands: list[Value]) -> bool:
    """The truth of a `test` expression; raises ConditionError for exit 2."""
    negate = False
    while len(operands) >= 2 and _word(operands[0]) == "!":
        negate = not negate
        operands = operands[1:]
    return negate ^ _primary(ctx, operands)


def _primary(ctx: ToolContext, operands: list[Value]) -> bool:
    count = len(operands)
    if count == 0:
        return False
    if count == 1:
        kind = _collection_kind(operands[0])
        if kind:
            raise ConditionError(f"operand is a {kind}, not a string; a collection has no truth value")
        word = _word(operands[0])
        if word in _UNARY or word in _BINARY or word in _COMPOUND or word == "!":
            raise ConditionError(f"'{word}' needs an operand")
        return word != ""
    if count == 2:
        op = _word(operands[0])
        if op in _COMPOUND:
            raise ConditionError(f"'{op}' is not supported — {_HINT}")
        if op in _UNARY:
            return _unary(ctx, op, operands[1])
        raise ConditionError(f"expected a unary operator (-f, -z, …) before the operand, found '{op}'")
    if count == 3:
        op = _word(operands[1])
        if op in _COMPOUND:
            raise ConditionError(f"'{op}' is not supported — {_HINT}")
        if op in ("=", "=="):
            return _equal(operands[0], operands[2])
        if op == "!=":
            return not _equal(operands[0], operands[2])
        if op in _BINARY:
            return _compare(operands[0], op, operands[2])
        raise ConditionError(f"expected a binary operator (=, !=, -eq, …) between the operands, found '{op}'")
    for value in operands:
        if not _collection_kind(value) and _word(value) in _COMPOUND:
            raise ConditionError(f"'{_word(value)}' is not supported — {_HINT}")
    raise ConditionError(f"too many arguments — {_HINT}")


class Test(Tool):
    __test__ = False  # a shell builtin, not a pytest class
    schema = Schema(
        name="test",
        summary="Evaluate a condition: exit 0 if true, 1 if false, 2 on error",
        params=(Param("expression", type="any", positional=True, variadic=True, help="The expression, e.g. -f FILE or A -gt B."),),
        usage="test [!] [-z|-n|-e|-f|-d|-r|-w|-x] OPERAND | test [!] LEFT OP RIGHT",
        description=(
            "String tests: -z (empty), -n (not empty), WORD (not empty), A = B, A == B, A != B.\n"
            "Numbers (ints or floats): -eq -ne -gt -lt -ge -le; a non-number is an error.\n"
            "Files (through the VFS): -e exists, -f regular file, -d directory, -r -w -x.\n"
            "A leading ! negates. There is no -a/-o/( ): use `test A && test B` or [[ ]]."
        ),
        examples=(
            ("File exists and is regular", "test -f config.toml"),
            ("String equality", 'test "$mode" = release'),
            ("Numeric comparison", "test $count -gt 0"),
            ("Negation", "test ! -d build"),
            ("Both", "test -f a && test -f b"),
        ),
        raw=True,
        category="test",
    )

    async def run(self, ctx: ToolContext) -> int:
        try:
            return 0 if evaluate(ctx, list(ctx.args.positional)) else 1
        except ConditionError as exc:
            return ctx.error(str(exc), 2)


def _holds(value: Value) -> bool:
    """assert's truth: false, null, 0, 0.0, "", "false", "0", [] , {} and empty
    bytes fail; everything else holds."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value not in ("", "false", "0")
    return len(value) > 0  # list, dict, bytes


class Assert(Tool):
    schema = Schema(
        name="assert",
        summary="Fail (exit 1) unless a value is truthy; for test scripts",
        usage="assert VALUE [MESSAGE]",
        description=(
            "VALUE fails when it is false, null, 0, an empty string, the string \"false\"\n"
            "or \"0\", or an empty list, record or byte string; then MESSAGE (default\n"
            "`assertion failed`) goes to stderr and the status is 1. Otherwise nothing\n"
            "is printed and the status is 0."
        ),
        params=(
            Param("args", type="any", positional=True, variadic=True, metavar="VALUE [MESSAGE]",
                  help="The value that must be truthy, then what to report when it is not"),
        ),
        examples=(("A flag must be set", "assert $ready"),
                  ("With a message", 'assert $count "no files found"')),
        category="test",
    )

    async def run(self, ctx: ToolContext) -> int:
        args = list(ctx.args.positional)
        if not args:
            return ctx.error("missing condition argument")
        if _holds(args[0]):
            return 0
        message = "assertion failed"
        if len(args) > 1 and isinstance(args[1], str | int | float):  # bool is an int
            message = display(args[1])
        return ctx.error(message)


TOOLS = (Test, Assert)
