"""scatter/gather: typed parallel fan-out.

    pre … | scatter --as X --limit N --timeout D | worker … | gather [--json|--lines] | post …
      │             │                                 │              │
      │             └ extract_items(data, text)       │              └ one row per item, item order
      └ text + typed value                            └ per item: a fork of the session,
                                                        X bound to the item, run to completion

The runner here knows nothing of syntax: it gets the items, a coroutine
factory that runs one worker, and the options. Concurrency is a semaphore
acquired *before* each worker starts, so workers start in item order and at
most `limit` run at once. A worker's timer starts when it gets its permit;
when it fires, the worker is cancelled (its externals get TERM, grace, KILL)
and its row says code 124, `timed_out: true`. Every worker runs to the end;
one failure never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kaish_kernel.records import record
from kaish_kernel.scheduler.duration import DURATION_HINT, parse_duration, run_with_deadline
from kaish_kernel.scheduler.stage import NO_DATA, CaptureOutput, resolve_data
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink
from kaish_kernel.scheduler.stream import DEFAULT_STREAM_MAX_SIZE
from kaish_kernel.values import Value, render_float, to_json

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "GatherOptions",
    "GatherOutput",
    "ScatterError",
    "ScatterGatherRunner",
    "ScatterOptions",
    "ScatterProgress",
    "ScatterResult",
    "WorkerOutcome",
    "extract_items",
    "format_gather",
    "item_label",
    "parse_gather_options",
    "parse_scatter_options",
]

DEFAULT_LIMIT = 8
MAX_LIMIT = 10000


class ScatterError(Exception):
    """A scatter/gather failure before any worker ran: message and exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@record
class ScatterOptions:
    as_var: str = "ITEM"
    limit: int = DEFAULT_LIMIT
    timeout: float | None = None
    json: bool = False
    engine: str | None = None  # "local" or "dask" when --engine was given
    scheduler: str | None = None  # --scheduler ADDRESS (a Dask scheduler)


ENGINES = ("local", "dask")


@record
class GatherOptions:
    lines: bool = False
    json: bool = False


def parse_scatter_options(
    named: Mapping[str, Value], flags: set[str], name_problem: Callable[[str], str | None]
) -> ScatterOptions:
    """Options from bound arguments; a bad value raises ScatterError(code 2).

    `name_problem` is the language's name rule (the scheduler does not import
    the language): why `--as` cannot be a variable name, or None."""
    as_var = named.get("as", "ITEM")
    if not isinstance(as_var, str):
        raise ScatterError(f"scatter --as: expected a variable name, got {to_json(as_var)}", 2)
    problem = name_problem(as_var)
    if problem is not None:
        raise ScatterError(f"scatter --as: \"{as_var}\" is not a valid variable name: {problem}", 2)
    limit_value = named.get("limit", DEFAULT_LIMIT)
    limit: int
    if isinstance(limit_value, bool) or isinstance(limit_value, float):
        raise ScatterError(f"scatter --limit: expected a positive integer, got \"{_text(limit_value)}\"", 2)
    if isinstance(limit_value, int):
        limit = limit_value
    else:
        try:
            limit = int(str(limit_value).strip())
        except ValueError:
            raise ScatterError(
                f"scatter --limit: expected a positive integer, got \"{_text(limit_value)}\"", 2
            ) from None
    limit = max(1, min(limit, MAX_LIMIT))
    timeout: float | None = None
    if "timeout" in named:
        raw = named["timeout"]
        if isinstance(raw, bool) or isinstance(raw, float):
            timeout = None
            parsed = None
        elif isinstance(raw, int):
            parsed = float(raw) if raw >= 0 else None
        else:
            parsed = parse_duration(str(raw))
        if parsed is None:
            raise ScatterError(
                f"scatter --timeout: invalid duration \"{_text(raw)}\" ({DURATION_HINT})", 2
            )
        timeout = parsed
    engine, scheduler = _engine_options(named, flags)
    return ScatterOptions(as_var, limit, timeout, "json" in flags, engine, scheduler)


def _engine_options(named: Mapping[str, Value], flags: set[str]) -> tuple[str | None, str | None]:
    """--engine local|dask and --scheduler ADDRESS; a bad value raises ScatterError(2)."""
    engine = named.get("engine")
    if engine is None and "engine" in flags:
        raise ScatterError("scatter --engine: expected local or dask", 2)
    if engine is not None:
        if not isinstance(engine, str) or engine.strip().lower() not in ENGINES:
            raise ScatterError(f"scatter --engine: expected local or dask, got \"{_text(engine)}\"", 2)
        engine = engine.strip().lower()
    scheduler = named.get("scheduler")
    if scheduler is None and "scheduler" in flags:
        raise ScatterError("scatter --scheduler: expected an address such as tcp://host:8786", 2)
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler.strip():
            raise ScatterError(
                f"scatter --scheduler: expected an address such as tcp://host:8786, got \"{_text(scheduler)}\"", 2
            )
        scheduler = scheduler.strip()
    return engine, scheduler


def parse_gather_options(flags: set[str]) -> GatherOptions:
    return GatherOptions(lines="lines" in flags, json="json" in flags)


def _text(value: Value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return render_float(value)
    return to_json(value)


def item_label(item: Value) -> str:
    """A string item is itself, others their compact JSON; cut at 64 characters."""
    text = item if isinstance(item, str) else to_json(item)
    return text if len(text) <= 64 else text[:64] + "..."


def extract_items(data: object, text: str | None) -> list[Value]:
    """The items to fan out over: typed data first, else one per non-blank line.

    `data` is the producer's typed value, or None when there was none (use
    a sentinel-free None: JSON null arrives as the string "null"-less value
    `NULL_DATA`)."""
    if data is not _NONE:
        if isinstance(data, list):
            for i, element in enumerate(data):
                if element is None:
                    raise ScatterError(
                        f"scatter: item {i} is null — filter nulls out first, e.g. jq 'map(select(. != null))'"
                    )
            return list(data)
        if data is None:
            raise ScatterError("scatter: input is null — nothing to fan out")
        if isinstance(data, dict):
            hint = next((k for k, v in data.items() if isinstance(v, list)), None)
            message = (
                "scatter: input is a single object, not an array — select the array to fan out over"
            )
            if hint is not None:
                message += f" (did you mean jq '.{hint}'?)"
            raise ScatterError(message)
        if isinstance(data, bytes | bytearray):
            raise ScatterError(
                f"scatter: input is binary ({len(data)} bytes) — decode it to text or JSON first"
            )
        return [data]
    body = (text or "").rstrip("\r\n")
    if not body:
        return []
    return [line.removesuffix("\r") for line in body.split("\n") if line.removesuffix("\r")]


class _NoneSentinel:
    def __repr__(self) -> str:
        return "NO_ITEMS_DATA"


_NONE: Any = _NoneSentinel()
NO_ITEMS_DATA = _NONE


@record
class WorkerOutcome:
    """What one worker produced."""

    code: int
    out: bytes = b""
    err: str = ""
    data: object = _NONE  # the worker's typed value, if it made one


@record
class ScatterProgress:
    total: int
    done: int
    failed: int
    running: int


@dataclass(slots=True)
class ScatterResult:
    """All rows, in item order, and how many failed."""

    rows: list[dict[str, Value]] = field(default_factory=list)
    failed_labels: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failed_labels)

    @classmethod
    def from_slots(cls, slots: list[tuple[dict[str, Value], str | None] | None]) -> ScatterResult:
        """The result from every item's (row, failure label), in item order."""
        result = cls()
        for slot in slots:
            assert slot is not None
            row, failure = slot
            result.rows.append(row)
            if failure is not None:
                result.failed_labels.append(failure)
        return result


def _strip_one_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def make_row(i: int, item: Value, outcome: WorkerOutcome, timed_out: bool) -> tuple[dict[str, Value], str | None]:
    """The row for one worker, and its failure label (None when it succeeded)."""
    code = 124 if timed_out else outcome.code
    note = ""
    try:
        out = outcome.out.decode("utf-8")
        err = outcome.err
    except UnicodeDecodeError:
        out = ""
        err = (
            f"binary output ({len(outcome.out)} bytes) cannot be shown as text;"
            " encode it in the worker (base64, xxd)"
        )
        code = code or 1
        note = " (binary output not representable as text)"
    ok = code == 0 and not timed_out
    row: dict[str, Value] = {
        "i": i,
        "item": item,
        "ok": ok,
        "code": code,
        "out": _strip_one_newline(out),
        "err": _strip_one_newline(err),
    }
    if outcome.data is not _NONE:
        row["data"] = outcome.data
    if timed_out:
        row["timed_out"] = True
    return row, (None if ok else item_label(item) + note)


Worker = Callable[[int, Value, CaptureOutput, CaptureErrorSink], Coroutine[Any, Any, int]]
"""Runs one item's worker segment, writing into the given captures; returns its code."""

WORKER_CAPTURE_LIMIT = DEFAULT_STREAM_MAX_SIZE  # a worker's stdout beyond this is cut (code 3)
YIELD_EVERY = 0.005  # seconds of back-to-back synchronous workers before the loop gets a turn


def _outcome(code: int, out: CaptureOutput, err: CaptureErrorSink) -> WorkerOutcome:
    data: object = _NONE
    if out.data is not NO_DATA:
        try:
            data = resolve_data(out.data)
        except Exception:
            data = _NONE
    text = err.text()
    if out.truncated:
        code = 3  # the spill contract: the output was capped
        text += (
            f"[stdout truncated: the worker's output exceeded the {WORKER_CAPTURE_LIMIT // 1048576}MB"
            f" capture buffer; only the first {WORKER_CAPTURE_LIMIT} bytes are kept]\n"
        )
    return WorkerOutcome(code, out.getvalue(), text, data)


def _start_eagerly(group: asyncio.TaskGroup, coro: Coroutine[Any, Any, None]) -> None:
    """Run `coro` now, up to its first suspension; only then give it a task.

    Most workers (`echo "$ITEM"`, `jq …`) never suspend: they finish here
    without a task, a loop turn or a context switch — that is where most of
    the per-item cost went. One that does suspend is handed, mid-flight, to
    a task of the group that drives it exactly as a task would have.

    The first step runs in a copy of the caller's context and, like any
    synchronous code, cannot be interrupted; `asyncio.current_task()` is the
    caller's during that step (nothing on a worker's path uses it before its
    first suspension: TaskGroups there only consult their parent when a
    child fails, and pipeline stages never fail that way).
    """
    context = contextvars.copy_context()
    try:
        yielded = context.run(coro.send, None)
    except StopIteration:
        return
    group.create_task(_resume(coro, yielded), context=context)


async def _resume(coro: Coroutine[Any, Any, None], yielded: Any) -> None:
    """Drive a coroutine that was started outside any task (see `_start_eagerly`).

    What it yielded is awaited here; the outcome (a result, an exception, or
    this task's cancellation) is passed back in, step after step."""
    while True:
        try:
            if yielded is None:
                await asyncio.sleep(0)  # a bare yield: give the loop one turn
            else:
                # what a task does with a future its coroutine yielded: take
                # over the "blocking" mark, then wait for the future itself
                yielded._asyncio_future_blocking = False
                await yielded
        except BaseException as exc:  # cancellation included: it belongs to `coro`
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            yielded = coro.send(None)
        except StopIteration:
            return


class _Permits:
    """A counting limiter (a semaphore) whose free path is a plain integer test:
    most permits are taken and given back without a single await."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, count: int) -> None:
        self._free = count
        self._waiters: deque[asyncio.Future[None]] = deque()

    def take_nowait(self) -> bool:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def take(self) -> None:
        """Wait for a permit (first come, first served). Cancellation: safe."""
        if self.take_nowait():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.give()  # granted just as we were cancelled: hand it on
            else:
                with contextlib.suppress(ValueError):  # give() may have dropped it already
                    self._waiters.remove(waiter)
            raise

    def give(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the permit passes straight to the waiter
                return
        self._free += 1


class ScatterGatherRunner:
    """Runs one worker per item with bounded concurrency; rows in item order.

        for each item, in order:
            acquire a permit ─► start its worker eagerly ─► finished? next item
                                     │ suspended (an external, a sleep, a pipe)
                                     └─► a task of the group carries it on
        all done ─► rows in item order

    A worker that raises (a kaish fault, not a failing command) becomes a
    row for the item `"<worker panicked>"` with code 1; the others go on.
    Cancelling `run` cancels every running worker (their externals get TERM,
    grace, KILL) and propagates once they have unwound.
    """

    def __init__(
        self,
        options: ScatterOptions,
        *,
        progress: Callable[[ScatterProgress], None] | None = None,
    ) -> None:
        self.options = options
        self.progress = progress

    def __repr__(self) -> str:
        return f"<ScatterGatherRunner limit={self.options.limit} timeout={self.options.timeout}>"

    async def run(self, items: Sequence[Value], worker: Worker) -> ScatterResult:
        total = len(items)
        slots: list[tuple[dict[str, Value], str | None] | None] = [None] * total
        permits = _Permits(self.options.limit)
        timeout = self.options.timeout
        progress = self.progress
        counts = [0, 0, 0]  # done, failed, running

        def report() -> None:
            if progress is not None:
                progress(ScatterProgress(total, counts[0], counts[1], counts[2]))

        async def one(i: int, item: Value) -> None:
            out, err = CaptureOutput(limit=WORKER_CAPTURE_LIMIT), CaptureErrorSink()
            counts[2] += 1
            if progress is not None:
                report()
            try:
                code: int | None
                if timeout is None:
                    timed_out, code = False, await worker(i, item, out, err)
                else:
                    timed_out, code = await run_with_deadline(worker(i, item, out, err), timeout)
                outcome = _outcome(code or 0, out, err)
                # completion wins a tie: a worker that succeeded as its timer fired is fine
                timed_out = timed_out and (code is None or outcome.code != 0)
                slot = make_row(i, item, outcome, timed_out)
            except Exception as exc:
                crash = WorkerOutcome(1, b"", f"Task panicked: {type(exc).__name__}: {exc}")
                slot = make_row(i, "<worker panicked>", crash, False)
            finally:
                counts[2] -= 1
                permits.give()
            slots[i] = slot
            counts[0] += 1
            counts[1] += slot[1] is not None
            if progress is not None:
                report()

        report()
        loop = asyncio.get_running_loop()
        turn = loop.time()
        async with asyncio.TaskGroup() as group:
            for i, item in enumerate(items):
                if not permits.take_nowait():
                    await permits.take()
                _start_eagerly(group, one(i, item))
                if loop.time() - turn > YIELD_EVERY:
                    await asyncio.sleep(0)  # let other cells, jobs and a cancel in
                    turn = loop.time()
        return ScatterResult.from_slots(slots)


@record
class GatherOutput:
    code: int
    text: str
    err: str
    data: object  # the rows (a list) or NO_ITEMS_DATA for --lines


_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _row_json(row: dict[str, Value]) -> str:
    """One compact JSONL row; one shared encoder (bytes or NaN in `data`: to_json)."""
    try:
        return _ROW_ENCODER.encode(row)
    except (TypeError, ValueError):
        return to_json(row)


def format_gather(result: ScatterResult, options: GatherOptions) -> GatherOutput:
    """Gather's output: JSONL rows (default), a pretty array (--json) or raw lines."""
    total = len(result.rows)
    summary = ""
    if result.failed:
        summary = f"gather: {result.failed} of {total} worker(s) failed: {', '.join(result.failed_labels)}"
    if options.lines:
        if result.failed:
            return GatherOutput(123, "", summary + " (drop --lines to get per-worker rows)\n", _NONE)
        return GatherOutput(0, "\n".join(str(row["out"]) for row in result.rows), "", _NONE)
    if options.json:
        text = to_json(result.rows, pretty=True)
    else:
        text = "\n".join(map(_row_json, result.rows))
    return GatherOutput(123 if result.failed else 0, text, summary + "\n" if summary else "", result.rows)
