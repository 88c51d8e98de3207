"""The front end's public face: `parse`, `is_complete` and `validate`.

    source ──Lexer──► tokens (on demand, per mode) ──Parser──► ast.Program
                                                              │
                                                 validate ◄───┘  (E012 E014 E017 E018 E020)

`Parser` is assembled from one mixin per sub-language: commands and
compounds (parse_command, parse_compound), words and literals (parse_word),
`$` expansions and strings (parse_expand), arithmetic (parse_arith).
"""

from __future__ import annotations

from kaish_kernel.errors import ErrorCode, KaishSyntaxError
from kaish_kernel.lang import ast
from kaish_kernel.lang.parse_arith import ArithParser
from kaish_kernel.lang.parse_compound import CompoundParser
from kaish_kernel.lang.validate import validate

__all__ = ["Parser", "is_complete", "parse", "validate"]

_OPENERS = ("then", "do", "else", "in", "{", "(", "|", "&&", "||", "\\")


class Parser(CompoundParser, ArithParser):
    """One parse of one source text; use `parse()` rather than this directly."""


def parse(source: str) -> ast.Program:
    """Parse kaish source into a Program.

    Raises KaishSyntaxError, with `incomplete=True` when more lines could
    complete the input (an open quote, `if` without `fi`, a trailing `|`).
    """
    try:
        return Parser(source).parse_program()
    except RecursionError:
        raise KaishSyntaxError(
            "nesting too deep to parse",
            source=source,
            offset=0,
            code=ErrorCode.UNEXPECTED_TOKEN,
        ) from None


def is_complete(source: str) -> tuple[str, str]:
    """("complete" | "incomplete" | "invalid", indent) for a Jupyter is_complete request.

    The indent repeats the last line's, one level deeper after a line that
    opens a block.
    """
    if not source.strip():
        return "complete", ""
    try:
        parse(source)
    except KaishSyntaxError as exc:
        if not exc.incomplete:
            return "invalid", ""
        return "incomplete", _next_indent(source)
    return "complete", ""


def _next_indent(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    indent = last[: len(last) - len(last.lstrip(" \t"))]
    stripped = last.strip()
    if stripped.endswith(_OPENERS) or stripped.startswith(("if ", "while ", "for ", "case ")):
        indent += "    "
    return indent
