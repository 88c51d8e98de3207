"""awk values: numbers, strings, numeric strings, and the uninitialized value.

    float      a number (arithmetic results, numeric literals)
    str        a numeric string ("strnum"): text that came from input — $0,
               fields, split() elements, -v values, for-in keys. It compares
               as a number when it looks like one, else as a string
    Str        a string constant ("abc", concatenations, function results):
               always compares as a string
    UNINIT     never assigned: "" as a string, 0 as a number, and numeric in
               comparisons

Input text is by far the most common string, so it is the plain (cheapest)
type: splitting a record wraps nothing. Everything that makes a string
constant wraps it in `Str`.

Comparison: numeric when *both* sides are numeric (number, UNINIT, or a
numeric string that looks like a number), otherwise as strings. So `$1 > 9`
with input `10` is numeric, `$1 > "9"` is a string comparison, and
`"abc" == 0` is false.

Numbers print as integers when integral, otherwise through CONVFMT/OFMT
(`%.6g`); NaN and infinities print as `-nan`, `+inf`, `-inf`.
"""

from __future__ import annotations

import math
import re
from typing import Final

__all__ = [
    "UNINIT",
    "Str",
    "Value",
    "compare",
    "format_number",
    "looks_numeric",
    "numeric_operand",
    "sprintf",
    "strnum_value",
    "to_num",
    "to_str",
    "truthy",
]


class Str(str):
    """A string constant: never numeric in comparisons."""

    __slots__ = ()


class _Uninit:
    """The value of a variable never assigned."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNINIT"


UNINIT: Final = _Uninit()

Value = float | str | _Uninit

_LEADING_NUMBER: Final = re.compile(r"\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)")
_INF: Final = float("inf")


def strnum_value(text: str) -> float | None:
    """The number a numeric string spells, or None when it is not one.

    `float()` does the common case in C; what it accepts beyond awk's
    grammar (inf, nan, `1_000`, non-ASCII digits) is turned away.
    """
    try:
        number = float(text)
    except ValueError:
        return None
    if number - number != 0.0 or not text.isascii() or "_" in text:
        return None
    if "x" in text or "X" in text:
        return None
    return number


def looks_numeric(text: str) -> bool:
    """The whole text (blanks aside) is a decimal number: the strnum test."""
    return strnum_value(text) is not None


def to_num(value: Value) -> float:
    """The numeric value: a string's leading number, or 0 (`"12abc"` is 12)."""
    if type(value) is float:
        return value
    if value is UNINIT:
        return 0.0
    assert isinstance(value, str)
    number = strnum_value(value)
    if number is not None:
        return number
    m = _LEADING_NUMBER.match(value)
    return float(m.group(1)) if m else 0.0


def format_number(number: float, fmt: str = "%.6g") -> str:
    """A number as awk prints it: integral → all digits, else `fmt` (CONVFMT/OFMT)."""
    if number.is_integer():
        return str(int(number))
    if number != number:
        return "-nan"
    if number == _INF:
        return "+inf"
    if number == -_INF:
        return "-inf"
    try:
        return fmt % number
    except (TypeError, ValueError):
        return format(number, ".6g")


def to_str(value: Value, convfmt: str = "%.6g") -> str:
    """The string value (numbers through CONVFMT)."""
    if type(value) is float:
        return format_number(value, convfmt)
    if value is UNINIT:
        return ""
    assert isinstance(value, str)
    return value


def numeric_operand(value: Value) -> float | None:
    """The number a value contributes to a comparison, or None when it compares
    as a string (a string constant, or a numeric string that is not a number)."""
    kind = type(value)
    if kind is float:
        return value  # type: ignore[return-value]
    if kind is str:
        return strnum_value(value)  # type: ignore[arg-type]
    if value is UNINIT:
        return 0.0
    return None


def compare(left: Value, right: Value, convfmt: str = "%.6g") -> int:
    """-1, 0 or 1 under awk's rules (numeric only when both sides are numeric)."""
    a = numeric_operand(left)
    if a is not None:
        b = numeric_operand(right)
        if b is not None:
            return (a > b) - (a < b)
    x, y = to_str(left, convfmt), to_str(right, convfmt)
    return (x > y) - (x < y)


def truthy(value: Value) -> bool:
    """Truth: numbers by value, strings by non-emptiness, numeric strings by number."""
    kind = type(value)
    if kind is float:
        return value != 0.0
    if value is UNINIT:
        return False
    assert isinstance(value, str)
    if kind is str:
        number = strnum_value(value)
        if number is not None:
            return number != 0.0
    return value != ""


# ----------------------------------------------------------------- printf

_SPEC: Final = re.compile(r"%([-+ #0]*)(\*|[0-9]+)?(?:\.(\*|[0-9]*))?([a-zA-Z%])")
_MASK64: Final = (1 << 64) - 1


def _int_of(number: float) -> int | None:
    if math.isfinite(number):
        return int(number)
    return None


def sprintf(fmt: str, args: list[Value], convfmt: str = "%.6g") -> str:
    """C-style formatting of awk values: %d %i %o %x %X %u %c %s %e %E %f %F %g %G %%.

    `*` takes a width or precision from the arguments; missing arguments are
    "" / 0; an unknown conversion is copied through as written.
    """
    out: list[str] = []
    pos = 0
    next_arg = 0

    def take() -> Value:
        nonlocal next_arg
        if next_arg < len(args):
            next_arg += 1
            return args[next_arg - 1]
        return UNINIT

    for m in _SPEC.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width, precision, conv = m.groups()
        if conv == "%":
            out.append("%")
            continue
        if width == "*":
            w = int(to_num(take()))
            if w < 0:
                flags, w = flags + "-", -w
            width = str(w)
        if precision == "*":
            precision = str(max(0, int(to_num(take()))))
        spec = "%" + flags + (width or "") + ("." + precision if precision is not None else "")
        if conv in "di":
            number = to_num(take())
            whole = _int_of(number)
            if whole is None:
                out.append((spec + "s") % format_number(number))
            else:
                out.append((spec + "d") % whole)
        elif conv in "oxXu":
            number = to_num(take())
            whole = _int_of(number)
            if whole is None:
                out.append((spec + "s") % format_number(number))
                continue
            if whole < 0:
                whole &= _MASK64
            if conv == "u":
                out.append((spec + "d") % whole)
            elif conv == "o" and "#" in flags:
                digits = format(whole, "o")
                digits = digits if digits.startswith("0") else "0" + digits
                out.append((spec.replace("#", "") + "s") % digits)
            else:
                out.append((spec + conv) % whole)
        elif conv in "eEfFgG":
            out.append((spec + conv) % to_num(take()))
        elif conv == "c":
            value = take()
            if type(value) is float:
                code = _int_of(value)
                char = chr(code) if code is not None and 0 <= code <= 0x10FFFF else ""
            else:
                char = to_str(value, convfmt)[:1]
            out.append((spec.split(".")[0] + "s") % char)
        elif conv == "s":
            out.append((spec + "s") % to_str(take(), convfmt))
        else:
            out.append(m.group(0))
    out.append(fmt[pos:])
    return "".join(out)
