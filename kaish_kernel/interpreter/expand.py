"""Word expansion: from an Expr node to a value, and from args to RawArgs.

kaish never splits words and never pastes them, so one unquoted word is one
value — except a glob (its matches). `$@` is one word too: the arguments
joined by spaces, as kaish has it.

    Literal ──────────────► its value (typed bareword, `~` expanded)
    VarRef / VarDefault ──► the variable, through its bracket path
    Interpolated ─────────► the concatenated text of its parts
    CommandSubst ─────────► the typed value, or the text minus trailing newlines
    Arithmetic ───────────► an int
    GlobWord ─────────────► matching paths (in argument position)
    List/RecordLiteral ───► a list / a record
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.lang import ast
from kaish_kernel.tools.schema import RawArg
from kaish_kernel.values import (
    DynamicKey,
    PathError,
    PathSegment,
    Value,
    ValueError_,
    display,
    get_path,
)

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import IO, Executor

__all__ = [
    "eval_raw_args",
    "eval_string",
    "eval_values",
    "eval_word",
    "resolve_path_value",
    "segments_of",
    "text_of",
]


def text_of(value: Value, what: str = "value") -> str:
    """The text of a value for a place that needs text; binary that is not
    UTF-8 is a kaish error naming the place, never a Python one."""
    try:
        return display(value)
    except ValueError_ as exc:
        raise KaishRuntimeError(f"{what}: {exc}") from None


_text = text_of


async def segments_of(ex: Executor, path: ast.VarPath, io: IO) -> list[PathSegment]:
    """Evaluate a path's subscripts: literal keys, indexes, slices, `[$k]`."""
    out: list[PathSegment] = []
    for seg in path.segments:
        if isinstance(seg, ast.KeySeg):
            out.append(seg.key)
        elif isinstance(seg, ast.IndexSeg):
            out.append(seg.index)
        elif isinstance(seg, ast.SliceSeg):
            out.append(slice(seg.start, seg.end))
        else:
            key = await eval_word(ex, seg.expr, io)
            if isinstance(key, bool) or not isinstance(key, int | str):
                key = _text(key, "subscript")
            out.append(DynamicKey(key))
    return out


async def resolve_path_value(
    ex: Executor, path: ast.VarPath, io: IO
) -> tuple[bool, Value]:
    """(found, value) for a variable path. A bare unset name is (False, None);
    a subscript on an unset root, and every bad access, raises."""
    found, root = ex.session.scope.lookup(path.name)
    if not path.segments:
        return found, root
    if not found:
        raise KaishRuntimeError(f"{path.name}: undefined variable (cannot subscript it)")
    segs = await segments_of(ex, path, io)
    # a dynamic key on a list may be numeric text: `${xs[$i]}`
    try:
        return True, get_path(root, segs, path.name)
    except PathError as exc:
        raise KaishRuntimeError(str(exc)) from None


async def _absent_or_value(ex: Executor, path: ast.VarPath, io: IO) -> tuple[bool, Value]:
    """Like resolve_path_value, but a missing key / index counts as absent."""
    found, root = ex.session.scope.lookup(path.name)
    if not found:
        return False, None
    if not path.segments:
        return True, root
    segs = await segments_of(ex, path, io)
    try:
        return True, get_path(root, segs, path.name)
    except PathError as exc:
        if exc.absent:
            return False, None
        raise KaishRuntimeError(str(exc)) from None


def _special(ex: Executor, name: str) -> Value:
    scope = ex.session.scope
    if name == "?":
        return ex.session.last_status
    if name == "$":
        return ex.session.pid
    if name == "#":
        return len(scope.args)
    if name == "@":
        return " ".join(_text(a) for a in scope.args)
    if name == "0":
        return scope.arg0
    index = int(name)
    args = scope.args
    return args[index - 1] if index <= len(args) else ""


async def eval_word(ex: Executor, expr: ast.Expr, io: IO) -> Value:
    """One expression to one value (globs stay literal text here)."""
    if isinstance(expr, ast.Literal):
        value = expr.value
        if not expr.quoted and isinstance(value, str) and value.startswith("~"):
            return ex.session.expand_tilde(value)
        return value
    if isinstance(expr, ast.VarRef):
        found, value = await resolve_path_value(ex, expr.path, io)
        if not found:
            # loud, as kaish is: a typo must not read as an empty value.
            # Inside double quotes an unset variable is empty (eval_string).
            raise KaishRuntimeError(f"undefined variable: {expr.path.name}")
        return value
    if isinstance(expr, ast.Interpolated):
        return await eval_string(ex, expr, io)
    if isinstance(expr, ast.Special):
        return _special(ex, expr.name)
    if isinstance(expr, ast.CommandSubst):
        return await ex.command_substitution(expr, io)
    if isinstance(expr, ast.Arithmetic):
        from kaish_kernel.interpreter.arith import eval_arith

        return await eval_arith(ex, expr, io)
    if isinstance(expr, ast.VarDefault):
        found, value = await _absent_or_value(ex, expr.path, io)
        if found and value is not None and value != "":
            return value
        return await eval_word(ex, expr.default, io)
    if isinstance(expr, ast.VarLength):
        found, value = await resolve_path_value(ex, expr.path, io)
        if not found:
            return 0
        if isinstance(value, list | dict | str):
            return len(value)
        if isinstance(value, bytes):
            return len(value)
        return len(_text(value))
    if isinstance(expr, ast.GlobWord):
        return expr.pattern
    if isinstance(expr, ast.ListLiteral):
        items: list[Value] = []
        for item in expr.items:
            value = await eval_word(ex, item.value, io)
            if item.spread:
                if not isinstance(value, list):
                    kind = "a record" if isinstance(value, dict) else f"a {type(value).__name__}"
                    raise KaishRuntimeError(
                        f"cannot spread `...`: the value is {kind}, not a list; e.g. `[...$xs date]`"
                    )
                items.extend(value)
            else:
                items.append(value)
        return items
    if isinstance(expr, ast.RecordLiteral):
        record: dict[str, Value] = {}
        for entry in expr.entries:
            key = await eval_word(ex, entry.key, io)
            record[_text(key, "record key")] = await eval_word(ex, entry.value, io)
        return record
    raise KaishRuntimeError(f"cannot evaluate {type(expr).__name__}")


async def eval_string(ex: Executor, expr: ast.Expr, io: IO) -> str:
    """The text of an expression (double-quoted strings concatenate their parts)."""
    if isinstance(expr, ast.Interpolated):
        parts: list[str] = []
        for part in expr.parts:
            if isinstance(part, ast.Literal) and isinstance(part.value, str):
                parts.append(part.value)
            elif isinstance(part, ast.VarRef) and not part.path.segments:
                found, value = ex.session.scope.lookup(part.path.name)
                parts.append(_text(value, "interpolation") if found else "")
            else:
                parts.append(_text(await eval_word(ex, part, io), "interpolation"))
        return "".join(parts)
    return _text(await eval_word(ex, expr, io))


async def eval_values(ex: Executor, expr: ast.Expr, io: IO, *, glob: bool = True) -> list[Value]:
    """An argument's values: usually one; a glob gives its matches."""
    if isinstance(expr, ast.GlobWord) and glob and ex.session.opts.glob:
        return ex.expand_glob(expr.pattern)
    return [await eval_word(ex, expr, io)]


async def eval_raw_args(
    ex: Executor, args: tuple[ast.Arg, ...], io: IO, *, glob: bool = True
) -> list[RawArg]:
    """Evaluate a command's arguments in order, ready for the binder."""
    out: list[RawArg] = []
    for arg in args:
        if isinstance(arg, ast.Positional):
            for value in await eval_values(ex, arg.value, io, glob=glob):
                out.append(RawArg("pos", value))
        elif isinstance(arg, ast.ShortFlag):
            out.append(RawArg("short", name=arg.name))
        elif isinstance(arg, ast.LongFlag):
            out.append(RawArg("long", name=arg.name))
        elif isinstance(arg, ast.NamedArg):
            out.append(RawArg("named", await eval_word(ex, arg.value, io), arg.name))
        elif isinstance(arg, ast.WordAssign):
            out.append(RawArg("assign", await eval_word(ex, arg.value, io), arg.name))
        else:
            out.append(RawArg("dashdash"))
    return out

