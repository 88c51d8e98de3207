"""libjq, driven through its C API: compile once, parse text in C, print in C.

    text bytes ──► jv_parser (C) ──► jq_start / jq_next (C) ──► jv_dumpf (C) ──► chunks
    typed value ─► to_json ────────┘

Going through the C API with ctypes (`_jq_lib`), rather than the `jq`
package's Python-level wrapper, lets kaish's jq behave and perform like the
jq CLI: JSON text never becomes Python objects on the way in, results are
printed by jq's own printer (key order, escaping, pretty/compact), and each
C call releases the GIL, so the work runs on a worker thread while the event
loop keeps going.

Invariants:
- Every `jv` received is either handed back to libjq (which consumes it) or
  freed.
- A `jq_state` is used by one run at a time. Compiled states are pooled per
  (filter, variable names): `--arg` values are not baked into the program
  but arrive beside the input (`[doc, {vars}]`, destructured by a one-line
  prelude on the filter's own first line), so `jq --arg v $x F` in a loop
  compiles F once. `$ENV` and `env` are the session's exported variables
  (what an external command would see), not the Python process's. Compiling costs tens of milliseconds; running, microseconds.

This module knows nothing about kaish streams; `jq.py` feeds it and drains it.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from kaish_kernel.tools.builtins import _jq_lib as clib
from kaish_kernel.tools.builtins._jq_lib import JqUnavailable, Jv
from kaish_kernel.tools.builtins._jq_output import (
    Chunk,
    DumpStyle,
    OutputSink,
    Printer,
    RunControl,
    RunOutcome,
    canonical_numbers,
    execute,
    format_number,
)

__all__ = [
    "Chunk",
    "DumpStyle",
    "Feed",
    "JqCompileError",
    "JqInputError",
    "JqUnavailable",
    "OutputSink",
    "Program",
    "RunControl",
    "RunOutcome",
    "canonical_numbers",
    "compile_program",
    "format_number",
]

_PARSE_CHUNK: Final = 1 << 30  # jv_parser_set_buf takes an int length
_DOC_VAR: Final = "__kaish_doc"
_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COMPILE_SUMMARY_RE: Final = re.compile(r"jq: \d+ compile errors?\Z")
_PROGRAM_CACHE_SIZE: Final = 32
_IDLE_STATES_PER_PROGRAM: Final = 2


class JqCompileError(Exception):
    """The filter does not compile; `messages` are libjq's, one per problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


class JqInputError(Exception):
    """The input is not what the run needs (bad JSON, several documents, none)."""


# ---------------------------------------------------------------------------
# libjq callbacks: routed to whoever is compiling or running on this thread

_local = threading.local()  # .errors: list[str] while compiling; .stderr while running


class _Callbacks:
    """The three message callbacks, created once (libjq keeps the pointers)."""

    def __init__(self) -> None:
        self.error = clib.MSG_CB(_on_error)
        self.debug = clib.MSG_CB(_on_debug)
        self.stderr = clib.MSG_CB(_on_stderr)


_callbacks: _Callbacks | None = None


def _lib() -> tuple[clib.JqLib, _Callbacks]:
    global _callbacks
    lib = clib.load()
    if _callbacks is None:
        _callbacks = _Callbacks()
    return lib, _callbacks


def _emit_stderr(data: bytes) -> None:
    sink: Callable[[bytes], None] | None = getattr(_local, "stderr", None)
    if sink is not None:
        sink(data)


def _on_error(_data: int | None, message: Jv) -> None:
    lib = clib.load()
    text = lib.message_of(lib.jq_format_error(message))
    errors: list[str] | None = getattr(_local, "errors", None)
    if errors is not None:
        errors.append(text)
    else:
        _emit_stderr((text + "\n").encode("utf-8"))


def _on_debug(_data: int | None, value: Jv) -> None:
    text = clib.load().dump(value)
    _emit_stderr(b'["DEBUG:",' + canonical_numbers(text) + b"]\n")


def _on_stderr(_data: int | None, value: Jv) -> None:
    lib = clib.load()
    if value.kind_flags & 0xF == clib.KIND_STRING:
        text = lib.text_of(value)
        lib.jv_free(value)
    else:
        text = canonical_numbers(lib.dump(value))
    _emit_stderr(text)


# ---------------------------------------------------------------------------
# programs


@dataclass(frozen=True, slots=True)
class Feed:
    """One input to run the program on.

    kind "null": the null input (`-n`); "json": JSON text holding exactly one
    document (or, with `slurp`, any number, gathered into one array);
    "raw": text (`-R`) — one string per line, or the whole text when slurped.
    `name` labels error messages (`stdin`, a file name).
    """

    kind: str
    data: bytes = b""
    slurp: bool = False
    name: str = "stdin"


_compile_lock = threading.Lock()  # libjq's compiler is not documented as thread-safe


def _compile_state(text: str, arguments: str) -> tuple[int | None, list[str]]:
    lib, callbacks = _lib()
    errors: list[str] = []
    with _compile_lock:
        state = lib.jq_init()
        if not state:
            raise MemoryError("jq_init failed")
        _local.errors = errors
        try:
            lib.jq_set_error_cb(state, callbacks.error, None)
            lib.jq_set_debug_cb(state, callbacks.debug, None)
            if lib.has_stderr_cb:
                lib.jq_set_stderr_cb(state, callbacks.stderr, None)
            ok = lib.jq_compile_args(state, text.encode("utf-8"), _parse_one(lib, arguments))
        finally:
            _local.errors = None
    if not ok:
        _teardown(state)
        kept = [e for e in errors if not _COMPILE_SUMMARY_RE.match(e)]
        return None, kept or ["the filter does not compile"]
    return state, []


def _teardown(state: int) -> None:
    handle = ctypes.c_void_p(state)
    clib.load().jq_teardown(ctypes.byref(handle))


class Program:
    """A compiled filter. `run` may be called from any thread, concurrently."""

    def __init__(self, source: str, names: tuple[str, ...], *, wrapped: bool, baked: str) -> None:
        self.source = source
        self.names = names
        self._wrapped = wrapped
        self._baked = baked  # the variables' JSON, when compiled in
        self._idle: list[int] = []
        self._lock = threading.Lock()
        self._discarded = False  # evicted from the cache: states in use die on release

    def __repr__(self) -> str:
        return f"Program({self.source!r}, names={self.names!r}, wrapped={self._wrapped})"

    def _text(self) -> str:
        if not self._wrapped:
            return self.source
        fields = ", ".join(f"${n}" for n in (*self.names, "ARGS", "ENV"))
        return (
            f". as [${_DOC_VAR}, {{{fields}}}] | def env: $ENV; ${_DOC_VAR} | {self.source}"
        )

    def _acquire(self) -> int:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        state, errors = _compile_state(self._text(), "{}" if self._wrapped else self._baked)
        if state is None:
            raise JqCompileError(errors)
        return state

    def _release(self, state: int) -> None:
        with self._lock:
            if not self._discarded and len(self._idle) < _IDLE_STATES_PER_PROGRAM:
                self._idle.append(state)
                return
        _teardown(state)

    def discard(self) -> None:
        with self._lock:
            self._discarded = True
            idle, self._idle = self._idle, []
        for state in idle:
            _teardown(state)

    def run(
        self,
        feeds: list[Feed],
        arguments: bytes,
        style: DumpStyle,
        sink: OutputSink,
        control: RunControl,
    ) -> RunOutcome:
        """Run over each feed in turn; stops at the first error or halt.

        `arguments` is the JSON object of named variables (`--arg` and
        friends, plus `ARGS` and `ENV`). Raises JqInputError for unusable input.
        """
        lib, _ = _lib()
        outcome = RunOutcome()
        printer = Printer(lib, style, sink)
        state = self._acquire()
        control.attach(state)
        _local.stderr = printer.error
        try:
            for feed in feeds:
                for document in _documents(lib, feed):
                    if self._wrapped:
                        pair = lib.jv_array_append(lib.jv_array(), document)
                        variables = lib.parse(arguments)
                        document = lib.jv_array_append(pair, variables)
                    execute(lib, state, document, printer, control, outcome)
                    if outcome.error is not None or outcome.halted or outcome.stopped:
                        return outcome
            return outcome
        finally:
            _local.stderr = None
            control.attach(None)
            printer.close()
            self._release(state)


_cache: OrderedDict[tuple[str, tuple[str, ...], str], Program] = OrderedDict()
_cache_lock = threading.Lock()


def compile_program(source: str, names: tuple[str, ...] = (), arguments: str = "{}") -> Program:
    """A compiled program for `source` with variables `names` (cached).

    The filter is normally compiled once per (source, names): the variables'
    values come with each input. A filter that cannot be wrapped that way
    (a leading `import`) is compiled with `arguments` (a JSON object) baked
    in. Raises JqCompileError with libjq's messages about the user's text.
    """
    for name in names:
        if not _IDENT_RE.match(name) or name == _DOC_VAR:
            raise JqCompileError([f"invalid variable name: ${name}"])
    shared = (source, names, "")
    baked = (source, names, arguments)
    with _cache_lock:
        for key in (shared, baked):
            program = _cache.get(key)
            if program is not None:
                _cache.move_to_end(key)
                return program
    program = Program(source, names, wrapped=True, baked="")
    key = shared
    try:
        program._release(program._acquire())
    except JqCompileError:
        # The prelude only fails where the filter itself is unusual or wrong:
        # compile it as written, for a program or for messages whose line and
        # column are the user's own.
        program = Program(source, names, wrapped=False, baked=arguments)
        program._release(program._acquire())
        key = baked
    with _cache_lock:
        _cache[key] = program
        while len(_cache) > _PROGRAM_CACHE_SIZE:
            _cache.popitem(last=False)[1].discard()
    return program


def _parse_one(lib: clib.JqLib, text: str) -> Jv:
    value = lib.parse(text.encode("utf-8"))
    if value.kind_flags & 0xF == clib.KIND_INVALID:
        raise JqInputError(lib.message_of(lib.jv_invalid_get_msg(value)))
    return value


# ---------------------------------------------------------------------------
# input


def _stream(lib: clib.JqLib, data: bytes) -> Iterator[Jv]:
    """Every JSON document in `data`, parsed by libjq (jq's own framing).

    Raises JqInputError on malformed text. A document handed out belongs to
    the caller.
    """
    parser = lib.jv_parser_new(0)
    base = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
    try:
        offset = 0
        while True:
            size = min(_PARSE_CHUNK, len(data) - offset)
            lib.jv_parser_set_buf(parser, base + offset, size, int(offset + size < len(data)))
            offset += size
            while True:
                value = lib.jv_parser_next(parser)
                if value.kind_flags & 0xF != clib.KIND_INVALID:
                    yield value
                    continue
                if lib.jv_invalid_has_msg(lib.jv_copy(value)):
                    raise JqInputError(lib.message_of(lib.jv_invalid_get_msg(value)))
                lib.jv_free(value)
                break
            if offset >= len(data):
                return
    finally:
        lib.jv_parser_free(parser)


def _documents(lib: clib.JqLib, feed: Feed) -> Iterator[Jv]:
    """The values the program runs on for one feed."""
    if feed.kind == "null":
        value = lib.jv_null()
        yield lib.jv_array_append(lib.jv_array(), value) if feed.slurp else value
    elif feed.kind == "raw":
        yield from _raw_strings(lib, feed)
    elif feed.slurp:
        yield _slurped(lib, feed)
    else:
        yield _single_document(lib, feed)


def _slurped(lib: clib.JqLib, feed: Feed) -> Jv:
    array = lib.jv_array()
    try:
        for value in _stream(lib, feed.data):
            array = lib.jv_array_append(array, value)
    except JqInputError as exc:
        lib.jv_free(array)
        raise JqInputError(f"invalid JSON input{_where(feed)}: {exc}") from None
    except BaseException:
        lib.jv_free(array)
        raise
    return array


def _single_document(lib: clib.JqLib, feed: Feed) -> Jv:
    """Exactly one document: none, or more than one, is an error naming the fix."""
    documents = _stream(lib, feed.data)
    try:
        first = next(documents, None)
    except JqInputError as exc:
        raise JqInputError(f"invalid JSON input{_where(feed)}: {exc}") from None
    if first is None:
        raise JqInputError(f"no input provided{_where(feed)}")
    count = 1
    try:
        for extra in documents:
            lib.jv_free(extra)
            count += 1
    except JqInputError as exc:
        lib.jv_free(first)
        raise JqInputError(f"invalid JSON input{_where(feed)}: {exc}") from None
    if count > 1:
        lib.jv_free(first)
        raise JqInputError(
            f"input{_where(feed)} looks like JSONL ({count} documents); kaish jq reads one"
            " document — use fromjsonl upstream, or jq -s to slurp them into one array"
        )
    return first


def _where(feed: Feed) -> str:
    return "" if feed.name == "stdin" else f" in {feed.name}"


def _raw_strings(lib: clib.JqLib, feed: Feed) -> Iterator[Jv]:
    data = feed.data
    base = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
    if feed.slurp:
        yield lib.jv_string_sized(base, len(data))
        return
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        stop = len(data) if end < 0 else end
        yield lib.jv_string_sized(base + start, stop - start)
        start = stop + 1
