"""Compound statements: if, for, while, case, `[[ ]]` and function definitions.

    if        := 'if' block 'then' block ( 'elif' block 'then' block )* [ 'else' block ] 'fi'
    for       := 'for' NAME 'in' word+ ( ';' | NEWLINE ) NEWLINE* 'do' block 'done'
    while     := 'while' block 'do' block 'done'
    case      := 'case' word NEWLINE* 'in' branch* 'esac'
    branch    := [ '(' ] pattern ( '|' pattern )* ')' block [ ';;' ]
    funcdef   := NAME '(' ')' NEWLINE* '{' block '}' | 'function' NAME [ '(' ')' ] '{' block '}'
    test      := '[[' or ']]'
    or        := and ( '||' and )*
    and       := unary ( '&&' unary )*
    unary     := '!' unary | '(' or ')' | primary
    primary   := FILE_OP word | UNARY_OP word | word BINARY_OP word
               | word [ 'not' ] 'in' value | word

A `}` closes a function body even without a `;` before it (`f() { echo hi }`),
as in kaish. `[[ ]]` stays on one line; its operands are not globbed.
"""

from __future__ import annotations

import re
from typing import NoReturn

from kaish_kernel.errors import ErrorCode
from kaish_kernel.lang import ast
from kaish_kernel.lang.lexer_def import DIGITS, LETTERS, char_class
from kaish_kernel.lang.names import name_error, normalize
from kaish_kernel.lang.parse_command import CommandParser
from kaish_kernel.lang.parse_word import WORD_START, Ctx, Part
from kaish_kernel.lang.span import Span
from kaish_kernel.lang.tokens import Token, TokenKind

__all__ = ["CompoundParser"]

_FUNC_NAME_RE = re.compile(
    char_class(LETTERS + "_") + char_class(LETTERS + DIGITS + "_.@#-:") + "*\\Z"
)
_FILE_OPS = frozenset({"-e", "-f", "-d", "-r", "-w", "-x"})
_UNARY_OPS = frozenset({"-z", "-n", "-list", "-record"})
_BINARY_OPS = frozenset(
    {"==", "=", "!=", "=~", "!~", "-eq", "-ne", "-gt", "-lt", "-ge", "-le"}
)
_ANGLE_OPS = frozenset({"<", ">", "<=", ">="})


class CompoundParser(CommandParser):
    """The compound forms a pipeline stage or a statement can take."""

    def parse_compound(self, tok: Token) -> ast.Stage | None:
        kw = self.keyword(tok)
        if kw == "if":
            return self._parse_if()
        if kw == "for":
            return self._parse_for()
        if kw == "while":
            return self._parse_while()
        if kw == "case":
            return self._parse_case()
        if tok.kind is TokenKind.LBRACKET:
            nxt = self.peek_after(tok)
            if nxt.kind is TokenKind.LBRACKET and nxt.start == tok.end:
                return self._parse_test()
        return None

    # --- if / while / for ---------------------------------------------------

    def _condition(self, opener: Token, stop: str) -> ast.Block:
        cond = self.parse_block(frozenset({stop}))
        if not cond:
            tok = self.peek()
            if tok.kind is TokenKind.EOF:
                self.expect_keyword(stop, opener)
            self.error(f"`{opener.text}` needs a condition before `{stop}`", tok.start)
        self.expect_keyword(stop, opener)
        return cond

    def _parse_if(self) -> ast.If:
        """if := 'if' block 'then' block ( 'elif' block 'then' block )* [ 'else' block ] 'fi'"""
        if_tok = self.take()
        self.enter(if_tok.start)
        branches: list[ast.IfBranch] = []
        else_body: ast.Block | None = None
        opener = if_tok
        while True:
            cond = self._condition(opener, "then")
            body = self.parse_block(frozenset({"elif", "else", "fi"}))
            branches.append(ast.IfBranch(cond, body, self.span_from(opener.start)))
            kw = self.keyword(self.peek())
            if kw == "elif":
                opener = self.take()
                continue
            if kw == "else":
                self.take()
                else_body = self.parse_block(frozenset({"fi"}))
            self.expect_keyword("fi", if_tok)
            break
        self.leave()
        return ast.If(tuple(branches), else_body, self.span_from(if_tok.start))

    def _parse_while(self) -> ast.While:
        """while := 'while' block 'do' block 'done'"""
        while_tok = self.take()
        self.enter(while_tok.start)
        cond = self._condition(while_tok, "do")
        body = self.parse_block(frozenset({"done"}))
        self.expect_keyword("done", while_tok)
        self.leave()
        return ast.While(cond, body, self.span_from(while_tok.start))

    def _parse_for(self) -> ast.For:
        """for := 'for' NAME 'in' word+ ( ';' | NEWLINE ) NEWLINE* 'do' block 'done'"""
        for_tok = self.take()
        self.enter(for_tok.start)
        var_tok = self.take()
        if var_tok.kind is not TokenKind.LIT:
            self.unexpected(var_tok, "a loop variable name", opener=for_tok)
        bad = name_error(var_tok.text)
        if bad is not None:
            self.error(bad[1], var_tok.start, code=ErrorCode.BAD_NAME)
        in_tok = self.peek()
        if self.keyword(in_tok) != "in":
            self.unexpected(in_tok, "`in`", opener=for_tok)
        self.take()
        items: list[ast.Expr] = []
        while True:
            tok = self.peek()
            if tok.kind is TokenKind.NEWLINE or tok.is_op(";"):
                self.take()
                break
            if tok.kind not in WORD_START:
                self.unexpected(tok, "a `for` item, `;` or a newline", opener=for_tok)
            items.append(self.scalar(self.read_parts(), Ctx.FOR))
        if not items:
            self.error("`for` needs at least one item after `in`", in_tok.start)
        self.skip_newlines()
        self.expect_keyword("do", for_tok)
        body = self.parse_block(frozenset({"done"}))
        self.expect_keyword("done", for_tok)
        self.leave()
        return ast.For(normalize(var_tok.text), tuple(items), body, self.span_from(for_tok.start))

    # --- case ---------------------------------------------------------------

    def _parse_case(self) -> ast.Case:
        """case := 'case' word NEWLINE* 'in' branch* 'esac'"""
        case_tok = self.take()
        self.enter(case_tok.start)
        if self.peek().kind not in WORD_START:
            self.unexpected(self.peek(), "a word to match", opener=case_tok)
        subject = self.scalar(self.read_parts(), Ctx.TEST)
        self.skip_newlines()
        self.expect_keyword("in", case_tok)
        branches: list[ast.CaseBranch] = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if self.keyword(tok) == "esac":
                self.take()
                break
            if tok.kind is TokenKind.EOF:
                self.expect_keyword("esac", case_tok)
            branches.append(self._parse_branch(case_tok))
        self.leave()
        return ast.Case(subject, tuple(branches), self.span_from(case_tok.start))

    def _parse_branch(self, case_tok: Token) -> ast.CaseBranch:
        """branch := [ '(' ] pattern ( '|' pattern )* ')' block [ ';;' ]"""
        start = self.peek().start
        if self.at_op("("):
            self.take()
        patterns = [self._case_pattern(case_tok)]
        while self.at_op("|"):
            self.take()
            patterns.append(self._case_pattern(case_tok))
        close = self.take()
        if not close.is_op(")"):
            self.unexpected(close, "`)` after the case pattern", opener=case_tok)
        body = self.parse_block(frozenset({";;", "esac"}))
        if self.at_op(";;"):
            self.take()
        elif self.peek().kind is TokenKind.EOF:
            self.expect_keyword("esac", case_tok)
        return ast.CaseBranch(tuple(patterns), body, self.span_from(start))

    def _case_pattern(self, case_tok: Token) -> ast.Expr:
        parts = self.read_parts(brace_start=True)
        if not parts:
            self.unexpected(self.peek(), "a case pattern", opener=case_tok)
        return self.scalar(parts, Ctx.PATTERN)

    # --- functions ----------------------------------------------------------

    def try_posix_function(self) -> ast.FunctionDef | None:
        """funcdef := NAME '(' ')' NEWLINE* '{' block '}'  (None if not one)"""
        tok = self.peek()
        if tok.kind is not TokenKind.LIT:
            return None
        lparen = self.peek_after(tok)
        if not lparen.is_op("(") or not _FUNC_NAME_RE.match(tok.text):
            return None
        rparen = self.peek_after(lparen)
        if not rparen.is_op(")"):
            return None
        self.take()
        self.take()
        self.take()
        return self._function_body(tok, tok.text)

    def parse_function_keyword(self) -> ast.FunctionDef:
        """'function' NAME [ '(' ')' ] NEWLINE* '{' block '}'"""
        kw_tok = self.take()
        name_tok = self.take()
        if name_tok.kind is not TokenKind.LIT or not _FUNC_NAME_RE.match(name_tok.text):
            self.unexpected(name_tok, "a function name", opener=kw_tok)
        if self.at_op("("):
            self.take()
            close = self.take()
            if not close.is_op(")"):
                self.unexpected(close, "`)`", opener=kw_tok)
        return self._function_body(kw_tok, name_tok.text)

    def _function_body(self, start_tok: Token, name: str) -> ast.FunctionDef:
        self.skip_newlines()
        brace = self.take()
        if brace.kind is not TokenKind.LBRACE:
            self.unexpected(brace, f"`{{` to open the body of `{name}`", opener=start_tok)
        self.enter(brace.start)
        body = self.parse_block(frozenset({"}"}))
        close = self.take()
        if close.kind is not TokenKind.RBRACE:
            if close.kind is TokenKind.EOF:
                self.error(
                    f"unexpected end of input: function `{name}` needs a closing `}}`",
                    brace.start,
                    code=ErrorCode.UNCLOSED_BLOCK,
                    incomplete=True,
                )
            self.unexpected(close, "`}`")
        self.leave()
        span = Span(start_tok.start, close.end)
        return ast.FunctionDef(name, body, self.source[span.start : span.end], span)

    # --- [[ ]] ---------------------------------------------------------------

    def _parse_test(self) -> ast.TestStmt:
        """test := '[[' or ']]'"""
        open_tok = self.take()
        self.take()
        self.enter(open_tok.start)
        self._test_open = open_tok
        expr = self._test_or()
        close = self.peek()
        if close.kind is TokenKind.RBRACKET:
            nxt = self.peek_after(close)
            if nxt.kind is TokenKind.RBRACKET and nxt.start == close.end:
                self.take()
                self.take()
                self.leave()
                return ast.TestStmt(expr, Span(open_tok.start, nxt.end))
        self._test_unexpected(close, "`]]`")

    def _test_unexpected(self, tok: Token, expected: str) -> NoReturn:
        if tok.kind is TokenKind.NEWLINE:
            self.error(
                "a `[[ ]]` test must close on the line it opens",
                tok.start,
                hint=f"expected {expected} before the end of the line",
            )
        self.unexpected(tok, expected, opener=self._test_open)

    def _test_or(self) -> ast.TestExpr:
        """or := and ( '||' and )*"""
        left = self._test_and()
        while self.at_op("||"):
            self.take()
            right = self._test_and()
            left = ast.TestOr(left, right, left.span.to(right.span))
        return left

    def _test_and(self) -> ast.TestExpr:
        """and := unary ( '&&' unary )*"""
        left = self._test_unary()
        while self.at_op("&&"):
            self.take()
            right = self._test_unary()
            left = ast.TestAnd(left, right, left.span.to(right.span))
        return left

    def _test_unary(self) -> ast.TestExpr:
        """unary := '!' unary | '(' or ')' | primary"""
        tok = self.peek()
        if tok.kind is TokenKind.BANG:
            self.take()
            self.enter(tok.start)
            operand = self._test_unary()
            self.leave()
            return ast.TestNot(operand, tok.span.to(operand.span))
        if tok.is_op("("):
            self.take()
            self.enter(tok.start)
            inner = self._test_or()
            close = self.take()
            if not close.is_op(")"):
                self._test_unexpected(close, "`)`")
            self.leave()
            return inner
        return self._test_primary()

    def _test_word(self, what: str) -> list[Part]:
        parts = self.read_parts(bracket_stops=True)
        if not parts:
            self._test_unexpected(self.peek(), what)
        return parts

    def _operator_word(self, parts: list[Part]) -> str | None:
        if len(parts) == 1 and parts[0].kind is TokenKind.LIT:
            return parts[0].raw
        return None

    def _test_primary(self) -> ast.TestExpr:
        """primary := FILE_OP word | UNARY_OP word | word BINARY_OP word | word ['not'] 'in' value | word"""
        first = self.peek()
        if first.kind is TokenKind.RBRACKET:
            self.error("empty `[[ ]]`: expected a test expression", first.start)
        left = self._test_word("a test expression")
        op_word = self._operator_word(left)
        binary = self._test_binary_op()
        if binary is not None:
            return self._test_binary(left, binary)
        if op_word in _FILE_OPS or op_word in _UNARY_OPS:
            operand_tok = self.peek()
            if operand_tok.kind not in WORD_START or operand_tok.kind is TokenKind.RBRACKET:
                self.error(f"`{op_word}` needs an operand", left[0].span.start)
            operand = self.scalar(self._test_word("an operand"), Ctx.TEST)
            span = left[0].span.to(operand.span)
            if op_word in _FILE_OPS:
                return ast.FileTest(op_word, operand, span)
            return ast.UnaryTest(op_word, operand, span)
        word = self.scalar(left, Ctx.TEST)
        return ast.WordTest(word, word.span)

    def _test_binary_op(self) -> str | None:
        """Consume and return a binary operator if one comes next."""
        tok = self.peek()
        if tok.kind is TokenKind.OP and tok.text in _ANGLE_OPS:
            self.take()
            return tok.text
        if tok.kind is not TokenKind.LIT:
            return None
        nxt = self.peek_after(tok)
        if nxt.start == tok.end and nxt.kind in WORD_START:
            return None  # glued: part of a longer word
        if tok.text in _BINARY_OPS or tok.text == "in":
            self.take()
            return tok.text
        if tok.text == "not" and self.keyword(nxt) == "in":
            self.take()
            self.take()
            return "not in"
        return None

    def _test_binary(self, left_parts: list[Part], op: str) -> ast.TestExpr:
        left = self.scalar(left_parts, Ctx.TEST)
        if op in ("in", "not in"):
            right = self.parse_value(bracket_stops=True)
            if right is None:
                self._test_unexpected(self.peek(), f"a collection after `{op}`")
            return ast.MembershipTest(left, right, op == "not in", left.span.to(right.span))
        right = self.scalar(self._test_word(f"an operand after `{op}`"), Ctx.TEST)
        return ast.CompareTest(op, left, right, left.span.to(right.span))
