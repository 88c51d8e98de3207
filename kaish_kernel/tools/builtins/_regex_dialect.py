"""The regex dialect kaish's pattern tools share: ERE plus the GNU BRE superset.

grep, sed and awk all speak ERE (egrep style). People and models, though,
type the GNU BRE spellings out of habit — `a\\|b`, `\\(x\\)`, `a\\{2\\}`,
`a\\+` — which under strict ERE would silently match a literal `|`, `(`,
`{` or `+`. The default dialect therefore rewrites those seven
backslash-metas into their ERE operators; strict ERE (`grep -E`,
`sed -E`/`-r`) leaves them literal. awk has no strict flag and always
rewrites.

    pattern as typed ──rewrite_bre_metas()──► ERE ──_Translator──► Python `re` source
      (default dialect only)                        POSIX classes, \\< \\>, $ → \\Z,
                                                    scoped inline flags, refusals

The engine underneath is Python's `re`, but the *language* is the one the
reference implementation accepts (a linear-time engine): pattern-side
backreferences and look-around are refused loudly rather than quietly
working here and failing there. Every refusal and every compile error is a
`RegexDialectError` (a `ValueError`); when the BRE rewrite changed the
pattern, its message carries a note naming the GNU BRE dialect and the
bracket-class spelling (`[)]`, `[|]`) for a literal meta character.

Stable API (grep, sed and awk import it):
    translate(pattern, *, extended, multiline=False, strict_flag="-E") -> str
    compile_regex(pattern, *, extended, ignore_case=False, multiline=False,
                  strict_flag="-E") -> re.Pattern[str]
    rewrite_bre_metas(pattern) -> str
    dialect_hint(strict_flag) -> str
    iter_matches(regex, text) -> Iterator[re.Match[str]]
    can_match_empty(regex) -> bool

The translated source never contains a global inline flag, so a caller may
wrap it freely (`\\b(?:...)\\b`, `^(?:...)$`).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterator
from typing import Final

__all__ = [
    "BRE_METAS",
    "RegexDialectError",
    "can_match_empty",
    "compile_regex",
    "dialect_hint",
    "iter_matches",
    "rewrite_bre_metas",
    "translate",
]

#: The GNU BRE backslash-metas the default dialect turns into ERE operators.
BRE_METAS: Final = frozenset("|+?(){}")

# POSIX bracket classes, ASCII as in the reference engine, spelled for use
# inside a Python character class.
_POSIX_CLASSES: Final[dict[str, str]] = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\x0b\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}

# Inline-flag letters: the reference's set, and what each becomes here
# ("" = accepted and dropped because Python already behaves that way).
_FLAG_MAP: Final[dict[str, str]] = {"i": "i", "m": "m", "s": "s", "x": "x", "u": "", "R": ""}

_BACKREF_MESSAGE: Final = (
    "pattern uses a backreference (\\1-\\9); kaish regex has no pattern-side"
    " backreferences — match the text directly, or split the work across commands"
)
_LOOKAROUND_MESSAGE: Final = (
    "look-around ((?=, (?!, (?<=, (?<!) is not supported in kaish regex;"
    " match the text directly, or filter in a second step"
)


class RegexDialectError(ValueError):
    """A pattern kaish refuses or cannot compile.

    `detail` is the bare reason; `rewrote` says whether the GNU BRE rewrite
    changed the pattern (so a caller composing its own message can decide
    whether to add `dialect_hint`). `str(exc)` is the complete message.
    """

    def __init__(self, detail: str, *, rewrote: bool = False, strict_flag: str | None = None):
        self.detail = detail
        self.rewrote = rewrote
        message = f"{detail} {dialect_hint(strict_flag)}" if rewrote else detail
        super().__init__(message)


def dialect_hint(strict_flag: str | None) -> str:
    """The note explaining the GNU BRE rewrite and how to match a literal meta."""
    escape = f", or pass {strict_flag} for strict ERE" if strict_flag else ""
    return (
        "(note: in the default dialect a backslashed |+?(){} is a GNU BRE operator;"
        f" match the literal character with a bracket class such as [)] or [|]{escape})"
    )


def rewrite_bre_metas(pattern: str) -> str:
    """Drop the backslash from each GNU BRE meta (`\\|` → `|`), keep every other escape.

    An escaped backslash stays a unit, so `a\\\\|b` is still "literal
    backslash, then alternation". Inside a bracket expression the escaped
    and bare forms of these metas mean the same literal, so no class
    tracking is needed.
    """
    if "\\" not in pattern:
        return pattern
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 == n:
            out.append("\\")  # a trailing lone backslash is the engine's to judge
            break
        nxt = pattern[i + 1]
        out.append(nxt if nxt in BRE_METAS else "\\" + nxt)
        i += 2
    return "".join(out)


class _Translator:
    """One pass over an ERE, producing equivalent Python `re` source."""

    def __init__(self, source: str, multiline: bool) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.multiline = multiline
        # For each open group (index 0 = top level): how many `)` are owed for
        # scoped-flag groups that stand in for a mid-group `(?i)`.
        self.owed: list[int] = [0]

    def run(self) -> str:
        src = self.src
        while self.pos < len(src):
            c = src[self.pos]
            if c == "\\":
                self.escape()
            elif c == "[":
                self.bracket()
            elif c == "(":
                self.group_open()
            elif c == ")":
                self.group_close()
            elif c == "$":
                # The reference's `$` is end-of-text; Python's would also match
                # before a final newline. Under `multiline` both mean end-of-line.
                self.out.append("$" if self.multiline else r"\Z")
                self.pos += 1
            else:
                self.out.append(c)
                self.pos += 1
        for owed in reversed(self.owed):
            self.out.append(")" * owed)
        return "".join(self.out)

    def escape(self) -> None:
        src, pos = self.src, self.pos
        if pos + 1 == len(src):
            self.out.append("\\")  # re reports the dangling escape
            self.pos += 1
            return
        nxt = src[pos + 1]
        self.pos += 2
        if nxt in "123456789":
            raise RegexDialectError(_BACKREF_MESSAGE)
        if nxt == "<":
            self.out.append(r"\b(?=\w)")
        elif nxt == ">":
            self.out.append(r"\b(?<=\w)")
        elif nxt == "`":
            self.out.append(r"\A")
        elif nxt in "'z":
            self.out.append(r"\Z")
        elif nxt == "x" and src.startswith("{", self.pos):
            self.out.append(re.escape(self.braced_codepoint()))
        elif nxt in "pP":
            raise RegexDialectError(
                f"Unicode property classes (\\{nxt}{{...}}) are not supported;"
                " use a POSIX class such as [[:alpha:]] or an explicit range"
            )
        else:
            self.out.append("\\" + nxt)

    def braced_codepoint(self) -> str:
        """`\\x{263A}`: the code point between the braces (self.pos is at `{`)."""
        close = self.src.find("}", self.pos)
        digits = self.src[self.pos + 1 : close] if close > 0 else ""
        try:
            char = chr(int(digits, 16))
        except (ValueError, OverflowError):
            raise RegexDialectError(f"invalid hex escape \\x{{{digits}}}") from None
        self.pos = close + 1
        return char

    def group_open(self) -> None:
        src, pos = self.src, self.pos
        if not src.startswith("(?", pos):
            self.out.append("(")
            self.owed.append(0)
            self.pos += 1
            return
        rest = src[pos + 2 : pos + 4]
        if rest[:1] in ("=", "!") or rest in ("<=", "<!"):
            raise RegexDialectError(_LOOKAROUND_MESSAGE)
        if rest in ("P=", "P>"):
            raise RegexDialectError(_BACKREF_MESSAGE)
        if rest.startswith("P<") or rest.startswith("<"):
            # named group, either spelling; Python wants (?P<name>...)
            self.out.append("(?P<")
            self.pos += 4 if rest.startswith("P<") else 3
            self.owed.append(0)
            return
        if rest.startswith(":"):
            self.out.append("(?:")
            self.pos += 3
            self.owed.append(0)
            return
        self.inline_flags()

    def inline_flags(self) -> None:
        """`(?i)` / `(?-s:...)`: always emitted as a scoped group."""
        src = self.src
        end = self.pos + 2
        while end < len(src) and (src[end].isalpha() or src[end] == "-"):
            end += 1
        letters = src[self.pos + 2 : end]
        if end >= len(src) or src[end] not in "):":
            raise RegexDialectError(f"invalid group syntax {src[self.pos : end + 1]!r}")
        converted: list[str] = []
        for letter in letters:
            if letter == "-":
                converted.append("-")
            elif letter == "U":
                raise RegexDialectError("inline flag U (swap greed) is not supported")
            elif letter in _FLAG_MAP:
                converted.append(_FLAG_MAP[letter])
            else:
                raise RegexDialectError(f"unknown inline flag {letter!r}")
        flags = "".join(converted).rstrip("-")
        if flags.startswith("-") and len(flags) == 1:
            flags = ""
        opener = f"(?{flags}:" if flags else "(?:"
        self.pos = end + 1
        if src[end] == ":":
            self.out.append(opener)
            self.owed.append(0)
        elif flags:
            # a flag switch lasts to the end of the enclosing group
            self.out.append(opener)
            self.owed[-1] += 1

    def group_close(self) -> None:
        owed = self.owed.pop() if len(self.owed) > 1 else 0
        self.out.append(")" * owed + ")")
        self.pos += 1

    def bracket(self) -> None:
        """A bracket expression, POSIX classes included; `[` inside is literal."""
        src, n = self.src, len(self.src)
        pos = self.pos + 1
        negated = src.startswith("^", pos)
        if negated:
            pos += 1
        items: list[str] = []
        complements: list[str] = []  # [:^name:] members, as positive sets
        first = True
        while True:
            if pos >= n:
                raise RegexDialectError("unclosed character class '['")
            c = src[pos]
            if c == "]" and not first:
                pos += 1
                break
            if c == "[" and pos + 1 < n and src[pos + 1] in ":=.":
                kind = src[pos + 1]
                close = src.find(kind + "]", pos + 2)
                if close < 0:
                    items.append(r"\[")
                    pos += 1
                else:
                    name = src[pos + 2 : close]
                    pos = close + 2
                    if kind == ":":
                        positive = name.lstrip("^")
                        members = _POSIX_CLASSES.get(positive)
                        if members is None:
                            raise RegexDialectError(f"unknown POSIX class [:{name}:]")
                        (complements if name.startswith("^") else items).append(members)
                    else:
                        items.append(re.escape(name))
            elif c == "[":
                items.append(r"\[")
                pos += 1
            elif c == "\\" and pos + 1 < n:
                items.append(src[pos : pos + 2])
                pos += 2
            elif c == "]":
                items.append(r"\]")  # a leading ] is a literal
                pos += 1
            else:
                items.append(c)
                pos += 1
            first = False
        self.pos = pos
        body = "".join(items)
        if not complements:
            self.out.append(f"[{'^' if negated else ''}{body}]")
            return
        if negated:
            raise RegexDialectError(
                "a negated POSIX class [:^name:] cannot appear inside a negated bracket"
            )
        alternatives = ([f"[{body}]"] if body else []) + [f"[^{m}]" for m in complements]
        self.out.append("(?:" + "|".join(alternatives) + ")")


@functools.lru_cache(maxsize=1024)
def _build(
    pattern: str, extended: bool, multiline: bool, ignore_case: bool, strict_flag: str | None
) -> re.Pattern[str]:
    ere = pattern if extended else rewrite_bre_metas(pattern)
    rewrote = ere != pattern
    try:
        source = _Translator(ere, multiline).run()
    except RegexDialectError as exc:
        raise RegexDialectError(exc.detail, rewrote=rewrote, strict_flag=strict_flag) from None
    flags = (re.IGNORECASE if ignore_case else 0) | (re.MULTILINE if multiline else 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set" and friends
            return re.compile(source, flags)
    except re.error as exc:
        raise RegexDialectError(
            f"invalid regex: {exc.msg}", rewrote=rewrote, strict_flag=strict_flag
        ) from None
    except (OverflowError, RecursionError):
        raise RegexDialectError("invalid regex: pattern too large", rewrote=rewrote) from None


def compile_regex(
    pattern: str,
    *,
    extended: bool,
    ignore_case: bool = False,
    multiline: bool = False,
    strict_flag: str | None = "-E",
) -> re.Pattern[str]:
    """Compile a kaish pattern (cached). Raises RegexDialectError (a ValueError).

    `extended=True` is strict ERE (no BRE rewrite). `multiline` makes `^`/`$`
    match at line boundaries. `strict_flag` names the caller's strict-ERE
    option for the hint (`"-E"`, `"-E/-r"`, or None when there is none).
    """
    return _build(pattern, extended, multiline, ignore_case, strict_flag)


def translate(
    pattern: str, *, extended: bool, multiline: bool = False, strict_flag: str | None = "-E"
) -> str:
    """The Python `re` source for a kaish pattern, validated by compiling it.

    Raises RegexDialectError (a ValueError) for refused or invalid patterns;
    the message mentions the GNU BRE dialect when the rewrite was involved.
    """
    return compile_regex(
        pattern, extended=extended, multiline=multiline, strict_flag=strict_flag
    ).pattern


@functools.lru_cache(maxsize=1024)
def can_match_empty(regex: re.Pattern[str]) -> bool:
    """Whether `regex` might match the empty string somewhere.

    When it cannot, Python's own `sub`/`finditer` already behave like
    `iter_matches`, and callers may use the faster C loop. Unsure → True.
    """
    try:
        from re import _parser  # type: ignore[attr-defined]

        low = _parser.parse(regex.pattern, regex.flags).getwidth()[0]
    except Exception:  # a private API; fall back to the careful path
        return True
    return bool(low == 0)


def iter_matches(regex: re.Pattern[str], text: str, start: int = 0) -> Iterator[re.Match[str]]:
    """Successive matches, skipping an empty match that touches the previous one.

    Python's `finditer` would report the empty match right after `aa` in
    `baac` for `a*`; the reference engine (and GNU sed/awk) do not, so
    `s/a*/-/g` on `baac` is `-b-c-` everywhere.
    """
    pos = start
    last_end = -1
    end = len(text)
    search = regex.search
    while pos <= end:
        m = search(text, pos)
        if m is None:
            return
        m_start, m_end = m.span()
        if m_start == m_end == last_end:
            pos = m_start + 1
            continue
        yield m
        last_end = m_end
        pos = m_end if m_end > m_start else m_end + 1
