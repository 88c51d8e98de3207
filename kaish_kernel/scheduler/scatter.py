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
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kaish_kernel.scheduler.duration import DURATION_HINT, parse_duration, run_with_deadline
from kaish_kernel.scheduler.stage import NO_DATA, CaptureOutput, resolve_data
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink
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


@dataclass(frozen=True, slots=True)
class ScatterOptions:
    as_var: str = "ITEM"
    limit: int = DEFAULT_LIMIT
    timeout: float | None = None
    json: bool = False


@dataclass(frozen=True, slots=True)
class GatherOptions:
    lines: bool = False
    json: bool = False


def _valid_name(name: str) -> bool:
    return bool(name) and (name.replace("_", "a").isalnum()) and not name[0].isdigit()


def parse_scatter_options(named: Mapping[str, Value], flags: set[str]) -> ScatterOptions:
    """Options from bound arguments; a bad value raises ScatterError(code 2)."""
    as_var = named.get("as", "ITEM")
    if not isinstance(as_var, str):
        raise ScatterError(f"scatter --as: expected a variable name, got {to_json(as_var)}", 2)
    if not _valid_name(as_var):
        raise ScatterError(f"scatter --as: \"{as_var}\" is not a valid variable name", 2)
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
    return ScatterOptions(as_var, limit, timeout, "json" in flags)


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


@dataclass(frozen=True, slots=True)
class WorkerOutcome:
    """What one worker produced."""

    code: int
    out: bytes = b""
    err: str = ""
    data: object = _NONE  # the worker's typed value, if it made one


@dataclass(frozen=True, slots=True)
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


Worker = Callable[[int, Value, CaptureOutput, CaptureErrorSink], Awaitable[int]]
"""Runs one item's worker segment, writing into the given captures; returns its code."""


def _outcome(code: int, out: CaptureOutput, err: CaptureErrorSink) -> WorkerOutcome:
    data: object = _NONE
    if out.data is not NO_DATA:
        try:
            data = resolve_data(out.data)
        except Exception:
            data = _NONE
    return WorkerOutcome(code, out.getvalue(), err.text(), data)


class ScatterGatherRunner:
    """Runs one worker per item with bounded concurrency; rows in item order."""

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
        semaphore = asyncio.Semaphore(self.options.limit)
        counts = {"done": 0, "failed": 0, "running": 0}

        def report() -> None:
            if self.progress is not None:
                self.progress(ScatterProgress(total, counts["done"], counts["failed"], counts["running"]))

        async def one(i: int, item: Value) -> None:
            out, err = CaptureOutput(), CaptureErrorSink()
            counts["running"] += 1
            report()
            try:
                timeout = self.options.timeout
                if timeout is None:
                    timed_out, code = False, await worker(i, item, out, err)
                else:
                    timed_out, code = await run_with_deadline(worker(i, item, out, err), timeout)
                row, failure = make_row(i, item, _outcome(code or 0, out, err), timed_out)
                slots[i] = (row, failure)
                counts["done"] += 1
                counts["failed"] += failure is not None
            finally:
                counts["running"] -= 1
                semaphore.release()
                report()

        report()
        async with asyncio.TaskGroup() as group:
            for i, item in enumerate(items):
                await semaphore.acquire()
                group.create_task(one(i, item))
        result = ScatterResult()
        for slot in slots:
            assert slot is not None
            row, failure = slot
            result.rows.append(row)
            if failure is not None:
                result.failed_labels.append(failure)
        return result


@dataclass(frozen=True, slots=True)
class GatherOutput:
    code: int
    text: str
    err: str
    data: object  # the rows (a list) or NO_ITEMS_DATA for --lines


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
        text = json.dumps(result.rows, indent=2, ensure_ascii=False) if result.rows else "[]"
    else:
        text = "\n".join(to_json(row) for row in result.rows)
    return GatherOutput(123 if result.failed else 0, text, summary + "\n" if summary else "", result.rows)
