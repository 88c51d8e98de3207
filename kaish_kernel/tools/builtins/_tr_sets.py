"""tr's character sets and the compiled transform for one tr invocation.

    "a-z" / "[:digit:]" / "\\n\\101" ──expand_set──► ['a', 'b', ...]   (order kept)
    SET1, SET2, -d -s -c ──TrPlan──► .text(str) -> str         any chunk
                                     .ascii(bytes) -> bytes    pure-ASCII chunks,
                                                               via bytes.translate
                                     .squeeze_*                runs -> one char

Classes are ASCII, as in the reference; escapes are C-style plus \\NNN octal.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable
from typing import Any, Final

__all__ = ["TrPlan", "expand_set", "unescape_set"]

_ESCAPES: Final = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_CLASSES: Final = {  # ASCII, in the order tr maps them ([:alpha:] is a-z then A-Z)
    "alpha": string.ascii_lowercase + string.ascii_uppercase,
    "upper": string.ascii_uppercase,
    "lower": string.ascii_lowercase,
    "digit": string.digits,
    "alnum": string.ascii_lowercase + string.ascii_uppercase + string.digits,
    "space": " \t\n\r\v\f",
    "blank": " \t",
    "punct": string.punctuation,
    "xdigit": "0123456789ABCDEFabcdef",
    "cntrl": "".join(map(chr, range(32))) + "\x7f",
}
_OCTAL: Final = re.compile(r"[0-7]{1,3}")


def unescape_set(spec: str) -> str:
    """C-style escapes in a tr set: \\n \\t \\\\ ..., and \\NNN octal."""
    out: list[str] = []
    i, n = 0, len(spec)
    while i < n:
        c = spec[i]
        if c != "\\" or i + 1 == n:
            out.append(c)
            i += 1
            continue
        nxt = spec[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        m = _OCTAL.match(spec, i + 1)
        if m:
            out.append(chr(int(m.group(), 8)))
            i = m.end()
            continue
        out.append("\\" + nxt)  # unknown escapes stay as written
        i += 2
    return "".join(out)


def expand_set(spec: str) -> list[str]:
    """A tr set as its characters in order: escapes, ranges a-z, classes [:digit:]."""
    text = unescape_set(spec)
    chars: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "[" and text.startswith(":", i + 1):
            end = text.find(":", i + 2)
            name = text[i + 2 : end] if end >= 0 else text[i + 2 :]
            chars.extend(_CLASSES.get(name, ""))
            i = n if end < 0 else end + (2 if text.startswith("]", end + 1) else 1)
            continue
        if i + 1 < n and text[i + 1] == "-":
            if i + 2 < n:
                lo, hi = ord(c), ord(text[i + 2])
                chars.extend(chr(x) for x in range(lo, hi + 1))
                i += 3
            else:
                chars.extend((c, "-"))
                i += 2
            continue
        chars.append(c)
        i += 1
    return chars


def _class_regex(chars: set[str], negate: bool) -> str:
    """A regex class matching one of `chars` (or, negated, anything else)."""
    body = "".join(re.escape(c) for c in sorted(chars))
    if not body:
        return "(?s:.)" if negate else "(?!)"
    return f"[{'^' if negate else ''}{body}]"


class TrPlan:
    """One tr invocation compiled: a str transform plus an ASCII bytes shortcut."""

    def __init__(self, set1: list[str], set2: list[str] | None, delete: bool, squeeze: bool,
                 complement: bool) -> None:
        members = set(set1)
        self.ascii: Callable[[bytes], bytes] | None = None
        self.text: Callable[[str], str]
        squeeze_chars: set[str] | None = None
        squeeze_negate = False
        if delete:
            if complement:
                pattern = re.compile(_class_regex(members, negate=True))
                self.text = functools.partial(pattern.sub, "")
                self.ascii = _bytes_delete(bytes(b for b in range(128) if chr(b) not in members))
            else:
                table: dict[int, str | None] = {ord(c): None for c in members}
                self.text = _str_map(table)
                if all(ord(c) < 128 for c in members):
                    self.ascii = _bytes_delete(bytes(ord(c) for c in members))
        elif set2 is not None:
            if complement:
                fill = set2[-1] if set2 else None
                if fill is None:
                    self.text = _identity
                else:
                    pattern = re.compile(_class_regex(members, negate=True))
                    self.text = functools.partial(pattern.sub, lambda _m: fill)
                    if fill.isascii() and all(ord(c) < 128 for c in members):
                        self.ascii = _bytes_map(
                            bytes(ord(fill) if chr(b) not in members else b for b in range(256))
                        )
                    squeeze_chars = {fill}
            else:
                mapping: dict[int, str] = {}
                for pos, c in enumerate(set1):
                    if ord(c) not in mapping and set2:
                        mapping[ord(c)] = set2[pos] if pos < len(set2) else set2[-1]
                self.text = _str_map(mapping)
                if all(k < 128 and v.isascii() for k, v in mapping.items()):
                    raw = bytearray(range(256))
                    for k, v in mapping.items():
                        raw[k] = ord(v)
                    self.ascii = _bytes_map(bytes(raw))
                squeeze_chars = set(set2)
        else:
            self.text = _identity
            self.ascii = _identity_bytes
            squeeze_chars, squeeze_negate = members, complement
        self.squeeze_text: Callable[[str], str] | None = None
        self.squeeze_bytes: Callable[[bytes], bytes] | None = None
        self.squeezable: Callable[[str], bool] = lambda _c: False
        if squeeze and squeeze_chars is not None:
            chosen, negate = squeeze_chars, squeeze_negate
            self.squeeze_text = _squeezer(chosen, negate)
            self.squeeze_bytes = _squeezer(  # type: ignore[assignment]
                {c.encode() for c in chosen if c.isascii()}, negate
            )
            self.squeezable = lambda c: (c in chosen) != negate


def _squeezer(chars: set[Any], negate: bool) -> Callable[[Any], Any]:
    """Collapse runs of one repeated member of `chars` (str or single bytes).

    A few characters get one literal-replacement regex pass each (fast in C);
    big or negated sets fall back to one pass with a group reference.
    """
    if not negate and len(chars) <= 32:
        passes = []
        for c in chars:
            if isinstance(c, bytes):
                passes.append((re.compile(re.escape(c) + b"{2,}"), c, c.replace(b"\\", b"\\\\")))
            else:
                passes.append((re.compile(re.escape(c) + "{2,}"), c, c.replace("\\", "\\\\")))

        def by_passes(data: Any) -> Any:
            for pattern, c, replacement in passes:
                if c in data:
                    data = pattern.sub(replacement, data)
            return data

        return by_passes
    members = {c.decode() if isinstance(c, bytes) else c for c in chars}
    source = f"({_class_regex(members, negate)})\\1+"
    text_re, bytes_re = re.compile(source), re.compile(source.encode())
    return lambda data: (bytes_re.sub(rb"\1", data) if isinstance(data, bytes)
                         else text_re.sub(r"\1", data))


def _identity(text: str) -> str:
    return text


def _identity_bytes(data: bytes) -> bytes:
    return data


def _str_map(table: dict[int, str | None] | dict[int, str]) -> Callable[[str], str]:
    return lambda text: text.translate(table)


def _bytes_map(table: bytes) -> Callable[[bytes], bytes]:
    return lambda data: data.translate(table)


def _bytes_delete(drop: bytes) -> Callable[[bytes], bytes]:
    return lambda data: data.translate(None, drop)
