"""awk's built-in functions and its field/record splitting rules.

Splitting (FS, and split()'s separator) follows gawk and the reference:

    " "          runs of blanks; leading/trailing blanks ignored
    ""           every character is a field
    one char     that character, literally (after the GNU BRE rewrite, so
                 `\\|` is a literal pipe — never the empty alternation)
    longer       an ERE (with the GNU BRE superset); an invalid one is a
                 loud error naming the separator as written

Each `compile_*` function turns a Call node into a closure over the running
`Machine`; argument counts and lvalue-ness are checked at compile time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from kaish_kernel.tools.builtins._awk_ast import (
    Call,
    Expr,
    Field,
    Index,
    Name,
    Number,
    Regex,
    String,
)
from kaish_kernel.tools.builtins._awk_value import (
    Str,
    Value,
    sprintf,
    to_num,
    to_str,
)
from kaish_kernel.tools.builtins._regex_dialect import (
    RegexDialectError,
    can_match_empty,
    compile_regex,
    dialect_hint,
    iter_matches,
    rewrite_bre_metas,
)

if TYPE_CHECKING:
    from kaish_kernel.tools.builtins._awk_compile import Compiler

__all__ = ["AwkError", "awk_regex", "compile_call", "splitter_for"]

Thunk = Callable[[], Value]

_ARITY: Final[dict[str, tuple[int, int]]] = {
    "length": (0, 1), "substr": (2, 3), "index": (2, 2), "split": (2, 3), "sub": (2, 3),
    "gsub": (2, 3), "match": (2, 2), "sprintf": (1, 1_000), "tolower": (0, 1),
    "toupper": (0, 1), "int": (1, 1), "sqrt": (1, 1), "fflush": (0, 1),
}


class AwkError(Exception):
    """A runtime failure: reported as `awk: message`, exit 1."""


def awk_regex(source: str) -> re.Pattern[str]:
    """Compile an awk ERE (the GNU BRE superset always applies; awk has no -E)."""
    try:
        return compile_regex(source, extended=False, strict_flag=None)
    except RegexDialectError as exc:
        raise AwkError(str(exc)) from None


@lru_cache(maxsize=64)
def splitter_for(separator: str, what: str = "FS") -> Callable[[str], list[str]]:
    """A function splitting text by an awk separator (see the module table)."""
    if separator == " ":
        return str.split
    if separator == "":
        return list
    literal = rewrite_bre_metas(separator)
    if len(literal) == 1:

        def split_literal(text: str) -> list[str]:
            return text.split(literal) if text else []

        return split_literal
    try:
        regex = compile_regex(separator, extended=False, strict_flag=None)
    except RegexDialectError as exc:
        note = f" {dialect_hint(None)}" if exc.rewrote else ""
        raise AwkError(f"invalid {what} regex {json.dumps(separator)}: {exc.detail}{note}") from None

    def split_regex(text: str) -> list[str]:
        if not text:
            return []
        parts: list[str] = []
        last = 0
        for m in regex.finditer(text):
            if m.end() > m.start():
                parts.append(text[last : m.start()])
                last = m.end()
        parts.append(text[last:])
        return parts

    return split_regex


@lru_cache(maxsize=256)
def _template(replacement: str) -> tuple[str | None, ...]:
    """sub/gsub replacement parts: None stands for the matched text (`&`);
    `\\&` is a literal `&`, `\\\\` one backslash, any other `\\c` stays as written."""
    parts: list[str | None] = []
    text: list[str] = []
    i = 0
    while i < len(replacement):
        c = replacement[i]
        if c == "\\" and i + 1 < len(replacement) and replacement[i + 1] in "&\\":
            text.append(replacement[i + 1])
            i += 2
            continue
        if c == "&":
            parts.append("".join(text))
            text.clear()
            parts.append(None)
        else:
            text.append(c)
        i += 1
    parts.append("".join(text))
    return tuple(parts)


@lru_cache(maxsize=256)
def _python_template(replacement: str) -> str:
    """The same replacement as a template for `re.subn` (the C fast path)."""
    return "".join(
        r"\g<0>" if part is None else part.replace("\\", "\\\\") for part in _template(replacement)
    )


def _expand(template: tuple[str | None, ...], matched: str) -> str:
    if len(template) == 1:
        return template[0] or ""
    return "".join(matched if part is None else part for part in template)


def _round(number: float) -> float:
    return math.floor(number + 0.5) if math.isfinite(number) else number


def substr(text: str, start: float, length: float | None) -> str:
    """gawk's substr: positions round, and the window is clipped to the string."""
    if start != start or (length is not None and length != length):
        return ""
    begin = _round(start)
    end = math.inf if length is None else begin + _round(length)
    begin = max(begin, 1.0)
    end = min(end, len(text) + 1.0)
    if end <= begin:
        return ""
    return text[int(begin) - 1 : int(end) - 1]


def compile_call(compiler: Compiler, node: Call) -> Thunk:
    """The closure for a built-in call."""
    name, args = node.name, node.args
    low, high = _ARITY[name]
    if not low <= len(args) <= high:
        expected = str(low) if low == high else f"{low} to {high}" if high < 100 else f"at least {low}"
        raise AwkError(f"{name}() takes {expected} argument(s), got {len(args)}")
    m = compiler.machine
    if name == "length":
        if not args:
            return lambda: float(len(m.record))
        target = args[0]
        if isinstance(target, Name) and target.name in compiler.program.arrays:
            array = m.arrays[target.name]
            return lambda: float(len(array))
        value = compiler.expr(target)
        return lambda: float(len(to_str(value(), m.convfmt)))
    if name == "split":
        return _compile_split(compiler, args)
    thunks = [compiler.expr(a) for a in args]
    if name == "substr":
        text, start = thunks[0], thunks[1]
        if len(thunks) == 2:
            return lambda: Str(substr(to_str(text(), m.convfmt), to_num(start()), None))
        size = thunks[2]
        return lambda: Str(substr(to_str(text(), m.convfmt), to_num(start()), to_num(size())))
    if name == "index":
        hay, needle = thunks
        return lambda: float(to_str(hay(), m.convfmt).find(to_str(needle(), m.convfmt)) + 1)
    if name in ("sub", "gsub"):
        return _compile_substitute(compiler, name == "gsub", args)
    if name == "match":
        return _compile_match(compiler, args)
    if name == "sprintf":
        fmt, rest = thunks[0], thunks[1:]
        return lambda: Str(sprintf(to_str(fmt(), m.convfmt), [t() for t in rest], m.convfmt))
    if name in ("tolower", "toupper"):
        source = thunks[0] if thunks else (lambda: m.record)
        if name == "tolower":
            return lambda: Str(to_str(source(), m.convfmt).lower())
        return lambda: Str(to_str(source(), m.convfmt).upper())
    if name == "int":
        value = thunks[0]
        return lambda: _truncate(to_num(value()))
    if name == "sqrt":
        value = thunks[0]
        return lambda: _sqrt(to_num(value()))
    if name == "fflush":

        def flush() -> Value:
            m.flush()
            return 0.0

        return flush
    raise AwkError(f"unknown function {name}()")


def _truncate(number: float) -> float:
    return float(math.trunc(number)) if math.isfinite(number) else number


def _sqrt(number: float) -> float:
    return math.sqrt(number) if number >= 0 else math.nan


def _regex_argument(compiler: Compiler, node: Expr) -> Callable[[], re.Pattern[str]]:
    """A regex argument: a /literal/ compiles once; any other value at each call."""
    if isinstance(node, Regex):
        regex = awk_regex(node.source)
        return lambda: regex
    value = compiler.expr(node)
    m = compiler.machine
    return lambda: awk_regex(to_str(value(), m.convfmt))


def _compile_split(compiler: Compiler, args: tuple[Expr, ...]) -> Thunk:
    m = compiler.machine
    text = compiler.expr(args[0])
    target = args[1]
    assert isinstance(target, Name)
    array = m.arrays[target.name]
    separator_node = args[2] if len(args) == 3 else None
    if isinstance(separator_node, Regex):
        regex = awk_regex(separator_node.source)

        def by_regex(subject: str) -> list[str]:
            parts, last = [], 0
            for match in regex.finditer(subject):
                if match.end() > match.start():
                    parts.append(subject[last : match.start()])
                    last = match.end()
            parts.append(subject[last:])
            return parts

        def pick() -> Callable[[str], list[str]]:
            return by_regex
    elif separator_node is not None:
        separator = compiler.expr(separator_node)

        def pick() -> Callable[[str], list[str]]:
            return splitter_for(to_str(separator(), m.convfmt), "split() separator")
    else:

        def pick() -> Callable[[str], list[str]]:
            return splitter_for(to_str(m.vars["FS"], m.convfmt))

    def run() -> Value:
        subject = to_str(text(), m.convfmt)
        split = pick()
        array.clear()
        if not subject:
            return 0.0
        parts = split(subject)
        for i, part in enumerate(parts, 1):
            array[str(i)] = part
        return float(len(parts))

    return run


def _compile_substitute(compiler: Compiler, global_: bool, args: tuple[Expr, ...]) -> Thunk:
    """sub/gsub(regex, replacement [, target]); only a changed target is written back."""
    m = compiler.machine
    regex_of = _regex_argument(compiler, args[0])
    replacement = compiler.expr(args[1])
    target_node = args[2] if len(args) == 3 else Field(Number(0.0, 0), 0)
    if not isinstance(target_node, Name | Field | Index):
        raise AwkError("sub/gsub: the third argument must be a variable, field or array element")
    if (
        len(args) == 2
        and global_
        and isinstance(args[0], Regex)
        and isinstance(args[1], String)
        and not can_match_empty(awk_regex(args[0].source))
    ):
        return _compile_record_gsub(compiler, awk_regex(args[0].source), args[1].value)
    read, write = compiler.lvalue(target_node)
    is_field = isinstance(target_node, Field)

    def _untouched(key: object) -> Value:
        """No match: the target stays as it was, but naming a field past NF creates it."""
        if is_field and isinstance(key, int) and key > m.get_nf():
            m.set_field(key, "")
        return 0.0

    def run() -> Value:
        regex = regex_of()
        text = to_str(replacement(), m.convfmt)
        key, current = read()
        subject = to_str(current, m.convfmt)
        if global_ and not can_match_empty(regex):
            result, count = regex.subn(_python_template(text), subject)
            if not count:
                return _untouched(key)
            write(key, result if is_field else Str(result))
            return float(count)
        template = _template(text)
        if global_:
            pieces: list[str] = []
            last = count = 0
            for match in iter_matches(regex, subject):
                pieces.append(subject[last : match.start()])
                pieces.append(_expand(template, match.group()))
                last = match.end()
                count += 1
            if not count:
                return _untouched(key)
            pieces.append(subject[last:])
            result = "".join(pieces)
        else:
            first = regex.search(subject)
            if first is None:
                return _untouched(key)
            count = 1
            result = subject[: first.start()] + _expand(template, first.group()) + subject[first.end() :]
        write(key, result if is_field else Str(result))
        return float(count)

    return run


def _compile_record_gsub(compiler: Compiler, regex: re.Pattern[str], replacement: str) -> Thunk:
    """`gsub(/re/, "text")` on $0, the common case: one C-level `subn` per record."""
    m = compiler.machine
    subn = regex.subn
    template = _python_template(replacement)

    def run() -> Value:
        result, count = subn(template, m.record)
        if count:
            m.set_field(0, result)
        return float(count)

    return run


def _compile_match(compiler: Compiler, args: tuple[Expr, ...]) -> Thunk:
    m = compiler.machine
    subject = compiler.expr(args[0])
    regex_of = _regex_argument(compiler, args[1])

    def run() -> Value:
        text = to_str(subject(), m.convfmt)
        found = regex_of().search(text)
        if found is None:
            m.vars["RSTART"], m.vars["RLENGTH"] = 0.0, -1.0
            return 0.0
        start = float(found.start() + 1)
        m.vars["RSTART"], m.vars["RLENGTH"] = start, float(found.end() - found.start())
        return start

    return run
