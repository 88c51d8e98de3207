"""echo, true/false/:, sleep, seq, date, basename, dirname, hostname, uname."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kaish_kernel.scheduler.stage import LazyData, OutputStream
from kaish_kernel.tools.builtins import _date
from kaish_kernel.tools.builtins._date import Date
from kaish_kernel.tools.builtins.basic import (
    TOOLS,
    Basename,
    Dirname,
    Echo,
    False_,
    Hostname,
    Seq,
    Sleep,
    True_,
    Uname,
)
from kaish_kernel.tools.registry import ToolRegistry
from kaish_kernel.tools.schema import format_help
from tests.tool_harness import FakeShell, arun_tool, run_tool

# -- echo ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["hello", "world"], b"hello world\n"),
        ([42, True, 3.14], b"42 true 3.14\n"),
        ([], b""),
        ([""], b""),
        (["", ""], b" \n"),
        (["--", "--flag=value"], b"--flag=value\n"),
        (["-n", "x"], b"x"),
        (["--no-newline", "x"], b"x"),
        (["Hello, 世界!"], "Hello, 世界!\n".encode()),
        ([[1, "a"], {"k": None}], b'[1,"a"] {"k":null}\n'),
        ([None], b"null\n"),  # kaish shows null as `null`
    ],
)
def test_echo_output(words: list[object], expected: bytes) -> None:
    run = run_tool(Echo, *words)
    assert (run.code, run.stdout, run.stderr) == (0, expected, "")


def test_echo_unknown_flag_is_a_usage_error() -> None:
    assert run_tool(Echo, "-e", "x").code == 2


def test_echo_refuses_binary() -> None:
    run = run_tool(Echo, b"\xff\xfe")
    assert run.code == 1 and run.stdout == b"" and run.stderr.startswith("echo: ")
    assert run.stderr.endswith("\n") and not run.stderr.endswith("\n\n")


# -- true / false / : ----------------------------------------------------------


def test_true_false_colon() -> None:
    assert run_tool(True_).code == 0
    assert run_tool(True_, "-x", "one", "two").code == 0
    assert run_tool(False_, "--anything").code == 1
    assert True_.aliases == (":",)
    registry = ToolRegistry()
    registry.load_modules(("basic",))
    assert registry.get(":") is registry.get("true")


def test_every_schema_renders_help() -> None:
    for tool in TOOLS:
        text = format_help(tool.schema)
        assert tool.schema.name in text and tool.schema.summary


# -- sleep ---------------------------------------------------------------------


@pytest.mark.parametrize("duration", [0, 0.01, "0.01", "0.01s", "0m", "0h", "0d"])
def test_sleep_accepts_durations(duration: object) -> None:
    assert run_tool(Sleep, duration).code == 0


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ([], "sleep: missing seconds argument\n"),
        (["abc"], "sleep: invalid time interval 'abc'\n"),
        ([-1], "sleep: invalid time interval '-1'\n"),
    ],
)
def test_sleep_errors(words: list[object], message: str) -> None:
    run = run_tool(Sleep, *words)
    assert (run.code, run.stderr) == (1, message)


def test_sleep_sums_operands() -> None:
    start = time.monotonic()
    assert run_tool(Sleep, 0.05, "0.05s").code == 0
    assert time.monotonic() - start >= 0.09


def test_sleep_lets_cancellation_propagate() -> None:
    async def scenario() -> None:
        task = asyncio.create_task(arun_tool(Sleep, 30))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    start = time.monotonic()
    asyncio.run(scenario())
    assert time.monotonic() - start < 5


# -- seq -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([1, 5], "1\n2\n3\n4\n5\n"),
        ([3], "1\n2\n3\n"),
        ([1, 2, 9], "1\n3\n5\n7\n9\n"),
        (["-s", ", ", 1, 3], "1, 2, 3\n"),
        ([5, 1], ""),
        ([5, -2, 1], "5\n3\n1\n"),
        (["-w", 1, 10], "01\n02\n03\n04\n05\n06\n07\n08\n09\n10\n"),
        (["-w", -3, 3], "-3\n-2\n-1\n00\n01\n02\n03\n"),
        (["-w", -2, 2], "-2\n-1\n00\n01\n02\n"),
        ([0, 0.1, 0.3], "0\n0.1\n0.2\n0.30000000000000004\n"),
        ([1, 0.5, 3], "1\n1.5\n2\n2.5\n3\n"),
        (["1.0", 3], "1\n2\n3\n"),
        ([1, 2.5], "1\n2\n"),
    ],
)
def test_seq_text(words: list[object], expected: str) -> None:
    run = run_tool(Seq, *words)
    assert (run.code, run.out, run.stderr) == (0, expected, "")


def test_seq_w_pads_to_the_widest_including_sign() -> None:
    lines = run_tool(Seq, "-w", -10, 2).out.split()
    assert lines[0] == "-10" and lines[1] == "-09" and lines[-1] == "002"
    assert {len(x) for x in lines} == {3}


def test_seq_zero_increment_is_an_error() -> None:
    run = run_tool(Seq, 1, 0, 10)
    assert (run.code, run.stdout, run.stderr) == (1, b"", "seq: increment cannot be zero\n")


def test_seq_bad_operands() -> None:
    assert run_tool(Seq).code == 1
    assert run_tool(Seq, "abc").stderr == "seq: invalid number 'abc'\n"
    assert run_tool(Seq, 1, 2, 3, 4).code == 2


def test_seq_carries_a_lazy_typed_view() -> None:
    run = run_tool(Seq, 1, 3)
    assert isinstance(run.data, LazyData) and not run.is_value
    assert run.data.resolve() == [1, 2, 3]
    assert run_tool(Seq, 1, 0.5, 2).data.resolve() == [1.0, 1.5, 2.0]


def test_seq_json_prints_strings() -> None:
    run = run_tool(Seq, 1, 3, "--json")
    assert run.out == '["1","2","3"]' and run.data == ["1", "2", "3"] and run.is_value


class _ClosingAfter(OutputStream):
    """A reader that takes one write and then leaves."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    async def write(self, data: bytes) -> None:
        if self.writes:
            raise BrokenPipeError
        self.writes.append(data)


def test_seq_streams_and_stops_when_the_reader_leaves() -> None:
    from kaish_kernel.scheduler.stage import EMPTY_INPUT
    from kaish_kernel.tools.base import ToolContext
    from kaish_kernel.tools.schema import bind
    from tests.tool_harness import ErrorBuffer, word_to_raw

    out = _ClosingAfter()
    args = bind(Seq.schema, [word_to_raw(w) for w in (1, 100_000_000)])
    ctx = ToolContext("seq", args, EMPTY_INPUT, out, ErrorBuffer(), FakeShell())
    start = time.monotonic()
    code = asyncio.run(Seq().run(ctx))
    assert code == 0
    assert time.monotonic() - start < 2
    assert out.writes[0].startswith(b"1\n2\n3\n")
    assert len(out.writes[0]) < 100_000


# -- basename / dirname --------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["/usr/bin/sort"], "sort\n"),
        (["/path/to/file.txt", ".txt"], "file\n"),
        (["/path/to/dir/"], "dir\n"),
        (["/"], "/\n"),
        (["//"], "/\n"),
        ([""], "\n"),
        (["file.txt"], "file.txt\n"),
        ([".txt", ".txt"], ".txt\n"),
    ],
)
def test_basename(words: list[str], expected: str) -> None:
    run = run_tool(Basename, *words)
    assert (run.code, run.out) == (0, expected)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["/usr/bin/sort"], "/usr/bin\n"),
        (["filename"], ".\n"),
        (["/"], "/\n"),
        (["//"], "/\n"),
        ([""], ".\n"),
        (["/a"], "/\n"),
        (["a/b/"], "a\n"),
        (["a//b"], "a\n"),
        (["a/b", "c/d/e"], "a\nc/d\n"),
    ],
)
def test_dirname(words: list[str], expected: str) -> None:
    run = run_tool(Dirname, *words)
    assert (run.code, run.out) == (0, expected)


def test_basename_dirname_need_an_operand() -> None:
    assert run_tool(Basename).code == 2
    assert run_tool(Dirname).code == 2


# -- hostname / uname ----------------------------------------------------------


def test_hostname_prints_one_line() -> None:
    run = run_tool(Hostname)
    assert run.code == 0 and run.out.endswith("\n") and run.out.count("\n") == 1


def test_uname_identity() -> None:
    assert run_tool(Uname).out == "kaish\n"
    assert run_tool(Uname, "-o").out == "kai\n"
    assert run_tool(Uname, "-n").out == "kaish\n"
    assert run_tool(Uname, "-n", shell=FakeShell(vars={"HOSTNAME": "box"})).out == "box\n"
    parts = run_tool(Uname, "-a").out.split()
    assert parts[0] == "kaish" and parts[-1] == "kai"


# -- date ------------------------------------------------------------------------


@pytest.fixture()
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Now is 2023-11-14T22:13:20Z (epoch 1700000000), a Tuesday."""
    monkeypatch.setattr(_date, "now_utc", lambda: datetime.fromtimestamp(1_700_000_000, UTC))


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["-u"], "2023-11-14 22:13:20\n"),
        (["-u", "+%s"], "1700000000\n"),
        (["-u", "+%Y-%m-%dT%H:%M:%S%:z"], "2023-11-14T22:13:20+00:00\n"),
        (["-u", "+%N|%3N|%%|%A|%j"], "000000000|000|%|Tuesday|318\n"),
        (["-u", "-I"], "2023-11-14\n"),
        (["-u", "--iso-8601=seconds"], "2023-11-14T22:13:20+00:00\n"),
        (["-u", "--iso-8601=hours"], "2023-11-14T22+00:00\n"),
        (["-u", "--iso-8601=ns"], "2023-11-14T22:13:20,000000000+00:00\n"),
        (["-u", "-R"], "Tue, 14 Nov 2023 22:13:20 +0000\n"),
        (["-u", "--rfc-3339", "seconds"], "2023-11-14 22:13:20+00:00\n"),
        (["-u", "-d", "yesterday", "-I"], "2023-11-13\n"),
        (["-u", "-d", "tomorrow", "-I"], "2023-11-15\n"),
        (["-u", "-d", "2 days ago", "-I"], "2023-11-12\n"),
        (["-u", "-d", "in 3 hours", "+%H"], "01\n"),
        (["-u", "-d", "+1 week", "-I"], "2023-11-21\n"),
        (["-u", "-d", "1 month ago", "-I"], "2023-10-14\n"),
        (["-u", "-d", "next friday"], "2023-11-17 00:00:00\n"),
        (["-u", "-d", "last tuesday", "-I"], "2023-11-07\n"),
        (["-u", "-d", "2024-01-31 +1 month", "-I"], "2024-02-29\n"),
        (["-u", "-d", "2026-06-01 09:30"], "2026-06-01 09:30:00\n"),
        (["-u", "-d", "2026-06-01T09:30:15"], "2026-06-01 09:30:15\n"),
        (["-u", "-d", "2026-06-01T09:30:00+02:00"], "2026-06-01 07:30:00\n"),
        (["-u", "@0"], "1970-01-01 00:00:00\n"),
        (["--tz", "Asia/Tokyo"], "2023-11-15 07:13:20\n"),
        (["--tz", "Asia/Tokyo", "-u"], "2023-11-14 22:13:20\n"),
    ],
)
def test_date_forms(pinned: None, words: list[object], expected: str) -> None:
    run = run_tool(Date, *words)
    assert (run.code, run.out, run.stderr) == (0, expected, "")


def test_date_tz_variable(pinned: None) -> None:
    run = run_tool(Date, "+%H %:z", shell=FakeShell(vars={"TZ": "Asia/Tokyo"}))
    assert run.out == "07 +09:00\n"


def test_date_json_record(pinned: None) -> None:
    run = run_tool(Date, "-u", "--json")
    assert run.is_value and run.data == {
        "iso": "2023-11-14T22:13:20+00:00",
        "epoch": 1700000000,
        "utc": "2023-11-14T22:13:20Z",
        "local": "2023-11-14 22:13:20",
        "weekday": "Tuesday",
        "tz": "+00:00",
        "offset_seconds": 0,
    }


@pytest.mark.parametrize(
    ("words", "needle"),
    [
        (["+%Q"], "unknown format specifier"),
        (["bogus"], "did you mean -d"),
        (["--tz", "Nope/Zone"], "unknown timezone"),
        (["-d", "someday"], "cannot parse date string"),
        (["-d", "@x"], "invalid epoch"),
        (["-d", "now", "-r", "f"], "cannot combine"),
        (["--rfc-3339", "week"], "--rfc-3339"),
        (["--iso-8601=week"], "--iso-8601"),
    ],
)
def test_date_errors_exit_2(pinned: None, words: list[object], needle: str) -> None:
    run = run_tool(Date, *words)
    assert run.code == 2 and run.stdout == b"" and needle in run.stderr


def test_date_reference_file(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("x")
    import os

    os.utime(target, (1_600_000_000, 1_600_000_000))
    run = run_tool(Date, "-u", "-r", "f", "+%s", shell=FakeShell(cwd_path=str(tmp_path)))
    assert run.out == "1600000000\n"
    assert run_tool(Date, "-r", "missing", shell=FakeShell(cwd_path=str(tmp_path))).code == 2


# -- --json, accepted by every builtin here --------------------------------------


@pytest.mark.parametrize(
    ("tool", "words", "expected"),
    [
        (Echo, ["hi", "--json"], '"hi\\n"'),
        (Echo, ["", "--json"], ""),
        (Echo, ["--", "--json"], "--json\n"),
        (Basename, ["/a/b.txt", "--json"], '"b.txt\\n"'),
        (Dirname, ["/a/b.txt", "--json"], '"/a\\n"'),
        (Uname, ["--json"], '"kaish\\n"'),
        (Sleep, [0, "--json"], ""),
        (True_, ["--json"], ""),
    ],
)
def test_json_flag(tool: type, words: list[object], expected: str) -> None:
    run = run_tool(tool, *words)
    assert (run.code, run.out) == (0, expected)


def test_printf_reads_json_among_its_raw_words() -> None:
    from kaish_kernel.tools.builtins.basic import Printf

    run = run_tool(Printf, "x", "--json")
    assert (run.out, run.is_value) == ('"x"', True)
    assert run_tool(Printf, "%s", "--", "--json").out == "--json"
