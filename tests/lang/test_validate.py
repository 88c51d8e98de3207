"""`validate`: the pre-run checks that need only the tree (kaish's E0xx codes)."""

from __future__ import annotations

import pytest

from kaish_kernel.errors import KaishValidationError
from kaish_kernel.lang.parser import parse, validate

REFUSED = [
    # E012: a bare variable as a for item (no word splitting)
    ("v=1; for x in $v; do echo $x; done", "E012", "1:15", ""),
    ("for x in ${v}; do :; done", "E012", "1:10", ""),
    ("for x in ${v[tags]}; do :; done", "E012", "1:10", ""),
    ("for x in a ${v:-b}; do :; done", "E012", "1:12", ""),
    ("x=$(for i in $v; do :; done)", "E012", "1:14", ""),
    ("f() { for i in $v; do :; done; }", "E012", "1:16", ""),
    # E014: scatter with no gather in the same pipeline
    ("seq 3 | scatter | echo $ITEM", "E014", "1:1", ""),
    ("scatter", "E014", "1:1", ""),
    # E017: dotted assignment targets, with the bracket spelling
    ("user.email=x", "E017", "1:1", "user[email]"),
    ("X.Y=v echo hi", "E017", "1:1", "X[Y]"),
    ("a.b.c=1", "E017", "1:1", "a[b.c]"),
    ("local u.n=1", "E017", "1:7", "u[n]"),
    # E018: `#` in an assignment target
    ("abc#3=5", "E018", "1:1", "abc_3"),
    # E020: test's -a / -o / ( / ) compound forms
    ("test a = a -o b = c", "E020", "1:1", "&&"),
    ("test a = a -a b = b", "E020", "1:1", "||"),
    ("test '(' a = a ')'", "E020", "1:1", ""),
    ('test -z "" -o -z x', "E020", "1:1", ""),
    ("test -f file.txt -a -f sub", "E020", "1:1", ""),
    ("if test a = a -o b = c; then echo t; fi", "E020", "1:4", ""),
    ("test -a x", "E020", "1:1", ""),
    ("test ! -o x", "E020", "1:1", ""),
]

ACCEPTED = [
    "for x in $(values $xs); do echo $x; done",
    'for x in "$v"; do :; done',
    "for x in a b *.txt; do :; done",
    "for x in $@; do :; done",
    "seq 3 | scatter | echo $ITEM | gather",
    "seq 3 | scatter --as N | echo $N | grep 2 | gather --lines",
    "user[email]=x",
    "x=1",
    'test "-o" = "-o"',
    "test -f -a",
    "test -a",
    'test "-o"',
    'test "("',
    "test a = a && test b = b",
    "test -f $x -a $y",
    "echo -a -o",
]


@pytest.mark.parametrize(("source", "code", "where", "text"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_before_running(source: str, code: str, where: str, text: str) -> None:
    with pytest.raises(KaishValidationError) as info:
        validate(parse(source))
    err = info.value
    assert (err.code, f"{err.line}:{err.column}") == (code, where)
    rendered = err.render()
    assert rendered.startswith(f"{where} [{code}]: ")
    assert text in rendered


@pytest.mark.parametrize("source", ACCEPTED)
def test_accepted(source: str) -> None:
    validate(parse(source))


def test_first_problem_in_source_order_wins() -> None:
    with pytest.raises(KaishValidationError) as info:
        validate(parse("a.b=1\nfor x in $v; do :; done"))
    assert info.value.code == "E017"


def test_e020_message_points_at_shell_operators() -> None:
    with pytest.raises(KaishValidationError) as info:
        validate(parse("test a = a -o b = c"))
    assert "&&" in info.value.message and "||" in info.value.message
