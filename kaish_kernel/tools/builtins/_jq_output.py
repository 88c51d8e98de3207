"""Running a started jq program and printing its results the way jq does.

    jq_next ──► result ──┬─ JSON (-c, pretty) ─► jv_dumpf into a memory FILE ─┐
                         └─ raw string (-r/-j) ─► its bytes ──────────────────┤
                                                                              ▼
            the first result at once, then chunks of ~64 KiB or every 50 ms ─► sink

Invariants:
- Chunks end on result boundaries, so number rewriting never sees half a
  token and the typed value can be rebuilt from the chunks.
- Numbers print the way jq 1.6/1.7 print computed numbers (`1e10` ->
  `10000000000`, `3.0` -> `3`). libjq 1.8 prints a number literal exactly
  as written, so literal forms that differ are rewritten; integers keep
  every digit.
- The run stops between results once `RunControl` is stopped, and a
  filter computing without output is halted from outside (`jq_halt`).
"""

from __future__ import annotations

import ctypes
import re
import threading
import time
from dataclasses import dataclass
from typing import Final, Protocol

from kaish_kernel.tools.builtins import _jq_lib as clib

__all__ = [
    "Chunk",
    "DumpStyle",
    "OutputSink",
    "RunControl",
    "RunOutcome",
    "canonical_numbers",
    "execute",
    "format_number",
]

CHUNK: Final = 64 * 1024
LATENCY: Final = 0.05  # seconds a finished result may wait for company
_CHECK_EVERY: Final = 16  # results between checks of size and age

# jv_print flags (jv.h)
PRINT_PRETTY: Final = 1
PRINT_ASCII: Final = 2
PRINT_SORTED: Final = 8
PRINT_TAB: Final = 64


# ---------------------------------------------------------------------------
# numbers


def format_number(value: float) -> str:
    """A double as jq's printer writes it (shortest digits; `1e+17`, `1e-05`)."""
    if value != value:
        return "null"
    if value in (float("inf"), float("-inf")):
        value = 1.7976931348623157e308 if value > 0 else -1.7976931348623157e308
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    from decimal import Decimal  # only literals that need rewriting get here

    sign, digits_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digits_tuple))
    decpt = len(digits) + exponent
    out = "-" if sign else ""
    if decpt <= -4 or decpt > len(digits) + 15:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = decpt - 1
        return f"{out}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if decpt <= 0:
        return f"{out}0.{'0' * -decpt}{digits}"
    if decpt >= len(digits):
        return out + digits + "0" * (decpt - len(digits))
    return f"{out}{digits[:decpt]}.{digits[decpt:]}"


# A literal whose text may differ from jq's printing of its double: an
# exponent (decNumber writes `E`), a zero ending a fraction, a tiny decimal
# or a long one. Anything else libjq prints is already canonical.
_SUSPECT_RE: Final = re.compile(rb"[0-9]E|\.[0-9]*0(?![0-9])|0\.0000|\.[0-9]{16}|[0-9]{16}\.")
_TOKEN_RE: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*')


def _canonical_token(match: re.Match[bytes]) -> bytes:
    token = match.group(0)
    if token[:1] == b'"' or not any(c in token for c in b".eE"):
        return token  # strings, and integers (kept exact at any size)
    return format_number(float(token)).encode("ascii")


def canonical_numbers(text: bytes) -> bytes:
    """Rewrite number literals in printed JSON as jq prints computed numbers."""
    if _SUSPECT_RE.search(text) is None:
        return text
    return _TOKEN_RE.sub(_canonical_token, text)


# ---------------------------------------------------------------------------
# style, control, outcome


@dataclass(frozen=True, slots=True)
class DumpStyle:
    """How results are printed (jq's -r -j -c -a -S --tab --indent)."""

    raw: bool = False
    join: bool = False
    compact: bool = False
    ascii: bool = False
    sort_keys: bool = False
    tab: bool = False
    indent: int = 2

    @property
    def flags(self) -> int:
        flags = 0
        if not self.compact:
            if self.tab:
                flags |= PRINT_TAB | PRINT_PRETTY
            elif self.indent > 0:
                flags |= (min(self.indent, 7) << 8) | PRINT_PRETTY
        if self.ascii:
            flags |= PRINT_ASCII
        if self.sort_keys:
            flags |= PRINT_SORTED
        return flags

    @property
    def per_result(self) -> bool:
        """Raw strings are not JSON: their results must be kept apart."""
        return self.raw or self.join


class RunControl:
    """Stops a run from another thread.

    The worker checks `stopped` between results; a filter busy computing
    without producing any (`[repeat(1)]`) is halted at its next instruction
    with `jq_halt`, which libjq's interpreter loop checks on every opcode.
    Code already inside one long C call (sorting a huge array) finishes
    that call first.
    """

    def __init__(self) -> None:
        self.stopped = False
        self._lock = threading.Lock()
        self._state: int | None = None

    def is_set(self) -> bool:
        return self.stopped

    def stop(self) -> None:
        self.stopped = True
        with self._lock:
            if self._state is not None:
                lib = clib.load()
                if not lib.jq_halted(self._state):
                    lib.jq_halt(self._state, lib.jv_null(), lib.jv_null())

    def attach(self, state: int | None) -> None:
        with self._lock:
            self._state = state


@dataclass(slots=True)
class RunOutcome:
    """How a run ended."""

    results: int = 0
    last_kind: int = clib.KIND_INVALID  # kind of the last result (for -e)
    error: str | None = None  # an uncaught jq error
    halted: bool = False
    halt_code: int = 0
    stopped: bool = False  # the consumer went away

    @property
    def last_was_falsy(self) -> bool:
        return self.last_kind in (clib.KIND_NULL, clib.KIND_FALSE)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Printed results. `data` is what goes to stdout.

    In JSON mode `texts` is None and `data` is a stream of JSON documents
    (one per result). With raw output every result is listed in `texts`
    (without separator) and `raws` says which are raw strings.
    """

    data: bytes
    texts: list[bytes] | None = None
    raws: list[bool] | None = None


class OutputSink(Protocol):
    def output(self, chunk: Chunk) -> bool:
        """Take a chunk (may block for backpressure); False: stop the run."""
        ...

    def error(self, data: bytes) -> None:
        """Bytes for stderr (`debug`, `stderr`)."""
        ...


# ---------------------------------------------------------------------------
# the result loop


class Printer:
    """Prints results into chunks for one run; hands them to the sink."""

    def __init__(self, lib: clib.JqLib, style: DumpStyle, sink: OutputSink) -> None:
        self._lib = lib
        self._style = style
        self._sink = sink
        self._flags = style.flags
        self._stream = (
            clib.MemStream(lib.libc) if lib.libc is not None and not style.per_result else None
        )
        self._texts: list[bytes] = []
        self._raws: list[bool] = []
        self._pending = 0  # results printed since the last flush
        self._size = 0  # bytes of per-result texts since the last flush
        self._since = time.monotonic()
        self.open = True

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def error(self, data: bytes) -> None:
        """Stderr from the filter: whatever stdout came first goes out first."""
        self.flush()
        self._sink.error(data)

    def flush(self) -> bool:
        if not self._pending or not self.open:
            return self.open
        self._pending = 0
        self._since = time.monotonic()
        if self._stream is not None:
            chunk = Chunk(canonical_numbers(self._stream.take()))
        else:
            texts, raws = self._texts, self._raws
            self._texts, self._raws, self._size = [], [], 0
            if any(raws):
                texts = [t if r else canonical_numbers(t) for t, r in zip(texts, raws, strict=True)]
            elif _SUSPECT_RE.search(b"".join(texts)) is not None:
                texts = [canonical_numbers(t) for t in texts]
            sep = b"" if self._style.join else b"\n"
            chunk = Chunk(sep.join(texts) + sep, texts, raws)
        self.open = self._sink.output(chunk)
        return self.open

    def run(self, state: int, control: RunControl, outcome: RunOutcome) -> clib.Jv | None:
        """Print results until the program ends.

        Returns the final (invalid) jv, which says why it ended, or None when
        the run was stopped (the consumer left, or `control` was stopped).
        """
        if self._stream is not None:
            return self._run_into_stream(state, control, outcome)
        return self._run_each(state, control, outcome)

    def _run_into_stream(
        self, state: int, control: RunControl, outcome: RunOutcome
    ) -> clib.Jv | None:
        """JSON results, printed by libjq straight into the memory stream."""
        stream = self._stream
        assert stream is not None and self._lib.libc is not None
        jq_next, dumpf = self._lib.jq_next, self._lib.jv_dumpf
        fputc, handle, flags = self._lib.libc.fputc, stream.handle, self._flags
        monotonic, invalid = time.monotonic, clib.KIND_INVALID
        results, last = outcome.results, outcome.last_kind
        countdown = 1  # the first result goes out at once
        unflushed = False
        try:
            while not control.stopped:
                result = jq_next(state)
                kind = result.kind_flags & 0xF
                if kind == invalid:
                    return result
                results += 1
                last = kind
                dumpf(result, handle, flags)
                fputc(10, handle)
                unflushed = True
                countdown -= 1
                if countdown:
                    continue
                # every few results: flush what has waited long enough, or is big enough
                countdown = _CHECK_EVERY
                if results == 1 or monotonic() - self._since >= LATENCY or (
                    stream.position() >= CHUNK
                ):
                    self._pending = 1
                    unflushed = False
                    if not self.flush():
                        return None
            return None
        finally:
            outcome.results, outcome.last_kind = results, last
            if unflushed:
                self._pending = 1

    def _run_each(self, state: int, control: RunControl, outcome: RunOutcome) -> clib.Jv | None:
        """One result at a time: raw strings (-r/-j) as their bytes, others as JSON."""
        lib = self._lib
        jq_next, monotonic = lib.jq_next, time.monotonic
        raw, flags = self._style.per_result, self._flags
        results, last = outcome.results, outcome.last_kind
        try:
            while not control.stopped:
                result = jq_next(state)
                kind = result.kind_flags & 0xF
                if kind == clib.KIND_INVALID:
                    return result
                results += 1
                last = kind
                if raw and kind == clib.KIND_STRING:
                    text = lib.text_of(result)
                    lib.jv_free(result)
                    self._raws.append(True)
                else:
                    dumped = lib.jv_dump_string(result, flags)
                    text = ctypes.string_at(lib.jv_string_value(dumped))
                    lib.jv_free(dumped)
                    self._raws.append(False)
                self._texts.append(text)
                self._size += len(text)
                self._pending = 1
                if (
                    results == 1 or self._size >= CHUNK or monotonic() - self._since >= LATENCY
                ) and not self.flush():
                    return None
            return None
        finally:
            outcome.results, outcome.last_kind = results, last


def execute(
    lib: clib.JqLib,
    state: int,
    document: clib.Jv,
    printer: Printer,
    control: RunControl,
    outcome: RunOutcome,
) -> None:
    """Run the compiled program in `state` on `document` (consumed)."""
    lib.jq_start(state, document, 0)
    result = printer.run(state, control, outcome)
    if result is None or control.stopped:
        if result is not None:
            lib.jv_free(result)
        outcome.stopped = True
        return
    if not printer.flush():
        lib.jv_free(result)
        outcome.stopped = True
        return
    if lib.jq_halted(state):
        lib.jv_free(result)
        _record_halt(lib, state, outcome)
        return
    if lib.jv_invalid_has_msg(lib.jv_copy(result)):
        outcome.error = lib.message_of(lib.jv_invalid_get_msg(result))
        return
    lib.jv_free(result)


def _record_halt(lib: clib.JqLib, state: int, outcome: RunOutcome) -> None:
    """`halt` / `halt_error`: the exit code and the message, as the jq CLI uses them."""
    outcome.halted = True
    code = lib.jq_get_exit_code(state)
    code_kind = code.kind_flags & 0xF
    if code_kind == clib.KIND_NUMBER:
        outcome.halt_code = int(lib.jv_number_value(lib.jv_copy(code)))
    else:
        outcome.halt_code = 0 if code_kind == clib.KIND_INVALID else 5
    lib.jv_free(code)
    message = lib.jq_get_error_message(state)
    message_kind = message.kind_flags & 0xF
    if message_kind == clib.KIND_STRING:
        outcome.error = lib.text_of(message).decode("utf-8", "replace")
        lib.jv_free(message)
    elif message_kind in (clib.KIND_NULL, clib.KIND_INVALID):
        lib.jv_free(message)
        outcome.error = ""
    else:
        outcome.error = canonical_numbers(lib.dump(message)).decode("utf-8", "replace") + "\n"
