"""The lexer as data: each mode is an ordered list of (kind, regex) rules.

The parser asks for the next token *in a mode it chooses*; the first rule of
that mode that matches at the cursor wins (earlier rules shadow later ones,
so multi-character operators come before their prefixes). Rules use only
non-capturing groups: the lexer maps `match.lastindex` back to the rule.

    COMMAND       words, operators, quotes, `$` expansions, comments
    LIST          COMMAND inside `[ ... ]` at value position: `,` separates
    RECORD_KEY    inside `{ ... }` before a `:`: `,` and `:` separate
    RECORD_VALUE  inside `{ ... }` after a `:`: `,` separates
    DQ            inside "double quotes"
    DQ_COMMAND    COMMAND inside a `$( )` that is inside double quotes, where
                  `\"` quotes like `"` (the string's escapes apply first, as in kaish)
    DQ_NESTED     DQ for a string inside such a `$( )`: `\"` closes it too
    HEREDOC       an interpolating here-doc body
    VARDEFAULT    the WORD of `${X:-WORD}`
    ARITH         inside `$(( ))`

Word characters (LANGUAGE.md): ASCII letters, digits, `_ . @ - / + :`, any
non-ASCII character, plus `,` `~` `=` and the glob characters `* ?`; `#` and
`!` may continue a word but not start one. `{ } [ ]` are their own tokens
because their meaning depends on where they stand.
"""

from __future__ import annotations

from enum import Enum

from kaish_kernel.lang.tokens import TokenKind as K

__all__ = ["BLANKS", "DIGITS", "ERRORS", "LETTERS", "MODE_RULES", "NAME_CHAR", "NAME_START", "SKIPPED", "Mode", "char_class"]


class Mode(Enum):
    __hash__ = object.__hash__  # members are singletons; keeps dict lookups in C

    COMMAND = "command"
    LIST = "list"
    RECORD_KEY = "record-key"
    RECORD_VALUE = "record-value"
    DQ = "double-quote"
    DQ_COMMAND = "command-in-double-quote"
    DQ_NESTED = "double-quote-in-command-in-double-quote"
    HEREDOC = "heredoc"
    VARDEFAULT = "var-default"
    ARITH = "arith"


def char_class(ascii_chars: str) -> str:
    """A class of `ascii_chars` plus every non-ASCII character.

    Written as the negation of its ASCII complement: `re` compiles a class
    spanning U+0080..U+10FFFF slowly, and start-up time matters.
    """
    allowed = {ord(c) for c in ascii_chars}
    ranges: list[str] = []
    start = None
    for code in range(129):
        if code < 128 and code not in allowed:
            if start is None:
                start = code
        elif start is not None:
            last = code - 1
            ranges.append(f"\\x{start:02x}" + (f"-\\x{last:02x}" if last > start else ""))
            start = None
    return "[^" + "".join(ranges) + "]"


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
_WORD_BASE = LETTERS + DIGITS + "_.@-/+~=*?"
NAME_START = char_class(LETTERS + "_")
NAME_CHAR = char_class(LETTERS + DIGITS + "_")


def _word(extra: str) -> str:
    """A bareword run: `extra` adds separators-turned-word-characters (`,` `:`)."""
    first = char_class(_WORD_BASE + extra)
    rest = char_class(_WORD_BASE + extra + "#!")
    return f"{first}{rest}*"


# Bareword forms taken verbatim up to whitespace or an operator, as kaish
# does for `date +%Y-%m-%d`, `tail -n +2`, `echo ---` and job specs `%1`.
def _raw_bare(stop: str) -> list[tuple[K, str]]:
    tail = f"[^\\s()|&;<>{stop}]*"
    return [
        (K.RAW_BARE, f"--[^A-Za-z\\s()|&;<>{stop}]{tail}"),
        (K.RAW_BARE, f"\\+[^A-Za-z\\s()|&;<>{stop}]{tail}"),
        (K.RAW_BARE, f"-[^A-Za-z0-9\\s\\-()|&;<>{stop}]{tail}"),
        (K.RAW_BARE, "%[0-9]+"),
    ]


_EXPANSIONS: list[tuple[K, str]] = [
    (K.ARITH_START, r"\$\(\("),
    (K.CMDSUB_START, r"\$\("),
    (K.VARSUB_START, r"\$\{"),
    (K.VAR, f"\\${NAME_START}{NAME_CHAR}*"),
    (K.SPECIAL, r"\$[0-9?$#@]"),
]

_OPERATORS = r"2>&1|1>&2|>&2|2>|&>|&&|\|\||;;|>>|<<<|<<-|<<|>=|<=|[|&;<>()]"


def _command_like(word_extra: str, raw_stop: str, extra: list[tuple[K, str]]) -> list[tuple[K, str]]:
    return [
        (K.LINE_CONT, r"\\[ \t]*(?:\r\n|\n|\r)"),
        (K.NEWLINE, r"\r\n|\n|\r"),
        (K.COMMENT, r"#[^\r\n]*"),
        (K.OP, _OPERATORS),
        *_raw_bare(raw_stop),
        (K.LIT, r"![=~]"),
        *extra,
        (K.LIT, _word(word_extra)),
        (K.BANG, r"!"),
        (K.LBRACKET, r"\["),
        (K.RBRACKET, r"\]"),
        (K.LBRACE, r"\{"),
        (K.RBRACE, r"\}"),
        (K.SQ, r"'[^']*'"),
        (K.SQ_OPEN, r"'"),
        (K.DQ_START, r'"'),
        *_EXPANSIONS,
        (K.BAD_DOLLAR, r"\$"),
        (K.BACKTICK, r"`"),
        (K.BACKSLASH, r"\\"),
        (K.UNKNOWN, r"[\s\S]"),
    ]


MODE_RULES: dict[Mode, list[tuple[K, str]]] = {
    Mode.COMMAND: _command_like(",:", "", []),
    Mode.LIST: _command_like(":", ",\\]", [(K.COMMA, ",")]),
    Mode.RECORD_KEY: _command_like("", ",:}", [(K.COMMA, ","), (K.COLON, ":")]),
    Mode.RECORD_VALUE: _command_like(":", ",}", [(K.COMMA, ",")]),
    Mode.DQ_COMMAND: [(K.DQ_START, r'\\"'), *_command_like(",:", "", [])],
    Mode.DQ_NESTED: [(K.DQ_END, r'\\?"')],
    Mode.DQ: [
        (K.DQ_END, r'"'),
        (K.ESCAPE, r"\\u[0-9A-Fa-f]{4}|\\[\s\S]"),
        (K.BACKSLASH, r"\\"),
        *_EXPANSIONS,
        (K.DOLLAR, r"\$"),
        (K.TEXT, r'[^"\\$]+'),
    ],
    Mode.HEREDOC: [
        (K.ESCAPE, r"\\(?:\r\n|\n|\r)|\\[\\$]"),
        (K.BACKSLASH, r"\\"),
        *_EXPANSIONS,
        (K.DOLLAR, r"\$"),
        (K.NEWLINE, r"\r\n|\n|\r"),
        (K.TEXT, r"[^\\$\r\n]+"),
    ],
    Mode.VARDEFAULT: [
        (K.VD_END, r"\}"),
        (K.SQ, r"'[^']*'"),
        (K.SQ_OPEN, r"'"),
        (K.DQ_START, r'"'),
        # A backslash run before a quote: an odd run escapes the quote, an even
        # run does not; either way the run halves (bash's pairing rule).
        (K.ESCAPE, r"(?:\\\\)*\\['\"]|(?:\\\\)+(?=['\"])"),
        (K.BACKSLASH, r"\\"),
        *_EXPANSIONS,
        (K.DOLLAR, r"\$"),
        (K.TEXT, r"[^'\"\\$}]+"),
    ],
    Mode.ARITH: [
        (K.LINE_CONT, r"\\(?:\r\n|\n|\r)"),
        (K.NUMBER, r"[0-9]+"),
        (K.NAME, f"{NAME_START}{NAME_CHAR}*"),
        (K.OP, r"==|!=|<=|>=|&&|\|\||[-+*/%<>!()\[\]]"),
        *_EXPANSIONS,
        # `$ COUNT`, `$ ?`: kaish's arithmetic skips blanks after the sigil
        (K.DOLLAR, f"\\$(?=[ \t]+(?:[?$0-9]|{NAME_START}))"),
        (K.BAD_DOLLAR, r"\$"),
        (K.UNKNOWN, r"[\s\S]"),
    ],
}
MODE_RULES[Mode.DQ_NESTED] += MODE_RULES[Mode.DQ][1:]

_COMMAND_MODES = (Mode.COMMAND, Mode.DQ_COMMAND, Mode.LIST, Mode.RECORD_KEY, Mode.RECORD_VALUE)

# Blanks skipped before every token, per mode (matched in the same regex pass;
# possessive, so trailing blanks never backtrack into a catch-all rule).
BLANKS: dict[Mode, str] = {mode: r"[ \t]*+" for mode in _COMMAND_MODES} | {
    Mode.ARITH: r"[ \t\r\n]*+",
}

# Kinds that are always a mistake where they stand, per mode: the lexer raises
# a tailored syntax error (an unclosed `'`, a stray `$`, a backtick, ...).
_COMMAND_ERRORS = frozenset({K.SQ_OPEN, K.BAD_DOLLAR, K.BACKTICK, K.BACKSLASH, K.UNKNOWN})
ERRORS: dict[Mode, frozenset[K]] = {mode: _COMMAND_ERRORS for mode in _COMMAND_MODES} | {
    Mode.ARITH: frozenset({K.BAD_DOLLAR, K.UNKNOWN}),
    Mode.VARDEFAULT: frozenset({K.SQ_OPEN}),
}

# Kinds the lexer consumes without handing them to the parser, per mode.
SKIPPED: dict[Mode, frozenset[K]] = {
    mode: frozenset({K.LINE_CONT, K.COMMENT})
    for mode in _COMMAND_MODES
} | {
    Mode.DQ_NESTED: frozenset(),
    Mode.ARITH: frozenset({K.LINE_CONT}),
    Mode.DQ: frozenset(),
    Mode.HEREDOC: frozenset(),
    Mode.VARDEFAULT: frozenset(),
}
