"""Token kinds and the Token record the lexer hands to the parser.

A token is a kind, the exact source text it covers and its span. Whether two
word parts belong to one word is decided by adjacency (`a.span.end ==
b.span.start`), so tokens carry no "preceded by space" flag.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from kaish_kernel.lang.span import Span

__all__ = ["Token", "TokenKind"]


class TokenKind(StrEnum):
    """Every kind a lexer rule can produce, across all modes."""

    # Members are singletons: identity hashing keeps set lookups in C.
    __hash__ = object.__hash__

    EOF = "EOF"
    # --- layout ---
    WS = "WS"
    LINE_CONT = "LINE_CONT"
    NEWLINE = "NEWLINE"
    COMMENT = "COMMENT"
    # --- operators (text says which) ---
    OP = "OP"
    # --- word parts, command modes ---
    LIT = "LIT"  # a run of bareword characters
    RAW_BARE = "RAW_BARE"  # `+%s`, `-%`, `---`, `%1`: taken verbatim
    BANG = "BANG"
    LBRACKET = "LBRACKET"
    RBRACKET = "RBRACKET"
    LBRACE = "LBRACE"
    RBRACE = "RBRACE"
    COMMA = "COMMA"
    COLON = "COLON"
    SQ = "SQ"  # a whole single-quoted string, quotes included
    DQ_START = "DQ_START"
    # --- expansions (any interpolating mode) ---
    ARITH_START = "ARITH_START"  # $((
    CMDSUB_START = "CMDSUB_START"  # $(
    VARSUB_START = "VARSUB_START"  # ${
    VAR = "VAR"  # $name
    SPECIAL = "SPECIAL"  # $? $$ $# $@ $0-$9
    # --- inside double quotes, here-doc bodies and ${X:-default} words ---
    DQ_END = "DQ_END"
    TEXT = "TEXT"  # literal text
    ESCAPE = "ESCAPE"  # a backslash escape; the parser decodes it
    DOLLAR = "DOLLAR"  # a `$` that starts nothing
    BACKSLASH = "BACKSLASH"  # a `\` that escapes nothing
    VD_END = "VD_END"  # `}` closing a default word
    # --- arithmetic ---
    NUMBER = "NUMBER"
    NAME = "NAME"
    # --- errors the parser reports with a tailored message ---
    SQ_OPEN = "SQ_OPEN"  # a `'` with no closing quote
    BAD_DOLLAR = "BAD_DOLLAR"
    BACKTICK = "BACKTICK"
    UNKNOWN = "UNKNOWN"


class Token(NamedTuple):
    """A token: its kind, exact source text and `[start, end)` offsets.

    A tuple rather than a dataclass because the lexer makes one per token and
    tuples are built in C; `span` gives the Span the syntax tree wants.
    """

    kind: TokenKind
    text: str
    start: int
    end: int

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def is_op(self, *texts: str) -> bool:
        """True for an operator token spelled as one of `texts`."""
        return self.kind is TokenKind.OP and self.text in texts

    def __repr__(self) -> str:
        return f"Token({self.kind.value}, {self.text!r}, {self.start}:{self.end})"
