"""Words: gluing adjacent parts, typing barewords, and collection literals.

A word is a run of *adjacent* parts (no blank between them):

    word      := part ( part )*                        (each part touching the last)
    part      := bareword | '[' | ']' | 'single' | "double" | dollar
    value     := list | record | word                  (value position only)
    list      := '[' ( sep | ['...'] value )* ']'       sep := ',' | NEWLINE
    record    := '{' ( sep | key ':' value )* '}'      key := bareword | 'q' | "q"

kaish never pastes: a word of several parts is refused ("quote the whole
word") unless every part is bareword text (`*.txt`, `[0-9]*`, `a:b`). The one
place a glued word splits is a short flag's value (`-d,` `-f$(x)`), the
getopt idiom the argument binder understands.

Barewords are typed: `42` and `-5` are ints, `3.14` a float, `true`/`false`
bools; everything else is a string (a leading-zero number such as `007` stays
a string so `chmod 0755` keeps its digits). What a word becomes depends on
where it stands (`Ctx`): an argument may be a flag, a glob stays a GlobWord
where it would expand (arguments, `for` items, redirect targets) and is plain
text at value position and inside `[[ ]]`.
"""

from __future__ import annotations

import math
import re
from enum import Enum
from typing import NamedTuple, NoReturn

from kaish_kernel.errors import ErrorCode
from kaish_kernel.lang import ast
from kaish_kernel.lang.lexer import Mode
from kaish_kernel.lang.lexer_def import DIGITS, LETTERS, char_class
from kaish_kernel.lang.parse_base import describe
from kaish_kernel.lang.parse_expand import ExpandParser
from kaish_kernel.lang.span import Span
from kaish_kernel.lang.tokens import TokenKind
from kaish_kernel.values import Value

__all__ = ["Ctx", "Part", "WordParser", "bare_value"]

_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT_RE = re.compile(r"-?[0-9]+\.[0-9]+\Z")
# `.5`, `5.`, `1.2.3`: number-shaped, but not a number kaish reads (kaish's
# lexer refuses a point without a digit on each side)
_BAD_FLOAT_RE = re.compile(r"(?:-?(?:[0-9]+\.)+[0-9]*|\.[0-9][0-9.]*)\Z")
# `1--b`: a number (or `2024-01-02`-style word) ends where a `--` word begins
_NUMBER_GLUE_RE = re.compile(
    r"-?[0-9]+(?:\.[0-9]+)?(?:-" + char_class(LETTERS + DIGITS + "._") + "+)*--"
)
_FLAG_CHAR = char_class(LETTERS + DIGITS + "-")
_LONG_RE = re.compile(f"--([A-Za-z]{_FLAG_CHAR}*)")
_SHORT_RE = re.compile(f"-([A-Za-z]{_FLAG_CHAR}*)(:*)")
_PLUS_RE = re.compile(f"\\+([A-Za-z]{char_class(LETTERS + DIGITS)}*)")
_KEY_RE = re.compile(
    "(" + char_class(LETTERS + "_") + char_class(LETTERS + DIGITS + "_.@#-") + "*)="
)
_I64 = 2**63

_RAW_KINDS = frozenset(
    {
        TokenKind.LIT,
        TokenKind.RAW_BARE,
        TokenKind.BANG,
        TokenKind.LBRACKET,
        TokenKind.RBRACKET,
        TokenKind.LBRACE,
        TokenKind.RBRACE,
    }
)
_EXPANSIONS = frozenset(
    {
        TokenKind.VAR,
        TokenKind.SPECIAL,
        TokenKind.VARSUB_START,
        TokenKind.CMDSUB_START,
        TokenKind.ARITH_START,
    }
)
WORD_START = frozenset(
    {
        TokenKind.LIT,
        TokenKind.RAW_BARE,
        TokenKind.BANG,
        TokenKind.LBRACKET,
        TokenKind.RBRACKET,
        TokenKind.SQ,
        TokenKind.DQ_START,
    }
) | _EXPANSIONS


class Ctx(Enum):
    """Where a word stands, which decides what it becomes."""

    ARG = "argument"
    FOR = "for item"
    REDIRECT = "redirect target"
    VALUE = "value"
    TEST = "test operand"
    PATTERN = "case pattern"


class Part(NamedTuple):
    """One piece of a word: bareword text (`raw`) or a parsed expression."""

    raw: str | None
    expr: ast.Expr | None
    span: Span
    kind: TokenKind


def bare_value(text: str) -> Value:
    """A bareword's typed value: bool, int, float, or the text itself."""
    first = text[0] if text else ""
    if first == "t" or first == "f":
        return True if text == "true" else False if text == "false" else text
    if not (first.isdigit() or first == "-"):
        return text
    if _INT_RE.match(text):
        n = int(text)
        return n if -_I64 <= n < _I64 else text
    if _FLOAT_RE.match(text):
        f = float(text)
        return f if math.isfinite(f) else text
    return text


def _is_glob(text: str) -> bool:
    return "*" in text or "?" in text or ("[" in text and "]" in text[text.index("[") :])


class WordParser(ExpandParser):
    """Reads words in a lexer mode and turns them into arguments and values."""

    # --- assembling parts ------------------------------------------------

    def read_parts(self, mode: Mode | None = None, *, bracket_stops: bool = False,
                   brace_start: bool = False) -> list[Part]:
        """word := part ( part )* — adjacent parts only; [] when no word starts here.

        `bracket_stops`: a `]` that closes nothing ends the word (inside `[[ ]]`
        and list literals). `brace_start`: a word may begin with `{` (case
        patterns such as `{a,b}`).
        """
        mode = mode or self.cmd_mode
        lx = self.lx
        parts: list[Part] = []
        last_end = -1
        brackets = 0
        braces = 0
        class_start = -1  # where a `[` (or `[!`) just opened: a `]` there is literal
        while True:
            tok = lx.peek(mode)
            kind = tok.kind
            if parts and tok.start != last_end:
                break
            if kind in _RAW_KINDS:
                if kind is TokenKind.LBRACE:
                    if not parts and not brace_start:
                        break
                    braces += 1
                elif kind is TokenKind.RBRACE:
                    if braces == 0:
                        break
                    braces -= 1
                elif kind is TokenKind.LBRACKET:
                    brackets += 1
                    class_start = tok.end
                elif kind is TokenKind.BANG and tok.start == class_start:
                    class_start = tok.end
                elif kind is TokenKind.RBRACKET and tok.start == class_start and brackets:
                    class_start = -1  # `[]]`, `[!]]`: the class holds `]`
                elif kind is TokenKind.RBRACKET:
                    if brackets == 0 and bracket_stops:
                        break
                    brackets = max(0, brackets - 1)
                lx.next(mode)
                parts.append(Part(tok.text, None, tok.span, kind))
                last_end = tok.end
                continue
            if kind not in WORD_START:
                break
            lx.next(mode)
            if kind is TokenKind.SQ:
                expr: ast.Expr = ast.Literal(tok.text[1:-1], True, tok.span)
            elif kind is TokenKind.DQ_START:
                expr = self.parse_dq(tok)
            else:
                expr = self.parse_dollar(tok)
            parts.append(Part(None, expr, expr.span, kind))
            last_end = expr.span.end
        return parts

    def _raw_text(self, parts: list[Part]) -> str | None:
        """The word's text when every part is bareword text, else None."""
        if len(parts) == 1:
            return parts[0].raw
        pieces: list[str] = []
        for part in parts:
            if part.raw is None:
                return None
            pieces.append(part.raw)
        return "".join(pieces)

    def glue_error(self, parts: list[Part], ctx: Ctx) -> NoReturn:
        """Adjacent parts that kaish will not paste into one word."""
        start, end = parts[0].span.start, parts[-1].span.end
        text = self.source[start:end]
        example = f'"{text}"' if '"' not in text else f"'{text}'"
        if ctx is Ctx.REDIRECT:
            message = (
                "adjacent words with no space between them are not joined into the redirect "
                "target (kaish does no token pasting); quote the whole target"
            )
        else:
            message = (
                "adjacent words with no space between them are not joined into one "
                f"{ctx.value} (kaish does no token pasting); quote the whole word"
            )
        self.error(message, start, code=ErrorCode.ADJACENT_TOKENS, hint=f"write {example}")

    # --- scalars --------------------------------------------------------

    def scalar(self, parts: list[Part], ctx: Ctx) -> ast.Expr:
        """One word as one expression; several non-bareword parts are refused."""
        span = parts[0].span if len(parts) == 1 else parts[0].span.to(parts[-1].span)
        text = self._raw_text(parts)
        if text is None:
            if len(parts) == 1 and parts[0].expr is not None:
                return parts[0].expr
            if ctx is Ctx.PATTERN:
                return self._pattern(parts, span)
            self.glue_error(parts, ctx)
        assert text is not None
        if parts[0].kind is TokenKind.RAW_BARE:
            return ast.Literal(text, False, span)
        if ctx is Ctx.PATTERN:
            if _is_glob(text):
                return ast.GlobWord(text, span)
            return ast.Literal(text, False, span)
        if _is_glob(text):
            if ctx in (Ctx.ARG, Ctx.FOR, Ctx.REDIRECT):
                return ast.GlobWord(text, span)
            return ast.Literal(text, False, span)
        if _NUMBER_GLUE_RE.match(text):
            self.error(
                f"`{text}`: adjacent words with no space between them — a number "
                "ends where the `--` word begins",
                span.start,
                code=ErrorCode.ADJACENT_TOKENS,
                hint=f"quote the whole word ('{text}'), or put a space before `--`",
            )
        if _BAD_FLOAT_RE.match(text) and not _FLOAT_RE.match(text):
            self.error(
                f"`{text}` is not a number kaish reads: one decimal point, with a digit on each side",
                span.start,
                code=ErrorCode.BAD_LITERAL,
                hint=f"quote it ('{text}') to use it as text",
            )
        return ast.Literal(bare_value(text), False, span)

    def _pattern(self, parts: list[Part], span: Span) -> ast.Expr:
        """A case pattern may glue text and expansions (`"$prefix"*`): a pattern
        is matched as one glob string, so nothing is pasted into argv."""
        pieces: list[ast.Expr] = []
        literal = True
        for part in parts:
            if part.raw is not None:
                pieces.append(ast.Literal(part.raw, False, part.span))
            elif isinstance(part.expr, ast.Literal) and isinstance(part.expr.value, str):
                pieces.append(part.expr)
            elif isinstance(part.expr, ast.Interpolated):
                pieces.extend(part.expr.parts)
                literal = False
            else:
                assert part.expr is not None
                pieces.append(part.expr)
                literal = False
        if literal:
            text = "".join(str(p.value) for p in pieces if isinstance(p, ast.Literal))
            return ast.GlobWord(text, span) if _is_glob(text) else ast.Literal(text, True, span)
        return ast.Interpolated(tuple(pieces), span)

    # --- arguments ------------------------------------------------------

    def arguments(self, parts: list[Part], after_double_dash: bool) -> list[ast.Arg]:
        """One argv word: a flag, `--name=value`, `key=value` or a positional."""
        span = parts[0].span if len(parts) == 1 else parts[0].span.to(parts[-1].span)
        lead = parts[0].raw if parts[0].kind is TokenKind.LIT else None
        if lead is not None and lead[0] == "+":
            m = _PLUS_RE.match(lead)
            if m is not None:  # `set +e`: a positional, but its name is a flag's
                self._flag_name(m.group(1), parts[0].span.start, "+")
        if lead is None or (lead[0] != "-" and "=" not in lead):
            return [ast.Positional(self.scalar(parts, Ctx.ARG), span)]
        m = _LONG_RE.match(lead)
        if m is not None and lead.startswith("=", m.end()):
            name = self._flag_name(m.group(1), parts[0].span.start, "--")
            value = self._after_equals(parts, m.end() + 1, Ctx.ARG)
            return [ast.NamedArg(name, value, span)]
        if m is not None and m.end() == len(lead):
            name = self._flag_name(m.group(1), parts[0].span.start, "--")
            if len(parts) > 1:
                self.glue_error(parts, Ctx.ARG)
            if after_double_dash:
                return [ast.Positional(ast.Literal(lead, False, span), span)]
            return [ast.LongFlag(name, span)]
        if lead == "--" and len(parts) == 1:
            if after_double_dash:
                return [ast.Positional(ast.Literal("--", False, span), span)]
            return [ast.DoubleDash(span)]
        m = _SHORT_RE.match(lead)
        if m is not None:
            return self._short_flag(parts, m, after_double_dash)
        m = _KEY_RE.match(lead)
        if m is not None:
            value = self._after_equals(parts, m.end(), Ctx.ARG)
            return [ast.WordAssign(m.group(1), value, span)]
        return [ast.Positional(self.scalar(parts, Ctx.ARG), span)]

    def _flag_name(self, name: str, offset: int, sign: str) -> str:
        if not name.isascii():
            word = sign + name
            self.error(
                f"flag `{word}` has a non-ASCII character; flags are ASCII-only",
                offset,
                code=ErrorCode.BAD_NAME,
                hint="quote it to use it as a literal word",
            )
        return name

    def _short_flag(self, parts: list[Part], m: re.Match[str], after_dd: bool) -> list[ast.Arg]:
        lead = parts[0].raw or ""
        first = parts[0].span
        name = self._flag_name(m.group(1), first.start, "-") + m.group(2)
        rest = lead[m.end() :]
        if rest.startswith("="):
            self.error(
                f"`-{name}=...`: adjacent words with no space between them — "
                "a short flag does not take `=value`",
                first.start,
                code=ErrorCode.ADJACENT_TOKENS,
                hint=f"write `-{name} value`, or quote the word",
            )
        if after_dd:
            if rest or len(parts) > 1:
                return [ast.Positional(self.scalar(parts, Ctx.ARG), first.to(parts[-1].span))]
            return [ast.Positional(ast.Literal(lead, False, first), first)]
        if rest and len(parts) == 1 and parts[0].kind is TokenKind.LIT and "$" not in rest:
            # one plain word such as `-k2,2` or `-d,`: the glued value stays in
            # the flag word; the binder splits name from value by the schema
            return [ast.ShortFlag(name + rest, first)]
        flag_span = Span(first.start, first.start + m.end())
        args: list[ast.Arg] = [ast.ShortFlag(name, flag_span)]
        tail = self._tail(parts, m.end())
        if tail:
            value = self.scalar(tail, Ctx.ARG)
            args.append(ast.Positional(value, value.span))
        return args

    def _tail(self, parts: list[Part], offset: int) -> list[Part]:
        """The parts after the first `offset` characters of the leading bareword."""
        first = parts[0]
        assert first.raw is not None
        rest = first.raw[offset:]
        tail = list(parts[1:])
        if rest:
            start = first.span.start + offset
            tail.insert(0, Part(rest, None, Span(start, first.span.end), TokenKind.LIT))
        return tail

    def _after_equals(self, parts: list[Part], offset: int, ctx: Ctx) -> ast.Expr:
        tail = self._tail(parts, offset)
        if not tail:
            at = parts[0].span.start + offset
            return ast.Literal("", False, Span(at, at))
        return self.scalar(tail, ctx)

    # --- value position -------------------------------------------------

    def parse_value(self, mode: Mode | None = None, bracket_stops: bool = False) -> ast.Expr | None:
        """value := list | record | word   (None when no value starts here)"""
        mode = mode or self.cmd_mode
        tok = self.peek(mode)
        stops = bracket_stops or mode not in (Mode.COMMAND, Mode.DQ_COMMAND)
        if tok.kind is TokenKind.LBRACKET:
            return self._after_literal(self._parse_list(), mode, stops)
        if tok.kind is TokenKind.LBRACE:
            return self._after_literal(self._parse_record(), mode, stops)
        parts = self.read_parts(mode, bracket_stops=stops)
        if not parts:
            return None
        if parts[0].kind is TokenKind.LIT and parts[0].raw == "..." and len(parts) > 1:
            self.error(
                "`...` spreads a list only inside a list literal: [...$xs more]",
                parts[0].span.start,
                code=ErrorCode.BAD_LITERAL,
            )
        return self.scalar(parts, Ctx.VALUE)

    def _after_literal(self, expr: ast.Expr, mode: Mode, bracket_stops: bool) -> ast.Expr:
        """A literal must end its word: `[0-9]*.log` is a glob, not a list."""
        tok = self.peek(mode)
        if tok.start != expr.span.end:
            return expr
        if bracket_stops and tok.kind is TokenKind.RBRACKET:
            return expr  # the `]` closing an enclosing list
        if tok.kind not in WORD_START and tok.kind is not TokenKind.LBRACE:
            return expr
        parts = self.read_parts(mode, brace_start=True)
        end = parts[-1].span.end if parts else tok.end
        text = self.source[expr.span.start : end]
        if _is_glob(text):
            self.error(
                f"`{text}` is a glob, and globs do not expand at value position",
                expr.span.start,
                code=ErrorCode.BAD_LITERAL,
                hint=f"quote it ('{text}') for the text, or use $(glob '{text}') for the matches",
            )
        self.error(
            f"a list or record literal must stand alone; `{text}` runs into it",
            expr.span.start,
            code=ErrorCode.BAD_LITERAL,
            hint="put a space after the literal, or quote the whole word",
        )

    def _parse_list(self) -> ast.ListLiteral:
        """list := '[' ( sep | ['...'] value )* ']'"""
        open_tok = self.take(Mode.LIST)
        self.enter(open_tok.start)
        items: list[ast.ListItem] = []
        while True:
            tok = self.peek(Mode.LIST)
            kind = tok.kind
            if kind is TokenKind.NEWLINE or kind is TokenKind.COMMA:
                self.take(Mode.LIST)
                continue
            if kind is TokenKind.RBRACKET:
                close = self.take(Mode.LIST)
                break
            if kind is TokenKind.EOF:
                self.error(
                    "unterminated list literal: missing `]`",
                    open_tok.start,
                    code=ErrorCode.UNCLOSED_BLOCK,
                    incomplete=True,
                )
            spread = kind is TokenKind.LIT and tok.text == "..."
            if spread:
                nxt = self.lx.peek_at(tok.end, Mode.LIST)
                spread = nxt.start == tok.end and nxt.kind in WORD_START | {TokenKind.LBRACKET}
                if spread:
                    self.take(Mode.LIST)
            value = self.parse_value(Mode.LIST)
            if value is None:
                self.error(
                    f"unexpected {describe(tok)} in a list literal",
                    tok.start,
                    code=ErrorCode.BAD_LITERAL,
                )
            items.append(ast.ListItem(value, spread, Span(tok.start, value.span.end)))
        self.leave()
        return ast.ListLiteral(tuple(items), Span(open_tok.start, close.end))

    def _parse_record(self) -> ast.RecordLiteral:
        """record := '{' ( sep | key ':' value )* '}'"""
        open_tok = self.take(Mode.RECORD_KEY)
        self.enter(open_tok.start)
        entries: list[ast.RecordEntry] = []
        while True:
            tok = self.peek(Mode.RECORD_KEY)
            kind = tok.kind
            if kind is TokenKind.NEWLINE or kind is TokenKind.COMMA:
                self.take(Mode.RECORD_KEY)
                continue
            if kind is TokenKind.RBRACE:
                close = self.take(Mode.RECORD_KEY)
                break
            if kind is TokenKind.EOF:
                self.error(
                    "unterminated record literal: missing `}`",
                    open_tok.start,
                    code=ErrorCode.UNCLOSED_BLOCK,
                    incomplete=True,
                )
            key = self._record_key()
            colon = self.take(Mode.RECORD_KEY)
            if colon.kind is not TokenKind.COLON:
                if colon.kind is TokenKind.EOF:
                    self.unexpected(colon, "`:`", opener=open_tok)
                self.error(
                    f"expected `:` after record key, found {describe(colon)}",
                    colon.start,
                    code=ErrorCode.BAD_LITERAL,
                    hint="write {key: value}",
                )
            value = self.parse_value(Mode.RECORD_VALUE)
            if value is None:
                nxt = self.peek(Mode.RECORD_VALUE)
                if nxt.kind is TokenKind.EOF:
                    self.unexpected(nxt, "a value", opener=open_tok)
                self.error(
                    "a record key needs a value after `:`",
                    nxt.start,
                    code=ErrorCode.BAD_LITERAL,
                )
            self._no_stray_word(value)
            entries.append(ast.RecordEntry(key, value, key.span.to(value.span)))
        self.leave()
        return ast.RecordLiteral(tuple(entries), Span(open_tok.start, close.end))

    def _record_key(self) -> ast.Expr:
        """key := bareword | 'single' | "double" (a double-quoted key interpolates)"""
        parts = self.read_parts(Mode.RECORD_KEY, bracket_stops=True)
        if not parts:
            tok = self.peek(Mode.RECORD_KEY)
            self.error(
                f"unexpected {describe(tok)} where a record key belongs",
                tok.start,
                code=ErrorCode.BAD_LITERAL,
                hint='a key is a bareword or a quoted string: {name: x, "a-b": y}',
            )
        if len(parts) > 1:
            self.glue_error(parts, Ctx.VALUE)
        part = parts[0]
        if part.raw is not None:
            return ast.Literal(part.raw, False, part.span)
        assert part.expr is not None
        if part.kind not in (TokenKind.SQ, TokenKind.DQ_START):
            self.error(
                "a record key is a bareword or a quoted string",
                part.span.start,
                code=ErrorCode.BAD_LITERAL,
                hint='to use a variable as a key, quote it: {"$k": value}',
            )
        return part.expr

    def _no_stray_word(self, value: ast.Expr) -> None:
        """`{msg: hello world}`: a second bareword that is not a key is a mistake."""
        tok = self.peek(Mode.RECORD_KEY)
        if tok.kind is not TokenKind.LIT:
            return
        after = self.lx.peek_at(tok.end, Mode.RECORD_KEY)
        if after.kind is TokenKind.COLON:
            return
        shown = self.source[value.span.start : value.span.end]
        self.error(
            f'record value: unexpected word "{tok.text}" after the value — a multi-word '
            "value must be quoted",
            tok.start,
            code=ErrorCode.BAD_LITERAL,
            hint=f'write {{key: "{shown} {tok.text}"}}',
        )
