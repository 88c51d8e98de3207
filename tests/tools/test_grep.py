"""grep: dialect, flags, exit codes, files and -r, --json, streaming."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaish_kernel.tools.builtins.grep import Grep, matching_lines
from kaish_kernel.tools.builtins.text import Head
from tests.tool_harness import FakeShell, run_tool
from tests.tools.text_pipeline import ChunkedInput, EndlessInput, arun_stage, run_pipeline


@pytest.fixture
def tree(tmp_path: Path) -> FakeShell:
    (tmp_path / "f.txt").write_bytes(b"alpha\nbravo\nmatch me\ndelta\nmatch me too\n")
    (tmp_path / "g.txt").write_bytes(b"nothing here\nmatch\n")
    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    (src / "main.rs").write_bytes(b"fn main() {\n    // TODO: implement\n}\n")
    (src / "lib" / "utils.rs").write_bytes(b"pub fn util() {}\n// TODO later\n")
    (src / "notes.md").write_bytes(b"TODO docs\n")
    (src / ".hidden").write_bytes(b"TODO secret\n")
    return FakeShell(cwd_path=str(tmp_path))


def grep(*words: object, stdin: bytes = b"", shell: FakeShell | None = None):  # type: ignore[no-untyped-def]
    return run_tool(Grep, *words, stdin=stdin, shell=shell)


# ---------------------------------------------------------------- dialect


@pytest.mark.parametrize(
    ("words", "data", "expected"),
    [
        (("foo\\|bar",), b"foo line\nbar line\nbaz line\n", b"foo line\nbar line\n"),
        (("-c", "alpha\\|gamma\\|delta"), b"alpha\nbeta\ngamma\ndelta\n", b"3\n"),
        (("\\(abc\\)\\+",), b"abcabc\nxyz\n", b"abcabc\n"),
        (("-c", "a\\{2\\}"), b"aa\na\naaa\n", b"2\n"),
        (("foo|bar",), b"foo\nbar\nbaz\n", b"foo\nbar\n"),
        (("-E", "foo\\|bar"), b"foo\nbar\nfoo|bar\n", b"foo|bar\n"),
        (("-E", "foo|bar"), b"foo\nbar\nbaz\n", b"foo\nbar\n"),
        (("a\\.b",), b"a.b\naxb\n", b"a.b\n"),
        (("-F", "a|b"), b"a|b\nab\n", b"a|b\n"),
        (("-F", "a\\|b"), b"a\\|b\na|b\na\nb\n", b"a\\|b\n"),
        (("-F", "1.1"), b"1.1\n1x1\n", b"1.1\n"),
        (("[[:digit:]]\\+",), b"abc\na1\n", b"a1\n"),
        (("^line",), b"line one\nfour\n", b"line one\n"),
        (("one$",), b"line one\none two\n", b"line one\n"),
    ],
)
def test_dialect(words: tuple[str, ...], data: bytes, expected: bytes) -> None:
    r = grep(*words, stdin=data)
    assert (r.code, r.stdout, r.stderr) == (0, expected, "")


def test_bad_rewritten_group_names_the_gnu_bre_dialect(tree: FakeShell) -> None:
    (Path(tree.cwd) / "t.txt").write_bytes(b"smiley :)\n")
    r = grep(":\\)", "t.txt", shell=tree)
    assert r.code == 1 and r.stdout == b""
    assert "GNU BRE" in r.stderr and "[)]" in r.stderr and "-E" in r.stderr
    assert r.stderr.startswith("grep: invalid")


def test_invalid_regex_is_reported() -> None:
    r = grep("[invalid", stdin=b"x\n")
    assert r.code == 1 and "invalid" in r.stderr


def test_missing_pattern_is_a_usage_error() -> None:
    r = grep()
    assert r.code == 2 and "pattern" in r.stderr


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("words", "data", "expected", "code"),
    [
        (("line",), b"line one\nline two\nline three\nfour\nfive\n", b"line one\nline two\nline three\n", 0),
        (("-i", "error"), b"INFO a\nERROR c\n", b"ERROR c\n", 0),
        (("-i", "HeLLo"), "hello\nHELLO\nhéllo\nxx\n".encode(), b"hello\nHELLO\n", 0),
        (("-i", "h.llo"), "hello\nHÉLLO\n".encode(), "hello\nHÉLLO\n".encode(), 0),
        (("-n", "impl"), b"use x;\nimpl A {}\nfn f() {}\n", b"2:impl A {}\n", 0),
        (("-v", "b"), b"a\nb\nc\n", b"a\nc\n", 0),
        (("-vn", "b"), b"a\nb\nc", b"1:a\n3:c\n", 0),
        (("-vc", "b"), b"a\nb\nc\nd\n", b"3\n", 0),
        (("-c", "x"), b"a\nb\n", b"0\n", 1),
        (("-o", "hello"), b"hello world hello\nfoo bar\n", b"hello\nhello\n", 0),
        (("-on", "o"), b"foo\nbar\n", b"1:o\n1:o\n", 0),
        (("-io", "HeLLo"), b"say Hello hello\n", b"Hello\nhello\n", 0),
        (("-w", "foo"), b"foobar\nfoo bar\nbarfoo\n", b"foo bar\n", 0),
        (("-iw", "foo"), b"FOO bar\nfoobar\n", b"FOO bar\n", 0),
        (("-w", "a|b"), b"a\nab\nb c\n", b"a\nb c\n", 0),
        (("-q", "TODO"), b"TODO: x\n", b"", 0),
        (("-q", "TODO"), b"done\n", b"", 1),
        (("-l", "a"), b"a\n", b"(standard input)\n", 0),
        (("--max-count", 2, "x"), b"x\nx\nx\nx\nx\n", b"x\nx\n", 0),
        (("--max-count", 0, "x"), b"x\nx\n", b"", 1),
        (("-c", "--max-count", 2, "x"), b"x\nx\nx\nx\nx\n", b"2\n", 0),
        (("-m", 1, "-v", "b"), b"a\nb\nc\n", b"a\n", 0),
        (("-e", "a", "-e", "c"), b"a\nb\nc\n", b"a\nc\n", 0),
        (("-c", "^"), b"a\n\nb\n", b"3\n", 0),
        (("-c", "$"), b"a\nb", b"2\n", 0),
        (("-c", "a\\sb"), b"a\nb\na b\n", b"1\n", 0),
        (("-c", "a[^x]b"), b"a\nb\naxb\naab\n", b"1\n", 0),
        (("x",), b"", b"", 1),
        (("-H", "b"), b"a\nb\n", b"(standard input):b\n", 0),
    ],
)
def test_flags(words: tuple[object, ...], data: bytes, expected: bytes, code: int) -> None:
    r = grep(*words, stdin=data)
    assert (r.code, r.stdout, r.stderr) == (code, expected, "")


def test_context_lines_use_dash_and_group_separators() -> None:
    data = b"line one\nline two\nline three\nfour"
    assert grep("-n", "-C", 1, "two", stdin=data).stdout == b"1-line one\n2:line two\n3-line three\n"
    data = b"match1\nbetween1\nbetween2\nbetween3\nbetween4\nmatch2\n"
    assert grep("-C", 1, "match", stdin=data).stdout == b"match1\nbetween1\n--\nbetween4\nmatch2\n"
    assert grep("-A", 1, "match", stdin=data).stdout == b"match1\nbetween1\n--\nmatch2\n"
    assert grep("-B", 2, "match2", stdin=data).stdout == b"between3\nbetween4\nmatch2\n"
    assert grep("-C", 5, "match", stdin=data).stdout == data


def test_max_count_still_prints_trailing_context() -> None:
    data = b"x1\nmid\nx2\nmid2\n"
    assert grep("-m", 1, "-A", 1, "x", stdin=data).stdout == b"x1\nmid\n"
    assert grep("-m", 1, "-A", 3, "x", stdin=data).stdout == b"x1\nmid\n"


def test_context_counts_must_be_numbers() -> None:
    assert grep("-C", "lots", "x", stdin=b"x\n").code == 2


def test_json_rows_carry_line_anchor_offsets_and_submatches() -> None:
    data = "alpha\nbravo\nmatch me\ndéjà match\n".encode()
    r = grep("match", "--json", stdin=data)
    assert [row["line"] for row in r.data] == [3, 4]
    assert r.data[0] == {
        "path": None,
        "line": 3,
        "byte_offset": 12,
        "line_text": "match me",
        "submatches": [{"text": "match", "start": 0, "end": 5}],
    }
    assert r.data[1]["byte_offset"] == 21
    assert r.data[1]["submatches"] == [{"text": "match", "start": 7, "end": 12}]
    assert grep("zzz", "--json", stdin=data).stdout == b""
    assert grep("-c", "match", "--json", stdin=data).stdout == b'"2\\n"'


# ---------------------------------------------------------------- files


def test_single_file_has_no_name_prefix(tree: FakeShell) -> None:
    assert grep("-n", "match", "f.txt", shell=tree).stdout == b"3:match me\n5:match me too\n"


def test_several_files_get_name_prefixes(tree: FakeShell) -> None:
    r = grep("-n", "match", "f.txt", "g.txt", shell=tree)
    assert r.stdout == b"f.txt:3:match me\nf.txt:5:match me too\ng.txt:2:match\n"
    r = grep("-c", "match", "f.txt", "g.txt", shell=tree)
    assert r.stdout == b"f.txt:2\ng.txt:1\n"
    r = grep("-l", "too", "f.txt", "g.txt", shell=tree)
    assert r.stdout == b"f.txt\n"
    r = grep("-h", "match", "f.txt", "g.txt", shell=tree)
    assert r.stdout == b"match me\nmatch me too\nmatch\n"


def test_missing_files(tree: FakeShell) -> None:
    r = grep("x", "gone.txt", shell=tree)
    assert r.code == 2 and r.stderr == "grep: gone.txt: not found\n"
    r = grep("match", "gone.txt", "g.txt", shell=tree)
    assert r.code == 2 and r.stdout == b"g.txt:match\n"
    r = grep("-q", "match", "gone.txt", "g.txt", shell=tree)
    assert r.code == 0


def test_binary_input_is_refused_with_status_2(tree: FakeShell) -> None:
    r = grep("x", stdin=b"ok\n\xff\xfe\n")
    assert r.code == 2 and "not valid UTF-8" in r.stderr and "(standard input)" in r.stderr


def test_nul_byte_stops_the_search_unless_binary_text(tree: FakeShell) -> None:
    data = b"foo first\nfoo\x00bar\nsecond line foo\n"
    assert grep("foo", stdin=data).stdout == b"foo first\n"
    assert grep("--binary", "text", "foo", stdin=data).stdout == data
    assert grep("--binary", "bogus", "foo", stdin=data).code == 2


def test_recursive_search_walks_in_name_order_skipping_hidden(tree: FakeShell) -> None:
    r = grep("-r", "TODO", "src", shell=tree)
    assert r.stdout == (
        b"src/lib/utils.rs:// TODO later\n"
        b"src/main.rs:    // TODO: implement\n"
        b"src/notes.md:TODO docs\n"
    )
    r = grep("-rn", "TODO", "src", "--include", "*.rs", shell=tree)
    assert r.stdout == b"src/lib/utils.rs:2:// TODO later\nsrc/main.rs:2:    // TODO: implement\n"
    r = grep("-rl", "TODO", "src", "--exclude", "*.md", shell=tree)
    assert r.stdout == b"src/lib/utils.rs\nsrc/main.rs\n"
    assert b"src/.hidden" in grep("-r", "TODO", "src", "--hidden", shell=tree).stdout
    assert grep("-R", "TODO", "src", shell=tree).stdout.count(b"\n") == 3


def test_recursive_display_follows_how_the_operand_was_written(tree: FakeShell) -> None:
    r = grep("-rl", "docs", shell=FakeShell(cwd_path=str(Path(tree.cwd) / "src")))
    assert r.stdout == b"notes.md\n"
    r = grep("-rl", "docs", ".", shell=FakeShell(cwd_path=str(Path(tree.cwd) / "src")))
    assert r.stdout == b"./notes.md\n"
    r = grep("-rl", "docs", "./src/", shell=tree)
    assert r.stdout == b"./src/notes.md\n"
    absolute = str(Path(tree.cwd) / "src")
    assert grep("-rl", "docs", absolute, shell=tree).stdout == f"{absolute}/notes.md\n".encode()


def test_recursive_count_lists_every_file(tree: FakeShell) -> None:
    r = grep("-rc", "TODO", "src", shell=tree)
    assert r.stdout == b"src/lib/utils.rs:1\nsrc/main.rs:1\nsrc/notes.md:1\n"


def test_recursive_on_a_file_operand_behaves_like_plain_grep(tree: FakeShell) -> None:
    (Path(tree.cwd) / "t.txt").write_bytes(b"needle\nneedle\nhay\nneedle\n")
    assert grep("-rc", "needle", "t.txt", shell=tree).stdout == b"3\n"
    r = grep("-r", "match", "g.txt", "src", shell=tree)
    assert r.stdout == b"g.txt:match\n"


def test_recursive_missing_root(tree: FakeShell) -> None:
    r = grep("-r", "x", "nowhere", shell=tree)
    assert r.code == 2 and "nowhere: not found" in r.stderr


# ---------------------------------------------------------------- streaming


def test_grep_streams_and_stops_with_its_reader() -> None:
    r = run_pipeline([(Grep, ["y"]), (Head, ["-n", 2])], stdin=EndlessInput())
    assert r.stdout == b"y\ny\n" and r.stages[0].code == 0


def test_grep_q_stops_reading_at_the_first_match() -> None:
    endless = EndlessInput()
    result = asyncio.run(
        asyncio.wait_for(arun_stage(Grep, ["-q", "y"], endless, _Sink()), 5)
    )
    assert result.code == 0 and endless.closed and endless.reads == 1


def test_grep_large_input_counts_exactly() -> None:
    lines = [b"row %d %s" % (i, b"needle" if i % 7 == 0 else b"hay") for i in range(200_000)]
    data = b"\n".join(lines) + b"\n"
    parts = [data[i : i + 4093] for i in range(0, len(data), 4093)]
    r = grep("-c", "needle", stdin=ChunkedInput(parts))
    assert r.stdout == b"%d\n" % len(range(0, 200_000, 7))
    r = grep("-n", "row 199998", stdin=data)
    assert r.stdout == b"199999:row 199998 hay\n"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from("ab \t"), max_size=6), max_size=12),
    st.sampled_from(["a", "^a", "b$", "a\\sb", "a[^x]*b", "^$", "a|b b", "(ab)+", "x*"]),
)
def test_block_search_equals_line_by_line_search(lines: list[str], pattern: str) -> None:
    text = "".join(f"{ln}\n" for ln in lines)
    regex = re.compile(pattern, re.M)
    got = [text[s:e] for s, e in matching_lines(regex, text)]
    assert got == [ln for ln in lines if regex.search(ln)]


class _Sink:
    async def write(self, data: bytes) -> None:
        return None

    def set_data(self, value: object, *, is_value: bool = False) -> None:
        return None


def test_quiet_beats_files_beats_count(tree: FakeShell) -> None:
    (Path(tree.cwd) / "a.txt").write_bytes(b"x\nx\nx\nx\nx\n")
    (Path(tree.cwd) / "b.txt").write_bytes(b"x\ny\n")
    assert grep("-qc", "x", "a.txt", "b.txt", shell=tree).stdout == b""
    assert grep("-qc", "zzz", "a.txt", "b.txt", shell=tree).code == 1
    assert grep("-lc", "x", "a.txt", "b.txt", shell=tree).stdout == b"a.txt\nb.txt\n"
    r = grep("-c", "--max-count", 2, "x", "a.txt", "b.txt", shell=tree)
    assert r.stdout == b"a.txt:2\nb.txt:1\n"
    r = grep("-c", "zzz", "a.txt", "b.txt", shell=tree)
    assert (r.code, r.stdout) == (1, b"a.txt:0\nb.txt:0\n")
    r = grep("-inA1", "MATCH", "f.txt", shell=tree)
    assert r.stdout == b"3:match me\n4-delta\n5:match me too\n"


def test_grep_refuses_non_path_operands_but_reads_a_number_pattern() -> None:
    r = grep("x", {"k": 1}, stdin=b"x\n")
    assert r.code == 1 and "cannot use a record as a path" in r.stderr
    assert grep(42, stdin=b"41\n42\n").stdout == b"42\n"
