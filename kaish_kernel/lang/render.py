"""Rendering syntax back to text: the command string of a job (`jobs`, /v/jobs/N/command).

Words render as written where that is unambiguous (`sleep 0.5`), quoted when
they hold a space or a `"`, variables as `${NAME}`, and anything computed
(`$(...)`, arithmetic) as `...`. Redirects are left out. A compound stage
renders as its source text when the source is known.
"""

from __future__ import annotations

from kaish_kernel.lang import ast
from kaish_kernel.values import display

__all__ = ["render_pipeline", "render_word"]


def _path(path: ast.VarPath) -> str:
    out = path.name
    for seg in path.segments:
        if isinstance(seg, ast.KeySeg):
            out += f"[{seg.key}]"
        elif isinstance(seg, ast.IndexSeg):
            out += f"[{seg.index}]"
        elif isinstance(seg, ast.SliceSeg):
            start = "" if seg.start is None else seg.start
            end = "" if seg.end is None else seg.end
            out += f"[{start}:{end}]"
        else:
            out += "[...]"
    return "${" + out + "}"


def render_word(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Literal):
        text = display(expr.value) if not isinstance(expr.value, str) else expr.value
        if isinstance(expr.value, str) and (" " in text or '"' in text or text == ""):
            return "'" + text.replace("'", "'\\''") + "'"
        return text
    if isinstance(expr, ast.VarRef):
        return _path(expr.path)
    if isinstance(expr, ast.Special):
        return "${" + expr.name + "}"
    if isinstance(expr, ast.Interpolated):
        return '"..."'
    if isinstance(expr, ast.GlobWord):
        return expr.pattern
    return "..."


def _arg(arg: ast.Arg) -> str:
    if isinstance(arg, ast.Positional):
        return render_word(arg.value)
    if isinstance(arg, ast.ShortFlag):
        return f"-{arg.name}"
    if isinstance(arg, ast.LongFlag):
        return f"--{arg.name}"
    if isinstance(arg, ast.NamedArg):
        return f"--{arg.name}={render_word(arg.value)}"
    if isinstance(arg, ast.WordAssign):
        return f"{arg.name}={render_word(arg.value)}"
    return "--"


def _stage(stage: ast.Stage, source: str) -> str:
    if isinstance(stage, ast.Command):
        return " ".join([stage.name, *(_arg(a) for a in stage.args)])
    if source and stage.span.end > stage.span.start:
        return source[stage.span.start : stage.span.end].strip()
    return type(stage).__name__.lower()


def render_pipeline(stmt: ast.Pipeline, source: str = "") -> str:
    return " | ".join(_stage(stage, source) for stage in stmt.stages)
