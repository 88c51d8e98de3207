"""Arithmetic: the integer expression language inside `$(( ))`.

    arith     := or
    or        := and ( '||' and )*
    and       := compare ( '&&' compare )*
    compare   := sum ( ( '==' | '!=' | '<' | '<=' | '>' | '>=' ) sum )*
    sum       := product ( ( '+' | '-' ) product )*
    product   := unary ( ( '*' | '/' | '%' ) unary )*
    unary     := ( '-' | '+' | '!' ) unary | primary
    primary   := NUMBER | NAME [ '[' arith ']' ] | '(' arith ')' | dollar

Comparisons share one left-associative level below `+`/`-` and yield 1 or
0, as in kaish (`$((5 > 3 > 2))` is `0`). A bare `xs[i]` indexes with the
*variable* i, unlike `${xs[i]}` where a bareword is a literal key.
"""

from __future__ import annotations

import re
from typing import NoReturn

from kaish_kernel.errors import ErrorCode
from kaish_kernel.lang import ast
from kaish_kernel.lang.lexer import Mode
from kaish_kernel.lang.lexer_def import NAME_CHAR, NAME_START
from kaish_kernel.lang.names import normalize
from kaish_kernel.lang.parse_base import ParserBase, describe
from kaish_kernel.lang.span import Span
from kaish_kernel.lang.tokens import Token, TokenKind

__all__ = ["ArithParser"]

_SPACED_REF = re.compile(f"[ \t]+([?$0-9]|{NAME_START}{NAME_CHAR}*)")

_COMPARE = frozenset({"==", "!=", "<", "<=", ">", ">="})
_EXPANSIONS = frozenset(
    {
        TokenKind.VAR,
        TokenKind.SPECIAL,
        TokenKind.VARSUB_START,
        TokenKind.CMDSUB_START,
        TokenKind.ARITH_START,
    }
)


class ArithParser(ParserBase):
    """Recursive descent over ARITH-mode tokens; see the module grammar."""

    _arith_open: Token

    def parse_arith_expansion(self, tok: Token) -> ast.Arithmetic:
        """'$((' arith '))' — the closing `))` is two adjacent `)` at depth zero."""
        outer = getattr(self, "_arith_open", None)
        self._arith_open = tok
        self.enter(tok.start)
        expr = self._arith_or()
        close = self.take(Mode.ARITH)
        if not close.is_op(")"):
            self._arith_unexpected(close, "`))`")
        after = self.source[close.end : close.end + 1]
        if after != ")":
            if close.end >= self.lx.end:
                self._arith_unexpected(self.peek(Mode.ARITH), "`))`")
            self.error(
                "arithmetic expansion must end with `))`",
                close.start,
                code=ErrorCode.BAD_ARITHMETIC,
            )
        self.lx.seek(close.end + 1)
        self.leave()
        if outer is not None:
            self._arith_open = outer
        text = self.source[tok.end : close.start]
        return ast.Arithmetic(expr, text, Span(tok.start, close.end + 1))

    def _arith_unexpected(self, tok: Token, expected: str) -> NoReturn:
        if tok.kind is TokenKind.EOF:
            self.error(
                "unterminated arithmetic expansion, expected closing `))`",
                self._arith_open.start,
                code=ErrorCode.UNTERMINATED_SUBST,
                incomplete=True,
            )
        self.error(
            f"bad arithmetic: unexpected {describe(tok)}; expected {expected}",
            tok.start,
            code=ErrorCode.BAD_ARITHMETIC,
        )

    def _arith_binary(self, left: ast.Arith, op: Token, right: ast.Arith) -> ast.Arith:
        return ast.ArithBinary(op.text, left, right, left.span.to(right.span))

    def _arith_or(self) -> ast.Arith:
        """or := and ( '||' and )*"""
        left = self._arith_and()
        while self.peek(Mode.ARITH).is_op("||"):
            op = self.take(Mode.ARITH)
            left = self._arith_binary(left, op, self._arith_and())
        return left

    def _arith_and(self) -> ast.Arith:
        """and := compare ( '&&' compare )*"""
        left = self._arith_compare()
        while self.peek(Mode.ARITH).is_op("&&"):
            op = self.take(Mode.ARITH)
            left = self._arith_binary(left, op, self._arith_compare())
        return left

    def _arith_compare(self) -> ast.Arith:
        """compare := sum ( ( '==' | '!=' | '<' | '<=' | '>' | '>=' ) sum )*"""
        left = self._arith_sum()
        while True:
            tok = self.peek(Mode.ARITH)
            if tok.kind is not TokenKind.OP or tok.text not in _COMPARE:
                return left
            op = self.take(Mode.ARITH)
            left = self._arith_binary(left, op, self._arith_sum())

    def _arith_sum(self) -> ast.Arith:
        """sum := product ( ( '+' | '-' ) product )*"""
        left = self._arith_product()
        while self.peek(Mode.ARITH).is_op("+", "-"):
            op = self.take(Mode.ARITH)
            left = self._arith_binary(left, op, self._arith_product())
        return left

    def _arith_product(self) -> ast.Arith:
        """product := unary ( ( '*' | '/' | '%' ) unary )*"""
        left = self._arith_unary()
        while self.peek(Mode.ARITH).is_op("*", "/", "%"):
            op = self.take(Mode.ARITH)
            left = self._arith_binary(left, op, self._arith_unary())
        return left

    def _arith_unary(self) -> ast.Arith:
        """unary := ( '-' | '+' | '!' ) unary | primary"""
        tok = self.peek(Mode.ARITH)
        if tok.is_op("-", "+", "!"):
            self.take(Mode.ARITH)
            self.enter(tok.start)
            operand = self._arith_unary()
            self.leave()
            return ast.ArithUnary(tok.text, operand, tok.span.to(operand.span))
        return self._arith_primary()

    def _arith_primary(self) -> ast.Arith:
        """primary := NUMBER | NAME [ '[' arith ']' ] | '(' arith ')' | dollar"""
        tok = self.take(Mode.ARITH)
        kind = tok.kind
        if kind is TokenKind.NUMBER:
            return ast.ArithNumber(int(tok.text), tok.span)
        if kind is TokenKind.NAME:
            nxt = self.peek(Mode.ARITH)
            if nxt.is_op("[") and nxt.start == tok.end:
                self.take(Mode.ARITH)
                self.enter(nxt.start)
                index = self._arith_or()
                close = self.take(Mode.ARITH)
                if not close.is_op("]"):
                    self._arith_unexpected(close, "`]`")
                self.leave()
                return ast.ArithSubscript(normalize(tok.text), index, Span(tok.start, close.end))
            return ast.ArithName(normalize(tok.text), tok.span)
        if tok.is_op("("):
            self.enter(tok.start)
            inner = self._arith_or()
            close = self.take(Mode.ARITH)
            if not close.is_op(")"):
                self._arith_unexpected(close, "`)`")
            self.leave()
            return inner
        if kind in _EXPANSIONS:
            expr = self.parse_dollar(tok)
            return ast.ArithExpand(expr, expr.span)
        if kind is TokenKind.DOLLAR:
            return self._arith_spaced_dollar(tok)
        self._arith_unexpected(tok, "a number, a name or `(`")

    def _arith_spaced_dollar(self, tok: Token) -> ast.Arith:
        """`$ NAME`, `$ ?`, `$ $`, `$ 1`: blanks between the sigil and what it reads."""
        m = _SPACED_REF.match(self.source, tok.end)
        assert m is not None  # the lexer's lookahead guarantees it
        self.lx.seek(m.end())
        span = Span(tok.start, m.end())
        name = m.group(1)
        expr: ast.Expr
        if name in ("?", "$") or name.isdigit():
            expr = ast.Special(name, span)
        else:
            expr = ast.VarRef(ast.VarPath(normalize(name), (), span), span)
        return ast.ArithExpand(expr, span)
