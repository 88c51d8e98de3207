"""sort, uniq, cut, tr: exact bytes, exit codes, typed views, streaming."""

from __future__ import annotations

import asyncio
import functools
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaish_kernel.scheduler.stage import LazyData
from kaish_kernel.tools.builtins.lines import (
    Cut,
    Sort,
    Tr,
    Uniq,
    compare_versions,
    expand_set,
    leading_number,
    select_positions,
)
from kaish_kernel.tools.builtins.text import Head
from tests.tool_harness import FakeShell, run_tool
from tests.tools.text_pipeline import ChunkedInput, EndlessInput, arun_stage, run_pipeline

FRUIT = b"apple\napple\nbanana\ncherry\ncherry\ncherry\n"


@pytest.fixture
def files(tmp_path: Path) -> FakeShell:
    (tmp_path / "fields.txt").write_bytes(b"bob 30\nalice 25\ncharlie 35")
    (tmp_path / "more.txt").write_bytes(b"dave 5\n")
    (tmp_path / "kt.tsv").write_bytes(b"a\tb\n")
    return FakeShell(cwd_path=str(tmp_path))


# ---------------------------------------------------------------- sort


@pytest.mark.parametrize(
    ("words", "data", "expected"),
    [
        ((), b"banana\napple\ncherry\napple\n", b"apple\napple\nbanana\ncherry\n"),
        (("-r",), b"banana\napple\ncherry\napple\n", b"cherry\nbanana\napple\napple\n"),
        (("-n",), b"10\n2\n1\n20\n3\n", b"1\n2\n3\n10\n20\n"),
        (("-u",), b"banana\napple\ncherry\napple\n", b"apple\nbanana\ncherry\n"),
        (("-n", "-r"), b"10\n2\n1\n20\n3\n", b"20\n10\n3\n2\n1\n"),
        (("-rn",), b"33 a\n89 b\n24 c\n", b"89 b\n33 a\n24 c\n"),
        (("-k", 2, "-n"), b"bob 30\nalice 25\ncharlie 35\n", b"alice 25\nbob 30\ncharlie 35\n"),
        (("-k", 2, "-n", "-r"), b"bob 30\nalice 25\ncharlie 35\n", b"charlie 35\nbob 30\nalice 25\n"),
        (("-k", 2), b"z bravo\na alpha\nm charlie\n", b"a alpha\nz bravo\nm charlie\n"),
        (("-k2n",), b"alice 10\nbob 9\ncarol 2\n", b"carol 2\nbob 9\nalice 10\n"),
        (("-k", "2,2n"), b"alice 10\nbob 9\ncarol 2\n", b"carol 2\nbob 9\nalice 10\n"),
        (("-k2r",), b"a x\nb z\nc y\n", b"b z\nc y\na x\n"),
        (("-t", ",", "-k", 2), b"bob,30\nalice,25\ncharlie,35\n", b"alice,25\nbob,30\ncharlie,35\n"),
        (("-nu",), b"5\n3\n5\n1\n3\n", b"1\n3\n5\n"),
        (("-n",), b"10\nabc\n5\nxyz\n1\n", b"abc\nxyz\n1\n5\n10\n"),
        (("-n",), b"1.5\n-2\n+3\n.25\n-.5\n", b"-2\n-.5\n.25\n1.5\n+3\n"),
        ((), b"b\n\na\n\nc\n", b"\n\na\nb\nc\n"),
        ((), b"", b""),
        ((), b"only one line", b"only one line\n"),
        (("-V",), b"v1.10\nv1.2\nv1.9\n", b"v1.2\nv1.9\nv1.10\n"),
        (("-V",), b"1.0.10\n1.0.2\n1.0.1\n1.10.0\n", b"1.0.1\n1.0.2\n1.0.10\n1.10.0\n"),
        (("-rV",), b"v1.10\nv1.2\nv1.9\n", b"v1.10\nv1.9\nv1.2\n"),
        (("-V",), b"v1.0\nv1\n", b"v1\nv1.0\n"),
        (("-Vu",), b"1.10\n1.2\n1.2\n1.10\n", b"1.2\n1.10\n"),
        (("-V",), b"banana\napple\ncherry\n", b"apple\nbanana\ncherry\n"),
    ],
)
def test_sort(words: tuple[object, ...], data: bytes, expected: bytes) -> None:
    r = run_tool(Sort, *words, stdin=data)
    assert (r.code, r.stdout, r.stderr) == (0, expected, "")


def test_sort_is_stable_for_equal_keys() -> None:
    r = run_tool(Sort, "-n", stdin=b"1 b\n0 z\n1 a\n0 y\n")
    assert r.stdout == b"0 z\n0 y\n1 b\n1 a\n"
    r = run_tool(Sort, "-rn", stdin=b"1 b\n0 z\n1 a\n")
    assert r.stdout == b"1 b\n1 a\n0 z\n"


def test_sort_unique_by_key_keeps_first() -> None:
    r = run_tool(Sort, "-u", "-k", "2,2", stdin=b"b 10 x\na 20 y\nc 10 z\n")
    assert r.stdout == b"b 10 x\na 20 y\n"


def test_sort_merges_files_line_by_line(files: FakeShell) -> None:
    r = run_tool(Sort, "fields.txt", "more.txt", shell=files)
    assert r.stdout == b"alice 25\nbob 30\ncharlie 35\ndave 5\n"


def test_sort_errors(files: FakeShell) -> None:
    r = run_tool(Sort, "nope.txt", shell=files)
    assert r.code == 1 and r.stderr == "sort: nope.txt: not found\n"
    r = run_tool(Sort, "-k", "0", stdin=b"x\n")
    assert r.code == 2 and "key" in r.stderr
    r = run_tool(Sort, stdin=b"a\n\xff\n")
    assert r.code == 1 and "not valid UTF-8" in r.stderr


def test_sort_json_is_text() -> None:
    assert run_tool(Sort, "--json", stdin=b"b\na\n").stdout == b'"a\\nb\\n"'


def test_sort_unicode_is_code_point_order() -> None:
    r = run_tool(Sort, stdin="日本\nアメリカ\n中国\nz\n".encode())
    assert r.stdout.decode().split("\n")[:-1] == sorted(["日本", "アメリカ", "中国", "z"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from("ab1 .é9-"), max_size=8), max_size=30))
def test_sort_output_is_a_sorted_permutation(lines: list[str]) -> None:
    data = "".join(f"{ln}\n" for ln in lines).encode()
    out = run_tool(Sort, stdin=data).stdout.decode()
    assert out.split("\n")[:-1] == sorted(lines)
    numeric = run_tool(Sort, "-n", stdin=data).stdout.decode().split("\n")[:-1]
    assert sorted(numeric) == sorted(lines)
    keys = [leading_number(ln) for ln in numeric]
    assert keys == sorted(keys)


def test_version_compare_basics() -> None:
    ordered = ["v1", "v1.0", "v1.2", "v1.9", "v1.10", "v2"]
    assert sorted(ordered, key=functools.cmp_to_key(compare_versions)) == ordered
    assert compare_versions("a1", "a01") == -1  # equal value: the shorter first


# ---------------------------------------------------------------- uniq


@pytest.mark.parametrize(
    ("words", "data", "expected"),
    [
        ((), FRUIT, b"apple\nbanana\ncherry\n"),
        (("-c",), FRUIT, b"      2 apple\n      1 banana\n      3 cherry\n"),
        (("-d",), FRUIT, b"apple\ncherry\n"),
        (("-u",), FRUIT, b"banana\n"),
        (("-c", "-d"), FRUIT, b"      2 apple\n      3 cherry\n"),
        (("-i",), b"Hello\nhello\nHELLO\nworld\n", b"Hello\nworld\n"),
        (("-c", "-i"), b"Hello\nhello\nHELLO\nworld\n", b"      3 Hello\n      1 world\n"),
        ((), "日本\n日本\n中国\n日本\n".encode(), "日本\n中国\n日本\n".encode()),
        (("-c",), b"same\nsame\nsame\nsame\n", b"      4 same\n"),
        ((), b"a\na", b"a\n"),
        ((), b"", b""),
    ],
)
def test_uniq(words: tuple[str, ...], data: bytes, expected: bytes) -> None:
    r = run_tool(Uniq, *words, stdin=data)
    assert (r.code, r.stdout) == (0, expected)


def test_uniq_groups_that_cross_chunk_edges() -> None:
    parts = [b"x\nx", b"\nx\ny\n", b"y", b"\ny\nz\n"]
    r = run_tool(Uniq, "-c", stdin=ChunkedInput(parts))
    assert r.stdout == b"      3 x\n      3 y\n      1 z\n"


def test_uniq_reads_a_file(files: FakeShell) -> None:
    (Path(files.cwd) / "dup.txt").write_bytes(FRUIT)
    assert run_tool(Uniq, "dup.txt", shell=files).stdout == b"apple\nbanana\ncherry\n"
    assert run_tool(Uniq, "gone.txt", shell=files).code == 1


def test_uniq_streams_before_its_input_ends() -> None:
    # `yes | uniq | head -n 1` would never end if uniq waited for EOF... but
    # uniq cannot print a group before it ends, so feed changing lines.
    class Alternating(EndlessInput):
        async def read(self, n: int = 65536) -> bytes:
            if self.closed:
                return b""
            self.reads += 1
            await asyncio.sleep(0)
            return b"a\nb\n" * 1000

    r = run_pipeline([(Uniq, []), (Head, ["-n", 3])], stdin=Alternating())
    assert r.stdout == b"a\nb\na\n"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "A"]), max_size=40), st.integers(1, 7))
def test_uniq_c_counts_sum_to_line_count(lines: list[str], size: int) -> None:
    data = "".join(f"{ln}\n" for ln in lines).encode()
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    out = run_tool(Uniq, "-c", stdin=ChunkedInput(parts)).stdout.decode()
    counts = [int(row.split()[0]) for row in out.splitlines()]
    assert sum(counts) == len(lines)
    names = [row.split()[1] for row in out.splitlines()]
    assert all(a != b for a, b in itertools.pairwise(names))


# ---------------------------------------------------------------- cut


@pytest.mark.parametrize(
    ("words", "data", "expected"),
    [
        (("-d", ",", "-f", 2), b"name,age,city\nalice,30,nyc\nbob,25,la\n", b"age\n30\n25\n"),
        (("-d", ",", "-f", "1,3-5,7"), b"a,b,c,d,e,f,g,h\n", b"a,c,d,e,g\n"),
        (("-d,", "-f2"), b"a,b,c\nnodelim\nx,y,z\n", b"b\nnodelim\ny\n"),
        (("-s", "-d,", "-f2"), b"a,b,c\nnodelim\nx,y,z\n", b"b\ny\n"),
        (("-d:", "-f", "1,3"), b"a:b:c\n", b"a:c\n"),
        (("-f", "1-3,2-4"), b"a\tb\tc\td\te", b"a\tb\tc\td\n"),
        (("-f", "2,2"), b"x\ty\tz", b"y\n"),
        (("-f", "3,1"), b"alpha\tbeta\tgamma", b"alpha\tgamma\n"),
        (("-f", "4-5,1-2"), b"1\t2\t3\t4\t5", b"1\t2\t4\t5\n"),
        (("-c", "1-3,2-4"), b"abcde", b"abcd\n"),
        (("-c", "4,1"), b"abcde", b"ad\n"),
        (("-c", "1-5"), b"hello world\nfoo bar", b"hello\nfoo b\n"),
        (("-c", "2-3"), "héllo\nab\n\nx".encode(), "él\nb\n\n\n".encode()),
        (("-c", "3-"), b"abcdef\nab\n", b"cdef\n\n"),
        (("-d", ",", "-f", "2-"), b"n,a,c\nbob\n\nx,\n", b"a,c\nbob\n\n\n"),
        (("-d", ",", "-f", "-2"), b"n,a,c\nbob\n", b"n,a\nbob\n"),
        (("-d", ",", "-f", 3), b"n,a,c\na,30\nbob\n\nlast", b"c\n\nbob\n\nlast\n"),
        (("-s", "-d", ",", "-f", 3), b"n,a,c\na,30\nbob\n\nlast", b"c\n\n"),
        (("-d", ".", "-f", 2), b"a.b.c\n", b"b\n"),
        (("-d", "]", "-f", 2), b"a]b]c\n", b"b\n"),
        (("-f", 2), b"", b""),
    ],
)
def test_cut(words: tuple[object, ...], data: bytes, expected: bytes) -> None:
    r = run_tool(Cut, *words, stdin=data)
    assert (r.code, r.stdout, r.stderr) == (0, expected, "")


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from("ab,é"), max_size=8), max_size=12),
    st.sampled_from(["1", "2", "3", "2-", "-2", "1-2", "2-3", "1,3", "3,1-2"]),
    st.booleans(),
)
def test_cut_fields_match_a_plain_model(lines: list[str], spec: str, only: bool) -> None:
    data = "".join(f"{ln}\n" for ln in lines).encode()
    words = ["-d", ",", "-f", spec] + (["-s"] if only else [])
    out = run_tool(Cut, *words, stdin=data).stdout.decode()
    expected = []
    for ln in lines:
        if "," not in ln:
            if not only:
                expected.append(ln)
            continue
        parts = ln.split(",")
        expected.append(",".join(parts[i] for i in select_positions(spec, len(parts))))
    assert out == "".join(f"{e}\n" for e in expected)


def test_cut_offers_its_lines_as_a_typed_list(files: FakeShell) -> None:
    r = run_tool(Cut, "-f2", "kt.tsv", shell=files)
    assert r.stdout == b"b\n"
    assert isinstance(r.data, LazyData) and r.data.resolve() == ["b"]
    assert r.is_value is False
    r = run_tool(Cut, "-f1", stdin=b"1\n2\n3\n")
    assert r.data.resolve() == ["1", "2", "3"]


def test_cut_json(files: FakeShell) -> None:
    r = run_tool(Cut, "-f2", "kt.tsv", "--json", shell=files)
    assert r.stdout == b'["b"]' and r.data == ["b"]


def test_cut_errors() -> None:
    r = run_tool(Cut, stdin=b"a\n")
    assert r.code == 1 and r.stderr == "cut: must specify either -f or -c\n"
    r = run_tool(Cut, "-d", "ab", "-f", 1, stdin=b"a\n")
    assert r.code == 1 and r.stderr == "cut: delimiter must be a single character\n"
    r = run_tool(Cut, "-f", 1, stdin=b"\xff\n")
    assert r.code == 1 and "not valid UTF-8" in r.stderr


def test_cut_streams() -> None:
    r = run_pipeline([(Cut, ["-c", 1]), (Head, ["-n", 2])], stdin=EndlessInput(b"xy\n"))
    assert r.stdout == b"x\nx\n"


# ---------------------------------------------------------------- tr


@pytest.mark.parametrize(
    ("words", "data", "expected"),
    [
        (("a-z", "A-Z"), b"hello\n", b"HELLO\n"),
        (("aeiou", "12345"), b"hello", b"h2ll4"),
        (("-d", "0-9"), b"a1b2c3\n", b"abc\n"),
        ((" ", "\\n"), b"a b c", b"a\nb\nc"),
        (("\\n", " "), b"line1\nline2\nline3", b"line1 line2 line3"),
        (("\\t", " "), b"a\tb\tc", b"a b c"),
        (("\\\\", "/"), b"a\\b\\c", b"a/b/c"),
        (("\\012", " "), b"x\ny\nz", b"x y z"),
        (("-s", "ab"), b"aaabbb\n", b"ab\n"),
        (("-s", " "), b"a   b    c", b"a b c"),
        (("-cd", "[:digit:]"), b"a1b2c3\n", b"123"),
        (("--complement", "--delete", "[:alpha:]"), b"a1b2c3\n", b"abc"),
        (("-c", "a-z", "_"), b"ab12cd\n", b"ab__cd_"),
        (("-cs", "a-z", "xyz"), b"xx12\n", b"xxz"),
        (("-d", "[:digit:]"), b"abc123", b"abc"),
        (("[:upper:]", "[:lower:]"), b"HeLLo\n", b"hello\n"),
        (("abc", "x"), b"aabbcc", b"xxxxxx"),
        (("-s", "abc", "x"), b"aabbcc", b"x"),
        (("a-z", "A-Z"), "héllo wörld".encode(), "HéLLO WöRLD".encode()),
        (("-d", "é"), "héllo".encode(), b"hllo"),
        (("é", "e"), "café crème".encode(), "cafe crème".encode()),
        (("-cd", "a"), "aéa".encode(), b"aa"),
    ],
)
def test_tr(words: tuple[str, ...], data: bytes, expected: bytes) -> None:
    r = run_tool(Tr, *words, stdin=data)
    assert (r.code, r.stdout, r.stderr) == (0, expected, "")


def test_tr_squeezes_across_chunk_edges() -> None:
    r = run_tool(Tr, "-s", " ", stdin=ChunkedInput([b"a  ", b"  ", b" b"]))
    assert r.stdout == b"a b"
    r = run_tool(Tr, "-s", "é", stdin=ChunkedInput(["aé".encode(), "éé".encode(), b"b"]))
    assert r.stdout == "aéb".encode()


def test_tr_decodes_characters_split_across_chunks() -> None:
    raw = "ééé".encode()
    r = run_tool(Tr, "é", "e", stdin=ChunkedInput([raw[:1], raw[1:4], raw[4:]]))
    assert r.stdout == b"eee"


def test_tr_errors() -> None:
    assert run_tool(Tr, stdin=b"x").stderr == "tr: missing SET1 argument\n"
    r = run_tool(Tr, "a", stdin=b"x")
    assert r.code == 1 and r.stderr == "tr: SET2 required for translation\n"
    r = run_tool(Tr, "a", "b", stdin=b"ok\xff")
    assert r.code == 1 and "invalid UTF-8 at byte 2" in r.stderr
    r = run_tool(Tr, "a", "b", stdin=b"x" + "é".encode()[:1])
    assert r.code == 1 and "not valid UTF-8" in r.stderr


def test_tr_json_is_text() -> None:
    assert run_tool(Tr, "a", "x", "--json", stdin=b"abc").stdout == b'"xbc"'


def test_tr_streams_from_endless_input() -> None:
    r = run_pipeline([(Tr, ["y", "n"]), (Head, ["-n", 2])], stdin=EndlessInput())
    assert r.stdout == b"n\nn\n"


def test_expand_set_classes_ranges_escapes() -> None:
    assert expand_set("a-c") == ["a", "b", "c"]
    assert expand_set("[:digit:]") == list("0123456789")
    assert expand_set("\\n\\t\\101") == ["\n", "\t", "A"]
    assert expand_set("a-") == ["a", "-"]


def test_line_tools_stop_quietly_when_the_reader_leaves() -> None:
    from tests.tools.text_pipeline import LeavingOutput

    for tool, words in ((Tr, ["a", "b"]), (Cut, ["-c", "1"]), (Uniq, [])):
        endless = EndlessInput(b"a\nb\n")
        result = asyncio.run(
            asyncio.wait_for(arun_stage(tool, words, endless, LeavingOutput(10)), 10)
        )
        assert result.code == 0 and endless.closed, tool


def test_line_tools_refuse_non_path_operands() -> None:
    for tool in (Sort, Uniq, Cut):
        words = ["-f", 1] if tool is Cut else []
        r = run_tool(tool, *words, [1, 2], stdin=b"from-stdin\n")
        assert r.code == 1 and "cannot use a list as a path" in r.stderr, tool
        assert r.stdout == b""
