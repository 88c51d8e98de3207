"""libjq, driven through its C API: compile once, parse text in C, print in C.

The `jq` package on PyPI ships libjq (1.8) linked into its extension module
with the C API exported. Going through that API with ctypes, rather than the
package's Python-level wrapper, lets kaish's jq behave and perform like the
jq CLI:

    text bytes ──► jv_parser (C) ──► jq_start / jq_next (C) ──► jv_dump_string (C) ──► bytes
    typed value ─► to_json ────────┘

- JSON text from a pipe or a file never becomes Python objects on the way
  in, and results are printed by jq's own printer (key order, escaping,
  pretty/compact), so `jq .` on a large document costs what it costs jq.
- ctypes releases the GIL during each C call, so the work runs on a worker
  thread while the event loop (other jobs, notebook output) keeps going.

Invariants:
- Every `jv` this module receives it either hands back to libjq (which
  consumes it) or frees; `jv_copy` is used where libjq would consume a value
  we still need.
- A `jq_state` is used by one run at a time. Compiled states are pooled per
  (filter, variable names): `--arg` values are not baked into the program but
  arrive beside the input, so a loop calling `jq --arg v $x F` compiles F once.
- Numbers print the way jq 1.6/1.7 print computed numbers (`1e10` ->
  `10000000000`, `3.0` -> `3`): libjq 1.8 prints a number literal exactly as
  written, so literal forms that differ are rewritten (integers keep every digit).

This module knows nothing about kaish streams; `jq.py` feeds it and drains it.
"""

from __future__ import annotations

import ctypes
import importlib.util
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "DumpStyle",
    "Feed",
    "JqCompileError",
    "JqInputError",
    "JqUnavailable",
    "Program",
    "RunControl",
    "RunOutcome",
    "canonical_numbers",
    "compile_program",
    "format_number",
]

_KIND_INVALID: Final = 0
_KIND_NULL: Final = 1
_KIND_FALSE: Final = 2
_KIND_STRING: Final = 5
_PARSE_CHUNK: Final = 1 << 30  # jv_parser_set_buf takes an int length
_DOC_VAR: Final = "__kaish_doc"
_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_STATE_CACHE_SIZE: Final = 32
_IDLE_STATES_PER_PROGRAM: Final = 2

# jv_print flags (jv.h)
PRINT_PRETTY: Final = 1
PRINT_ASCII: Final = 2
PRINT_SORTED: Final = 8
PRINT_TAB: Final = 64


class JqUnavailable(Exception):
    """libjq could not be loaded (the `jq` package is missing or too old)."""


class JqCompileError(Exception):
    """The filter does not compile; `messages` are libjq's, one per problem."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


class JqInputError(Exception):
    """The input is not what the run needs (bad JSON, several documents, none)."""


class _Jv(ctypes.Structure):
    # The second word is a union { ptr; double } in C. Both halves are passed
    # in integer registers (SysV x86-64 and AAPCS64 alike), so a pointer-sized
    # field gives the same calling convention without a ctypes union.
    _fields_ = (
        ("kind_flags", ctypes.c_ubyte),
        ("pad_", ctypes.c_ubyte),
        ("offset", ctypes.c_ushort),
        ("size", ctypes.c_int),
        ("u", ctypes.c_void_p),
    )


_MSG_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, _Jv)

_P = ctypes.c_void_p
_I = ctypes.c_int
_SIGNATURES: Final[dict[str, tuple[Any, tuple[Any, ...]]]] = {
    "jq_init": (_P, ()),
    "jq_teardown": (None, (ctypes.POINTER(ctypes.c_void_p),)),
    "jq_set_error_cb": (None, (_P, _MSG_CB, _P)),
    "jq_set_debug_cb": (None, (_P, _MSG_CB, _P)),
    "jq_compile_args": (_I, (_P, ctypes.c_char_p, _Jv)),
    "jq_format_error": (_Jv, (_Jv,)),
    "jq_start": (None, (_P, _Jv, _I)),
    "jq_next": (_Jv, (_P,)),
    "jq_halted": (_I, (_P,)),
    "jq_halt": (None, (_P, _Jv, _Jv)),
    "jq_get_exit_code": (_Jv, (_P,)),
    "jq_get_error_message": (_Jv, (_P,)),
    "jv_copy": (_Jv, (_Jv,)),
    "jv_free": (None, (_Jv,)),
    "jv_null": (_Jv, ()),
    "jv_array": (_Jv, ()),
    "jv_array_append": (_Jv, (_Jv, _Jv)),
    "jv_string_sized": (_Jv, (_P, _I)),
    "jv_string_value": (_P, (_Jv,)),
    "jv_string_length_bytes": (_I, (_Jv,)),
    "jv_number_value": (ctypes.c_double, (_Jv,)),
    "jv_dump_string": (_Jv, (_Jv, _I)),
    "jv_invalid_has_msg": (_I, (_Jv,)),
    "jv_invalid_get_msg": (_Jv, (_Jv,)),
    "jv_parse_sized": (_Jv, (_P, _I)),
    "jv_parser_new": (_P, (_I,)),
    "jv_parser_set_buf": (None, (_P, _P, _I, _I)),
    "jv_parser_next": (_Jv, (_P,)),
    "jv_parser_free": (None, (_P,)),
}
_OPTIONAL: Final = {"jq_set_stderr_cb": (None, (_P, _MSG_CB, _P))}  # libjq >= 1.7


class _Lib:
    """The loaded library with typed entry points, plus the shared callbacks."""

    def __init__(self, handle: ctypes.CDLL) -> None:
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(handle, name)
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)
        self.has_stderr_cb = False
        for name, (restype, argtypes) in _OPTIONAL.items():
            fn = getattr(handle, name, None)
            if fn is not None:
                fn.restype = restype
                fn.argtypes = argtypes
                setattr(self, name, fn)
                self.has_stderr_cb = True
        # Callbacks are module-lifetime objects: libjq keeps the pointers.
        self.error_cb = _MSG_CB(_on_error)
        self.debug_cb = _MSG_CB(_on_debug)
        self.stderr_cb = _MSG_CB(_on_stderr)

    def __getattr__(self, name: str) -> Any:  # for type checkers: the entry points
        raise AttributeError(name)

    # -- small helpers over the raw API --
    def text_of(self, string: _Jv) -> bytes:
        """The bytes of a jv string (not consumed)."""
        size = self.jv_string_length_bytes(self.jv_copy(string))
        return ctypes.string_at(self.jv_string_value(string), size)

    def dump(self, value: _Jv, flags: int = 0) -> bytes:
        """Print a value (consumed) as JSON text."""
        dumped = self.jv_dump_string(value, flags)
        try:
            return ctypes.string_at(self.jv_string_value(dumped))
        finally:
            self.jv_free(dumped)

    def message_of(self, value: _Jv) -> str:
        """An error value (consumed) as text: strings as they are, others as JSON."""
        if value.kind_flags & 0xF == _KIND_STRING:
            try:
                return self.text_of(value).decode("utf-8", "replace")
            finally:
                self.jv_free(value)
        return self.dump(value).decode("utf-8", "replace") + " (not a string)"


_lib: _Lib | None = None
_lib_lock = threading.Lock()
_local = threading.local()  # .errors: list[str] while compiling; .stderr: sink while running


def _library() -> _Lib:
    global _lib
    if _lib is not None:
        return _lib
    with _lib_lock:
        if _lib is None:
            _lib = _Lib(_load_handle())
    return _lib


def _load_handle() -> ctypes.CDLL:
    """libjq from the `jq` package's extension module, else a system libjq."""
    tried: list[str] = []
    spec = importlib.util.find_spec("jq")
    candidates = [spec.origin] if spec is not None and spec.origin else []
    import ctypes.util

    system = ctypes.util.find_library("jq")
    if system:
        candidates.append(system)
    for path in candidates:
        try:
            handle = ctypes.CDLL(path)
            for name in _SIGNATURES:
                getattr(handle, name)
        except (OSError, AttributeError) as exc:
            tried.append(f"{path}: {exc}")
            continue
        return handle
    detail = "; ".join(tried) or "no library found"
    raise JqUnavailable(f"libjq is not available ({detail}); install the 'jq' package")


def _on_error(_data: int | None, message: _Jv) -> None:
    lib = _library()
    text = lib.message_of(lib.jq_format_error(message))
    errors = getattr(_local, "errors", None)
    if errors is not None:
        errors.append(text)
        return
    sink = getattr(_local, "stderr", None)
    if sink is not None:
        sink((text + "\n").encode("utf-8"))


def _on_debug(_data: int | None, value: _Jv) -> None:
    lib = _library()
    text = lib.dump(value)
    sink = getattr(_local, "stderr", None)
    if sink is not None:
        sink(b'["DEBUG:",' + canonical_numbers(text) + b"]\n")


def _on_stderr(_data: int | None, value: _Jv) -> None:
    lib = _library()
    if value.kind_flags & 0xF == _KIND_STRING:
        text = lib.text_of(value)
        lib.jv_free(value)
    else:
        text = canonical_numbers(lib.dump(value))
    sink = getattr(_local, "stderr", None)
    if sink is not None:
        sink(text)


# ---------------------------------------------------------------------------
# Numbers: print literals the way jq prints computed numbers


def format_number(value: float) -> str:
    """A double as jq's printer writes it (shortest digits; `1e+17`, `1e-05`)."""
    if value != value:
        return "null"
    if value in (float("inf"), float("-inf")):
        value = 1.7976931348623157e308 if value > 0 else -1.7976931348623157e308
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
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
# Programs


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


@dataclass(slots=True)
class RunOutcome:
    """How a run ended."""

    results: int = 0
    last_kind: int = _KIND_INVALID  # kind of the last result (for -e)
    error: str | None = None  # an uncaught jq error
    halted: bool = False
    halt_code: int = 0
    stopped: bool = False  # the consumer went away

    @property
    def last_was_falsy(self) -> bool:
        return self.last_kind in (_KIND_NULL, _KIND_FALSE)


ResultSink = Callable[[bytes, bool], bool]  # (text, is_raw_string) -> keep going?
ByteSink = Callable[[bytes], None]


class RunControl:
    """Stops a run from another thread.

    The worker checks `is_set()` between results; a filter busy computing
    without producing any (`[repeat(1)]`) is halted at its next instruction
    with `jq_halt`, which libjq's interpreter loop checks on every opcode.
    Only code already inside one long C call (sorting a huge array) finishes
    that call first.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._state: int | None = None

    def is_set(self) -> bool:
        return self._event.is_set()

    def stop(self) -> None:
        self._event.set()
        with self._lock:
            if self._state is not None:
                lib = _library()
                if not lib.jq_halted(self._state):
                    lib.jq_halt(self._state, lib.jv_null(), lib.jv_null())

    def attach(self, state: int | None) -> None:
        with self._lock:
            self._state = state


class _StatePool:
    """Idle compiled states of one program."""

    def __init__(self) -> None:
        self.idle: list[int] = []


class Program:
    """A compiled filter. `run` may be called from any thread, concurrently."""

    def __init__(self, source: str, names: tuple[str, ...], wrapped: bool, baked: str) -> None:
        self.source = source
        self.names = names
        self._wrapped = wrapped
        self._baked = baked  # the arguments' JSON, when they are compiled in
        self._pool = _StatePool()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Program({self.source!r}, names={self.names!r})"

    # -- states --
    def _text(self) -> str:
        if not self._wrapped:
            return self.source
        fields = ", ".join(f"${n}" for n in (*self.names, "ARGS"))
        return f". as [${_DOC_VAR}, {{{fields}}}] | ${_DOC_VAR} | {self.source}"

    def _acquire(self) -> int:
        with self._lock:
            if self._pool.idle:
                return self._pool.idle.pop()
        state, errors = _compile_state(self._text(), self._baked if not self._wrapped else "{}")
        if state is None:
            raise JqCompileError(errors)
        return state

    def _release(self, state: int) -> None:
        with self._lock:
            if len(self._pool.idle) < _IDLE_STATES_PER_PROGRAM:
                self._pool.idle.append(state)
                return
        _teardown(state)

    def discard(self) -> None:
        with self._lock:
            idle, self._pool.idle = self._pool.idle, []
        for state in idle:
            _teardown(state)

    # -- running --
    def run(
        self,
        feeds: list[Feed],
        arguments: bytes,
        style: DumpStyle,
        on_result: ResultSink,
        on_stderr: ByteSink,
        control: RunControl,
    ) -> RunOutcome:
        """Run over each feed in turn; stops at the first error or halt.

        `arguments` is the JSON object of named variables (`--arg` and
        friends, plus `ARGS`). Raises JqInputError for unusable input.
        """
        lib = _library()
        outcome = RunOutcome()
        state = self._acquire()
        control.attach(state)
        _local.stderr = on_stderr
        lib.jq_set_debug_cb(state, lib.debug_cb, None)
        if lib.has_stderr_cb:
            lib.jq_set_stderr_cb(state, lib.stderr_cb, None)
        try:
            for feed in feeds:
                for document in _documents(lib, feed):
                    if self._wrapped:
                        pair = lib.jv_array_append(lib.jv_array(), document)
                        document = lib.jv_array_append(pair, _parse_one(lib, arguments))
                    _execute(lib, state, document, style, on_result, control, outcome)
                    if outcome.error is not None or outcome.halted or outcome.stopped:
                        return outcome
            return outcome
        finally:
            _local.stderr = None
            control.attach(None)
            self._release(state)


_compile_lock = threading.Lock()  # libjq's compiler is not documented as thread-safe


def _compile_state(text: str, arguments: str) -> tuple[int | None, list[str]]:
    lib = _library()
    errors: list[str] = []
    with _compile_lock:
        state = lib.jq_init()
        if not state:
            raise MemoryError("jq_init failed")
        _local.errors = errors
        try:
            lib.jq_set_error_cb(state, lib.error_cb, None)
            args = _parse_one(lib, arguments.encode("utf-8"))
            ok = lib.jq_compile_args(state, text.encode("utf-8"), args)
        finally:
            _local.errors = None
    if not ok:
        _teardown(state)
        return None, [e for e in errors if not re.match(r"jq: \d+ compile errors?\Z", e)] or [
            "the filter does not compile"
        ]
    return state, []


def _teardown(state: int) -> None:
    handle = ctypes.c_void_p(state)
    _library().jq_teardown(ctypes.byref(handle))


_cache: OrderedDict[tuple[str, tuple[str, ...], str], Program] = OrderedDict()
_cache_lock = threading.Lock()


def compile_program(source: str, names: tuple[str, ...] = (), arguments: str = "{}") -> Program:
    """A compiled program for `source` with variables `names` (cached).

    The filter is normally compiled once per (source, names): the variables'
    values come with each input. A filter that cannot be wrapped that way
    (a leading `import`, a lone comment) is compiled with `arguments` (a JSON
    object) baked in. Raises JqCompileError with libjq's messages.
    """
    for name in names:
        if not _IDENT_RE.match(name) or name == _DOC_VAR:
            raise JqCompileError([f"invalid variable name: ${name}"])
    key = (source, names, "")
    with _cache_lock:
        program = _cache.get(key) or _cache.get((source, names, arguments))
        if program is not None:
            _cache.move_to_end(key if key in _cache else (source, names, arguments))
            return program
    program = Program(source, names, wrapped=True, baked="")
    try:
        program._release(program._acquire())
    except JqCompileError:
        # The wrapper can only fail where the filter itself is unusual or
        # wrong; compile it as written to get either a program or the
        # messages about the user's own text (with the user's columns).
        program = Program(source, names, wrapped=False, baked=arguments)
        program._release(program._acquire())
        key = (source, names, arguments)
    with _cache_lock:
        _cache[key] = program
        while len(_cache) > _STATE_CACHE_SIZE:
            _cache.popitem(last=False)[1].discard()
    return program


# ---------------------------------------------------------------------------
# Input


def _parse_one(lib: _Lib, text: bytes) -> _Jv:
    buffer = ctypes.create_string_buffer(text, len(text))
    value = lib.jv_parse_sized(ctypes.addressof(buffer), len(text))
    if value.kind_flags & 0xF == _KIND_INVALID:
        raise JqInputError(lib.message_of(lib.jv_invalid_get_msg(value)))
    return value


def _stream(lib: _Lib, data: bytes) -> Iterator[_Jv]:
    """Every JSON document in `data`, parsed by libjq (jq's own framing).

    Raises JqInputError on malformed text. A document handed out belongs to
    the caller; the generator frees what it holds if abandoned.
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
                if value.kind_flags & 0xF != _KIND_INVALID:
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


def _documents(lib: _Lib, feed: Feed) -> Iterator[_Jv]:
    """The values the program runs on for one feed."""
    if feed.kind == "null":
        value = lib.jv_null()
        yield lib.jv_array_append(lib.jv_array(), value) if feed.slurp else value
        return
    if feed.kind == "raw":
        yield from _raw_strings(lib, feed)
        return
    if feed.slurp:
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
        yield array
        return
    yield _single_document(lib, feed)


def _single_document(lib: _Lib, feed: Feed) -> _Jv:
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


def _raw_strings(lib: _Lib, feed: Feed) -> Iterator[_Jv]:
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


# ---------------------------------------------------------------------------
# Execution


def _execute(
    lib: _Lib,
    state: int,
    document: _Jv,
    style: DumpStyle,
    on_result: ResultSink,
    control: RunControl,
    outcome: RunOutcome,
) -> None:
    flags = style.flags
    raw = style.raw or style.join
    jq_next = lib.jq_next
    string_at = ctypes.string_at
    lib.jq_start(state, document, 0)
    while True:
        if control.is_set():
            outcome.stopped = True
            return
        result = jq_next(state)
        kind = result.kind_flags & 0xF
        if kind == _KIND_INVALID:
            break
        outcome.results += 1
        outcome.last_kind = kind
        if raw and kind == _KIND_STRING:
            text = lib.text_of(result)
            lib.jv_free(result)
            is_raw = True
        else:
            dumped = lib.jv_dump_string(result, flags)
            text = canonical_numbers(string_at(lib.jv_string_value(dumped)))
            lib.jv_free(dumped)
            is_raw = False
        if not on_result(text, is_raw):
            outcome.stopped = True
            return
    if control.is_set():
        lib.jv_free(result)
        outcome.stopped = True
        return
    if lib.jq_halted(state):
        lib.jv_free(result)
        outcome.halted = True
        code = lib.jq_get_exit_code(state)
        code_kind = code.kind_flags & 0xF
        outcome.halt_code = int(lib.jv_number_value(lib.jv_copy(code))) if code_kind == 4 else (
            0 if code_kind == _KIND_INVALID else 5
        )
        lib.jv_free(code)
        message = lib.jq_get_error_message(state)
        message_kind = message.kind_flags & 0xF
        if message_kind == _KIND_STRING:
            outcome.error = lib.text_of(message).decode("utf-8", "replace")
            lib.jv_free(message)
        elif message_kind in (_KIND_NULL, _KIND_INVALID):
            lib.jv_free(message)
            outcome.error = ""
        else:
            outcome.error = canonical_numbers(lib.dump(message)).decode("utf-8", "replace") + "\n"
        return
    if lib.jv_invalid_has_msg(lib.jv_copy(result)):
        outcome.error = lib.message_of(lib.jv_invalid_get_msg(result))
        return
    lib.jv_free(result)
