"""The shared regex dialect: GNU BRE superset rewrite, translation, refusals."""

from __future__ import annotations

import pytest

from kaish_kernel.tools.builtins._regex_dialect import (
    RegexDialectError,
    compile_regex,
    dialect_hint,
    iter_matches,
    rewrite_bre_metas,
    translate,
)

# (pattern, rewritten) — the GNU BRE metas lose their backslash, nothing else does.
REWRITES = [
    (r"foo\|bar", "foo|bar"),
    (r"a\|b\|c", "a|b|c"),
    (r"a\+", "a+"),
    (r"a\?", "a?"),
    (r"\(foo\)\+", "(foo)+"),
    (r"x\{2,5\}", "x{2,5}"),
    (r"\d\.\w\b", r"\d\.\w\b"),
    (r"a\\|b", r"a\\|b"),
    (r"a\\\|b", r"a\\|b"),
    ("foo|bar", "foo|bar"),
    ("a+b?", "a+b?"),
    (r"[\|]", "[|]"),
    (r"[\{]", "[{]"),
    ("foo\\", "foo\\"),
    ("plain", "plain"),
]


@pytest.mark.parametrize(("pattern", "expected"), REWRITES)
def test_rewrite_bre_metas(pattern: str, expected: str) -> None:
    assert rewrite_bre_metas(pattern) == expected


# (pattern, extended, text, expected list of matched strings)
MATCHES = [
    (r"cat\|dog", False, "cat dog fish", ["cat", "dog"]),
    (r"cat\|dog", True, "cat|dog cat", ["cat|dog"]),
    (r"\(ab\)\+", False, "ababx", ["abab"]),
    (r"a\{2\}", False, "aaaa", ["aa", "aa"]),
    (r"\(x\)", True, "(x) x", ["(x)"]),
    ("[[:digit:]]+", False, "a12b345", ["12", "345"]),
    ("[[:alpha:]_]+", False, "foo_bar 9", ["foo_bar"]),
    ("[^[:space:]]+", False, "a b\tc", ["a", "b", "c"]),
    ("[[:upper:][:digit:]]", False, "aB3c", ["B", "3"]),
    ("[[:^digit:]x]", False, "1a2", ["a"]),
    ("[[:punct:]]", False, "a,b.c!", [",", ".", "!"]),
    ("[]x]", False, "a]x", ["]", "x"]),
    ("[^]x]", False, "]xy", ["y"]),
    ("[a[]", False, "x[a", ["[", "a"]),
    (r"\<the\>", False, "the other then the", ["the", "the"]),
    ("o$", False, "foo\nxo", ["o"]),
    (r"\x{41}", False, "ABA", ["A", "A"]),
    ("(?i)abc", False, "ABC abc", ["ABC", "abc"]),
    ("x(?i)y", False, "xY XY", ["xY"]),
    ("(?<word>a+)b", False, "aab", ["aab"]),
    (r"a\.b", False, "a.b axb", ["a.b"]),
    (r"a\\|b", False, "a\\ b", ["a\\", "b"]),
]


@pytest.mark.parametrize(("pattern", "extended", "text", "expected"), MATCHES)
def test_translated_pattern_matches(
    pattern: str, extended: bool, text: str, expected: list[str]
) -> None:
    regex = compile_regex(pattern, extended=extended)
    assert [m.group(0) for m in regex.finditer(text)] == expected


def test_dollar_is_end_of_text_unless_multiline() -> None:
    assert compile_regex("a$", extended=False).search("a\n") is None
    assert compile_regex("a$", extended=False, multiline=True).search("a\nb") is not None


def test_ignore_case() -> None:
    assert compile_regex("abc", extended=False, ignore_case=True).search("xABCx")


def test_translate_returns_wrappable_source() -> None:
    source = translate("(?i)ab", extended=False)
    import re

    assert re.compile(rf"\b(?:{source})\b").search("x AB y")


# (pattern, extended, substring of the error)
ERRORS = [
    (r"a\)", False, "GNU BRE"),
    (r":\)", False, "[)]"),
    (r"a\)", False, "-E"),
    ("a)", True, "unbalanced"),
    (r"(a)\1", False, "backreference"),
    (r"(a)\1", True, "backreference"),
    ("(?=x)", False, "look-around"),
    ("(?<!x)y", False, "look-around"),
    ("(?P=n)", False, "backreference"),
    ("[abc", False, "unclosed"),
    ("*a", False, "invalid regex"),
    ("[[:nope:]]", False, "unknown POSIX class"),
    (r"\p{L}", False, "not supported"),
    ("(?U)a", False, "swap greed"),
]


@pytest.mark.parametrize(("pattern", "extended", "needle"), ERRORS)
def test_refusals_and_errors(pattern: str, extended: bool, needle: str) -> None:
    with pytest.raises(ValueError) as info:
        translate(pattern, extended=extended)
    assert needle in str(info.value)


def test_strict_ere_error_has_no_dialect_note() -> None:
    with pytest.raises(RegexDialectError) as info:
        translate("a)", extended=True)
    assert "GNU BRE" not in str(info.value)
    assert not info.value.rewrote


def test_hint_names_the_callers_strict_flag() -> None:
    with pytest.raises(RegexDialectError) as info:
        compile_regex(r"a\)", extended=False, strict_flag="-E/-r")
    assert "-E/-r" in str(info.value)
    with pytest.raises(RegexDialectError) as info:
        compile_regex(r"a\)", extended=False, strict_flag=None)
    assert "GNU BRE" in str(info.value) and "-E" not in str(info.value)
    assert info.value.rewrote and info.value.detail.startswith("invalid regex")


def test_dialect_hint_text() -> None:
    assert "[|]" in dialect_hint(None)
    assert "pass -E" in dialect_hint("-E")


@pytest.mark.parametrize(
    ("pattern", "text", "spans"),
    [
        ("a*", "baac", [(0, 0), (1, 3), (4, 4)]),
        ("x*", "abc", [(0, 0), (1, 1), (2, 2), (3, 3)]),
        ("", "ab", [(0, 0), (1, 1), (2, 2)]),
        ("o", "foo", [(1, 2), (2, 3)]),
        ("^", "abc", [(0, 0)]),
    ],
)
def test_iter_matches_skips_empty_match_after_a_match(
    pattern: str, text: str, spans: list[tuple[int, int]]
) -> None:
    regex = compile_regex(pattern, extended=False)
    assert [m.span() for m in iter_matches(regex, text)] == spans
