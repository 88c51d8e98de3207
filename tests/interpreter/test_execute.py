"""Shell.execute as an embedder sees it: state across calls, typed results,
stdin, streaming sinks, cancellation, and failures that must stay contained.

The behaviour of scripts themselves is pinned by tests/cases/*.jsonl; these
tests cover what a script cannot observe.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kaish_kernel.scheduler.stage import BytesInput, CaptureOutput, OutputStream
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink
from kaish_kernel.shell import ExecResult, Shell


class Session:
    """One Shell in a temporary directory, run from synchronous tests."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.shell = Shell(cwd=str(cwd), env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})

    async def run(self, script: str, **kwargs: object) -> tuple[ExecResult, str, str]:
        out, err = CaptureOutput(), CaptureErrorSink()
        result = await self.shell.execute(script, stdout=out, stderr=err, **kwargs)  # type: ignore[arg-type]
        return result, out.getvalue().decode(), err.text()


def run_all(cwd: Path, *scripts: str) -> list[tuple[ExecResult, str, str]]:
    async def go() -> list[tuple[ExecResult, str, str]]:
        session = Session(cwd)
        try:
            return [await session.run(s) for s in scripts]
        finally:
            await session.shell.close()

    return asyncio.run(go())


# -- state across calls ----------------------------------------------------------


def test_variables_functions_aliases_and_cwd_survive_between_calls(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    results = run_all(
        tmp_path,
        "n=41; f() { echo \"f got $1\"; }; alias hi='echo hi'; cd sub",
        'echo $((n + 1)); f x; hi there; basename "$(pwd)"',
    )
    assert results[1][1] == "42\nf got x\nhi there\nsub\n"


def test_exit_ends_the_call_not_the_session(tmp_path: Path) -> None:
    results = run_all(tmp_path, "v=kept; exit 3; echo never", "echo $?; echo $v")
    assert results[0][0].code == 3 and results[0][1] == ""
    # $? carries the last call's status into the next
    assert results[1][1] == "3\nkept\n"


def test_a_syntax_error_reports_and_changes_nothing(tmp_path: Path) -> None:
    results = run_all(tmp_path, "v=1", "v=2; echo 'open", "echo $v")
    result, out, err = results[1]
    assert result.code == 1 and out == "" and result.error is not None
    assert "unterminated" in err
    assert results[2][1] == "1\n"


def test_a_runtime_error_keeps_what_ran_before_it(tmp_path: Path) -> None:
    results = run_all(tmp_path, "a=1; echo $UNSET_Q; a=2", "echo $a")
    assert results[0][0].code == 1 and "undefined variable" in results[0][2]
    assert results[1][1] == "1\n"


def test_recursion_guard_resets_after_it_trips(tmp_path: Path) -> None:
    results = run_all(
        tmp_path,
        "f() { f; }; f",
        "g() { if [[ $1 -gt 0 ]]; then g $(($1 - 1)); else echo bottom; fi }; g 40",
        "f",
    )
    assert "maximum recursion depth exceeded" in results[0][2]
    assert results[1][1] == "bottom\n"
    assert "maximum recursion depth exceeded" in results[2][2]


def test_errexit_stays_on_for_later_calls(tmp_path: Path) -> None:
    results = run_all(tmp_path, "set -e", "false; echo never", "set +e; false; echo reached")
    assert results[1][0].code == 1 and results[1][1] == ""
    assert results[2][1] == "reached\n"


# -- typed results ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "data"),
    [
        ("fromjson '[1, {\"a\": null}]'", [1, {"a": None}]),
        ("fromjson 'null'", None),
        ("r={k: [1 2]}; jq -c .k <<< $r", [1, 2]),
        ("seq 1 2 | scatter | echo $ITEM | gather --json", None),
    ],
    ids=["list", "null", "jq", "gather"],
)
def test_the_last_commands_typed_value_is_the_result_data(
    tmp_path: Path, script: str, data: object
) -> None:
    result, _, _ = run_all(tmp_path, script)[0]
    assert result.has_data
    if script.startswith("seq"):
        assert [row["out"] for row in result.data] == ["1", "2"]  # type: ignore[union-attr]
    else:
        assert result.data == data


@pytest.mark.parametrize("script", ["echo text", "true", "fromjson '[1]'; echo after", "x=5"])
def test_plain_text_output_has_no_data(tmp_path: Path, script: str) -> None:
    result, _, _ = run_all(tmp_path, script)[0]
    assert not result.has_data and result.data is None


# -- stdin -----------------------------------------------------------------------------


def test_stdin_feeds_the_first_reader(tmp_path: Path) -> None:
    async def go() -> tuple[ExecResult, str, str]:
        session = Session(tmp_path)
        try:
            return await session.run(
                "read first; echo \"first=$first\"; cat | tr a-z A-Z",
                stdin=BytesInput(b"one\ntwo\nthree\n"),
            )
        finally:
            await session.shell.close()

    _, out, _ = asyncio.run(go())
    assert out == "first=one\nTWO\nTHREE\n"


def test_without_stdin_readers_see_end_of_input(tmp_path: Path) -> None:
    results = run_all(tmp_path, 'read v; echo "rc=$? [$v]"; cat; wc -l')
    assert results[0][1] in ("rc=1 []\n0\n", "rc=1 []\n      0\n")


# -- output streams while the call runs ------------------------------------------------


class Recorder(OutputStream):
    """Notes every chunk; `first` is set when anything has arrived."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.first = asyncio.Event()

    async def write(self, data: bytes) -> None:
        self.chunks.append(bytes(data))
        self.first.set()


@pytest.mark.parametrize(
    "script",
    [
        "echo early; sleep 5; echo late",
        "for i in 1 2; do echo early; sleep 5; done | cat",
        "f() { echo early; sleep 5; }; f",
        "echo early | cat; sleep 5",
    ],
    ids=["statement", "compound-stage", "function", "pipeline"],
)
def test_output_arrives_while_the_call_is_still_running(tmp_path: Path, script: str) -> None:
    async def go() -> list[bytes]:
        session = Session(tmp_path)
        recorder = Recorder()
        task = asyncio.create_task(
            session.shell.execute(script, stdout=recorder, stderr=CaptureErrorSink())
        )
        try:
            await asyncio.wait_for(recorder.first.wait(), 30)
            assert not task.done()
            return recorder.chunks
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await session.shell.close()

    assert b"".join(asyncio.run(go())).startswith(b"early\n")


# -- cancellation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "while true; do :; done",
        "while true; do echo spin; done | cat > /dev/null",
        "sleep 30",
        "/bin/sleep 30",
        "x=$(sleep 30)",
        "f() { f2; }; f2() { sleep 30; }; f",
        "seq 1 3 | scatter | sleep 30 | gather",
    ],
)
def test_cancelling_a_call_unwinds_it_and_the_session_goes_on(tmp_path: Path, script: str) -> None:
    async def go() -> str:
        session = Session(tmp_path)
        try:
            task = asyncio.create_task(
                session.shell.execute(script, stdout=CaptureOutput(), stderr=CaptureErrorSink())
            )
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
            _, out, _ = await session.run("echo alive")
            return out
        finally:
            await session.shell.close()

    assert asyncio.run(go()) == "alive\n"


# -- failures stay contained ----------------------------------------------------------------


class BrokenOutput(OutputStream):
    """A sink whose reader has gone (and that says so once a write failed)."""

    def __init__(self) -> None:
        self.tried = False

    async def write(self, data: bytes) -> None:
        self.tried = True
        raise BrokenPipeError("gone")

    @property
    def reader_closed(self) -> bool:
        return self.tried


def test_a_closed_sink_ends_the_call_quietly(tmp_path: Path) -> None:
    async def go() -> tuple[ExecResult, str]:
        session = Session(tmp_path)
        err = CaptureErrorSink()
        try:
            result = await asyncio.wait_for(
                session.shell.execute(
                    "while true; do echo more; done", stdout=BrokenOutput(), stderr=err
                ),
                30,
            )
            return result, err.text()
        finally:
            await session.shell.close()

    result, err = asyncio.run(go())
    assert result.code == 0
    assert "internal error" not in err and "Traceback" not in err


def test_a_failing_stage_aborts_without_a_crash_report(tmp_path: Path) -> None:
    result, out, err = run_all(tmp_path, "echo $UNSET_Q | cat; echo never")[0]
    assert (result.code, out) == (1, "")
    assert "undefined variable" in err
    assert "crashed" not in err


@pytest.mark.parametrize(
    "script",
    [
        "exit 99999999999999999999999",
        "return 1",
        "f() { return 9223372036854775808; }; f",
        "echo $((9223372036854775807 * 9223372036854775807))",
        "x=$(printf '\\377\\376' | cat); echo $x",
        "[[ a =~ '(' ]]",
        "echo " + "$(echo " * 60 + "x" + ")" * 60,
        "f() { echo \"$(f)\"; }; f",
    ],
)
def test_hostile_scripts_are_errors_not_crashes(tmp_path: Path, script: str) -> None:
    result, _, err = run_all(tmp_path, script)[0]
    assert isinstance(result.code, int)
    assert "internal error" not in err and "Traceback" not in err and "crashed" not in err
