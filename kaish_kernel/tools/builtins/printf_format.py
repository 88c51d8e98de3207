"""The printf format engine, shared by `printf` and awk's `sprintf`.

    "%-8s|%+05d\\n"  ──parse──►  literal "", spec(-,8,s), literal "|", spec(+,0,5,d), escape \\n
           args  ─────────────►  each spec takes the next argument (missing → "", 0, 0.0)

`format_once` runs the format a single time (awk). `format_cycling` is POSIX
printf: the format is reused until every argument is consumed; a format
without conversions prints once. `\\c` (in the format, or inside a `%b`
argument) stops all output at once.

Rules worth knowing, all as in GNU printf:
- flags `-` `0` `+` space `#`; `+` beats space, `-` beats `0`; an integer
  precision (`%.3d`) pads digits with zeros and switches the `0` flag off;
- `%#x` of 0 stays `0`; `%#o` adds one leading zero;
- `%e`/`%E` always show a signed two-digit exponent; `%g`/`%G` trim zeros;
- `%s` precision counts characters and width counts display columns, so
  wide (CJK, emoji) and combining characters line up;
- `\\0NN` takes at most two more octal digits (`\\0101` is BS then `1`),
  bare `\\NNN` takes three.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from kaish_kernel.values import Value, display, to_json

__all__ = [
    "display_width",
    "format_cycling",
    "format_once",
    "interpret_escapes",
]

_OCTAL = "01234567"
_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "e": "\x1b",
    '"': '"',
}
_CONVERSIONS = frozenset("sdiufgGeExXocb")
_MASK64 = (1 << 64) - 1


def display_width(text: str) -> int:
    """Terminal columns: wide/fullwidth characters count 2, combining marks 0."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


# -- argument conversions --------------------------------------------------


def _as_string(value: Value) -> str:
    if value is None:
        return ""  # kaish's printf prints null as nothing (echo shows `null`)
    if isinstance(value, list | dict):
        return to_json(value)
    return display(value)


def _as_int(value: Value) -> int:
    if value is True or value is False:
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            as_float = float(text)
        except ValueError:
            return 0
        return int(as_float) if math.isfinite(as_float) else 0
    return 0


def _as_float(value: Value) -> float:
    if value is True or value is False:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return 0.0
    return 0.0


def _as_char(value: Value) -> str | None:
    if isinstance(value, str):
        return value[0] if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return chr(value)
        except (ValueError, OverflowError):
            return None
    return None


# -- escapes -----------------------------------------------------------------


def _escape_at(text: str, i: int) -> tuple[str, int]:
    """Decode the escape whose backslash is at `text[i]`; return (output, next index)."""
    n = len(text)
    if i + 1 >= n:
        return "\\", i + 1
    ch = text[i + 1]
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch], i + 2
    if ch == "0":
        j = i + 2
        while j < n and j < i + 4 and text[j] in _OCTAL:
            j += 1
        return chr(int(text[i + 2 : j], 8) if j > i + 2 else 0), j
    if ch in _OCTAL:
        j = i + 1
        while j < n and j < i + 4 and text[j] in _OCTAL:
            j += 1
        return chr(int(text[i + 1 : j], 8)), j
    if ch in "xuU":
        limit = {"x": 2, "u": 4, "U": 8}[ch]
        j = i + 2
        while j < n and j < i + 2 + limit and text[j] in "0123456789abcdefABCDEF":
            j += 1
        if j == i + 2:
            return "\\" + ch, i + 2
        try:
            return chr(int(text[i + 2 : j], 16)), j
        except (ValueError, OverflowError):
            return "\\" + text[i + 1 : j], j
    return "\\" + ch, i + 2


def interpret_escapes(text: str) -> tuple[str, bool]:
    """Backslash escapes as `%b` reads them; the flag is True when `\\c` stopped output."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch != "\\":
            j = text.find("\\", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
            continue
        if i + 1 < n and text[i + 1] == "c":
            return "".join(out), True
        piece, i = _escape_at(text, i)
        out.append(piece)
    return "".join(out), False


# -- specifiers --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spec:
    left: bool = False
    zero: bool = False
    plus: bool = False
    space: bool = False
    alt: bool = False
    width: int = 0
    precision: int | None = None
    conversion: str = "s"


def _parse_spec(fmt: str, i: int) -> tuple[_Spec | None, int]:
    """Parse after a `%` at `fmt[i-1]`; None means `%%` (or a lone trailing `%`)."""
    n = len(fmt)
    if i >= n:
        return None, i
    if fmt[i] == "%":
        return None, i + 1
    flags = {"-": False, "0": False, "+": False, " ": False, "#": False}
    while i < n and fmt[i] in flags:
        flags[fmt[i]] = True
        i += 1
    start = i
    while i < n and fmt[i].isdigit():
        i += 1
    width = int(fmt[start:i]) if i > start else 0
    precision: int | None = None
    if i < n and fmt[i] == ".":
        i += 1
        start = i
        while i < n and fmt[i].isdigit():
            i += 1
        precision = int(fmt[start:i]) if i > start else 0
    conversion = fmt[i] if i < n else ""
    if conversion:
        i += 1
    spec = _Spec(
        left=flags["-"],
        zero=flags["0"],
        plus=flags["+"],
        space=flags[" "],
        alt=flags["#"],
        width=width,
        precision=precision,
        conversion=conversion,
    )
    return spec, i


def _signed(spec: _Spec, negative: bool, body: str) -> str:
    if negative:
        return "-" + body
    if spec.plus:
        return "+" + body
    if spec.space:
        return " " + body
    return body


def _pad_number(spec: _Spec, text: str, *, zero_allowed: bool = True) -> str:
    room = spec.width - len(text)
    if room <= 0:
        return text
    if spec.left:
        return text + " " * room
    if spec.zero and zero_allowed:
        sign = text[0] if text[:1] in ("-", "+", " ") else ""
        return sign + "0" * room + text[len(sign) :]
    return " " * room + text


def _pad_text(spec: _Spec, text: str) -> str:
    room = spec.width - display_width(text)
    if room <= 0:
        return text
    if spec.left:
        return text + " " * room
    return ("0" if spec.zero else " ") * room + text


def _format_int(spec: _Spec, value: int) -> str:
    conv = spec.conversion
    negative = False
    if conv in "di":
        negative = value < 0
        digits = str(abs(value))
    elif conv == "u":
        digits = str(value & _MASK64)
    elif conv == "o":
        digits = format(value & _MASK64, "o")
    else:
        digits = format(value & _MASK64, "x" if conv == "x" else "X")
    if spec.precision is not None and spec.precision > len(digits):
        digits = "0" * (spec.precision - len(digits)) + digits
    prefix = ""
    if spec.alt and value != 0:
        if conv == "x":
            prefix = "0x"
        elif conv == "X":
            prefix = "0X"
        elif conv == "o" and not digits.startswith("0"):
            prefix = "0"
    # `+` and space only sign the signed conversions, as in GNU printf
    text = _signed(spec, negative, digits) if conv in "di" else prefix + digits
    return _pad_number(spec, text, zero_allowed=spec.precision is None)


def _non_finite(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "inf" if value > 0 else "-inf"


def _scientific(value: float, digits: int, upper: bool) -> str:
    text = format(value, f".{digits}e")
    mantissa, _, exponent = text.partition("e")
    sign = "-" if exponent.startswith("-") else "+"
    text = f"{mantissa}e{sign}{int(exponent.lstrip('+-')):02d}"
    return text.upper() if upper else text


def _general(value: float, precision: int, upper: bool) -> str:
    """`%g`: significant digits; scientific when the exponent is < -4 or >= precision."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    if exponent < -4 or exponent >= precision:
        text = _scientific(value, max(precision - 1, 0), upper)
        e_char = "E" if upper else "e"
        mantissa, _, tail = text.partition(e_char)
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}{e_char}{tail}"
    text = format(value, f".{max(precision - 1 - exponent, 0)}f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _format_float(spec: _Spec, value: float) -> str:
    conv = spec.conversion
    if not math.isfinite(value):
        body = _non_finite(value)
        negative = body.startswith("-")
        return _pad_number(spec, _signed(spec, negative, body.lstrip("-")), zero_allowed=False)
    precision = 6 if spec.precision is None else spec.precision
    if conv == "f":
        text = format(value, f".{precision}f")
    elif conv in "eE":
        text = _scientific(value, precision, conv == "E")
    else:
        text = _general(value, max(precision, 1), conv == "G")
    negative = text.startswith("-") or (value == 0 and math.copysign(1.0, value) < 0)
    return _pad_number(spec, _signed(spec, negative, text.lstrip("-")))


def _apply(spec: _Spec, arg: Value, has_arg: bool, out: list[str]) -> bool:
    """Render one conversion into `out`; True when a `%b` argument hit `\\c`."""
    conv = spec.conversion
    if conv == "s":
        text = _as_string(arg) if has_arg else ""
        if spec.precision is not None:
            text = text[: spec.precision]
        out.append(_pad_text(spec, text))
    elif conv == "b":
        text, stop = interpret_escapes(_as_string(arg) if has_arg else "")
        out.append(_pad_text(spec, text))
        return stop
    elif conv == "c":
        ch = _as_char(arg) if has_arg else None
        if ch is not None:
            out.append(_pad_text(spec, ch))
    elif conv in "diuxXo":
        out.append(_format_int(spec, _as_int(arg) if has_arg else 0))
    elif conv in "feEgG":
        out.append(_format_float(spec, _as_float(arg) if has_arg else 0.0))
    else:
        out.append("%" + conv)
    return False


def _one_pass(fmt: str, args: Sequence[Value], out: list[str]) -> tuple[int, bool]:
    """Format once; return (conversions applied, stop-everything)."""
    used = 0
    i = 0
    n = len(fmt)
    while i < n:
        ch = fmt[i]
        if ch == "%":
            spec, i = _parse_spec(fmt, i + 1)
            if spec is None:
                out.append("%")
                continue
            if not spec.conversion:
                out.append("%")  # a lone `%` at the very end is printed as is
                continue
            has_arg = used < len(args)
            stop = _apply(spec, args[used] if has_arg else None, has_arg, out)
            used += 1
            if stop:
                return used, True
        elif ch == "\\":
            if i + 1 < n and fmt[i + 1] == "c":
                return used, True
            piece, i = _escape_at(fmt, i)
            out.append(piece)
        else:
            j = i + 1
            while j < n and fmt[j] not in "%\\":
                j += 1
            out.append(fmt[i:j])
            i = j
    return used, False


def format_once(fmt: str, args: Sequence[Value]) -> str:
    """One pass over the format; missing arguments default (awk's sprintf)."""
    out: list[str] = []
    _one_pass(fmt, args, out)
    return "".join(out)


def format_cycling(fmt: str, args: Sequence[Value]) -> str:
    """POSIX printf: reuse the format until all arguments are used."""
    out: list[str] = []
    per_pass, stop = _one_pass(fmt, args, out)
    start = per_pass
    while not stop and per_pass and start < len(args):
        _, stop = _one_pass(fmt, args[start : start + per_pass], out)
        start += per_pass
    return "".join(out)
