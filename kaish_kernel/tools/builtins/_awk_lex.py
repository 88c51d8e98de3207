"""Tokens of kaish's awk subset.

The lexer is a table of rules (`_RULES`) tried in order at each position,
plus one context decision awk cannot avoid: a `/` starts a regex literal
unless the previous token ends a value (`x / 2` divides, `$0 ~ /x/` and
`/x/ {...}` match). Newlines are tokens (they end statements); a
backslash-newline, blanks and `#` comments are skipped.

    "NR==1 {print $2}" ─► name(NR) == number(1) { print $ number(2) } newline? eof
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["BUILTIN_FUNCTIONS", "KEYWORDS", "AwkSyntaxError", "Token", "tokenize", "unescape"]

KEYWORDS: Final = frozenset(
    "BEGIN END if else while for do break continue next nextfile exit delete"
    " print printf function func return getline in".split()
)

#: Built-in functions: calls to these are resolved by the interpreter.
BUILTIN_FUNCTIONS: Final = frozenset(
    "length substr index split sub gsub match sprintf tolower toupper int sqrt"
    " fflush sin cos atan2 exp log rand srand system close".split()
)

# Operators, longest first so `**=` wins over `**` over `*`.
_OPERATORS: Final = sorted(
    "+= -= *= /= %= ^= **= == <= >= != ++ -- && || >> !~ ** "
    "{ } ( ) [ ] ; , + - * / % ^ ! > < | ? : ~ $ =".split(),
    key=len,
    reverse=True,
)

# Tokens after which a `/` is division rather than the start of a regex.
_VALUE_END: Final = frozenset(("number", "string", "regex", "name", "builtin", ")", "]", "++", "--"))

_RULES: Final = (
    ("skip", re.compile(r"(?:[ \t\r]+|\\\r?\n|#[^\n]*)+")),
    ("newline", re.compile(r"\n")),
    ("number", re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")),
    ("word", re.compile(r"[A-Za-z_][A-Za-z0-9_]*")),
    ("string", re.compile(r'"')),
    ("operator", re.compile("|".join(re.escape(op) for op in _OPERATORS))),
)

_ESCAPES: Final = {
    "n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "/": "/",
    "a": "\a", "b": "\b", "f": "\f", "v": "\v",
}


class AwkSyntaxError(ValueError):
    """A program kaish's awk cannot parse or does not support; `pos` is an offset."""

    def __init__(self, message: str, pos: int | None = None, source: str = "") -> None:
        self.detail = message
        self.pos = pos
        if pos is not None and source:
            line = source.count("\n", 0, pos) + 1
            column = pos - (source.rfind("\n", 0, pos) + 1) + 1
            message = f"{message} (at line {line}, column {column})"
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Token:
    """`kind` is number/string/regex/name/builtin/newline/eof, a keyword or an operator."""

    kind: str
    value: str | float
    pos: int

    def describe(self) -> str:
        if self.kind == "eof":
            return "end of program"
        if self.kind == "newline":
            return "newline"
        if self.kind in ("string", "regex", "number", "name", "builtin"):
            return f"{self.kind} {self.value!r}"
        return repr(self.kind)


def unescape(text: str) -> str:
    """Process awk string escapes (`\\n`, `\\t`, `\\"`, octal `\\101`, ...).

    An unknown escape keeps its backslash, so `"\\."` stays a regex-ready `\\.`.
    """
    if "\\" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\" or i + 1 == n:
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            j = i + 1
            while j < n and j < i + 4 and text[j] in "01234567":
                j += 1
            out.append(chr(int(text[i + 1 : j], 8)))
            i = j
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out)


def tokenize(source: str) -> list[Token]:
    """The whole program as tokens, ending with an `eof` token."""
    tokens: list[Token] = []
    pos, n = 0, len(source)
    while pos < n:
        prev = tokens[-1].kind if tokens else "newline"
        if source[pos] == "/" and prev not in _VALUE_END:
            text, pos_after = _scan_regex(source, pos)
            tokens.append(Token("regex", text, pos))
            pos = pos_after
            continue
        for kind, rule in _RULES:
            m = rule.match(source, pos)
            if m is None:
                continue
            if kind == "skip":
                pass
            elif kind == "number":
                tokens.append(Token("number", float(m.group()), pos))
            elif kind == "word":
                word = m.group()
                if word in KEYWORDS:
                    tokens.append(Token("function" if word == "func" else word, word, pos))
                elif word in BUILTIN_FUNCTIONS:
                    tokens.append(Token("builtin", word, pos))
                else:
                    tokens.append(Token("name", word, pos))
            elif kind == "string":
                text, end = _scan_string(source, pos)
                tokens.append(Token("string", text, pos))
                pos = end
                break
            else:
                tokens.append(Token(kind if kind == "newline" else m.group(), m.group(), pos))
            pos = m.end()
            break
        else:
            raise AwkSyntaxError(f"unexpected character {source[pos]!r}", pos, source)
    tokens.append(Token("eof", "", n))
    return tokens


def _scan_string(source: str, start: int) -> tuple[str, int]:
    """A `"..."` literal starting at `start`: (unescaped text, offset after it)."""
    i, n = start + 1, len(source)
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n:
            i += 2
            continue
        if c == '"':
            return unescape(source[start + 1 : i]), i + 1
        if c == "\n":
            break
        i += 1
    raise AwkSyntaxError("unterminated string", start, source)


def _scan_regex(source: str, start: int) -> tuple[str, int]:
    """A `/.../` literal: `\\/` becomes `/`, other escapes stay for the regex engine;
    a `/` inside a bracket expression does not end it."""
    out: list[str] = []
    i, n = start + 1, len(source)
    in_bracket = False
    while i < n:
        c = source[i]
        if c == "\n":
            break
        if c == "\\" and i + 1 < n:
            nxt = source[i + 1]
            out.append("/" if nxt == "/" else "\\" + nxt)
            i += 2
            continue
        if in_bracket:
            if c == "]":
                in_bracket = False
        elif c == "[":
            in_bracket = True
            out.append("[^" if source.startswith("^", i + 1) else "[")
            i += 2 if source.startswith("^", i + 1) else 1
            if i < n and source[i] == "]":
                out.append("]")
                i += 1
            continue
        elif c == "/":
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise AwkSyntaxError("unterminated regex", start, source)
