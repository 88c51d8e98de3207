"""The JSON value model: what a kaish variable, argument or typed output holds.

A kaish value is a plain Python object of one of these types:

    None            null
    bool            true / false        (strict: never confused with 0/1)
    int, float      number              (typeof says "number" for both)
    str             string
    list            list                (elements are values)
    dict[str, ...]  record              (insertion order is kept)
    bytes           bytes               (binary; text only if valid UTF-8)

Values are treated as immutable: a write such as `xs[0]=9` builds a new
container along the path instead of mutating in place, so a session snapshot
(a background job, a scatter worker) can share values with its parent safely.

This module imports nothing from the package.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeAlias

__all__ = [
    "DynamicKey",
    "PathError",
    "PathSegment",
    "Value",
    "ValueError_",
    "coerce_text",
    "display",
    "from_json",
    "get_path",
    "is_collection",
    "parse_number",
    "path_text",
    "render_float",
    "set_path",
    "to_json",
    "truthy",
    "type_name",
    "values_equal",
]

Value: TypeAlias = Any  # None | bool | int | float | str | list | dict | bytes


class ValueError_(Exception):
    """A value could not be used the way it was asked to (shape or encoding)."""


_INT_RE = re.compile(r"-?[0-9]+\Z")
_FLOAT_RE = re.compile(r"-?[0-9]+\.[0-9]+\Z")


def type_name(value: Value) -> str:
    """The `typeof` name: list, record, string, number, bool, null, bytes."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "record"
    if isinstance(value, bytes | bytearray):
        return "bytes"
    raise TypeError(f"not a kaish value: {type(value).__name__}")


def is_collection(value: Value) -> bool:
    return isinstance(value, list | dict)


def render_float(value: float) -> str:
    """A float as kaish prints it: shortest round-trip digits, never an exponent.

    `1.0` prints `1`, `3.14` prints `3.14`, `1e21` prints all its digits.
    Non-finite values print `NaN`, `inf`, `-inf`.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value)
    if "e" in text or "E" in text:
        from decimal import Decimal  # rare; keeps decimal off start-up

        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def display(value: Value) -> str:
    """The text form of a value, as `echo` and string interpolation show it.

    Strings are themselves, null is `null` (as kaish shows it), collections are compact JSON and
    bytes are their UTF-8 text (invalid UTF-8 raises ValueError_: a text sink
    must never replace bytes silently).
    """
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return render_float(value)
    if isinstance(value, list | dict):
        return to_json(value)
    if isinstance(value, bytes | bytearray):
        return coerce_text(bytes(value))
    raise TypeError(f"not a kaish value: {type(value).__name__}")


def coerce_text(data: bytes, what: str = "input") -> str:
    """Decode UTF-8 strictly; binary that is not text is a loud error."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError_(
            f"{what} is binary data ({len(data)} bytes, invalid UTF-8 at byte {exc.start}),"
            " which cannot be used as text; decode it first (base64, xxd)"
        ) from None


class _Encoder(json.JSONEncoder):
    def default(self, o: object) -> object:
        if isinstance(o, bytes | bytearray):
            import base64

            return {
                "_type": "bytes",
                "encoding": "base64",
                "data": base64.b64encode(bytes(o)).decode("ascii"),
                "len": len(o),
            }
        return super().default(o)


def _json_safe(value: Value) -> Value:
    """Non-finite floats become strings: JSON has no NaN, and null would lose it."""
    if isinstance(value, float) and not math.isfinite(value):
        return render_float(value)
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def to_json(value: Value, *, pretty: bool = False) -> str:
    """Serialize: compact (`{"a":1}`) by default, 2-space indent when pretty."""
    try:
        if pretty:
            return json.dumps(value, ensure_ascii=False, indent=2, cls=_Encoder, allow_nan=False)
        return json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), cls=_Encoder, allow_nan=False
        )
    except ValueError:
        return to_json(_json_safe(value), pretty=pretty)


def from_json(text: str) -> Value:
    """Parse exactly one JSON document; trailing data is an error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError_(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def parse_number(text: str) -> int | float | None:
    """An int or float spelled the way a kaish bareword spells one, else None."""
    if _INT_RE.match(text):
        return int(text)
    if _FLOAT_RE.match(text):
        return float(text)
    return None


def truthy(value: Value) -> bool:
    """Truth for a flag value: false, 0, "", "false", "0" and null are off."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value not in ("", "false", "0")
    return True


def values_equal(a: Value, b: Value) -> bool:
    """Typed equality: bools never equal numbers; 1 == 1.0; collections deep."""
    a_bool = a is True or a is False
    b_bool = b is True or b is False
    if a_bool or b_bool:
        return a_bool and b_bool and a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    return bool(a == b)


# ---------------------------------------------------------------------------
# Bracket paths: ${u[tags][0]}, xs[0]=v, push services[web][tags] x
# A path segment is a str (record key), an int (list index, negative from the
# end) or a slice (start/end, end-exclusive).
# ---------------------------------------------------------------------------

PathSegment: TypeAlias = "str | int | slice"


def path_text(name: str, segments: list[PathSegment] | tuple[PathSegment, ...]) -> str:
    """`s[web][9]`: how a path is named in messages."""
    out = name
    for seg in segments:
        if isinstance(seg, slice):
            start = "" if seg.start is None else str(seg.start)
            end = "" if seg.stop is None else str(seg.stop)
            out += f"[{start}:{end}]"
        else:
            out += f"[{seg}]"
    return out


class PathError(ValueError_):
    """A bad access. `absent` marks a missing key / index (a `:-` default applies);
    shape errors are never absent."""

    def __init__(self, message: str, *, absent: bool = False) -> None:
        super().__init__(message)
        self.absent = absent


class DynamicKey(str):
    """A `[$k]` subscript's value, as text: a record key, or a list index when
    it is numeric. A literal `["1"]` stays a plain str and keys records only."""

    __slots__ = ()


def _step(value: Value, seg: PathSegment, where: str) -> Value:
    if isinstance(seg, slice):
        if isinstance(value, list):
            return value[seg]
        if isinstance(value, str):
            return value[seg]
        raise PathError(f"{where}: cannot slice a {type_name(value)}; slices apply to lists and strings")
    if isinstance(value, dict):
        if isinstance(seg, int) and not isinstance(seg, bool):
            quoted = f'{where[: where.rfind("[")]}["{seg}"]'
            raise PathError(
                f"{where}: integer index on a record — record keys are strings; "
                f"for the key \"{seg}\" write ${{{quoted}}}"
            )
        if seg not in value:
            raise PathError(f"{where}: no such key '{seg}'", absent=True)
        return value[seg]
    if isinstance(value, list):
        if not isinstance(seg, int) or isinstance(seg, bool):
            index = parse_number(seg) if isinstance(seg, DynamicKey) else None
            if not isinstance(index, int):
                raise PathError(f"{where}: string key on a list — a list is indexed by integers, not '{seg}'")
            seg = index
        if -len(value) <= seg < len(value):
            return value[seg]
        raise PathError(f"{where}: index {seg} out of bounds (length {len(value)})", absent=True)
    if isinstance(value, str):
        raise PathError(f"{where}: a string is not a collection; it can be sliced ([0:5]) but not indexed")
    raise PathError(f"{where}: a {type_name(value)} is not a collection")


def get_path(root: Value, segments: list[PathSegment] | tuple[PathSegment, ...], name: str) -> Value:
    """Follow a bracket path; every bad access raises PathError naming the path."""
    value = root
    for i, seg in enumerate(segments):
        value = _step(value, seg, path_text(name, segments[: i + 1]))
    return value


def set_path(root: Value, segments: list[PathSegment] | tuple[PathSegment, ...], new: Value, name: str) -> Value:
    """A copy of `root` with the value at the path replaced (no autovivification:
    only the final record key may be created)."""
    if not segments:
        return new
    seg, rest = segments[0], segments[1:]
    if isinstance(seg, slice):
        raise PathError(f"{path_text(name, segments)}: cannot assign to a slice")
    if isinstance(root, dict):
        if isinstance(seg, int) and not isinstance(seg, bool):
            raise PathError(f"{path_text(name, [seg])}: record keys are strings, not an index ({seg})")
        if rest:
            if seg not in root:
                raise PathError(f"{path_text(name, [seg])}: no such key '{seg}' (no autovivification; initialize it first)")
            child = set_path(root[seg], rest, new, path_text(name, [seg]))
        else:
            child = new
        out = dict(root)
        out[str(seg)] = child
        return out
    if isinstance(root, list):
        index = seg if isinstance(seg, int) else parse_number(seg) if isinstance(seg, str) else None
        if not isinstance(index, int) or isinstance(index, bool):
            raise PathError(f"{path_text(name, [seg])}: a list is indexed by integers, not '{seg}'")
        if not -len(root) <= index < len(root):
            raise PathError(f"{path_text(name, [seg])}: index {index} out of bounds (length {len(root)}); use push to grow a list")
        out_list = list(root)
        out_list[index] = set_path(root[index], rest, new, path_text(name, [seg])) if rest else new
        return out_list
    raise PathError(f"{name}: not a collection (a {type_name(root)}); cannot assign {path_text(name, segments)}")
