"""Pre-run checks that need only the syntax tree (kaish's validator codes).

A script that parses can still be refused before anything runs:

    E008  `break` / `continue` outside a loop
    E009  `return` outside a function (allowed at the top of a sourced file)
    E012  a bare `$var` / `${...}` as a `for` item (kaish never word-splits)
    E014  `scatter` in a pipeline with no `gather` (results would be lost)
    E017  a dotted assignment target: `user.email=x` (brackets: `user[email]`)
    E018  an assignment target holding `#` (`$abc#3` could never read it)
    E020  `test` with `-a` / `-o` / `(` / `)` (compose with `&&` / `||`)
    W007  an assignment or `for` variable spelled in two scripts (a warning)

`validate` walks every node, `$(...)` bodies and function bodies included,
raises the first problem in source order as KaishValidationError, and
returns the warnings it met on the way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kaish_kernel.errors import ErrorCode, KaishValidationError, KaishWarning
from kaish_kernel.lang import ast
from kaish_kernel.lang.scripts import name_warning
from kaish_kernel.values import display

__all__ = ["validate"]

_COMPOUND_OPS = frozenset({"-a", "-o", "(", ")"})
_COMPOUND_HINT = (
    "kaish `test` has no -a/-o/() compound — chain with shell `&&`/`||` or use `[[ ... ]]`"
)


def validate(program: ast.Program, *, file_body: bool = False) -> list[KaishWarning]:
    """Raise KaishValidationError for the first E008/E009/E012/E014/E017/E018/E020
    problem; return the W007 warnings, in source order. `file_body` marks a
    sourced file or a `.kai` script, where a top-level `return` ends the file."""
    source = program.source
    warnings: list[KaishWarning] = []
    if "break" in source or "continue" in source or "return" in source:
        _check_control(program, allow_return=file_body)
    for node in _walk(program):
        if isinstance(node, ast.For):
            _check_for(program, node)
            _warn_name(warnings, source, node.var, node.span.start)
        elif isinstance(node, ast.Assignment):
            _check_target(program, node)
            _warn_name(warnings, source, node.name, node.span.start)
        elif isinstance(node, ast.Pipeline):
            _check_scatter(program, node)
        elif isinstance(node, ast.Command) and node.name == "test":
            _check_test(program, node)
    return warnings


def _warn_name(warnings: list[KaishWarning], source: str, name: str, offset: int) -> None:
    if not name.isascii():
        found = name_warning(name, source, offset)
        if found is not None:
            warnings.append(found)


# Leaves hold no nodes; listing them keeps the walk off their fields.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {
    cls: ()
    for cls in (
        ast.Literal, ast.Special, ast.GlobWord, ast.ArithNumber, ast.ArithName, ast.KeySeg,
        ast.IndexSeg, ast.SliceSeg, ast.ShortFlag, ast.LongFlag, ast.DoubleDash,
    )
}


def _child_fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class that may hold nodes (spans never do)."""
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        names = tuple(n for n in getattr(cls, "__dataclass_fields__", {}) if n != "span")
        _CHILD_FIELDS[cls] = names
    return names


def _walk(node: Any) -> Iterator[Any]:
    """Every syntax node under `node`, parents before children, in field order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children: list[Any] = []
        for name in _child_fields(type(current)):
            value = getattr(current, name)
            if type(value) is tuple:
                children.extend(v for v in value if hasattr(v, "__dataclass_fields__"))
            elif hasattr(value, "__dataclass_fields__"):
                children.append(value)
        children.reverse()
        stack.extend(children)


def _check_control(program: ast.Program, *, allow_return: bool) -> None:
    """E008/E009: loop and function statements need their loop or function.
    A function body does not reset the loop depth (kaish's validator does not)."""
    stack: list[tuple[Any, int, int]] = [(program, 0, 1 if allow_return else 0)]
    while stack:
        node, loops, functions = stack.pop()
        if isinstance(node, ast.Break | ast.Continue) and loops == 0:
            word = "break" if isinstance(node, ast.Break) else "continue"
            _fail(program, f"{word} used outside of a loop", ErrorCode.BREAK_OUTSIDE_LOOP,
                  node.span.start, "break and continue end a for or while loop")
        if isinstance(node, ast.Return) and functions == 0:
            _fail(program, "return used outside of a function", ErrorCode.RETURN_OUTSIDE_FUNCTION,
                  node.span.start, "use `exit N` to end the script")
        if isinstance(node, ast.For | ast.While):
            loops += 1
        elif isinstance(node, ast.FunctionDef):
            functions += 1
        children: list[Any] = []
        for name in _child_fields(type(node)):
            value = getattr(node, name)
            if type(value) is tuple:
                children.extend(v for v in value if hasattr(v, "__dataclass_fields__"))
            elif hasattr(value, "__dataclass_fields__"):
                children.append(value)
        stack.extend((child, loops, functions) for child in reversed(children))


def _fail(program: ast.Program, message: str, code: str, offset: int, hint: str) -> None:
    raise KaishValidationError(message, source=program.source, offset=offset, code=code, hint=hint)


def _check_for(program: ast.Program, loop: ast.For) -> None:
    for item in loop.items:
        if isinstance(item, ast.VarRef | ast.VarDefault):
            _fail(
                program,
                "bare variable in for loop iterates once (kaish has no implicit word splitting)",
                ErrorCode.FOR_BARE_VAR,
                item.span.start,
                "wrap it in $(...): for x in $(values $coll), for k in $(keys $coll), "
                'for w in $(split "$VAR"), for i in $(seq 1 10)',
            )


def _check_target(program: ast.Program, assign: ast.Assignment) -> None:
    if assign.path:
        return
    name = assign.name
    if "." in name:
        root, rest = name.split(".", 1)
        _fail(
            program,
            f"'{name}' is not a valid assignment target — kaish uses bracket access, not dots",
            ErrorCode.DOTTED_TARGET,
            assign.span.start,
            f"use `{root}[{rest}]=value`",
        )
    if "#" in name:
        _fail(
            program,
            f"'{name}' is not a valid assignment target — a variable name cannot contain `#`",
            ErrorCode.HASH_NAME,
            assign.span.start,
            f"drop the `#`, e.g. `{name.replace('#', '_')}=value`",
        )


def _check_scatter(program: ast.Program, pipe: ast.Pipeline) -> None:
    names = [s.name for s in pipe.stages if isinstance(s, ast.Command)]
    if "scatter" in names and "gather" not in names:
        _fail(
            program,
            "scatter without gather — parallel results would be lost",
            ErrorCode.SCATTER_NO_GATHER,
            pipe.span.start,
            "add gather: ... | scatter | cmd | gather",
        )


def _static_text(expr: ast.Expr) -> str | None:
    if isinstance(expr, ast.Literal):
        return expr.value if isinstance(expr.value, str) else display(expr.value)
    if isinstance(expr, ast.Interpolated):
        pieces = [_static_text(p) if isinstance(p, ast.Literal) else None for p in expr.parts]
        if any(p is None for p in pieces):
            return None
        return "".join(p for p in pieces if p is not None)
    return None


def _argv_words(cmd: ast.Command) -> list[str] | None:
    """The argument words as `test` sees them, or None if any is computed at runtime."""
    words: list[str] = []
    for arg in cmd.args:
        text: str | None
        if isinstance(arg, ast.Positional):
            text = _static_text(arg.value)
        elif isinstance(arg, ast.ShortFlag):
            text = "-" + arg.name
        elif isinstance(arg, ast.LongFlag):
            text = "--" + arg.name
        elif isinstance(arg, ast.DoubleDash):
            text = "--"
        elif isinstance(arg, ast.NamedArg):
            value = _static_text(arg.value)
            text = None if value is None else f"--{arg.name}={value}"
        else:
            value = _static_text(arg.value)
            text = None if value is None else f"{arg.name}={value}"
        if text is None:
            return None
        words.append(text)
    return words


def _check_test(program: ast.Program, cmd: ast.Command) -> None:
    words = _argv_words(cmd)
    if words is None:
        return
    rest = words
    while len(rest) >= 2 and rest[0] == "!":
        rest = rest[1:]
    found: str | None = None
    if len(rest) == 2 and rest[0] in _COMPOUND_OPS:
        found = rest[0]
    elif len(rest) == 3 and rest[1] in _COMPOUND_OPS:
        found = rest[1]
    elif len(rest) > 3:
        found = next((w for w in rest if w in _COMPOUND_OPS), None)
    if found is not None:
        _fail(
            program,
            f"test: '{found}' is not supported — {_COMPOUND_HINT}",
            ErrorCode.TEST_COMPOUND,
            cmd.span.start,
            "test EXPR1 && test EXPR2, or [[ EXPR1 && EXPR2 ]]",
        )
