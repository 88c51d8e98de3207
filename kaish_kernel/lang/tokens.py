"""Token kinds and the Token record the lexer hands to the parser.

A token is a kind, the exact source text it covers and its span. Whether two
word parts belong to one word is decided by adjacency (`a.span.end ==
b.span.start`), so tokens carry no "preceded by space" flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kaish_kernel.lang.span import Span

__all__ = ["Token", "TokenKind"]


class TokenKind(StrEnum):
    """Every kind a lexer rule can produce, across all modes."""

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


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    span: Span

    @property
    def start(self) -> int:
        return self.span.start

    @property
    def end(self) -> int:
        return self.span.end

    def is_op(self, *texts: str) -> bool:
        """True for an operator token spelled as one of `texts`."""
        return self.kind is TokenKind.OP and self.text in texts

    def __repr__(self) -> str:
        return f"Token({self.kind.value}, {self.text!r}, {self.span.start}:{self.span.end})"
