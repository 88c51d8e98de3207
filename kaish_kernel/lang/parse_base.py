"""Shared state and helpers for the parser's sub-language mixins.

The parser is one object assembled from mixins, one per sub-language
(parser.py): commands, words, `$` expansions, arithmetic. They share the
source, the lexer cursor and a nesting guard; this base declares the few
entry points they call across module lines.

Nesting is bounded (MAX_NESTING) so that pathological input such as five
thousand `$(` gets a syntax error instead of exhausting Python's stack.
"""

from __future__ import annotations

from typing import NoReturn

from kaish_kernel.errors import ErrorCode, KaishSyntaxError
from kaish_kernel.lang import ast
from kaish_kernel.lang.lexer import Lexer, Mode
from kaish_kernel.lang.span import Span
from kaish_kernel.lang.tokens import Token, TokenKind

__all__ = ["MAX_NESTING", "ParserBase"]

MAX_NESTING = 64


def describe(tok: Token) -> str:
    """How a token is named in messages."""
    if tok.kind is TokenKind.EOF:
        return "end of input"
    if tok.kind is TokenKind.NEWLINE:
        return "newline"
    text = tok.text if len(tok.text) <= 20 else tok.text[:17] + "..."
    return f"`{text}`"


class ParserBase:
    """State every sub-parser shares; see the module docstring."""

    source: str
    lx: Lexer
    cmd_mode: Mode  # COMMAND, or DQ_COMMAND inside a double-quoted `$( )`
    _depth: int
    _dq_level: int
    _bare_default: int  # inside an unquoted `${X:-...}` default word
    _heredoc_level: int

    def __init__(self, source: str) -> None:
        self.source = source
        self.lx = Lexer(source)
        self.cmd_mode = Mode.COMMAND
        self._depth = 0
        self._dq_level = 0
        self._bare_default = 0
        self._heredoc_level = 0

    # --- errors -------------------------------------------------------

    def error(
        self,
        message: str,
        offset: int,
        *,
        code: str = ErrorCode.UNEXPECTED_TOKEN,
        hint: str = "",
        incomplete: bool = False,
    ) -> NoReturn:
        raise KaishSyntaxError(
            message, source=self.source, offset=offset, code=code, hint=hint, incomplete=incomplete
        )

    def unexpected(self, tok: Token, expected: str = "", *, opener: Token | None = None) -> NoReturn:
        """Report `tok` where something else was needed; at end of input, say so."""
        if tok.kind is TokenKind.EOF:
            what = f"; expected {expected}" if expected else ""
            where = opener.start if opener is not None else tok.start
            self.error(
                f"unexpected end of input{what}",
                where,
                code=ErrorCode.UNCLOSED_BLOCK,
                incomplete=True,
            )
        suffix = f"; expected {expected}" if expected else ""
        self.error(f"unexpected {describe(tok)}{suffix}", tok.start)

    # --- nesting guard ------------------------------------------------

    def enter(self, offset: int) -> None:
        self._depth += 1
        if self._depth > MAX_NESTING:
            self.error(
                f"nesting too deep (more than {MAX_NESTING} levels)",
                offset,
                code=ErrorCode.UNEXPECTED_TOKEN,
                hint="split the script into functions or variables",
            )

    def leave(self) -> None:
        self._depth -= 1

    # --- small token helpers -----------------------------------------

    def peek(self, mode: Mode | None = None) -> Token:
        return self.lx.peek(mode if mode is not None else self.cmd_mode)

    def take(self, mode: Mode | None = None) -> Token:
        return self.lx.next(mode if mode is not None else self.cmd_mode)

    def peek_after(self, tok: Token) -> Token:
        """The command-mode token following `tok` (two-token lookahead)."""
        return self.lx.peek_at(tok.end, self.cmd_mode)

    def at_op(self, *texts: str) -> bool:
        return self.lx.peek(self.cmd_mode).is_op(*texts)

    def skip_newlines(self) -> None:
        while self.lx.peek(self.cmd_mode).kind is TokenKind.NEWLINE:
            self.lx.next(self.cmd_mode)

    def span_from(self, start: int) -> Span:
        """From `start` to the end of the last token consumed."""
        return Span(start, max(start, self.lx.last_end))

    # --- entry points the mixins provide to one another ---------------

    def parse_block(self, stops: frozenset[str]) -> ast.Block:
        raise NotImplementedError

    def parse_dollar(self, tok: Token) -> ast.Expr:
        raise NotImplementedError

    def parse_arith_expansion(self, tok: Token) -> ast.Arithmetic:
        raise NotImplementedError

    def parse_value(self, mode: Mode | None = None, bracket_stops: bool = False) -> ast.Expr | None:
        raise NotImplementedError
