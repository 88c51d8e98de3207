"""Property: no input crashes the front end.

Whatever the text, `parse` returns a Program or raises KaishSyntaxError;
`validate` raises nothing but KaishValidationError; `is_complete` always
answers. Inputs are random shell-flavoured text and mutations of real kaish
scripts (the conformance corpus, when present, plus the parse cases here).
"""

from __future__ import annotations

import json
import os
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaish_kernel.errors import KaishSyntaxError
from kaish_kernel.lang.parser import is_complete, parse, validate
from tests.lang.parse_cases import ALL

ALPHABET = (
    "abcxyz019_-./+:,@~=*?!#%^"
    " \t\n\r"
    "'\"`\\$"
    "{}[]()<>|&;"
    "é日😁\u00a0\u200b"
)
KEYWORDS = [
    "if ", "then ", "elif ", "else ", "fi", "for ", "in ", "do ", "done", "while ", "case ",
    "esac", ") ", ";; ", "function ", "f() { ", "}", "[[ ", " ]]", "$(", "$((", "))", "${",
    "<<EOF\n", "\nEOF\n", "<<-'X'\n", "<<<", "2>&1", "&&", "||", "| ", "x=", "local ",
    "[1, 2]", "{a: 1}", "...$x", "-eq ", "== ", "not in ", "\\\n",
]

CORPUS = Path(os.environ.get("KAISH_CONFORMANCE", "/work/shared/conformance/cases.jsonl"))
SCRIPTS = [source for source, _ in ALL]
if CORPUS.exists():
    SCRIPTS += [json.loads(line)["script"] for line in CORPUS.read_text().splitlines() if line]

FUZZ = settings(
    max_examples=int(os.environ.get("KAISH_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _spans_inside(node: Any, length: int) -> None:
    """Every span in the tree lies within the source."""
    stack = [node]
    while stack:
        current = stack.pop()
        span = getattr(current, "span", None)
        if span is not None:
            assert 0 <= span.start <= span.end <= length, (current, length)
        for f in fields(current):
            value = getattr(current, f.name)
            if isinstance(value, tuple):
                stack.extend(v for v in value if is_dataclass(v))
            elif is_dataclass(value) and not isinstance(value, type):
                stack.append(value)


def _front_end(source: str) -> None:
    try:
        program = parse(source)
    except KaishSyntaxError as err:
        assert 0 <= err.offset <= len(source)
        err.render()
    else:
        _spans_inside(program, len(source))
        try:
            validate(program)
        except KaishSyntaxError as err:
            err.render()
    status, indent = is_complete(source)
    assert status in ("complete", "incomplete", "invalid")
    assert not indent.strip()


@FUZZ
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_random_text_never_crashes(source: str) -> None:
    _front_end(source)


@FUZZ
@given(st.lists(st.sampled_from(KEYWORDS + list(ALPHABET)), max_size=30).map("".join))
def test_random_keyword_soup_never_crashes(source: str) -> None:
    _front_end(source)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    source = draw(st.sampled_from(SCRIPTS))
    for _ in range(draw(st.integers(1, 3))):
        n = len(source)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 8)))
        how = draw(st.sampled_from(["delete", "insert", "duplicate", "truncate", "swap"]))
        if how == "delete":
            source = source[:i] + source[j:]
        elif how == "insert":
            piece = draw(st.sampled_from(KEYWORDS + list(ALPHABET)))
            source = source[:i] + piece + source[i:]
        elif how == "duplicate":
            source = source[:j] + source[i:j] + source[j:]
        elif how == "truncate":
            source = source[:i]
        elif i < j:
            source = source[:i] + source[j - 1] + source[i + 1 : j - 1] + source[i] + source[j:]
    return source


@FUZZ
@given(mutated())
def test_mutated_scripts_never_crash(source: str) -> None:
    _front_end(source)


def test_deep_nesting_is_a_syntax_error_not_a_crash() -> None:
    for source in [
        "echo " + "$(echo " * 3000 + ")" * 3000,
        "x=" + "[" * 3000 + "]" * 3000,
        "echo $((" + "(" * 3000 + "1" + ")" * 3000 + "))",
        "[[ " + "! " * 3000 + "a ]]",
        "if true; then " * 3000,
        'echo "' + '$(echo "' * 3000,
        "echo ${a:-" * 3000,
    ]:
        try:
            parse(source)
        except KaishSyntaxError as err:
            assert "nesting too deep" in err.message or err.incomplete
