"""`[[ ]]`: file, string, shape, comparison, regex and membership tests.

Typed and loud: `==` compares values (a number matches its text, a
collection compared with a scalar is an error), `-eq` and friends compare
numbers (text is parsed, non-numeric text is an error), `=~` takes a Python
regular expression, `in` needs a list or record on the right. `!` binds
tighter than `&&`, which binds tighter than `||`; both short-circuit.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.interpreter.expand import text_of
from kaish_kernel.lang import ast
from kaish_kernel.values import Value, display, is_collection, type_name, values_equal

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import IO, Executor

__all__ = ["eval_test", "numeric_compare", "test_equal"]


def _kind(value: Value) -> str:
    return "list" if isinstance(value, list) else "record"


def _needs_scalar(op: str, value: Value) -> None:
    if is_collection(value):
        raise KaishRuntimeError(
            f"`{op}` needs a scalar; got a {_kind(value)} — use `${{#x}}` for length,"
            " `-list`/`-record` to test shape, or `in` for membership"
        )


def _compare_text(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bytes):
        return f"[binary: {len(value)} bytes]"
    return display(value)


def test_equal(left: Value, right: Value) -> bool:
    """`==`: typed equality; mixed scalars compare by their text."""
    left_coll, right_coll = is_collection(left), is_collection(right)
    if left_coll and right_coll:
        return values_equal(left, right)
    if left_coll or right_coll:
        coll, other = (left, right) if left_coll else (right, left)
        raise KaishRuntimeError(
            f"cannot compare a {_kind(coll)} to a {type_name(other)} with ==/!= — test"
            " membership with `[[ x in $coll ]]`, or compare structures with `jq`"
        )
    if isinstance(left, bytes) or isinstance(right, bytes):
        if isinstance(left, bytes) and isinstance(right, bytes):
            return left == right
        raise KaishRuntimeError("binary data cannot be compared with a text value; decode it first")
    same_kind = (type(left) is type(right)) or (
        isinstance(left, int | float) and isinstance(right, int | float)
        and not isinstance(left, bool) and not isinstance(right, bool)
    )
    if same_kind:
        return values_equal(left, right)
    return _compare_text(left) == _compare_text(right)


def _to_number(value: Value, op: str) -> int | float:
    if isinstance(value, bool) or value is None:
        raise KaishRuntimeError(f"`{op}` needs a numeric operand, got {type_name(value)}")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            raise KaishRuntimeError(
                f"`{op}` needs a numeric operand, got non-numeric string {value!r}"
            ) from None
    raise KaishRuntimeError(f"`{op}` needs a numeric operand, got {type_name(value)}")


def numeric_compare(left: Value, right: Value, op: str) -> bool:
    a, b = _to_number(left, op), _to_number(right, op)
    return {
        "-eq": a == b,
        "-ne": a != b,
        "-gt": a > b,
        "-lt": a < b,
        "-ge": a >= b,
        "-le": a <= b,
    }[op]


def _is_number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _order(left: Value, right: Value, op: str) -> bool:
    if _is_number(left) and _is_number(right):
        a: object = left
        b: object = right
    elif isinstance(left, str) and isinstance(right, str):
        a, b = left, right
    else:
        raise KaishRuntimeError(
            f"`{op}` compares numbers or strings, got {type_name(left)} and {type_name(right)}"
        )
    return {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]  # type: ignore[operator]


def _membership(needle: Value, haystack: Value) -> bool:
    if isinstance(haystack, list):
        for element in haystack:
            if is_collection(element) or is_collection(needle):
                if is_collection(element) and is_collection(needle) and values_equal(needle, element):
                    return True
                continue
            try:
                if test_equal(needle, element):
                    return True
            except KaishRuntimeError:
                continue
        return False
    if isinstance(haystack, dict):
        return text_of(needle, "`in` key") in haystack
    raise KaishRuntimeError(
        f"`in` requires a list or record on the right-hand side, got {type_name(haystack)} —"
        " substring tests use `=~`, glob, or `case`"
    )


async def _operand(ex: Executor, expr: ast.Expr, io: IO) -> Value:
    from kaish_kernel.interpreter.expand import eval_word

    return await eval_word(ex, expr, io)


async def eval_test(ex: Executor, node: ast.TestExpr, io: IO) -> bool:
    if isinstance(node, ast.TestAnd):
        return await eval_test(ex, node.left, io) and await eval_test(ex, node.right, io)
    if isinstance(node, ast.TestOr):
        return await eval_test(ex, node.left, io) or await eval_test(ex, node.right, io)
    if isinstance(node, ast.TestNot):
        return not await eval_test(ex, node.operand, io)
    if isinstance(node, ast.FileTest):
        value = await _operand(ex, node.operand, io)
        if is_collection(value):
            raise KaishRuntimeError(f"`{node.op}` needs a path; got a {_kind(value)}")
        path = text_of(value, "a path")
        if not path:
            return False  # the empty path names no file (it would resolve to the cwd)
        # resolve_path expands `~` against the session HOME, wherever the text came from
        resolved = ex.session.resolve_path(path)
        try:
            info = ex.session.vfs.stat(resolved)
        except OSError:
            return False
        if node.op == "-e":
            return True
        if node.op == "-f":
            return info.is_file
        if node.op == "-d":
            return info.is_dir
        # permission bits (anyone's), as kaish and the `test` builtin read them;
        # an entry without a mode (a virtual one) is readable and writable
        bits = {"-r": 0o444, "-w": 0o222, "-x": 0o111}[node.op]
        return bool(info.mode & bits) if info.mode else node.op != "-x"
    if isinstance(node, ast.UnaryTest):
        value = await _operand(ex, node.operand, io)
        if node.op == "-list":
            return isinstance(value, list)
        if node.op == "-record":
            return isinstance(value, dict)
        _needs_scalar(node.op, value)
        empty = _compare_text(value) == ""  # null is the text `null`, as in kaish
        return empty if node.op == "-z" else not empty
    if isinstance(node, ast.WordTest):
        value = await _operand(ex, node.operand, io)
        return bool(text_of(value)) if not is_collection(value) else True
    if isinstance(node, ast.MembershipTest):
        needle = await _operand(ex, node.left, io)
        haystack = await _operand(ex, node.right, io)
        found = _membership(needle, haystack)
        return not found if node.negated else found
    if isinstance(node, ast.CompareTest):
        left = await _operand(ex, node.left, io)
        right = await _operand(ex, node.right, io)
        op = node.op
        if op in ("==", "="):
            return test_equal(left, right)
        if op == "!=":
            return not test_equal(left, right)
        if op in ("=~", "!~"):
            _needs_scalar(op, left)
            _needs_scalar(op, right)
            # kaish matches text against a text pattern; a number or bool on
            # either side is a type error, not silently its digits
            for side, what in ((left, "string"), (right, "string (regex pattern)")):
                if not isinstance(side, str):
                    raise KaishRuntimeError(
                        f"`{op}`: type error: expected {what}, got {type_name(side)}"
                    )
            try:
                matched = re.search(right, left) is not None
            except re.error as exc:
                raise KaishRuntimeError(f"invalid regex {display(right)!r}: {exc}") from None
            return matched if op == "=~" else not matched
        if op.startswith("-"):
            _needs_scalar(op, left)
            _needs_scalar(op, right)
            return numeric_compare(left, right, op)
        _needs_scalar(op, left)
        _needs_scalar(op, right)
        return _order(left, right, op)
    raise KaishRuntimeError(f"cannot evaluate test {type(node).__name__}")
