"""The mode-driven lexer: a cursor over the source that yields one token at a time.

The parser calls `peek(mode)` / `next(mode)` with the mode that fits where it
stands (see lexer_def). Nothing is rewritten or pre-scanned, with one
exception that shells cannot avoid: a here-document's body sits on the lines
*after* its `<<WORD` introducer. When the parser meets `<<WORD` it asks
`read_heredoc_body`, which reads the body lines and records that the newline
ending the introducer line resumes after the body:

    cat <<A; cat <<B⏎        newline N: resume after B's delimiter line
    body of A⏎               ─┐
    A⏎                        │ skipped when the lexer reaches N
    body of B⏎                │
    B⏎                       ─┘

Invariant: lexing is a pure function of (position, mode) plus that resume
table, so the parser may peek and backtrack freely.
"""

from __future__ import annotations

import re

from kaish_kernel.errors import ErrorCode, KaishSyntaxError
from kaish_kernel.lang.lexer_def import BLANKS, ERRORS, MODE_RULES, SKIPPED, Mode
from kaish_kernel.lang.tokens import Token, TokenKind
from kaish_kernel.records import record

__all__ = ["HereDocBody", "Lexer", "Mode"]


# What the lexer does with a rule's match, per rule (see `_compile`).
_EMIT, _SKIP, _COMMENT, _ERROR = range(4)

_Compiled = tuple[re.Pattern[str], tuple[TokenKind, ...], tuple[int, ...]]


def _compile(mode: Mode) -> _Compiled:
    rules = MODE_RULES[mode]
    skipped = SKIPPED[mode]
    errors = ERRORS.get(mode, frozenset())
    body = "|".join(f"({pattern})" for _, pattern in rules)
    combined = re.compile(f"{BLANKS.get(mode, '')}(?:{body})")
    # One group per rule: `lastindex` names the rule only if rules add none.
    assert combined.groups == len(rules)
    actions = tuple(
        _COMMENT if kind is TokenKind.COMMENT
        else _SKIP if kind in skipped
        else _ERROR if kind in errors
        else _EMIT
        for kind, _ in rules
    )
    return combined, tuple(kind for kind, _ in rules), actions


# Compiled on first use: most scripts never enter most modes, and start-up
# time counts (`kaish -c true`).
_COMPILED: dict[Mode, _Compiled] = {}

# A `#` opens a comment only where a word can start (LANGUAGE.md, "Comments").
_WORD_BOUNDARY = frozenset(" \t\r\n;|&<>(")


@record
class HereDocBody:
    """Where a here-document body lies: `[start, end)` excludes the delimiter line."""

    start: int
    end: int


class Lexer:
    """Tokens on demand over `source[start:end]`; offsets are absolute."""

    __slots__ = ("_cache", "_resume", "end", "last_end", "pos", "source", "start")

    def __init__(self, source: str, start: int = 0, end: int | None = None) -> None:
        self.source = source
        self.start = start
        self.end = len(source) if end is None else end
        self.pos = start
        self.last_end = start  # end of the last token `next` returned
        self._resume: dict[int, int] = {}
        self._cache: dict[tuple[int, Mode], tuple[Token, int]] = {}

    def __repr__(self) -> str:
        return f"<Lexer pos={self.pos} of {self.start}:{self.end}>"

    # ------------------------------------------------------------------
    # Token stream
    # ------------------------------------------------------------------

    def peek(self, mode: Mode) -> Token:
        """The next token in `mode`, without consuming it."""
        hit = self._cache.get((self.pos, mode))
        return hit[0] if hit is not None else self._lex(self.pos, mode)[0]

    def next(self, mode: Mode) -> Token:
        """Consume and return the next token in `mode`."""
        hit = self._cache.get((self.pos, mode))
        tok, after = hit if hit is not None else self._lex(self.pos, mode)
        self.pos = after
        self.last_end = tok.end
        return tok

    def peek_at(self, pos: int, mode: Mode) -> Token:
        """The token that starts at `pos` in `mode` (two-token lookahead)."""
        return self._lex(pos, mode)[0]

    def seek(self, pos: int) -> None:
        self.pos = pos
        self.last_end = pos

    def _lex(self, pos: int, mode: Mode) -> tuple[Token, int]:
        key = (pos, mode)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        compiled = _COMPILED.get(mode)
        if compiled is None:
            compiled = _COMPILED[mode] = _compile(mode)
        pattern, kinds, actions = compiled
        src = self.source
        end = self.end
        while True:
            m = pattern.match(src, pos, end) if pos < end else None
            if m is None:  # nothing but blanks left
                tok = Token(TokenKind.EOF, "", end, end)
                after = end
                break
            index = m.lastindex
            assert index is not None
            start = m.start(index)
            stop = m.end()
            action = actions[index - 1]
            if action == _EMIT:
                kind = kinds[index - 1]
                tok = Token(kind, m.group(index), start, stop)
                after = self._resume.get(start, stop) if kind is TokenKind.NEWLINE else stop
                break
            if action == _COMMENT and not self._comment_allowed(start):
                raise KaishSyntaxError(
                    "`#` starts a comment only at the start of a word",
                    source=src,
                    offset=start,
                    code=ErrorCode.BAD_HASH,
                    hint='quote the whole word to keep `#` in it (e.g. "$x#3"), '
                    "or put a space before `#` to start a comment",
                )
            if action == _ERROR:
                self._raise_for(kinds[index - 1], start)
            pos = stop
        result = self._cache[key] = (tok, after)
        return result

    def _comment_allowed(self, pos: int) -> bool:
        return pos == 0 or self.source[pos - 1] in _WORD_BOUNDARY

    def _raise_for(self, kind: TokenKind, pos: int) -> None:
        src = self.source
        ch = src[pos]
        if kind is TokenKind.SQ_OPEN:
            raise KaishSyntaxError(
                "unterminated string: missing closing `'`",
                source=src,
                offset=pos,
                code=ErrorCode.UNTERMINATED_STRING,
                incomplete=True,
            )
        if kind is TokenKind.BACKTICK:
            raise KaishSyntaxError(
                "backticks are not supported in kaish; use $(cmd) instead",
                source=src,
                offset=pos,
                code=ErrorCode.BACKTICK,
                hint="write $(cmd) for command substitution",
            )
        if kind is TokenKind.BAD_DOLLAR:
            raise KaishSyntaxError(
                "`$` must be followed by a name, `{`, `(` or one of ? $ # @ 0-9",
                source=src,
                offset=pos,
                code=ErrorCode.INVALID_CHARACTER,
                hint="quote it ('$') to use a literal dollar sign",
            )
        if ch == "\\" and not src[pos + 1 : self.end].strip(" \t"):
            raise KaishSyntaxError(
                "a line continuation `\\` needs a following line",
                source=src,
                offset=pos,
                code=ErrorCode.TRAILING_OPERATOR,
                incomplete=True,
            )
        if ch == "\\":
            raise KaishSyntaxError(
                "a backslash outside quotes only continues a line",
                source=src,
                offset=pos,
                code=ErrorCode.INVALID_CHARACTER,
                hint="quote the word to keep a literal backslash",
            )
        shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
        raise KaishSyntaxError(
            f"unexpected character `{shown}`",
            source=src,
            offset=pos,
            code=ErrorCode.INVALID_CHARACTER,
            hint="quote the word to use it as literal text",
        )

    # ------------------------------------------------------------------
    # Here-documents
    # ------------------------------------------------------------------

    def line_end(self, pos: int) -> int:
        """Offset of the newline ending the logical line at `pos` (or `end`).

        Quotes, `$( )` bodies, comments and line continuations do not end a
        line, so a here-doc introducer finds the right newline after them.
        """
        src = self.source
        end = self.end
        stack: list[str] = []  # '"' for a double-quoted span, '(' for $( )
        i = pos
        while i < end:
            c = src[i]
            top = stack[-1] if stack else ""
            if c == "\\":
                i += 2
                continue
            if c == "$" and i + 1 < end and src[i + 1] == "(":
                stack.append("(")
                i += 2
                continue
            if top == '"':
                if c == '"':
                    stack.pop()
                i += 1
                continue
            if c == "'":
                close = src.find("'", i + 1, end)
                i = end if close < 0 else close + 1
                continue
            if c == '"':
                stack.append('"')
            elif c == "(" and top == "(":
                stack.append("(")
            elif c == ")" and top == "(":
                stack.pop()
            elif c == "#" and (i == 0 or src[i - 1] in _WORD_BOUNDARY):
                while i < end and src[i] not in "\r\n":
                    i += 1
                continue
            elif c in "\r\n" and not stack:
                return i
            i += 1
        return end

    def read_heredoc_body(self, newline: int, delimiter: str, strip_tabs: bool) -> HereDocBody | None:
        """Read the body belonging to the line ended at `newline`; None if unterminated.

        Several here-docs on one line read their bodies one after another, in
        introducer order; the newline then resumes after the last one.
        """
        src = self.source
        end = self.end
        if newline >= end:
            return None
        first = newline + (2 if src.startswith("\r\n", newline) else 1)
        body_start = self._resume.get(newline, first)
        i = body_start
        while i < end:
            j = i
            while j < end and src[j] not in "\r\n":
                j += 1
            line = src[i:j]
            if strip_tabs:
                line = line.lstrip("\t")
            after = j
            if j < end:
                after = j + (2 if src.startswith("\r\n", j) else 1)
            if line == delimiter:
                self._resume[newline] = after
                self._cache.clear()
                return HereDocBody(body_start, i)
            i = after
        return None
