"""cat, head, tail, wc, tac, tee: exact bytes, exit codes, streaming behaviour."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaish_kernel.scheduler.stage import BytesInput
from kaish_kernel.tools.builtins.text import Cat, Head, Tac, Tail, Tee, Wc
from tests.tool_harness import FakeShell, run_tool
from tests.tools.text_pipeline import (
    ChunkedInput,
    EndlessInput,
    LeavingOutput,
    arun_stage,
    run_pipeline,
)

BINARY = bytes([0, 0xFF, 0xFE, 0x41, 0x80, 0x0A, 0xC3])


@pytest.fixture
def files(tmp_path: Path) -> FakeShell:
    (tmp_path / "lines.txt").write_bytes(b"alpha\nbravo\nmatch me\ndelta\nmatch me too\n")
    (tmp_path / "noeol.txt").write_bytes(b"alpha\nbeta")
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "b.txt").write_bytes(b"b\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blob.bin").write_bytes(BINARY)
    (tmp_path / "dir").mkdir()
    return FakeShell(cwd_path=str(tmp_path))


# ---------------------------------------------------------------- cat


def test_cat_passes_stdin_through() -> None:
    r = run_tool(Cat, stdin=b"piped text\n")
    assert (r.code, r.stdout, r.stderr) == (0, b"piped text\n", "")


def test_cat_concatenates_files_byte_for_byte(files: FakeShell) -> None:
    r = run_tool(Cat, "a.txt", "b.txt", shell=files)
    assert r.stdout == b"ab\n"


def test_cat_passes_binary_through_intact(files: FakeShell) -> None:
    assert run_tool(Cat, "blob.bin", shell=files).stdout == BINARY
    assert run_tool(Cat, stdin=BINARY).stdout == BINARY


def test_cat_missing_file_reports_not_found_and_goes_on(files: FakeShell) -> None:
    r = run_tool(Cat, "nope.txt", "b.txt", shell=files)
    assert r.code == 1
    assert r.stdout == b"b\n"
    assert r.stderr == "cat: nope.txt: not found\n"


def test_cat_directory_is_an_error(files: FakeShell) -> None:
    r = run_tool(Cat, "dir", shell=files)
    assert r.code == 1
    assert "dir: is a directory" in r.stderr


def test_cat_dash_is_stdin(files: FakeShell) -> None:
    assert run_tool(Cat, "a.txt", "-", shell=files, stdin=b"x\n").stdout == b"ax\n"


def test_cat_n_uses_gnu_number_format(files: FakeShell) -> None:
    r = run_tool(Cat, "-n", "lines.txt", shell=files)
    assert r.stdout.startswith(b"     1\talpha\n     2\tbravo\n")
    assert r.stdout.endswith(b"     5\tmatch me too\n")


def test_cat_n_does_not_add_a_missing_final_newline(files: FakeShell) -> None:
    assert run_tool(Cat, "-n", "noeol.txt", shell=files).stdout == b"     1\talpha\n     2\tbeta"


def test_cat_n_numbers_across_files_and_ignores_empty_operand(files: FakeShell) -> None:
    r = run_tool(Cat, "-n", "b.txt", "a.txt", "empty.txt", shell=files)
    assert r.stdout == b"     1\tb\n     2\ta"
    r = run_tool(Cat, "-n", "lines.txt", "empty.txt", shell=files)
    assert r.stdout.endswith(b"match me too\n")


def test_cat_n_from_stdin_matches_file_form(files: FakeShell) -> None:
    from_file = run_tool(Cat, "-n", "lines.txt", shell=files).stdout
    data = (Path(files.cwd) / "lines.txt").read_bytes()
    assert run_tool(Cat, "-n", stdin=data).stdout == from_file


def test_cat_n_refuses_binary() -> None:
    r = run_tool(Cat, "-n", stdin=b"ok\n\xff\n")
    assert r.code == 1
    assert "not valid UTF-8" in r.stderr and "byte 3" in r.stderr


def test_cat_json_is_a_string_or_bytes_envelope(files: FakeShell) -> None:
    assert run_tool(Cat, "b.txt", "--json", shell=files).stdout == b'"b\\n"'
    r = run_tool(Cat, "blob.bin", "--json", shell=files)
    assert r.data == BINARY and b'"_type":"bytes"' in r.stdout


def test_cat_n_json_rows_carry_line_anchors(files: FakeShell) -> None:
    r = run_tool(Cat, "-n", "lines.txt", "--json", shell=files)
    assert [row["line"] for row in r.data] == [1, 2, 3, 4, 5]
    assert r.data[0] == {"TEXT": "alpha", "line": 1}


def test_cat_stops_quietly_when_the_reader_leaves() -> None:
    endless = EndlessInput()
    out = LeavingOutput(limit=10)
    result = asyncio.run(asyncio.wait_for(arun_stage(Cat, [], endless, out), 5))
    assert result.code == 0 and result.stderr == ""
    assert endless.closed


# ---------------------------------------------------------------- head


def test_head_defaults_to_ten_lines() -> None:
    data = b"".join(b"%d\n" % i for i in range(1, 21))
    assert run_tool(Head, stdin=data).stdout == b"".join(b"%d\n" % i for i in range(1, 11))


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("-n", 2), b"alpha\nbeta\n"),
        (("-n", "2"), b"alpha\nbeta\n"),
        (("-2",), b"alpha\nbeta\n"),
        (("-n", -1), b"alpha\nbeta\ncherry\n"),
        (("-n", "-1"), b"alpha\nbeta\ncherry\n"),
        (("-n", -9), b""),
        (("-n", 0), b""),
        (("-c", 3), b"alp"),
        (("--lines", 1), b"alpha\n"),
    ],
)
def test_head_counts(words: tuple[object, ...], expected: bytes) -> None:
    r = run_tool(Head, *words, stdin=b"alpha\nbeta\ncherry\ndate\n")
    assert (r.code, r.stdout) == (0, expected)


def test_head_ends_an_unterminated_last_line() -> None:
    assert run_tool(Head, stdin=b"a\nb").stdout == b"a\nb\n"


def test_head_bytes_keep_binary_intact() -> None:
    assert run_tool(Head, "-c", 4, stdin=BINARY).stdout == BINARY[:4]


def test_head_bad_counts_are_usage_errors() -> None:
    r = run_tool(Head, "-n", "ten", stdin=b"x\n")
    assert r.code == 2 and "invalid number of lines" in r.stderr
    r = run_tool(Head, "-c", -3, stdin=b"x\n")
    assert r.code == 2 and "negative -c" in r.stderr


def test_head_line_mode_refuses_binary() -> None:
    r = run_tool(Head, stdin=b"\xff\xfe\n")
    assert r.code == 1 and "not valid UTF-8" in r.stderr and "head -c" in r.stderr


def test_head_several_files_get_headers(files: FakeShell) -> None:
    r = run_tool(Head, "-n", 1, "lines.txt", "b.txt", shell=files)
    assert r.stdout == b"==> lines.txt <==\nalpha\n\n==> b.txt <==\nb\n"


def test_head_json_rows(files: FakeShell) -> None:
    r = run_tool(Head, "-n", 3, "lines.txt", "--json", shell=files)
    assert r.data == [
        {"TEXT": "alpha", "line": 1},
        {"TEXT": "bravo", "line": 2},
        {"TEXT": "match me", "line": 3},
    ]
    assert run_tool(Head, "--json", stdin=b"").stdout == b"[]"


def test_head_on_endless_input_returns_and_closes_it() -> None:
    endless = EndlessInput(b"1234567\n")
    out = LeavingOutput(limit=1 << 20)
    result = asyncio.run(asyncio.wait_for(arun_stage(Head, ["-n", 1], endless, out), 5))
    assert result.code == 0 and bytes(out.got) == b"1234567\n"
    assert endless.closed and endless.reads == 1


def test_head_bytes_on_endless_input_returns_and_closes_it() -> None:
    endless = EndlessInput()
    out = LeavingOutput(limit=1 << 20)
    asyncio.run(asyncio.wait_for(arun_stage(Head, ["-c", 5], endless, out), 5))
    assert bytes(out.got) == b"y\ny\ny" and endless.closed


def test_head_stops_a_long_pipeline_early() -> None:
    # `yes | cat | head -n 2`: head's early close travels back through cat.
    r = run_pipeline([(Cat, []), (Head, ["-n", 2])], stdin=EndlessInput())
    assert r.stdout == b"y\ny\n" and [s.code for s in r.stages] == [0, 0]


def test_yes_head_c_wc_runs_in_bounded_memory() -> None:
    import tracemalloc

    tracemalloc.start()
    r = run_pipeline([(Head, ["-c", 6_000_000]), (Wc, ["-c"])], stdin=EndlessInput())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert r.stdout == b"6000000\n"
    assert peak < 2 * 1024 * 1024


# ---------------------------------------------------------------- tail


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ((), b"alpha\nbeta\ncherry\ndate\n"),
        (("-n", "+2"), b"beta\ncherry\ndate\n"),
        (("-n", "+1"), b"alpha\nbeta\ncherry\ndate\n"),
        (("-n", "+9"), b""),
        (("-n", 2), b"cherry\ndate\n"),
        (("-n", -2), b"cherry\ndate\n"),
        (("-n", "-2"), b"cherry\ndate\n"),
        (("-1",), b"date\n"),
        (("-n", 0), b""),
        (("-c", 3), b"te\n"),
        (("-c", "-3"), b"te\n"),
        (("-c", "+3"), b"pha\nbeta\ncherry\ndate\n"),
        (("-c", "+100"), b""),
    ],
)
def test_tail_counts(words: tuple[object, ...], expected: bytes) -> None:
    r = run_tool(Tail, *words, stdin=b"alpha\nbeta\ncherry\ndate\n")
    assert (r.code, r.stdout) == (0, expected)


def test_tail_default_is_last_ten_lines() -> None:
    data = b"".join(b"%d\n" % i for i in range(1, 21))
    assert run_tool(Tail, stdin=data).stdout == b"".join(b"%d\n" % i for i in range(11, 21))


def test_tail_window_spans_many_blocks() -> None:
    lines = [b"line %d" % i for i in range(100_000)]
    data = b"\n".join(lines) + b"\n"
    chunks = [data[i : i + 1000] for i in range(0, len(data), 1000)]
    r = run_tool(Tail, "-n", 3, stdin=ChunkedInput(chunks))
    assert r.stdout == b"line 99997\nline 99998\nline 99999\n"


def test_tail_json_anchors_are_file_line_numbers(files: FakeShell) -> None:
    r = run_tool(Tail, "-n", 2, "lines.txt", "--json", shell=files)
    assert [row["line"] for row in r.data] == [4, 5]
    assert r.data[1]["TEXT"] == "match me too"


def test_tail_bytes_of_binary_file(files: FakeShell) -> None:
    assert run_tool(Tail, "-c", 3, "blob.bin", shell=files).stdout == BINARY[-3:]


def test_tail_missing_file(files: FakeShell) -> None:
    r = run_tool(Tail, "gone.txt", shell=files)
    assert r.code == 1 and r.stderr == "tail: gone.txt: not found\n"


# ---------------------------------------------------------------- wc


@pytest.mark.parametrize(
    ("words", "data", "expected"),
    [
        (("-l",), b"a\nb\n", b"2\n"),
        (("-l",), b"a\nb", b"1\n"),
        (("-w",), b"one two three\nfour five\n", b"5\n"),
        (("-c",), b"hello world\n", b"12\n"),
        ((), b"one two three\nfour five\n", b" 2  5 24\n"),
        (("-m",), "héllo".encode(), b"5\n"),
        (("-c",), "héllo".encode(), b"6\n"),
        (("-lm",), "héllo\n".encode(), b"1 6\n"),
        ((), b"", b"0 0 0\n"),
        (("-w",), b"   \n\t ", b"0\n"),
    ],
)
def test_wc_counts(words: tuple[str, ...], data: bytes, expected: bytes) -> None:
    r = run_tool(Wc, *words, stdin=data)
    assert (r.code, r.stdout) == (0, expected)


def test_wc_files_get_names_and_a_total(files: FakeShell) -> None:
    r = run_tool(Wc, "lines.txt", "b.txt", shell=files)
    assert r.stdout == b" 5  8 40 lines.txt\n 1  1  2 b.txt\n 6  9 42 total\n"


def test_wc_bytes_and_lines_of_binary_are_exact(files: FakeShell) -> None:
    assert run_tool(Wc, "-c", stdin=BINARY).stdout == b"%d\n" % len(BINARY)
    assert run_tool(Wc, "-l", "blob.bin", shell=files).stdout == b"1 blob.bin\n"


@pytest.mark.parametrize("flag", ["-w", "-m", None])
def test_wc_words_and_chars_refuse_binary(flag: str | None) -> None:
    r = run_tool(Wc, *([flag] if flag else []), stdin=BINARY)
    assert r.code == 1
    assert "invalid UTF-8" in r.stderr and "-c and -l" in r.stderr


def test_wc_one_binary_file_among_many_fails_loudly(files: FakeShell) -> None:
    r = run_tool(Wc, "-m", "b.txt", "blob.bin", shell=files)
    assert r.code == 1 and "blob.bin" in r.stderr
    assert b"b.txt" in r.stdout


def test_wc_missing_file_keeps_counting(files: FakeShell) -> None:
    r = run_tool(Wc, "-l", "nope", "b.txt", shell=files)
    assert r.code == 1 and r.stderr == "wc: nope: not found\n"
    assert r.stdout == b"1 b.txt\n1 total\n"


def test_wc_json_rows(files: FakeShell) -> None:
    r = run_tool(Wc, "-l", "lines.txt", "--json", shell=files)
    assert r.data == [{"FILE": "lines.txt", "LINES": "5"}]


def test_wc_unknown_flag_is_usage_error() -> None:
    assert run_tool(Wc, "--bogus-flag-xyz").code == 2


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab é\n\t日"), max_size=200), st.data())
def test_wc_counts_do_not_depend_on_chunking(text: str, data: st.DataObject) -> None:
    raw = text.encode()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=6)))
    parts = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    r = run_tool(Wc, "-lwmc", stdin=ChunkedInput(parts))
    expected = [raw.count(b"\n"), len(text.split()), len(raw), len(text)]
    assert [int(x) for x in r.stdout.split()] == expected


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_wc_l_equals_newline_count(raw: bytes) -> None:
    assert run_tool(Wc, "-l", stdin=raw).stdout == b"%d\n" % raw.count(b"\n")


# ---------------------------------------------------------------- tac


def test_tac_reverses_and_terminates_lines() -> None:
    assert run_tool(Tac, stdin=b"a\nb\nc\n").stdout == b"c\nb\na\n"
    assert run_tool(Tac, stdin=b"a\nb\nc").stdout == b"c\nb\na\n"
    assert run_tool(Tac, stdin=b"").stdout == b""


def test_tac_reverses_each_file_in_turn(files: FakeShell) -> None:
    assert run_tool(Tac, "noeol.txt", "b.txt", shell=files).stdout == b"beta\nalpha\nb\n"


def test_tac_refuses_binary() -> None:
    assert run_tool(Tac, stdin=BINARY).code == 1


# ---------------------------------------------------------------- tee


def test_tee_writes_file_and_stdout(files: FakeShell) -> None:
    r = run_tool(Tee, "out.txt", shell=files, stdin=b"hello world\n")
    assert (r.code, r.stdout) == (0, b"hello world\n")
    assert (Path(files.cwd) / "out.txt").read_bytes() == b"hello world\n"


def test_tee_appends_with_a(files: FakeShell) -> None:
    run_tool(Tee, "-a", "b.txt", shell=files, stdin=b"more\n")
    assert (Path(files.cwd) / "b.txt").read_bytes() == b"b\nmore\n"


def test_tee_overwrites_by_default(files: FakeShell) -> None:
    run_tool(Tee, "b.txt", shell=files, stdin=b"new\n")
    assert (Path(files.cwd) / "b.txt").read_bytes() == b"new\n"


def test_tee_passes_binary_through(files: FakeShell) -> None:
    r = run_tool(Tee, "copy.bin", shell=files, stdin=BINARY)
    assert r.stdout == BINARY
    assert (Path(files.cwd) / "copy.bin").read_bytes() == BINARY


def test_tee_needs_a_file() -> None:
    r = run_tool(Tee, stdin=b"x")
    assert r.code == 1 and "missing file argument" in r.stderr


def test_tee_unwritable_target_is_reported_others_still_written(files: FakeShell) -> None:
    r = run_tool(Tee, "dir", "ok.txt", shell=files, stdin=b"x\n")
    assert r.code == 1 and "tee: dir:" in r.stderr
    assert r.stdout == b"x\n"
    assert (Path(files.cwd) / "ok.txt").read_bytes() == b"x\n"


def test_tee_streams_chunks_as_they_come(files: FakeShell) -> None:
    parts = [b"one\n", b"two\n", b"three\n"]
    r = run_tool(Tee, "log.txt", shell=files, stdin=ChunkedInput(parts))
    assert r.stdout == b"one\ntwo\nthree\n"


def test_text_tools_read_virtual_paths_through_the_vfs(tmp_path: Path) -> None:
    from kaish_kernel.vfs.base import EntryInfo, Filesystem

    class Memory(Filesystem):
        def stat(self, path: str) -> EntryInfo:
            if path == "/f":
                return EntryInfo("f", "file", 6)
            raise FileNotFoundError(2, "No such file", path)

        def listdir(self, path: str) -> list[EntryInfo]:
            return []

        def read_bytes(self, path: str) -> bytes:
            self.stat(path)
            return b"x\ny\nz\n"

    shell = FakeShell(cwd_path=str(tmp_path))
    shell.router.mount("/v/mem", Memory())
    assert run_tool(Tail, "-n", 1, "/v/mem/f", shell=shell).stdout == b"z\n"
    assert run_tool(Wc, "-l", "/v/mem/f", shell=shell).stdout == b"3 /v/mem/f\n"
    assert run_tool(Cat, "/v/mem/nope", shell=shell).stderr == "cat: /v/mem/nope: not found\n"


def test_bytes_input_is_not_closed_by_cat() -> None:
    stream = BytesInput(b"abc")
    r = run_tool(Cat, stdin=stream)
    assert r.stdout == b"abc"


def test_large_file_round_trip(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "big.bin").write_bytes(data)
    shell = FakeShell(cwd_path=str(tmp_path))
    r = run_pipeline([(Cat, ["big.bin"]), (Cat, []), (Wc, ["-c"])], shell=shell)
    assert r.stdout == b"%d\n" % len(data)
    assert run_tool(Cat, "big.bin", shell=shell).stdout == data


@pytest.mark.parametrize(
    ("operand", "message"),
    [
        ([1, 2, 3], "cannot use a list as a path"),
        ({"k": 1}, "cannot use a record as a path"),
        (True, "cannot use a bool (true) as a path"),
        (None, "cannot use null as a path"),
        (b"\x00\xff\xfe", "binary data (3 bytes) cannot be used as a path"),
    ],
)
def test_operands_that_are_not_paths_are_refused(operand: object, message: str) -> None:
    for tool in (Cat, Head, Tail, Wc, Tac):
        r = run_tool(tool, operand, stdin=b"from-stdin\n")
        assert r.code == 1 and message in r.stderr, (tool, r.stderr)
        assert b"from-stdin" not in r.stdout


def test_number_operand_is_a_file_name(files: FakeShell) -> None:
    (Path(files.cwd) / "7").write_bytes(b"seven\n")
    assert run_tool(Cat, 7, shell=files).stdout == b"seven\n"
