"""Refusing a script before it runs when a builtin can already tell it is wrong.

A builtin may offer `check(args: BoundArgs) -> str | None` (seq: E004 for a
zero increment; sed: E006 for a script it does not accept; jq: E007 for a
filter that does not compile; diff: E011 for other than two files), its
report starting `error [Exxx]: `.
Where every argument of such a command is literal, the check runs before
anything executes, so `echo before; sed 'h'` prints nothing: a script that
cannot run as written does not run half-way.

A builtin that binds or removes variables named in its arguments (export,
env, read, unset, push, scatter --as) may offer `bound_names(args) -> list
of names as written`; each name spelled in two scripts is a W007 warning,
returned for the shell to print before the script runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kaish_kernel.errors import ErrorCode, KaishValidationError, KaishWarning
from kaish_kernel.lang import ast
from kaish_kernel.lang.scripts import name_warning
from kaish_kernel.tools.registry import ToolRegistry
from kaish_kernel.tools.schema import RawArg, UsageError, bind

__all__ = ["prevalidate"]

# A check's report may start with its code: `error [E004]: seq: ...`.
_CODE_TAG = re.compile(r"error \[(E\d{3})\]: ")


def _blocks(stmt: ast.Stmt) -> Iterator[ast.Block]:
    if isinstance(stmt, ast.If):
        for branch in stmt.branches:
            yield branch.condition
            yield branch.body
        if stmt.else_body is not None:
            yield stmt.else_body
    elif isinstance(stmt, ast.For):
        yield stmt.body
    elif isinstance(stmt, ast.While):
        yield stmt.condition
        yield stmt.body
    elif isinstance(stmt, ast.Case):
        for case_branch in stmt.branches:
            yield case_branch.body
    elif isinstance(stmt, ast.FunctionDef):
        yield stmt.body
    elif isinstance(stmt, ast.AndOr):
        yield (stmt.left, stmt.right)
    elif isinstance(stmt, ast.Pipeline):
        for stage in stmt.stages:
            if not isinstance(stage, ast.Command):
                yield (stage,)


def _commands(block: ast.Block) -> Iterator[ast.Command]:
    for stmt in block:
        if isinstance(stmt, ast.Pipeline):
            for stage in stmt.stages:
                if isinstance(stage, ast.Command):
                    yield stage
        for inner in _blocks(stmt):
            yield from _commands(inner)


def _literal_args(cmd: ast.Command) -> list[RawArg] | None:
    raw: list[RawArg] = []
    for arg in cmd.args:
        if isinstance(arg, ast.Positional):
            if not isinstance(arg.value, ast.Literal):
                return None
            raw.append(RawArg("pos", arg.value.value))
        elif isinstance(arg, ast.ShortFlag):
            raw.append(RawArg("short", name=arg.name))
        elif isinstance(arg, ast.LongFlag):
            raw.append(RawArg("long", name=arg.name))
        elif isinstance(arg, ast.NamedArg):
            if not isinstance(arg.value, ast.Literal):
                return None
            raw.append(RawArg("named", arg.value.value, arg.name))
        elif isinstance(arg, ast.WordAssign):
            if not isinstance(arg.value, ast.Literal):
                return None
            raw.append(RawArg("assign", arg.value.value, arg.name))
        elif isinstance(arg, ast.DoubleDash):
            raw.append(RawArg("dashdash"))
        else:
            return None
    return raw


def prevalidate(
    program: ast.Program, registry: ToolRegistry, functions: set[str]
) -> list[KaishWarning]:
    """Raise KaishValidationError for the first command a builtin refuses;
    return the W007 warnings for names the builtins would bind."""
    defined = set(functions) | {
        s.name for s in program.body if isinstance(s, ast.FunctionDef)
    }
    warnings: list[KaishWarning] = []
    for cmd in _commands(program.body):
        if cmd.name in defined:
            continue
        tool = registry.get(cmd.name)
        if tool is None:
            continue
        check = getattr(tool, "check", None)
        names = getattr(tool, "bound_names", None)
        if check is None and names is None:
            continue
        raw = _literal_args(cmd)
        if raw is None:
            continue
        try:
            bound = bind(tool.schema, raw, cmd.name)
        except (UsageError, ValueError):
            continue
        for name in names(bound) if names is not None else ():
            if not name.isascii():
                found = name_warning(name, program.source, cmd.span.start)
                if found is not None:
                    warnings.append(found)
        message = check(bound) if check is not None else None
        if message:
            text = message.strip()
            tagged = _CODE_TAG.match(text)
            code = tagged.group(1) if tagged else ErrorCode.SED_INVALID
            text = text.removeprefix(f"error [{code}]: ")
            raise KaishValidationError(text, source=program.source, offset=cmd.span.start, code=code)
    return warnings
