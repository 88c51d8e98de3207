"""The lexer on its own: which tokens each mode yields for a piece of source."""

from __future__ import annotations

import pytest

from kaish_kernel.errors import KaishSyntaxError
from kaish_kernel.lang.lexer import Lexer, Mode
from kaish_kernel.lang.tokens import TokenKind as K


def tokens(source: str, mode: Mode = Mode.COMMAND) -> list[tuple[str, str]]:
    lx = Lexer(source)
    out = []
    while True:
        tok = lx.next(mode)
        if tok.kind is K.EOF:
            return out
        out.append((tok.kind.value, tok.text))


CASES = [
    # words
    ("echo hi", Mode.COMMAND, [("LIT", "echo"), ("LIT", "hi")]),
    ("a-b.c@d/e+f:g,h~i=j*k?l", Mode.COMMAND, [("LIT", "a-b.c@d/e+f:g,h~i=j*k?l")]),
    ("abc#3 d!e", Mode.COMMAND, [("LIT", "abc#3"), ("LIT", "d!e")]),
    ("café 日本語", Mode.COMMAND, [("LIT", "café"), ("LIT", "日本語")]),
    ("x # comment\ny", Mode.COMMAND, [("LIT", "x"), ("NEWLINE", "\n"), ("LIT", "y")]),
    ("a \\\n b", Mode.COMMAND, [("LIT", "a"), ("LIT", "b")]),
    ("+%s -% --- --=x %1", Mode.COMMAND,
     [("RAW_BARE", "+%s"), ("RAW_BARE", "-%"), ("RAW_BARE", "---"), ("RAW_BARE", "--=x"),
      ("RAW_BARE", "%1")]),
    ("---)", Mode.COMMAND, [("RAW_BARE", "---"), ("OP", ")")]),
    ("-la --long -- -", Mode.COMMAND,
     [("LIT", "-la"), ("LIT", "--long"), ("LIT", "--"), ("LIT", "-")]),
    ("! != !~ !x", Mode.COMMAND, [("BANG", "!"), ("LIT", "!="), ("LIT", "!~"), ("BANG", "!"),
                                  ("LIT", "x")]),
    ("[a] {b}", Mode.COMMAND,
     [("LBRACKET", "["), ("LIT", "a"), ("RBRACKET", "]"), ("LBRACE", "{"), ("LIT", "b"),
      ("RBRACE", "}")]),
    # operators, longest first
    ("a|b||c&d&&e;f;;g", Mode.COMMAND,
     [("LIT", "a"), ("OP", "|"), ("LIT", "b"), ("OP", "||"), ("LIT", "c"), ("OP", "&"),
      ("LIT", "d"), ("OP", "&&"), ("LIT", "e"), ("OP", ";"), ("LIT", "f"), ("OP", ";;"),
      ("LIT", "g")]),
    ("> >> < << <<- <<< 2> &> 2>&1 1>&2 >&2", Mode.COMMAND,
     [("OP", ">"), ("OP", ">>"), ("OP", "<"), ("OP", "<<"), ("OP", "<<-"), ("OP", "<<<"),
      ("OP", "2>"), ("OP", "&>"), ("OP", "2>&1"), ("OP", "1>&2"), ("OP", ">&2")]),
    ("a2>f", Mode.COMMAND, [("LIT", "a2"), ("OP", ">"), ("LIT", "f")]),
    # quotes and expansions
    ("'a $b' \"", Mode.COMMAND, [("SQ", "'a $b'"), ("DQ_START", '"')]),
    ("$x $名前 $1 $? $$ $# $@ ${ $( $((", Mode.COMMAND,
     [("VAR", "$x"), ("VAR", "$名前"), ("SPECIAL", "$1"), ("SPECIAL", "$?"), ("SPECIAL", "$$"),
      ("SPECIAL", "$#"), ("SPECIAL", "$@"), ("VARSUB_START", "${"), ("CMDSUB_START", "$("),
      ("ARITH_START", "$((")]),
    # value-position modes: `,` and `:` separate
    ("1,2 a:b", Mode.LIST, [("LIT", "1"), ("COMMA", ","), ("LIT", "2"), ("LIT", "a:b")]),
    ("port:8080,", Mode.RECORD_KEY,
     [("LIT", "port"), ("COLON", ":"), ("LIT", "8080"), ("COMMA", ",")]),
    ("http://x:1,", Mode.RECORD_VALUE, [("LIT", "http://x:1"), ("COMMA", ",")]),
    # inside double quotes
    ('a \\n\\"$x\\$ $ \\q"', Mode.DQ,
     [("TEXT", "a "), ("ESCAPE", "\\n"), ("ESCAPE", '\\"'), ("VAR", "$x"), ("ESCAPE", "\\$"),
      ("TEXT", " "), ("DOLLAR", "$"), ("TEXT", " "), ("ESCAPE", "\\q"), ("DQ_END", '"')]),
    ('\\"x\\"', Mode.DQ_COMMAND, [("DQ_START", '\\"'), ("LIT", "x"), ("DQ_START", '\\"')]),
    ('a\\"', Mode.DQ_NESTED, [("TEXT", "a"), ("DQ_END", '\\"')]),
    # here-doc bodies: only \$ \\ and backslash-newline escape
    ("a $b \\$ \\\\ \\n\\\nc", Mode.HEREDOC,
     [("TEXT", "a "), ("VAR", "$b"), ("TEXT", " "), ("ESCAPE", "\\$"), ("TEXT", " "),
      ("ESCAPE", "\\\\"), ("TEXT", " "), ("BACKSLASH", "\\"), ("TEXT", "n"), ("ESCAPE", "\\\n"),
      ("TEXT", "c")]),
    # the word of ${X:-WORD}
    ("a 'b' \"c\" \\' }", Mode.VARDEFAULT,
     [("TEXT", "a "), ("SQ", "'b'"), ("TEXT", " "), ("DQ_START", '"')]),
    ("\\\\\\' \\\\'x' }", Mode.VARDEFAULT,
     [("ESCAPE", "\\\\\\'"), ("TEXT", " "), ("ESCAPE", "\\\\"), ("SQ", "'x'"), ("TEXT", " "),
      ("VD_END", "}")]),
    # arithmetic
    ("1 + x*(y) <= 2 && !z ]", Mode.ARITH,
     [("NUMBER", "1"), ("OP", "+"), ("NAME", "x"), ("OP", "*"), ("OP", "("), ("NAME", "y"),
      ("OP", ")"), ("OP", "<="), ("NUMBER", "2"), ("OP", "&&"), ("OP", "!"), ("NAME", "z"),
      ("OP", "]")]),
]


@pytest.mark.parametrize(("source", "mode", "expected"), CASES, ids=[repr(c[0]) for c in CASES])
def test_mode_yields_tokens(source: str, mode: Mode, expected: list[tuple[str, str]]) -> None:
    got = tokens(source, mode)
    assert got[: len(expected)] == expected


def test_spans_cover_exact_source_text() -> None:
    src = "echo  'a b'  $x  # c"
    lx = Lexer(src)
    seen = []
    while (tok := lx.next(Mode.COMMAND)).kind is not K.EOF:
        assert src[tok.start : tok.end] == tok.text
        seen.append(tok.text)
    assert seen == ["echo", "'a b'", "$x"]


def test_peek_does_not_consume_and_seek_backtracks() -> None:
    lx = Lexer("a b")
    first = lx.peek(Mode.COMMAND)
    assert lx.next(Mode.COMMAND) == first
    second = lx.next(Mode.COMMAND)
    lx.seek(first.end)
    assert lx.next(Mode.COMMAND) == second


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("echo `x`", "backticks are not supported"),
        ("echo 'open", "unterminated string"),
        ("echo a$", "`$` must be followed"),
        ("echo \\x", "backslash outside quotes"),
        ("echo 100%", "unexpected character `%`"),
        ("echo $x#3", "`#` starts a comment only at the start of a word"),
        ("echo \u0007", "unexpected character `U+0007`"),
    ],
)
def test_lexer_refuses(source: str, message: str) -> None:
    with pytest.raises(KaishSyntaxError) as info:
        tokens(source)
    assert message in info.value.message


def test_comment_after_a_closer_is_refused_but_after_an_opener_is_a_comment() -> None:
    assert tokens("echo a |# c") == [("LIT", "echo"), ("LIT", "a"), ("OP", "|")]
    assert tokens("(# c") == [("OP", "(")]
    with pytest.raises(KaishSyntaxError):
        tokens("echo ]# c")


def test_heredoc_body_is_skipped_when_its_newline_is_reached() -> None:
    src = "cat <<A <<B\nbody a\nA\nbody b\nB\necho after"
    lx = Lexer(src)
    newline = lx.line_end(0)
    a = lx.read_heredoc_body(newline, "A", strip_tabs=False)
    b = lx.read_heredoc_body(newline, "B", strip_tabs=False)
    assert a is not None and b is not None
    assert src[a.start : a.end] == "body a\n"
    assert src[b.start : b.end] == "body b\n"
    lx.seek(newline)
    assert lx.next(Mode.COMMAND).kind is K.NEWLINE
    assert lx.next(Mode.COMMAND).text == "echo"


def test_line_end_skips_quotes_substitutions_and_comments() -> None:
    src = "cat <<E \"a\nb\" $(x\ny) # c \"\nbody"
    lx = Lexer(src)
    assert lx.line_end(0) == src.index("# c") + len('# c "')


def test_unterminated_heredoc_reads_as_none() -> None:
    lx = Lexer("cat <<E\nbody\n")
    assert lx.read_heredoc_body(lx.line_end(0), "E", strip_tabs=False) is None
