"""`$` expansions and the interpolating string forms that hold them.

    dollar      := VAR | SPECIAL | '${' varsub '}' | '$(' block ')' | '$((' arith '))'
    varsub      := SPECIAL_CHAR | '#' path | path [ ':-' default ]
    path        := NAME ( '[' subscript ']' )*
    subscript   := '$'expansion | "quoted" | 'quoted' | [int]:[int] | int | bareword
    dq_string   := '"' ( TEXT | ESCAPE | dollar )* '"'
    default     := ( TEXT | 'single' | "double" | ESCAPE | dollar )* '}'
    heredoc     := ( TEXT | NEWLINE | ESCAPE | dollar )*      (body lines only)

A double-quoted string with no expansion is a quoted `Literal`; otherwise an
`Interpolated` whose literal pieces are quoted `Literal` strings. bash's
`${v:0:5}` and dotted `${u.name}` are refused here, naming the bracket form.
"""

from __future__ import annotations

import re
from typing import NoReturn

from kaish_kernel.errors import ErrorCode, KaishSyntaxError
from kaish_kernel.lang import ast
from kaish_kernel.lang.lexer import Lexer, Mode
from kaish_kernel.lang.lexer_def import NAME_CHAR, NAME_START
from kaish_kernel.lang.names import name_error, normalize
from kaish_kernel.lang.parse_base import ParserBase
from kaish_kernel.lang.span import Span
from kaish_kernel.lang.tokens import Token, TokenKind

__all__ = ["ExpandParser", "build_string", "subscript_segment"]

_NAME_RE = re.compile(NAME_START + NAME_CHAR + "*")
_INDEX_RE = re.compile(r"-?[0-9]+\Z")
_SLICE_RE = re.compile(r"(-?[0-9]*):(-?[0-9]*)\Z")
_DQ_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "$": "$"}
_EXPANSION_KINDS = frozenset(
    {
        TokenKind.VAR,
        TokenKind.SPECIAL,
        TokenKind.VARSUB_START,
        TokenKind.CMDSUB_START,
        TokenKind.ARITH_START,
    }
)


def build_string(parts: list[ast.Expr], span: Span) -> ast.Expr:
    """Fold text pieces and expansions into a quoted Literal or an Interpolated.

    Adjacent text pieces (quoted str Literals) merge into one, spanning both.
    """
    merged: list[ast.Expr] = []
    run: list[ast.Literal] = []  # adjacent text pieces, joined once (linear)

    def flush() -> None:
        if run:
            text = "".join(str(p.value) for p in run)
            merged.append(ast.Literal(text, True, run[0].span.to(run[-1].span)))
            run.clear()

    for part in parts:
        if isinstance(part, ast.Literal) and isinstance(part.value, str):
            run.append(part)
        else:
            flush()
            merged.append(part)
    flush()
    if not merged:
        return ast.Literal("", True, span)
    if len(merged) == 1 and isinstance(merged[0], ast.Literal):
        return ast.Literal(merged[0].value, True, span)
    return ast.Interpolated(tuple(merged), span)


def _text(text: str, tok: Token) -> ast.Literal:
    return ast.Literal(text, True, tok.span)


def subscript_segment(text: str, span: Span) -> ast.Segment:
    """A bareword subscript: `1:3` / `:2` / `-3:` slice, `0` / `-1` index, else a key."""
    m = _SLICE_RE.match(text)
    if m is not None:
        lo, hi = m.groups()
        return ast.SliceSeg(
            int(lo) if lo not in ("", "-") else None, int(hi) if hi not in ("", "-") else None, span
        )
    if _INDEX_RE.match(text):
        return ast.IndexSeg(int(text), span)
    return ast.KeySeg(text, span)


def _decode_dq_escape(text: str) -> str:
    if text[1] == "u" and len(text) == 6:
        return chr(int(text[2:], 16))
    return _DQ_ESCAPES.get(text[1], text)


def _decode_default_escape(text: str) -> str:
    backslashes = len(text) - len(text.lstrip("\\"))
    quote = text[backslashes:]
    return "\\" * (backslashes // 2) + quote


class ExpandParser(ParserBase):
    """`$` expansions, double-quoted strings, default words and here-doc bodies."""

    def parse_dollar(self, tok: Token) -> ast.Expr:
        """dollar := VAR | SPECIAL | '${' varsub '}' | '$(' block ')' | '$((' arith '))'"""
        kind = tok.kind
        if kind is TokenKind.VAR:
            name = tok.text[1:]
            self._check_name(name, tok.start + 1)
            return ast.VarRef(ast.VarPath(normalize(name), (), tok.span), tok.span)
        if kind is TokenKind.SPECIAL:
            return ast.Special(tok.text[1], tok.span)
        if kind is TokenKind.VARSUB_START:
            return self._parse_varsub(tok)
        if kind is TokenKind.CMDSUB_START:
            return self._parse_cmdsub(tok)
        if kind is TokenKind.ARITH_START:
            if self._bare_default:
                self.error(
                    "arithmetic `$((...))` cannot sit inside an unquoted `${...}`",
                    tok.start,
                    code=ErrorCode.BAD_VARIABLE,
                    hint='compute it first (N=$((expr)); ${X:-$N}), or quote the word: "${X:-$((expr))}"',
                )
            return self.parse_arith_expansion(tok)
        raise AssertionError(f"not an expansion: {tok!r}")

    def _check_name(self, name: str, offset: int) -> None:
        bad = name_error(name)
        if bad is not None:
            self.error(bad[1], offset, code=ErrorCode.BAD_NAME)

    # --- $( ... ) ------------------------------------------------------

    def _parse_cmdsub(self, tok: Token) -> ast.CommandSubst:
        """cmdsub := '$(' block ')'"""
        self.enter(tok.start)
        outer = self.cmd_mode
        if self._dq_level:
            self.cmd_mode = Mode.DQ_COMMAND
        saved_level, self._dq_level = self._dq_level, 0
        try:
            # `}` stops too, so `${x:-$(echo hi}` reports the missing `)`.
            body = self.parse_block(frozenset({")", "}"}))
        except KaishSyntaxError as exc:
            # `echo "pre $(echo hi"`: the missing `)` is the mistake; the
            # string that then runs off the end is only its consequence.
            if exc.code == ErrorCode.UNTERMINATED_STRING and exc.offset > tok.start:
                self._unterminated_cmdsub(tok)
            raise
        close = self.take()
        self.cmd_mode = outer
        self._dq_level = saved_level
        if not close.is_op(")"):
            if close.kind is TokenKind.EOF:
                self._unterminated_cmdsub(tok)
            if close.kind is TokenKind.RBRACE:  # `${x:-$(echo hi}`: the `}` is the outer one
                self._unterminated_cmdsub(tok, incomplete=False)
            self.unexpected(close, "`)` to close `$(`")
        self.leave()
        return ast.CommandSubst(body, Span(tok.start, close.end))

    def _unterminated_cmdsub(self, tok: Token, incomplete: bool = True) -> NoReturn:
        self.error(
            "unterminated command substitution: missing `)`",
            tok.start,
            code=ErrorCode.UNTERMINATED_SUBST,
            incomplete=incomplete,
        )

    # --- "double quotes" ---------------------------------------------

    def parse_dq(self, open_tok: Token) -> ast.Expr:
        """dq_string := '"' ( TEXT | ESCAPE | dollar )* '"'"""
        parts = self.dq_parts(open_tok)
        return build_string(parts, self.span_from(open_tok.start))

    def dq_parts(self, open_tok: Token) -> list[ast.Expr]:
        """The pieces of a double-quoted string, unfolded (a default word splices them)."""
        self.enter(open_tok.start)
        self._dq_level += 1
        mode = Mode.DQ_NESTED if self.cmd_mode is Mode.DQ_COMMAND else Mode.DQ
        parts: list[ast.Expr] = []
        while True:
            tok = self.take(mode)
            kind = tok.kind
            if kind is TokenKind.DQ_END:
                break
            if kind is TokenKind.TEXT or kind is TokenKind.DOLLAR or kind is TokenKind.BACKSLASH:
                parts.append(_text(tok.text, tok))
            elif kind is TokenKind.ESCAPE:
                parts.append(_text(_decode_dq_escape(tok.text), tok))
            elif kind in _EXPANSION_KINDS:
                parts.append(self.parse_dollar(tok))
            else:  # EOF
                self.error(
                    'unterminated string: missing closing `"`',
                    open_tok.start,
                    code=ErrorCode.UNTERMINATED_STRING,
                    incomplete=True,
                )
        self._dq_level -= 1
        self.leave()
        return parts

    # --- ${ ... } ------------------------------------------------------

    def _parse_varsub(self, open_tok: Token) -> ast.Expr:
        """varsub := SPECIAL_CHAR | '#' path | path [ ':-' default ]"""
        src = self.source
        start = open_tok.start
        i = open_tok.end
        end = self.lx.end
        if i >= end:
            self._unterminated_varsub(start)
        c = src[i]
        if c in "?$@#" and i + 1 < end and src[i + 1] == "}":
            return self._finish_special(c, start, i + 2)
        if c in "?$" and src.startswith(":-", i + 1):
            # `${?:-word}`: an exit code or PID is never empty, so the default
            # is parsed (its mistakes still count) and never used
            self.lx.seek(i + 3)
            self._parse_default_word(start)
            return ast.Special(c, self.span_from(start))
        if c == "?" and i + 1 < end and src[i + 1] in ".[":
            self.error(
                "${?...}: $? is the exit code of the last command; it has no fields",
                start,
                code=ErrorCode.BAD_VARIABLE,
                hint="use `kaish-last` to read the previous command's data or output",
            )
        if c.isdigit():
            j = i
            while j < end and src[j].isdigit():
                j += 1
            if j < end and src[j] == "}" and j == i + 1:
                return self._finish_special(c, start, j + 1)
            self.error(
                "only $0 through $9 are positional parameters",
                start,
                code=ErrorCode.BAD_VARIABLE,
            )
        if c == "#":
            path, i = self._parse_path(i + 1, start)
            if i < end and src[i] == "}":
                self.lx.seek(i + 1)
                return ast.VarLength(path, Span(start, i + 1))
            if src.startswith(":-", i):
                self.error(
                    "a length cannot carry a default: `${#...}` is always defined",
                    start,
                    code=ErrorCode.BAD_VARIABLE,
                    hint="take the length of a defaulted value in two steps",
                )
            self._bad_varsub_char(i, start)
        path, i = self._parse_path(i, start)
        if i < end and src[i] == "}":
            self.lx.seek(i + 1)
            return ast.VarRef(path, Span(start, i + 1))
        if src.startswith(":-", i):
            self.lx.seek(i + 2)
            default = self._parse_default_word(start)
            return ast.VarDefault(path, default, self.span_from(start))
        self._bad_varsub_char(i, start)

    def _finish_special(self, name: str, start: int, after: int) -> ast.Special:
        self.lx.seek(after)
        return ast.Special(name, Span(start, after))

    def _unterminated_varsub(self, start: int) -> NoReturn:
        self.error(
            "unterminated variable reference: missing `}`",
            start,
            code=ErrorCode.UNTERMINATED_SUBST,
            incomplete=True,
        )

    def _bad_varsub_char(self, i: int, start: int) -> NoReturn:
        src = self.source
        if i >= self.lx.end:
            self._unterminated_varsub(start)
        close = src.find("}", i, self.lx.end)
        inner = src[start + 2 : close if close >= 0 else self.lx.end]
        c = src[i]
        if c == ":":
            name, rest = inner.split(":", 1) if ":" in inner else (inner, "")
            if rest.startswith(":"):
                fix = f"${{{name}[0:{rest[1:]}]}}"
            elif ":" in rest:
                fix = f"${{{name}[{rest}]}}"
            else:
                fix = f"${{{name}[{rest}:]}}"
            self.error(
                f"${{{inner}}}: kaish slices with brackets, not `:offset:length` — write {fix}",
                start,
                code=ErrorCode.BAD_VARIABLE,
                hint=f"brackets are start:end, end-exclusive: ${{{name}[0:5]}} is the first "
                f"five characters, ${{{name}[-3:]}} the last three",
            )
        if c == ".":
            pieces = [p for p in re.split(r"[.\[\]]+", inner) if p]
            fix = "${" + pieces[0] + "".join(f"[{p}]" for p in pieces[1:]) + "}"
            self.error(
                f"${{{inner}}}: kaish reads collections with brackets, not dots — write {fix}",
                start,
                code=ErrorCode.BAD_VARIABLE,
                hint="a bareword in brackets is a literal key: ${u[name]}",
            )
        if c in "-=+?#%/^,@":
            self.error(
                f"${{{inner}}}: this parameter expansion is not supported; "
                "kaish has `${X}`, `${X:-default}`, `${#X}` and bracket paths",
                start,
                code=ErrorCode.BAD_VARIABLE,
            )
        bad = name_error(src[start + 2 : i + 1])
        message = bad[1] if bad is not None else f"unexpected `{c}` in `${{...}}`"
        self.error(message, i, code=ErrorCode.BAD_VARIABLE)

    def _parse_path(self, i: int, start: int) -> tuple[ast.VarPath, int]:
        """path := NAME ( '[' subscript ']' )*"""
        src = self.source
        m = _NAME_RE.match(src, i, self.lx.end)
        if m is None:
            if i >= self.lx.end:
                self._unterminated_varsub(start)
            self.error(
                "expected a variable name after `${`",
                i,
                code=ErrorCode.BAD_VARIABLE,
            )
        name = m.group()
        self._check_name(name, i)
        segments: list[ast.Segment] = []
        j = m.end()
        while j < self.lx.end and src[j] == "[":
            seg, j = self._parse_subscript(j, start)
            segments.append(seg)
        return ast.VarPath(normalize(name), tuple(segments), Span(i, j)), j

    def _parse_subscript(self, i: int, start: int) -> tuple[ast.Segment, int]:
        """subscript := '$'expansion | "quoted" | 'quoted' | [int]:[int] | int | bareword"""
        src = self.source
        end = self.lx.end
        j = i + 1
        if j < end and src[j] in "\"'":
            quote = src[j]
            k = j + 1
            chars: list[str] = []
            while k < end and src[k] != quote:
                if quote == '"' and src[k] == "\\" and k + 1 < end and src[k + 1] in '"\\':
                    k += 1
                chars.append(src[k])
                k += 1
            if k + 1 >= end or src[k + 1] != "]":
                self._bad_subscript(i, start)
            return ast.KeySeg("".join(chars), Span(i, k + 2)), k + 2
        if j < end and src[j] == "$":
            self.lx.seek(j)
            tok = self.take(Mode.DQ)
            if tok.kind not in _EXPANSION_KINDS:
                self._bad_subscript(i, start)
            expr = self.parse_dollar(tok)
            k = self.lx.pos
            if k >= end or src[k] != "]":
                self._bad_subscript(i, start)
            return ast.DynamicSeg(expr, Span(i, k + 1)), k + 1
        close = src.find("]", j, end)
        if close < 0:
            self._bad_subscript(i, start)
        text = src[j:close]
        span = Span(i, close + 1)
        if not text or any(ch in text for ch in "[{}\n"):
            self._bad_subscript(i, start)
        return subscript_segment(text, span), close + 1

    def _bad_subscript(self, i: int, start: int) -> NoReturn:
        if self.source.find("]", i, self.lx.end) < 0 and self.source.find("}", i, self.lx.end) < 0:
            self._unterminated_varsub(start)
        self.error(
            "bad subscript: expected [index], [key], [\"key\"], [$var] or [start:end]",
            i,
            code=ErrorCode.BAD_VARIABLE,
        )

    def _parse_default_word(self, start: int) -> ast.Expr:
        """default := ( TEXT | 'single' | "double" | ESCAPE | dollar )* '}'"""
        self.enter(start)
        bare = not self._dq_level and not self._heredoc_level
        self._bare_default += bare
        parts: list[ast.Expr] = []
        while True:
            tok = self.take(Mode.VARDEFAULT)
            kind = tok.kind
            if kind is TokenKind.VD_END:
                break
            if kind is TokenKind.TEXT or kind is TokenKind.DOLLAR or kind is TokenKind.BACKSLASH:
                parts.append(_text(tok.text, tok))
            elif kind is TokenKind.ESCAPE:
                parts.append(_text(_decode_default_escape(tok.text), tok))
            elif kind is TokenKind.SQ:
                parts.append(_text(tok.text[1:-1], tok))
            elif kind is TokenKind.DQ_START:
                parts.extend(self.dq_parts(tok))
            elif kind in _EXPANSION_KINDS:
                parts.append(self.parse_dollar(tok))
            else:  # EOF
                self._unterminated_varsub(start)
        self._bare_default -= bare
        self.leave()
        span = Span(start, self.lx.last_end)
        if len(parts) == 1 and not isinstance(parts[0], ast.Literal):
            return parts[0]
        return build_string(parts, span)

    # --- here-document bodies ------------------------------------------

    def parse_heredoc_body(self, start: int, end: int, strip_tabs: bool) -> ast.Expr:
        """heredoc := ( TEXT | NEWLINE | ESCAPE | dollar )*   over source[start:end]

        `\\$`, `\\\\` and backslash-newline are the only escapes. With `<<-`
        the leading tabs of each *source* line go; a tab a variable expands to
        stays.
        """
        outer = self.lx
        self.lx = Lexer(self.source, start, end)
        self._heredoc_level += 1
        try:
            parts: list[ast.Expr] = []
            at_line_start = True
            while True:
                if at_line_start and strip_tabs:
                    pos = self.lx.pos
                    while pos < end and self.source[pos] == "\t":
                        pos += 1
                    self.lx.seek(pos)
                at_line_start = False
                tok = self.take(Mode.HEREDOC)
                kind = tok.kind
                if kind is TokenKind.EOF:
                    break
                if kind is TokenKind.NEWLINE:
                    parts.append(_text(tok.text, tok))
                    at_line_start = True
                elif kind is TokenKind.ESCAPE:
                    if tok.text[1] in "\r\n":
                        at_line_start = True
                    else:
                        parts.append(_text(tok.text[1], tok))
                elif kind in _EXPANSION_KINDS:
                    parts.append(self.parse_dollar(tok))
                else:
                    parts.append(_text(tok.text, tok))
        finally:
            self.lx = outer
            self._heredoc_level -= 1
        body = build_string(parts, Span(start, end))
        if isinstance(body, ast.Literal):
            return ast.Interpolated((body,), body.span)
        return body
