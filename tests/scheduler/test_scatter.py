"""ScatterGatherRunner and its helpers: options, items, rows, gather output,
bounded concurrency, timeouts, crashes, cancellation, progress; durations.

Workers here are plain coroutines; the shell-level behaviour is in
tests/test_scatter_e2e.py.
"""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from kaish_kernel.lang.names import name_problem
from kaish_kernel.scheduler.duration import parse_duration, run_with_deadline
from kaish_kernel.scheduler.scatter import (
    MAX_LIMIT,
    NO_ITEMS_DATA,
    WORKER_CAPTURE_LIMIT,
    GatherOptions,
    ScatterError,
    ScatterGatherRunner,
    ScatterOptions,
    ScatterProgress,
    ScatterResult,
    WorkerOutcome,
    _Permits,
    extract_items,
    format_gather,
    item_label,
    make_row,
    parse_scatter_options,
)
from kaish_kernel.scheduler.stage import CaptureOutput
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink
from kaish_kernel.values import Value
from tests.scheduler.helpers import run


# ----------------------------------------------------------------------
# options
# ----------------------------------------------------------------------
def test_default_options() -> None:
    assert parse_scatter_options({}, set(), name_problem) == ScatterOptions("ITEM", 8, None, False)


@pytest.mark.parametrize(
    ("given", "limit"),
    [(5, 5), ("5", 5), (" 7 ", 7), (0, 1), (-3, 1), (10000, 10000), (20000, MAX_LIMIT)],
)
def test_limit_is_clamped(given: Value, limit: int) -> None:
    assert parse_scatter_options({"limit": given}, set(), name_problem).limit == limit


@pytest.mark.parametrize("given", ["five", True, 1.5, "1.5", ""])
def test_a_bad_limit_is_a_usage_error(given: Value) -> None:
    with pytest.raises(ScatterError) as caught:
        parse_scatter_options({"limit": given}, set(), name_problem)
    assert caught.value.code == 2
    assert caught.value.message.startswith("scatter --limit: expected a positive integer, got")


def test_the_bad_limit_message_quotes_the_value() -> None:
    with pytest.raises(ScatterError) as caught:
        parse_scatter_options({"limit": "nope"}, set(), name_problem)
    assert caught.value.message == 'scatter --limit: expected a positive integer, got "nope"'


@pytest.mark.parametrize(
    ("given", "seconds"),
    [("500ms", 0.5), ("2s", 2.0), ("1.5m", 90.0), ("1h", 3600.0), (3, 3.0), (0, 0.0), ("30", 30.0)],
)
def test_timeout_values(given: Value, seconds: float) -> None:
    assert parse_scatter_options({"timeout": given}, set(), name_problem).timeout == seconds


@pytest.mark.parametrize("given", ["banana", -1, 0.5, "1.5ms", "-2s", True])
def test_a_bad_timeout_is_a_usage_error(given: Value) -> None:
    with pytest.raises(ScatterError) as caught:
        parse_scatter_options({"timeout": given}, set(), name_problem)
    assert caught.value.code == 2
    assert "scatter --timeout: invalid duration" in caught.value.message
    assert "(try: 30, 5s, 500ms, 2m, 1h)" in caught.value.message


@pytest.mark.parametrize("given", ["9lives", "a-b", "", 3])
def test_a_bad_variable_name_is_a_usage_error(given: Value) -> None:
    with pytest.raises(ScatterError) as caught:
        parse_scatter_options({"as": given}, set(), name_problem)
    assert caught.value.code == 2
    assert caught.value.message.startswith("scatter --as:")


def test_json_flag_is_noted() -> None:
    assert parse_scatter_options({"as": "H"}, {"json"}, name_problem) == ScatterOptions("H", 8, None, True)


# ----------------------------------------------------------------------
# items
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("one\ntwo\n", ["one", "two"]),
        ("one\r\ntwo\r\n", ["one", "two"]),
        ("a\n\nb", ["a", "b"]),
        ("a b\nc d", ["a b", "c d"]),
        ("\n\n", []),
        ("", []),
        ("x", ["x"]),
    ],
)
def test_text_items(text: str, items: list[str]) -> None:
    assert extract_items(NO_ITEMS_DATA, text) == items


def test_typed_items_keep_their_types() -> None:
    items = extract_items([1, "1", {"id": 3}, [2], True, 1.5], "ignored")
    assert items == [1, "1", {"id": 3}, [2], True, 1.5]
    assert [type(i) for i in items[:2]] == [int, str]


@pytest.mark.parametrize("scalar", ["s", 42, 1.5, False])
def test_a_scalar_is_one_item(scalar: Value) -> None:
    assert extract_items(scalar, "") == [scalar]


def test_a_null_element_is_refused_by_position() -> None:
    with pytest.raises(ScatterError) as caught:
        extract_items([1, None, 3], "")
    assert caught.value.code == 1
    assert caught.value.message == (
        "scatter: item 1 is null — filter nulls out first, e.g. jq 'map(select(. != null))'"
    )


def test_null_input_is_refused() -> None:
    with pytest.raises(ScatterError, match="input is null — nothing to fan out"):
        extract_items(None, "")


def test_a_single_object_is_refused_with_a_hint_for_its_first_array() -> None:
    with pytest.raises(ScatterError) as caught:
        extract_items({"n": 1, "jobs": [1, 2], "more": [3]}, "")
    assert caught.value.message == (
        "scatter: input is a single object, not an array — select the array to fan out over"
        " (did you mean jq '.jobs'?)"
    )
    with pytest.raises(ScatterError) as caught:
        extract_items({"n": 1}, "")
    assert "did you mean" not in caught.value.message


def test_binary_input_is_refused() -> None:
    with pytest.raises(ScatterError, match=r"input is binary \(3 bytes\)"):
        extract_items(b"\xff\x00\x01", "")


def test_item_labels() -> None:
    assert item_label("web1") == "web1"
    assert item_label(7) == "7"
    assert item_label({"a": 1}) == '{"a":1}'
    long = "é" * 70
    assert item_label(long) == "é" * 64 + "..."


# ----------------------------------------------------------------------
# rows and gather output
# ----------------------------------------------------------------------
def test_row_keys_in_order() -> None:
    row, failure = make_row(0, {"h": "x"}, WorkerOutcome(0, b"hi\n", "note\n", {"k": 1}), False)
    assert list(row) == ["i", "item", "ok", "code", "out", "err", "data"]
    assert row == {"i": 0, "item": {"h": "x"}, "ok": True, "code": 0, "out": "hi", "err": "note", "data": {"k": 1}}
    assert failure is None


def test_only_one_trailing_newline_is_removed() -> None:
    row, _ = make_row(0, 1, WorkerOutcome(0, b"a\n\n", ""), False)
    assert row["out"] == "a\n"
    row, _ = make_row(0, 1, WorkerOutcome(0, b"a\r\n", ""), False)
    assert row["out"] == "a"


def test_a_timed_out_row() -> None:
    row, failure = make_row(2, "h", WorkerOutcome(0, b"", "sleep: interrupted\n"), True)
    assert row == {
        "i": 2, "item": "h", "ok": False, "code": 124, "out": "", "err": "sleep: interrupted", "timed_out": True,
    }
    assert failure == "h"


def test_binary_worker_output_fails_the_row_only() -> None:
    row, failure = make_row(0, 1, WorkerOutcome(0, b"\xff\xfe", ""), False)
    assert row["ok"] is False and row["code"] == 1 and row["out"] == ""
    assert "binary output (2 bytes)" in str(row["err"])
    assert failure == "1 (binary output not representable as text)"


def _result(*codes: int) -> ScatterResult:
    result = ScatterResult()
    for i, code in enumerate(codes):
        row, failure = make_row(i, i + 1, WorkerOutcome(code, f"{i + 1}\n".encode(), ""), False)
        result.rows.append(row)
        if failure is not None:
            result.failed_labels.append(failure)
    return result


def test_jsonl_has_no_trailing_newline_and_carries_the_rows() -> None:
    out = format_gather(_result(0, 0), GatherOptions())
    assert out.code == 0 and out.err == ""
    assert out.text == (
        '{"i":0,"item":1,"ok":true,"code":0,"out":"1","err":""}\n'
        '{"i":1,"item":2,"ok":true,"code":0,"out":"2","err":""}'
    )
    assert out.data == _result(0, 0).rows


def test_json_is_one_pretty_array() -> None:
    out = format_gather(_result(0), GatherOptions(json=True))
    assert out.text == (
        '[\n  {\n    "i": 0,\n    "item": 1,\n    "ok": true,\n    "code": 0,\n'
        '    "out": "1",\n    "err": ""\n  }\n]'
    )


def test_failures_give_123_and_a_summary() -> None:
    out = format_gather(_result(1, 0, 1), GatherOptions())
    assert out.code == 123
    assert out.err == "gather: 2 of 3 worker(s) failed: 1, 3\n"


def test_lines_mode() -> None:
    ok = format_gather(_result(0, 0), GatherOptions(lines=True))
    assert (ok.code, ok.text, ok.data) == (0, "1\n2", NO_ITEMS_DATA)
    bad = format_gather(_result(1, 0), GatherOptions(lines=True, json=True))
    assert (bad.code, bad.text) == (123, "")
    assert bad.err == "gather: 1 of 2 worker(s) failed: 1 (drop --lines to get per-worker rows)\n"


def test_rows_with_awkward_data_still_serialize() -> None:
    result = ScatterResult()
    result.rows.append(make_row(0, 1, WorkerOutcome(0, b"", "", math.nan), False)[0])
    result.rows.append(make_row(1, 2, WorkerOutcome(0, b"", "", b"\x00"), False)[0])
    text = format_gather(result, GatherOptions()).text
    assert '"data":"NaN"' in text or '"data":"nan"' in text
    assert '"_type":"bytes"' in text
    assert '"data": "' in format_gather(result, GatherOptions(json=True)).text


# ----------------------------------------------------------------------
# the runner
# ----------------------------------------------------------------------
async def _echo(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
    await out.write(f"{item}\n".encode())
    return 0


def _run(items: list[Value], worker, **options) -> ScatterResult:  # type: ignore[no-untyped-def]
    return run(ScatterGatherRunner(ScatterOptions(**options)).run(items, worker), timeout=30)


def test_rows_come_out_in_item_order_whatever_order_workers_finish_in() -> None:
    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        await asyncio.sleep(0.05 * (3 - i))
        await out.write(f"{item}\n".encode())
        return 0

    result = _run(["a", "b", "c"], worker)
    assert [r["out"] for r in result.rows] == ["a", "b", "c"]
    assert [r["i"] for r in result.rows] == [0, 1, 2]


def test_synchronous_workers_need_no_task_and_still_yield_to_the_loop() -> None:
    ticks = 0

    async def main() -> ScatterResult:
        nonlocal ticks

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        side = asyncio.create_task(ticker())
        try:
            return await ScatterGatherRunner(ScatterOptions()).run(list(range(20000)), _echo)
        finally:
            side.cancel()

    result = run(main(), timeout=60)
    assert len(result.rows) == 20000 and result.failed == 0
    assert ticks > 1, "a long run of instant workers must still let other tasks in"


def test_at_most_limit_workers_run_at_once_and_they_start_in_item_order() -> None:
    running = peak = 0
    started: list[int] = []

    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        nonlocal running, peak
        started.append(i)
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (i % 4))
        running -= 1
        return 0

    _run(list(range(40)), worker, limit=3)
    assert peak == 3
    assert started == list(range(40))


def test_one_failure_does_not_stop_the_others() -> None:
    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        await asyncio.sleep(0)
        err.write(f"e{i}\n")
        return 1 if i == 0 else 0

    result = _run([1, 2, 3], worker)
    assert [r["code"] for r in result.rows] == [1, 0, 0]
    assert [r["err"] for r in result.rows] == ["e0", "e1", "e2"]
    assert result.failed_labels == ["1"]


def test_a_worker_that_raises_becomes_a_panicked_row() -> None:
    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        if i == 1:
            raise RuntimeError("bug")
        return 0

    result = _run([1, 2, 3], worker)
    row = result.rows[1]
    assert row["item"] == "<worker panicked>" and row["code"] == 1 and row["ok"] is False
    assert str(row["err"]).startswith("Task panicked:") and "bug" in str(row["err"])
    assert [r["ok"] for r in (result.rows[0], result.rows[2])] == [True, True]


def test_a_timeout_cancels_the_worker_and_marks_its_row() -> None:
    cancelled: list[int] = []

    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        try:
            await asyncio.sleep(0.02 if i == 0 else 30)
        except asyncio.CancelledError:
            cancelled.append(i)
            err.write("interrupted\n")
            raise
        return 0

    started = time.monotonic()
    result = _run([1, 2], worker, timeout=0.3)
    assert time.monotonic() - started < 5
    assert cancelled == [1]
    assert result.rows[0]["ok"] is True and "timed_out" not in result.rows[0]
    assert result.rows[1] == {
        "i": 1, "item": 2, "ok": False, "code": 124, "out": "", "err": "interrupted", "timed_out": True,
    }


def test_the_timer_starts_when_the_worker_gets_its_permit() -> None:
    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        await asyncio.sleep(0.2)
        return 0

    # limit 1: each worker waits for the one before, but only its own run is timed
    result = _run([1, 2, 3], worker, limit=1, timeout=0.6)
    assert result.failed == 0


def test_a_worker_that_swallows_its_timeout_and_succeeds_is_not_timed_out() -> None:
    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return 0  # completion wins a tie
        return 0

    result = _run([1], worker, timeout=0.05)
    assert result.rows[0]["ok"] is True and "timed_out" not in result.rows[0]


def test_a_worker_over_the_capture_limit_is_capped_with_code_3() -> None:
    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        chunk = b"x" * 1048576
        for _ in range(WORKER_CAPTURE_LIMIT // len(chunk) + 2):
            await out.write(chunk)
        return 0

    result = _run([1], worker)
    row = result.rows[0]
    assert row["code"] == 3 and row["ok"] is False
    assert len(str(row["out"])) == WORKER_CAPTURE_LIMIT
    assert "[stdout truncated:" in str(row["err"])


def test_cancelling_the_run_cancels_every_running_worker() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        started.append(i)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise
        return 0

    async def main() -> None:
        task = asyncio.create_task(ScatterGatherRunner(ScatterOptions(limit=4)).run(list(range(10)), worker))
        while len(started) < 4:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert sorted(started) == [0, 1, 2, 3]
    assert sorted(cancelled) == [0, 1, 2, 3]


def test_progress_reports_every_start_and_finish() -> None:
    reports: list[ScatterProgress] = []

    async def worker(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        await asyncio.sleep(0.01)
        return 1 if i == 2 else 0

    runner = ScatterGatherRunner(ScatterOptions(limit=2), progress=reports.append)
    run(runner.run([1, 2, 3], worker))
    assert reports[0] == ScatterProgress(3, 0, 0, 0)
    assert reports[-1] == ScatterProgress(3, 3, 1, 0)
    assert max(r.running for r in reports) == 2
    dones = [r.done for r in reports]
    assert dones == sorted(dones)
    assert len(reports) == 1 + 2 * 3


def test_items_can_be_any_json_value() -> None:
    items: list[Value] = [1, "1", {"a": [1]}, [1, 2], True, 2.5]
    result = _run(items, _echo)
    assert [r["item"] for r in result.rows] == items


# ----------------------------------------------------------------------
# the limiter
# ----------------------------------------------------------------------
def test_permits_are_first_come_first_served_and_survive_cancellation() -> None:
    async def main() -> list[str]:
        permits = _Permits(1)
        assert permits.take_nowait()
        order: list[str] = []

        async def want(name: str) -> None:
            await permits.take()
            order.append(name)

        a = asyncio.create_task(want("a"))
        b = asyncio.create_task(want("b"))
        c = asyncio.create_task(want("c"))
        await asyncio.sleep(0)
        b.cancel()
        await asyncio.sleep(0)
        permits.give()
        await a
        permits.give()
        await c
        permits.give()
        assert permits.take_nowait() and not permits.take_nowait()
        return order

    assert run(main()) == ["a", "c"]


# ----------------------------------------------------------------------
# durations and deadlines
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("1.5", 1.5), ("0", 0.0), ("500ms", 0.5), ("2s", 2.0), ("2m", 120.0),
     ("1.5h", 5400.0), (" 5s ", 5.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["abc", "", "5x", "-1", "1.5ms", "-2s", "s", "1e3"])
def test_invalid_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_an_instant_command_beats_a_zero_deadline() -> None:
    async def instant() -> int:
        return 7

    assert run(run_with_deadline(instant(), 0)) == (False, 7)


def test_the_deadline_note_comes_before_what_the_work_says_while_unwinding() -> None:
    said: list[str] = []

    async def slow() -> int:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            said.append("interrupted")
            raise
        return 0

    result = run(run_with_deadline(slow(), 0.05, on_deadline=lambda: said.append("timed out")))
    assert result == (True, None)
    assert said == ["timed out", "interrupted"]


def test_the_works_error_propagates_when_no_deadline_fired() -> None:
    async def broken() -> int:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        run(run_with_deadline(broken(), 5))


def test_cancelling_the_caller_waits_for_the_work_to_unwind() -> None:
    unwound: list[bool] = []

    async def stubborn() -> int:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(0.1)  # cleanup takes a while (an external's grace period)
            unwound.append(True)
            raise
        return 0

    async def main() -> None:
        task = asyncio.create_task(run_with_deadline(stubborn(), 30))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert unwound == [True]

    run(main())
