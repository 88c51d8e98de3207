"""`$(( ))`: integer arithmetic over the parsed Arith tree.

Integers only (floats are truncated, as kaish does); `/` and `%` truncate
toward zero like C and Rust; comparisons give 1 or 0; an unset name is 0;
division by zero and overflow of a 64-bit integer are loud errors.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.lang import ast
from kaish_kernel.values import PathError, Value, get_path

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import IO, Executor

__all__ = ["eval_arith", "to_int"]

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_INTEGER = re.compile(r"[+-]?[0-9]+")  # what kaish accepts as integer text (no spaces, no `_`)


def to_int(value: Value, name: str) -> int:
    """Coerce a value for arithmetic."""
    if value is None:
        return 0
    if value is True or value is False:
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        if _INTEGER.fullmatch(value) is None:
            raise KaishRuntimeError(
                f"arithmetic error: variable '{name}' has non-numeric value: {value!r}"
            )
        return int(value)
    kind = "binary data" if isinstance(value, bytes) else "JSON"
    raise KaishRuntimeError(f"arithmetic error: variable '{name}' is {kind}, not a number")


def _check(value: int, what: str) -> int:
    if not _I64_MIN <= value <= _I64_MAX:
        raise KaishRuntimeError(f"arithmetic error: overflow in {what}")
    return value


def _div(a: int, b: int, op: str) -> int:
    if b == 0:
        what = "division" if op == "/" else "modulo"
        raise KaishRuntimeError(f"arithmetic error: {what} by zero")
    q = abs(a) // abs(b)
    q = q if (a >= 0) == (b >= 0) else -q
    return q if op == "/" else a - b * q


async def eval_arith(ex: Executor, node: ast.Arithmetic, io: IO) -> int:
    return await _eval(ex, node.expr, io)


async def _expansion(ex: Executor, expr: ast.Expr, io: IO) -> int:
    """`$X`, `${X}`, `${c[k]}`, `$1`, `$?` ... inside arithmetic.

    As in kaish, an unset variable or positional parameter counts as 0 here
    (outside arithmetic a bare unset `$X` is an error); an unset root under a
    subscript stays loud.
    """
    from kaish_kernel.interpreter.expand import eval_word, resolve_path_value

    if isinstance(expr, ast.VarRef):
        name = expr.path.name
        if not expr.path.segments:
            found, value = ex.session.scope.lookup(name)
            return to_int(value, name) if found else 0
        if not ex.session.scope.has(name):
            raise KaishRuntimeError(f"arithmetic error: undefined variable in arithmetic: {name}")
        return to_int((await resolve_path_value(ex, expr.path, io))[1], name)
    if isinstance(expr, ast.Special) and expr.name.isdigit() and expr.name != "0":
        args = ex.session.scope.args
        index = int(expr.name)
        if index > len(args):
            return 0
        return to_int(args[index - 1], f"${index}")
    value = await eval_word(ex, expr, io)
    if value == "":
        return 0
    return to_int(value, "expansion")


async def _eval(ex: Executor, node: ast.Arith, io: IO) -> int:
    if isinstance(node, ast.ArithNumber):
        return node.value
    if isinstance(node, ast.ArithName):
        found, value = ex.session.scope.lookup(node.name)
        return to_int(value, node.name) if found else 0
    if isinstance(node, ast.ArithExpand):
        return await _expansion(ex, node.expr, io)
    if isinstance(node, ast.ArithSubscript):
        found, root = ex.session.scope.lookup(node.name)
        if not found:
            raise KaishRuntimeError(f"arithmetic error: undefined variable in arithmetic: {node.name}")
        index = await _eval(ex, node.index, io)
        try:
            value = get_path(root, [index], node.name)
        except PathError as exc:
            raise KaishRuntimeError(f"arithmetic error: {exc}") from None
        return to_int(value, node.name)
    if isinstance(node, ast.ArithUnary):
        operand = await _eval(ex, node.operand, io)
        if node.op == "-":
            return _check(-operand, "negation")
        if node.op == "!":
            return int(operand == 0)
        if node.op == "~":
            return ~operand
        return operand
    if isinstance(node, ast.ArithBinary):
        op = node.op
        left = await _eval(ex, node.left, io)
        if op == "&&":
            return int(bool(left) and bool(await _eval(ex, node.right, io)))
        if op == "||":
            return int(bool(left) or bool(await _eval(ex, node.right, io)))
        right = await _eval(ex, node.right, io)
        if op == "+":
            return _check(left + right, "addition")
        if op == "-":
            return _check(left - right, "subtraction")
        if op == "*":
            return _check(left * right, "multiplication")
        if op in ("/", "%"):
            return _check(_div(left, right, op), "division")
        if op == "**":
            if right < 0:
                raise KaishRuntimeError("arithmetic error: negative exponent")
            return _check(left**right, "exponentiation")
        compare = {
            "==": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }
        if op in compare:
            return int(compare[op])
        bitwise = {"&": left & right, "|": left | right, "^": left ^ right}
        if op in bitwise:
            return bitwise[op]
        if op in ("<<", ">>"):
            return _check(left << right if op == "<<" else left >> right, "shift")
        raise KaishRuntimeError(f"arithmetic error: unknown operator {op}")
    raise KaishRuntimeError(f"arithmetic error: cannot evaluate {type(node).__name__}")
