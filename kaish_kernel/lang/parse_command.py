"""Statements, pipelines, simple commands, assignments and redirects.

    block       := ( NEWLINE | item ( ';' | NEWLINE | <after &> ) )*   up to a stop word
    item        := unit ( ( '&&' | '||' ) NEWLINE* unit )*              (left-associative)
    unit        := break | continue | return | exit | local | funcdef
                 | assignment+ [ command ]                             (`A=1 cmd`: env prefix)
                 | [ '!' ] pipeline
    pipeline    := stage ( '|' NEWLINE* stage )* [ '&' ]
    stage       := if | for | while | case | test | command
    command     := word ( word | redirect )*
    assignment  := NAME ( '[' subscript ']' )* '=' value              (`=` may be spaced)
    redirect    := ( '>' | '>>' | '<' | '2>' | '&>' | '<<<' ) word
                 | '2>&1' | '1>&2' | '>&2' | ( '<<' | '<<-' ) DELIMITER

A lone command is a Pipeline of one; a lone compound statement stands by
itself. `&&` and `||` share one precedence and fold left, as in POSIX sh.
"""

from __future__ import annotations

import re

from kaish_kernel.errors import ErrorCode
from kaish_kernel.lang import ast
from kaish_kernel.lang.lexer_def import DIGITS, LETTERS, char_class
from kaish_kernel.lang.names import KEYWORDS, name_error, normalize
from kaish_kernel.lang.parse_base import describe
from kaish_kernel.lang.parse_expand import subscript_segment
from kaish_kernel.lang.parse_word import WORD_START, Ctx, Part, WordParser
from kaish_kernel.lang.span import Span
from kaish_kernel.lang.tokens import Token, TokenKind

__all__ = ["CommandParser"]

_TARGET_START = char_class(LETTERS + "_")
_TARGET_CHAR = char_class(LETTERS + DIGITS + "_.@#-:")
_TARGET_EQ_RE = re.compile(f"({_TARGET_START}{_TARGET_CHAR}*)=")
_TARGET_RE = re.compile(f"{_TARGET_START}{_TARGET_CHAR}*\\Z")
_APPEND_RE = re.compile(f"{_TARGET_START}{_TARGET_CHAR}*\\+=")
_PUSH_TARGET_RE = re.compile(r"[^\[\]*?]+(?:\[[^\[\]]+\])+\Z")
_WORD_END = frozenset(" \t\r\n;|&<>()}")
_REDIRECTS = frozenset({">", ">>", "<", "2>", "&>", "<<<", "<<", "<<-", "2>&1", "1>&2", ">&2"})
_STDIN = frozenset({"<", "<<", "<<<"})
_CLOSERS = frozenset({"then", "elif", "else", "fi", "do", "done", "esac", "in"})
_DELIM_STOP = frozenset(" \t\r\n;|&<>()")


class CommandParser(WordParser):
    """Statement lists down to simple commands; compounds live in parse_compound."""

    # --- keywords -------------------------------------------------------

    def keyword(self, tok: Token) -> str | None:
        """The keyword `tok` spells, if it is one and stands as a whole word."""
        if tok.kind is not TokenKind.LIT or tok.text not in KEYWORDS:
            return None
        end = tok.end
        if end < self.lx.end and self.source[end] not in _WORD_END:
            return None
        return tok.text

    def expect_keyword(self, word: str, opener: Token) -> Token:
        tok = self.peek()
        if self.keyword(tok) != word:
            if tok.kind is TokenKind.EOF:
                self.error(
                    f"unexpected end of input: `{opener.text}` needs `{word}`",
                    opener.start,
                    code=ErrorCode.UNCLOSED_BLOCK,
                    incomplete=True,
                )
            self.unexpected(tok, f"`{word}`")
        return self.take()

    def _at_stop(self, tok: Token, stops: frozenset[str]) -> bool:
        kind = tok.kind
        if kind is TokenKind.EOF:
            return True
        if kind is TokenKind.OP:
            return tok.text in stops
        if kind is TokenKind.RBRACE:
            return "}" in stops
        kw = self.keyword(tok)
        return kw is not None and kw in stops

    # --- blocks and items ------------------------------------------------

    def parse_program(self) -> ast.Program:
        body = self.parse_block(frozenset())
        tok = self.peek()
        if tok.kind is not TokenKind.EOF:
            self.unexpected(tok)
        return ast.Program(body, self.source, Span(0, len(self.source)))

    def parse_block(self, stops: frozenset[str]) -> ast.Block:
        """block := ( NEWLINE | item ( ';' | NEWLINE | <after &> ) )*"""
        stmts: list[ast.Stmt] = []
        while True:
            self.skip_newlines()
            tok = self.peek()
            if self._at_stop(tok, stops):
                break
            items = self._parse_item()
            stmts.extend(items)
            tok = self.peek()
            if tok.kind is TokenKind.NEWLINE:
                continue
            if tok.is_op(";"):
                self.take()
                continue
            if _in_background(items[-1]) or self._at_stop(tok, stops):
                continue
            if isinstance(items[-1], ast.Assignment) and self.keyword(tok) in _CLOSERS:
                continue
            self.unexpected(tok, "`;` or a newline")
        return tuple(stmts)

    def _parse_item(self) -> list[ast.Stmt]:
        """item := unit ( ( '&&' | '||' ) NEWLINE* unit )*"""
        units = self._parse_unit()
        done, left = units[:-1], units[-1]
        while True:
            op = self.peek()
            if not op.is_op("&&", "||") or _in_background(left):
                break
            self.take()
            self.skip_newlines()
            nxt = self.peek()
            if nxt.kind is TokenKind.EOF:
                self.error(
                    f"`{op.text}` needs a command after it",
                    op.start,
                    code=ErrorCode.TRAILING_OPERATOR,
                    incomplete=True,
                )
            right = self._parse_unit()
            left = ast.AndOr(op.text, left, right[0], left.span.to(right[0].span))
            if len(right) > 1:
                return [*done, left, *right[1:]]
        return [*done, left]

    def _parse_unit(self) -> list[ast.Stmt]:
        """unit := control | local | funcdef | assignment+ [command] | ['!'] pipeline"""
        tok = self.peek()
        kw = self.keyword(tok)
        if kw in ("break", "continue", "return", "exit"):
            return [self._parse_control(kw)]
        if kw == "local":
            return list(self._parse_local())
        if kw == "function":
            return [self.parse_function_keyword()]
        if kw in _CLOSERS:
            self.unexpected(tok)
        if tok.kind is TokenKind.BANG:
            negated = False
            while self.peek().kind is TokenKind.BANG:
                self.take()
                negated = not negated
            return [self._parse_pipeline(tok.start, negated, ())]
        funcdef = self.try_posix_function()
        if funcdef is not None:
            return [funcdef]
        assigns = self._parse_assignments(local=False)
        if assigns:
            nxt = self.peek()
            if nxt.kind not in WORD_START or self.keyword(nxt) in _CLOSERS:
                return list(assigns)
            for a in assigns:
                if a.path:
                    self.error(
                        f"`{a.name}[...]=` cannot prefix a command; a command-scoped "
                        "prefix takes a plain NAME",
                        a.span.start,
                        code=ErrorCode.BAD_NAME,
                        hint="assign it on its own line first",
                    )
            return [self._parse_pipeline(assigns[0].span.start, False, tuple(assigns))]
        return [self._parse_pipeline(tok.start, False, ())]

    def _parse_control(self, kw: str) -> ast.Stmt:
        """control := ( 'break' | 'continue' | 'return' | 'exit' ) [ word ]"""
        tok = self.take()
        value: ast.Expr | None = None
        if self.peek().kind in WORD_START:
            value = self.scalar(self.read_parts(), Ctx.ARG)
        span = tok.span if value is None else tok.span.to(value.span)
        if kw == "break":
            return ast.Break(value, span)
        if kw == "continue":
            return ast.Continue(value, span)
        if kw == "return":
            return ast.Return(value, span)
        return ast.Exit(value, span)

    # --- pipelines -------------------------------------------------------

    def _parse_pipeline(self, start: int, negated: bool, env: tuple[ast.Assignment, ...]) -> ast.Stmt:
        """pipeline := stage ( '|' NEWLINE* stage )* [ '&' ]"""
        stages: list[ast.Stage] = [self._parse_stage(env)]
        while self.at_op("|"):
            bar = self.take()
            self.skip_newlines()
            if self.peek().kind is TokenKind.EOF:
                self.error(
                    "`|` needs a command after it",
                    bar.start,
                    code=ErrorCode.TRAILING_OPERATOR,
                    incomplete=True,
                )
            stages.append(self._parse_stage(()))
        background = False
        if self.at_op("&"):
            self.take()
            background = True
        span = self.span_from(start)
        if len(stages) == 1 and not negated and not background:
            stage = stages[0]
            if not isinstance(stage, ast.Command):
                return stage
        return ast.Pipeline(tuple(stages), negated, background, span)

    def _parse_stage(self, env: tuple[ast.Assignment, ...]) -> ast.Stage:
        """stage := if | for | while | case | test | command"""
        tok = self.peek()
        compound = self.parse_compound(tok)
        if compound is None:
            return self._parse_command(env)
        if env:
            self.error(
                "a `NAME=value` prefix needs a simple command after it",
                env[0].span.start,
                code=ErrorCode.UNEXPECTED_TOKEN,
            )
        nxt = self.peek()
        if nxt.kind is TokenKind.OP and nxt.text in _REDIRECTS:
            reads = nxt.text.startswith("<")
            self.error(
                "redirects on a compound command are not supported",
                nxt.start,
                hint=(
                    "pipe into it instead: cat file | while read line; do ...; done"
                    if reads
                    else "pipe its output instead: for ...; done | cat > file"
                ),
            )
        return compound

    def parse_compound(self, tok: Token) -> ast.Stage | None:
        raise NotImplementedError

    def try_posix_function(self) -> ast.FunctionDef | None:
        raise NotImplementedError

    def parse_function_keyword(self) -> ast.FunctionDef:
        raise NotImplementedError

    # --- simple commands -------------------------------------------------

    def _parse_command(self, env: tuple[ast.Assignment, ...]) -> ast.Command:
        """command := word ( word | redirect )*"""
        tok = self.peek()
        if tok.kind is TokenKind.LBRACKET:
            self.error(
                "`[ ... ]` is not kaish syntax",
                tok.start,
                hint="use `[[ ... ]]` or the `test` command",
            )
        if tok.is_op("("):
            self.error("kaish has no subshells `( ... )`", tok.start, hint="use $(...) or a function")
        if tok.kind is TokenKind.LBRACE:
            self.error(
                "brace groups `{ ...; }` are not supported",
                tok.start,
                hint="use a function, or `if`",
            )
        if tok.kind not in WORD_START:
            self.unexpected(tok, "a command")
        start = env[0].span.start if env else tok.start
        name_parts = self.read_parts()
        lead = name_parts[0].raw
        if lead is not None and "=" in lead:
            if _TARGET_EQ_RE.match(lead):
                self.error(
                    "an assignment cannot be negated or be a pipeline stage",
                    tok.start,
                    hint="assign on its own, then run the command",
                )
            if _APPEND_RE.match(lead):
                self.error(
                    "kaish has no `+=`",
                    tok.start,
                    hint="write x=$((x + 1)) for numbers, x=\"$x more\" for text, "
                    "`push xs value` for lists",
                )
        name = self._command_name(name_parts)
        args: list[ast.Arg] = []
        redirects: list[ast.Redirect] = []
        after_dd = False
        while True:
            tok = self.peek()
            if tok.kind is TokenKind.OP and tok.text in _REDIRECTS:
                redirects.append(self._parse_redirect())
                continue
            if tok.kind not in WORD_START:
                break
            parts = self.read_parts()
            if name == "push" and not args:
                # push takes a variable path, not a glob: `push s[web][tags] x`
                text = self._raw_text(parts)
                if text is not None and _PUSH_TARGET_RE.match(text):
                    span = parts[0].span.to(parts[-1].span)
                    args.append(ast.Positional(ast.Literal(text, False, span), span))
                    continue
            for arg in self.arguments(parts, after_dd):
                if isinstance(arg, ast.DoubleDash):
                    after_dd = True
                args.append(arg)
        self._one_stdin(redirects)
        return ast.Command(name, tuple(args), tuple(redirects), env, self.span_from(start))

    def _command_name(self, parts: list[Part]) -> str:
        text = self._raw_text(parts)
        if text is not None:
            return text
        if len(parts) == 1:
            expr = parts[0].expr
            if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
                return expr.value
        self.error(
            "a command name must be a plain word",
            parts[0].span.start,
            hint="to run a command held in a variable, define a function instead",
        )

    def _one_stdin(self, redirects: list[ast.Redirect]) -> None:
        stdin = [r for r in redirects if r.kind in _STDIN]
        if len(stdin) > 1:
            self.error(
                "multiple stdin redirects on one command are ambiguous; use exactly one of "
                "`<`, `<<`, or `<<<`",
                stdin[1].span.start,
                code=ErrorCode.MULTIPLE_STDIN,
            )

    # --- redirects --------------------------------------------------------

    def _parse_redirect(self) -> ast.Redirect:
        """redirect := OP word | '2>&1' | '1>&2' | '>&2' | ('<<' | '<<-') DELIMITER"""
        op = self.take()
        text = op.text
        if text == "2>&1":
            return ast.Redirect("2>&1", None, None, op.span)
        if text in ("1>&2", ">&2"):
            return ast.Redirect("1>&2", None, None, op.span)
        if text in ("<<", "<<-"):
            return self._parse_heredoc(op)
        parts = self.read_parts()
        if not parts:
            nxt = self.peek()
            self.error(
                f"`{text}` needs a target word, found {describe(nxt)}",
                op.start,
                code=ErrorCode.UNEXPECTED_TOKEN,
            )
        target = self.scalar(parts, Ctx.REDIRECT)
        return ast.Redirect(text, target, None, op.span.to(target.span))

    def _parse_heredoc(self, op: Token) -> ast.Redirect:
        """heredoc := ( '<<' | '<<-' ) DELIMITER, body on the following lines"""
        src = self.source
        end = self.lx.end
        strip = op.text == "<<-"
        i = op.end
        while i < end and src[i] in " \t":
            i += 1
        word_start = i
        chars: list[str] = []
        literal = False
        while i < end and src[i] not in _DELIM_STOP:
            c = src[i]
            if c in "'\"":
                literal = True
                close = src.find(c, i + 1, end)
                close = end if close < 0 else close
                chars.append(src[i + 1 : close])
                i = close + 1
                continue
            chars.append(c)
            i += 1
        delimiter = "".join(chars)
        if not delimiter:
            self.error(f"`{op.text}` needs a delimiter word", op.start, code=ErrorCode.UNEXPECTED_TOKEN)
        i = min(i, end)
        self.lx.seek(i)
        body = self.lx.read_heredoc_body(self.lx.line_end(i), delimiter, strip)
        if body is None:
            self.error(
                f"unterminated heredoc, expected closing delimiter `{delimiter}` on its own line",
                op.start,
                code=ErrorCode.UNTERMINATED_HEREDOC,
                incomplete=True,
            )
        span = Span(op.start, i)
        if literal:
            text = src[body.start : body.end]
            if strip:
                text = "".join(line.lstrip("\t") for line in text.splitlines(keepends=True))
            expr: ast.Expr = ast.Literal(text, True, Span(body.start, body.end))
        else:
            expr = self.parse_heredoc_body(body.start, body.end, strip)
        heredoc = ast.HereDoc(delimiter, expr, strip, literal, Span(word_start, i))
        return ast.Redirect("<<", None, heredoc, span)

    # --- assignments ------------------------------------------------------

    def _parse_local(self) -> list[ast.Assignment]:
        """local := 'local' assignment+"""
        tok = self.take()
        assigns = self._parse_assignments(local=True)
        if not assigns:
            self.error(
                "`local` needs NAME=value",
                tok.start,
                hint="write `local x=value` (spaces around `=` are allowed after local)",
            )
        return assigns

    def _parse_assignments(self, local: bool) -> list[ast.Assignment]:
        out: list[ast.Assignment] = []
        while True:
            assign = self._try_assignment(local)
            if assign is None:
                return out
            out.append(assign)

    def _try_assignment(self, local: bool) -> ast.Assignment | None:
        """assignment := NAME ( '[' subscript ']' )* '=' value; None (nothing consumed) if not one"""
        save = self.lx.pos
        tok = self.peek()
        if tok.kind is not TokenKind.LIT:
            return None
        if "=" not in tok.text:
            # Fast path for the common case, a command word: an assignment
            # needs `[` glued on or `=` next.
            nxt = self.peek_after(tok)
            glued_bracket = nxt.kind is TokenKind.LBRACKET and nxt.start == tok.end
            if not glued_bracket and not (nxt.kind is TokenKind.LIT and nxt.text[0] == "="):
                return None
        path: list[ast.Segment] = []
        m = _TARGET_EQ_RE.match(tok.text)
        if m is not None:
            name = m.group(1)
            self.take()
            rest = tok.text[m.end() :]
            eq_end = tok.start + m.end()
        elif _TARGET_RE.match(tok.text):
            name = tok.text
            self.take()
            while True:
                nxt = self.peek()
                if nxt.kind is not TokenKind.LBRACKET or nxt.start != self.lx.last_end:
                    break
                seg = self._lvalue_subscript()
                if seg is None:
                    self.lx.seek(save)
                    return None
                path.append(seg)
            eq = self.peek()
            if eq.kind is not TokenKind.LIT or not eq.text.startswith("=") \
                    or eq.text.startswith(("==", "=~")):
                self.lx.seek(save)
                return None
            self.take()
            rest = eq.text[1:]
            eq_end = eq.start + 1
        else:
            return None
        self._check_target(name, tok.start, bool(path))
        value = self._assignment_value(rest, eq_end)
        span = Span(tok.start, max(value.span.end, eq_end))
        return ast.Assignment(normalize(name), value, tuple(path), local, span)

    def _check_target(self, name: str, offset: int, subscripted: bool) -> None:
        if name in KEYWORDS:
            self.error(
                f"`{name}` is a keyword and cannot be assigned",
                offset,
                code=ErrorCode.BAD_NAME,
                hint="pick another name, or quote the word",
            )
        bad = name_error(name)
        # `.` and `#` in a plain target are the validator's (E017/E018), which
        # names the corrected spelling.
        if bad is not None and not (bad[0] in ".#" and bad[0] and not subscripted):
            self.error(bad[1], offset, code=ErrorCode.BAD_NAME)

    def _assignment_value(self, rest: str, eq_end: int) -> ast.Expr:
        if not rest and self.at_op("(") and self.peek().start == eq_end:
            self.error(
                "bash arrays `name=(a b)` are not kaish",
                eq_end,
                code=ErrorCode.BAD_LITERAL,
                hint="write a list literal: name=[a b]",
            )
        if rest:
            parts = [Part(rest, None, Span(eq_end, eq_end + len(rest)), TokenKind.LIT)]
            if self.peek().start == eq_end + len(rest):
                parts.extend(self.read_parts())
            return self.scalar(parts, Ctx.VALUE)
        value = self.parse_value()
        if value is None:
            return ast.Literal("", False, Span(eq_end, eq_end))
        return value

    def _lvalue_subscript(self) -> ast.Segment | None:
        """subscript := '[' ( int | [int]:[int] | bareword | 'q' | "q" | dollar ) ']'"""
        lb = self.take()
        tok = self.take()
        kind = tok.kind
        seg: ast.Segment
        if kind is TokenKind.LIT:
            seg = subscript_segment(tok.text, tok.span)
        elif kind is TokenKind.SQ:
            seg = ast.KeySeg(tok.text[1:-1], tok.span)
        elif kind is TokenKind.DQ_START:
            expr = self.parse_dq(tok)
            if isinstance(expr, ast.Literal) and isinstance(expr.value, str):
                seg = ast.KeySeg(expr.value, expr.span)
            else:
                seg = ast.DynamicSeg(expr, expr.span)
        elif kind in WORD_START and kind not in (TokenKind.LBRACKET, TokenKind.RBRACKET,
                                                  TokenKind.BANG, TokenKind.RAW_BARE):
            expr = self.parse_dollar(tok)
            seg = ast.DynamicSeg(expr, expr.span)
        else:
            return None
        rb = self.peek()
        if rb.kind is not TokenKind.RBRACKET or rb.start != self.lx.last_end:
            return None
        self.take()
        return _with_span(seg, Span(lb.start, rb.end))


def _with_span(seg: ast.Segment, span: Span) -> ast.Segment:
    if isinstance(seg, ast.KeySeg):
        return ast.KeySeg(seg.key, span)
    if isinstance(seg, ast.IndexSeg):
        return ast.IndexSeg(seg.index, span)
    if isinstance(seg, ast.SliceSeg):
        return ast.SliceSeg(seg.start, seg.end, span)
    return ast.DynamicSeg(seg.expr, span)


def _in_background(stmt: ast.Stmt) -> bool:
    """True when the statement ended with `&`, which also separates statements."""
    while isinstance(stmt, ast.AndOr):
        stmt = stmt.right
    return isinstance(stmt, ast.Pipeline) and stmt.background
