"""Syntax errors as data: where each bad script fails, how, and whether more
input could still complete it (what a notebook front end needs to know).

Each row: source, error code, `line:col`, incomplete?, start of the message.
"""

from __future__ import annotations

import pytest

from kaish_kernel.errors import ErrorCode, KaishSyntaxError
from kaish_kernel.lang.parser import parse

ERRORS = [
    ('echo `ls`', 'P007', '1:6', False, 'backticks are not supported in kaish; use $(cmd) instead'),
    ('echo ok\necho $GREET/world.txt\n', 'P006', '2:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo $dir/file.txt', 'P006', '1:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo /tmp/$(id -u).sock', 'P006', '1:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo $((1+2))abc', 'P006', '1:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo "a"b', 'P006', '1:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo \'a\'"b"', 'P006', '1:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo $x$y', 'P006', '1:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo ${x}_y', 'P006', '1:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo > /tmp/$(echo x).txt', 'P006', '1:8', False, 'adjacent words with no space between them are not joined into the redi'),
    ('cat < /tmp/$(echo x).txt', 'P006', '1:7', False, 'adjacent words with no space between them are not joined into the redi'),
    ('echo --flag$(echo x)', 'P006', '1:6', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo hi -- /tmp/$(echo x).txt', 'P006', '1:12', False, 'adjacent words with no space between them are not joined into one argu'),
    ('echo $x#3', 'P008', '1:8', False, '`#` starts a comment only at the start of a word'),
    ('echo $(f)#3', 'P008', '1:10', False, '`#` starts a comment only at the start of a word'),
    ('echo "abc"#3', 'P008', '1:11', False, '`#` starts a comment only at the start of a word'),
    ('echo $((1+2))#3', 'P008', '1:14', False, '`#` starts a comment only at the start of a word'),
    ('case $x in a)# c\nesac', 'P008', '1:14', False, '`#` starts a comment only at the start of a word'),
    ('echo 100%', 'P009', '1:9', False, 'unexpected character `%`'),
    ('echo a^b', 'P009', '1:7', False, 'unexpected character `^`'),
    ('echo \\$HOME', 'P009', '1:6', False, 'a backslash outside quotes only continues a line'),
    ('echo $', 'P009', '1:6', False, '`$` must be followed by a name, `{`, `(` or one of ? $ # @ 0-9'),
    ('echo -n=1', 'P006', '1:6', False, '`-n=...`: adjacent words with no space between them — a short flag does not take `=value`'),
    ('echo -- -n=1', 'P006', '1:9', False, '`-n=...`: adjacent words with no space between them — a short flag does not take `=value`'),
    ('echo -café', 'P014', '1:6', False, 'flag `-café` has a non-ASCII character; flags are ASCII-only'),
    ('echo --café', 'P014', '1:6', False, 'flag `--café` has a non-ASCII character; flags are ASCII-only'),
    ('set +café', 'P014', '1:5', False, 'flag `+café` has a non-ASCII character; flags are ASCII-only'),
    ('echo -café; echo', 'P014', '1:6', False, 'flag `-café` has a non-ASCII character; flags are ASCII-only'),
    ('echo ${X:-$((1+2))}', 'P011', '1:11', False, 'arithmetic `$((...))` cannot sit inside an unquoted `${...}`'),
    ('echo ${X:-"$((1+2))"}', 'P011', '1:12', False, 'arithmetic `$((...))` cannot sit inside an unquoted `${...}`'),
    ('a-b=1', 'P014', '1:1', False, 'variable name contains `-` (U+002D) — an ASCII name is letters, digits'),
    ('a:b=1', 'P014', '1:1', False, 'variable name contains `:` (U+003A) — an ASCII name is letters, digits'),
    ('if=1', 'P014', '1:1', False, '`if` is a keyword and cannot be assigned'),
    ('then=x', 'P014', '1:1', False, '`then` is a keyword and cannot be assigned'),
    ('for a-b in x; do :; done', 'P014', '1:5', False, 'variable name contains `-` (U+002D) — an ASCII name is letters, digits'),
    ('user[email]=x cmd', 'P014', '1:1', False, '`user[...]=` cannot prefix a command; a command-scoped prefix takes a '),
    ('echo "unterminated', 'P002', '1:6', True, 'unterminated string: missing closing `"`'),
    ("echo 'unterminated", 'P002', '1:6', True, "unterminated string: missing closing `'`"),
    ('echo "$(echo hi', 'P003', '1:7', True, 'unterminated command substitution: missing `)`'),
    ('echo "$(echo "hi")', 'P002', '1:6', True, 'unterminated string: missing closing `"`'),
    ('echo "$(echo "hi"', 'P003', '1:7', True, 'unterminated command substitution: missing `)`'),
    ('echo $(echo hi', 'P003', '1:6', True, 'unterminated command substitution: missing `)`'),
    ('echo ${x', 'P003', '1:6', True, 'unterminated variable reference: missing `}`'),
    ('echo ${', 'P003', '1:6', True, 'unterminated variable reference: missing `}`'),
    ('echo $((1+2', 'P003', '1:6', True, 'unterminated arithmetic expansion, expected closing `))`'),
    ('echo $((1+2)', 'P003', '1:6', True, 'unterminated arithmetic expansion, expected closing `))`'),
    ('cat <<EOF\nhello', 'P004', '1:5', True, 'unterminated heredoc, expected closing delimiter `EOF` on its own line'),
    ('cat <<-DONE\n\thi', 'P004', '1:5', True, 'unterminated heredoc, expected closing delimiter `DONE` on its own lin'),
    ('cat <<EOF', 'P004', '1:5', True, 'unterminated heredoc, expected closing delimiter `EOF` on its own line'),
    ('cat <<', 'P001', '1:5', False, '`<<` needs a delimiter word'),
    ('cat <<< a <<< b', 'P010', '1:11', False, 'multiple stdin redirects on one command are ambiguous; use exactly one'),
    ('cat < in.txt <<< hi', 'P010', '1:14', False, 'multiple stdin redirects on one command are ambiguous; use exactly one'),
    ('cat <<<', 'P001', '1:5', False, '`<<<` needs a target word, found end of input'),
    ('cat <<EOF <in\nx\nEOF', 'P010', '1:11', False, 'multiple stdin redirects on one command are ambiguous; use exactly one'),
    ('echo hi >', 'P001', '1:9', False, '`>` needs a target word, found end of input'),
    ('if true; then', 'P005', '1:1', True, 'unexpected end of input: `if` needs `fi`'),
    ('if true; then echo', 'P005', '1:1', True, 'unexpected end of input: `if` needs `fi`'),
    ('if true', 'P005', '1:1', True, 'unexpected end of input: `if` needs `then`'),
    ('for x in a; do', 'P005', '1:1', True, 'unexpected end of input: `for` needs `done`'),
    ('for x in a', 'P005', '1:1', True, 'unexpected end of input; expected a `for` item, `;` or a newline'),
    ('for x', 'P005', '1:1', True, 'unexpected end of input; expected `in`'),
    ('for x in; do :; done', 'P001', '1:7', False, '`for` needs at least one item after `in`'),
    ('while true; do', 'P005', '1:1', True, 'unexpected end of input: `while` needs `done`'),
    ('case a in', 'P005', '1:1', True, 'unexpected end of input: `case` needs `esac`'),
    ('case a in a) echo', 'P005', '1:1', True, 'unexpected end of input: `case` needs `esac`'),
    ('f() {', 'P005', '1:5', True, 'unexpected end of input: function `f` needs a closing `}`'),
    ('f() { echo', 'P005', '1:5', True, 'unexpected end of input: function `f` needs a closing `}`'),
    ('function f', 'P005', '1:1', True, 'unexpected end of input; expected `{` to open the body of `f`'),
    ('echo a |', 'P015', '1:8', True, '`|` needs a command after it'),
    ('echo a &&', 'P015', '1:8', True, '`&&` needs a command after it'),
    ('echo a ||', 'P015', '1:8', True, '`||` needs a command after it'),
    ('x=[1, 2', 'P005', '1:3', True, 'unterminated list literal: missing `]`'),
    ('x={a: 1', 'P005', '1:3', True, 'unterminated record literal: missing `}`'),
    ('x={a', 'P005', '1:3', True, 'unexpected end of input; expected `:`'),
    ('x={a:', 'P005', '1:3', True, 'unexpected end of input; expected a value'),
    ('[[ -f x', 'P005', '1:1', True, 'unexpected end of input; expected `]]`'),
    ('[[ -f x ]', 'P001', '1:9', False, 'unexpected `]`; expected `]]`'),
    ('[[ ]]', 'P001', '1:4', False, 'empty `[[ ]]`: expected a test expression'),
    ('[[ -f ]]', 'P001', '1:4', False, '`-f` needs an operand'),
    ('[[ a == ]]', 'P001', '1:9', False, 'unexpected `]`; expected an operand after `==`'),
    ('[[ -f x\n]]', 'P001', '1:8', False, 'a `[[ ]]` test must close on the line it opens'),
    ('[[ a b ]]', 'P001', '1:6', False, 'unexpected `b`; expected `]]`'),
    ('echo \\', 'P015', '1:6', True, 'a line continuation `\\` needs a following line'),
    ('fi', 'P001', '1:1', False, 'unexpected `fi`'),
    ('done', 'P001', '1:1', False, 'unexpected `done`'),
    ('then', 'P001', '1:1', False, 'unexpected `then`'),
    ('esac', 'P001', '1:1', False, 'unexpected `esac`'),
    ('}', 'P001', '1:1', False, 'unexpected `}`; expected a command'),
    (')', 'P001', '1:1', False, 'unexpected `)`; expected a command'),
    (';;', 'P001', '1:1', False, 'unexpected `;;`; expected a command'),
    (';', 'P001', '1:1', False, 'unexpected `;`; expected a command'),
    ('| a', 'P001', '1:1', False, 'unexpected `|`; expected a command'),
    ('&& a', 'P001', '1:1', False, 'unexpected `&&`; expected a command'),
    ('echo a; ; b', 'P001', '1:9', False, 'unexpected `;`; expected a command'),
    ('echo {a,b}', 'P001', '1:6', False, 'unexpected `{`; expected `;` or a newline'),
    ('(echo)', 'P001', '1:1', False, 'kaish has no subshells `( ... )`'),
    ('{ echo; }', 'P001', '1:1', False, 'brace groups `{ ...; }` are not supported'),
    ('[ -f x ]', 'P001', '1:1', False, '`[ ... ]` is not kaish syntax'),
    ('echo ${u.name}', 'P011', '1:6', False, '${u.name}: kaish reads collections with brackets, not dots — write ${u'),
    ('echo ${a.b.c}', 'P011', '1:6', False, '${a.b.c}: kaish reads collections with brackets, not dots — write ${a['),
    ('echo "[${v:0:5}]"', 'P011', '1:8', False, '${v:0:5}: kaish slices with brackets, not `:offset:length` — write ${v'),
    ('echo ${v::5}', 'P011', '1:6', False, '${v::5}: kaish slices with brackets, not `:offset:length` — write ${v['),
    ('echo ${v:5}', 'P011', '1:6', False, '${v:5}: kaish slices with brackets, not `:offset:length` — write ${v[5'),
    ('echo ${v#pre}', 'P011', '1:6', False, '${v#pre}: this parameter expansion is not supported; kaish has `${X}`,'),
    ('echo ${v%suf}', 'P011', '1:6', False, '${v%suf}: this parameter expansion is not supported; kaish has `${X}`,'),
    ('echo ${v/a/b}', 'P011', '1:6', False, '${v/a/b}: this parameter expansion is not supported; kaish has `${X}`,'),
    ('echo ${v-x}', 'P011', '1:6', False, '${v-x}: this parameter expansion is not supported; kaish has `${X}`, `'),
    ('echo ${#v:-yy}', 'P011', '1:6', False, 'a length cannot carry a default: `${#...}` is always defined'),
    ('echo ${10}', 'P011', '1:6', False, 'only $0 through $9 are positional parameters'),
    ('echo ${x[]}', 'P011', '1:9', False, 'bad subscript: expected [index], [key], ["key"], [$var] or [start:end]'),
    ('echo ${x[0}', 'P011', '1:9', False, 'bad subscript: expected [index], [key], ["key"], [$var] or [start:end]'),
    ('echo ${1x}', 'P011', '1:6', False, 'only $0 through $9 are positional parameters'),
    ('echo ${}', 'P011', '1:8', False, 'expected a variable name after `${`'),
    ('logs=[0-9]*.log', 'P013', '1:6', False, '`[0-9]*.log` is a glob, and globs do not expand at value position'),
    ('x=[a]b', 'P013', '1:3', False, '`[a]b` is a glob, and globs do not expand at value position'),
    ('x={msg: hello world}', 'P013', '1:15', False, 'record value: unexpected word "world" after the value — a multi-word v'),
    ('x={a b}', 'P013', '1:6', False, 'expected `:` after record key, found `b`'),
    ('x={[a]: 1}', 'P006', '1:4', False, 'adjacent words with no space between them are not joined into one valu'),
    ('x={$k: 1}', 'P013', '1:4', False, 'a record key is a bareword or a quoted string'),
    ('x=[1 2]] ', 'P013', '1:3', False, '`[1 2]]` is a glob, and globs do not expand at value position'),
    ('x=...$y', 'P006', '1:3', False, 'adjacent words with no space between them are not joined into one valu'),
    ('echo $((1 +))', 'P012', '1:12', False, 'bad arithmetic: unexpected `)`; expected a number, a name or `(`'),
    ('echo $((1 ** 2))', 'P012', '1:12', False, 'bad arithmetic: unexpected `*`; expected a number, a name or `(`'),
    ('echo $((x = 1))', 'P009', '1:11', False, 'unexpected character `=`'),
    ('echo $(( (1 + 2 ))', 'P003', '1:6', True, 'unterminated arithmetic expansion, expected closing `))`'),
    ('echo $((a[1))', 'P012', '1:12', False, 'bad arithmetic: unexpected `)`; expected `]`'),
    ('local x', 'P001', '1:1', False, '`local` needs NAME=value'),
    ('local', 'P001', '1:1', False, '`local` needs NAME=value'),
    ('while done', 'P001', '1:7', False, 'unexpected `done`'),
    ('while true; do echo; done > f', 'P001', '1:27', False, 'redirects on a compound command are not supported'),
    ('echo "$(if true; echo 1; fi)"', 'P001', '1:26', False, 'unexpected `fi`'),
    ('echo "pre $(;;"', 'P001', '1:13', False, 'unexpected `;;`; expected a command'),
    ('echo $(if true; echo 1; fi)', 'P001', '1:25', False, 'unexpected `fi`'),
    ('! x=1', 'P001', '1:3', False, 'an assignment cannot be negated or be a pipeline stage'),
    ('x=1 &', 'P001', '1:5', False, 'unexpected `&`; expected `;` or a newline'),
    ('x=1 | cat', 'P001', '1:5', False, 'unexpected `|`; expected `;` or a newline'),
    ('A=1 if true; then :; fi', 'P001', '1:1', False, 'a `NAME=value` prefix needs a simple command after it'),
    ('x+=1', 'P001', '1:1', False, 'kaish has no `+=`'),
    ('arr=(a b c)', 'P013', '1:5', False, 'bash arrays `name=(a b)` are not kaish'),
    ('echo ${x:-$(echo hi}', 'P003', '1:11', False, 'unterminated command substitution: missing `)`'),
    ('cat <<EOF\n${x:-$(echo hi}\nEOF\n', 'P003', '2:6', False, 'unterminated command substitution'),
    ('echo $(echo ${x:-$(echo hi})', 'P003', '1:18', False, 'unterminated command substitution'),
    ('! x=1', 'P001', '1:3', False, 'an assignment cannot be negated or be a pipeline stage'),
    ('a | x=1', 'P001', '1:5', False, 'an assignment cannot be negated or be a pipeline stage'),
    ('x=$(cat <<EOF\nhi\n)', 'P004', '1:9', True, 'unterminated heredoc, expected closing delimiter `EOF` on its own line'),
    ('cat <<EOF\n$(echo\nEOF', 'P003', '2:1', True, 'unterminated command substitution: missing `)`'),
]


@pytest.mark.parametrize(
    ("source", "code", "where", "incomplete", "message"),
    ERRORS,
    ids=[repr(row[0])[:60] for row in ERRORS],
)
def test_bad_source_fails_where_and_how_expected(
    source: str, code: str, where: str, incomplete: bool, message: str
) -> None:
    with pytest.raises(KaishSyntaxError) as info:
        parse(source)
    err = info.value
    assert (err.code, f"{err.line}:{err.column}", err.incomplete) == (code, where, incomplete)
    assert err.message.startswith(message)


def test_error_renders_position_line_and_caret() -> None:
    with pytest.raises(KaishSyntaxError) as info:
        parse("echo ok\necho $GREET/world.txt\n")
    text = info.value.render()
    assert text.startswith("2:6 [parse]: adjacent words")
    assert "  | echo $GREET/world.txt\n  |      ^" in text
    assert 'write "$GREET/world.txt"' in text


def test_glue_hint_quotes_the_whole_word() -> None:
    with pytest.raises(KaishSyntaxError) as info:
        parse("echo /tmp/$(id -u).sock")
    assert info.value.hint == 'write "/tmp/$(id -u).sock"'


def test_unquoted_multiword_record_value_names_the_quoted_fix() -> None:
    with pytest.raises(KaishSyntaxError) as info:
        parse("x={msg: hello world}")
    assert 'unexpected word "world"' in info.value.message
    assert "quoted" in info.value.message
    assert '{key: "hello world"}' in info.value.hint


def test_dotted_access_names_the_bracket_form() -> None:
    with pytest.raises(KaishSyntaxError) as info:
        parse("echo ${u.name}")
    assert "${u[name]}" in info.value.render()


def test_bash_substring_names_the_bracket_slice() -> None:
    with pytest.raises(KaishSyntaxError) as info:
        parse('echo "${v::5}"')
    assert "${v[0:5]}" in info.value.message


def test_hash_after_an_expansion_names_the_quote_fix() -> None:
    with pytest.raises(KaishSyntaxError) as info:
        parse("x=q; echo $x#3; echo second")
    assert info.value.code == ErrorCode.BAD_HASH
    assert '"$x#3"' in info.value.hint


def test_name_errors_name_the_codepoint() -> None:
    with pytest.raises(KaishSyntaxError) as info:
        parse("a\u00a0b=1")
    assert "U+00A0" in info.value.message and "quote" in info.value.message
