"""ctypes bindings for libjq's C API (and the bit of libc used to print into memory).

The `jq` package on PyPI links libjq (1.8) into its extension module and
exports the C API from it; a system libjq works too (`KAISH_LIBJQ=/path`
picks one: the package builds libjq without compiler optimisation, so a
distribution's libjq parses large documents about twice as fast). Only the
entry points below are used, all of them public API from `jq.h` / `jv.h`.

Invariants:
- A `jv` (the C value handle) is a 16-byte struct passed and returned by
  value. libjq functions consume their `jv` arguments and return owned ones
  (except `jv_copy`, and `jv_string_value`, which borrows).
- Every call releases the GIL (`ctypes.CDLL`), so a worker thread running
  jq leaves the event loop free.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from typing import Any, Final

__all__ = [
    "KIND_FALSE",
    "KIND_INVALID",
    "KIND_NULL",
    "KIND_NUMBER",
    "KIND_STRING",
    "MSG_CB",
    "JqLib",
    "JqUnavailable",
    "Jv",
    "MemStream",
    "load",
]

LIBJQ_ENV: Final = "KAISH_LIBJQ"  # path of a libjq to use instead of the package's

KIND_INVALID: Final = 0
KIND_NULL: Final = 1
KIND_FALSE: Final = 2
KIND_NUMBER: Final = 4
KIND_STRING: Final = 5


class JqUnavailable(Exception):
    """libjq could not be loaded (the `jq` package is missing or too old)."""


class Jv(ctypes.Structure):
    """libjq's value handle. `kind_flags & 0xF` is the kind (0 = invalid)."""

    # The second word is a union { ptr; double } in C. Either way it travels
    # in an integer register (SysV x86-64 and AAPCS64 alike), so a
    # pointer-sized field gives the same calling convention without a union.
    _fields_ = (
        ("kind_flags", ctypes.c_ubyte),
        ("pad_", ctypes.c_ubyte),
        ("offset", ctypes.c_ushort),
        ("size", ctypes.c_int),
        ("u", ctypes.c_void_p),
    )


MSG_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, Jv)

_P = ctypes.c_void_p
_I = ctypes.c_int
_SIGNATURES: Final[dict[str, tuple[Any, tuple[Any, ...]]]] = {
    "jq_init": (_P, ()),
    "jq_teardown": (None, (ctypes.POINTER(ctypes.c_void_p),)),
    "jq_set_error_cb": (None, (_P, MSG_CB, _P)),
    "jq_set_debug_cb": (None, (_P, MSG_CB, _P)),
    "jq_compile_args": (_I, (_P, ctypes.c_char_p, Jv)),
    "jq_format_error": (Jv, (Jv,)),
    "jq_start": (None, (_P, Jv, _I)),
    "jq_next": (Jv, (_P,)),
    "jq_halted": (_I, (_P,)),
    "jq_halt": (None, (_P, Jv, Jv)),
    "jq_get_exit_code": (Jv, (_P,)),
    "jq_get_error_message": (Jv, (_P,)),
    "jv_copy": (Jv, (Jv,)),
    "jv_free": (None, (Jv,)),
    "jv_null": (Jv, ()),
    "jv_array": (Jv, ()),
    "jv_array_append": (Jv, (Jv, Jv)),
    "jv_string_sized": (Jv, (_P, _I)),
    "jv_string_value": (_P, (Jv,)),
    "jv_string_length_bytes": (_I, (Jv,)),
    "jv_number_value": (ctypes.c_double, (Jv,)),
    "jv_dump_string": (Jv, (Jv, _I)),
    "jv_dumpf": (None, (Jv, _P, _I)),
    "jv_invalid_has_msg": (_I, (Jv,)),
    "jv_invalid_get_msg": (Jv, (Jv,)),
    "jv_parse_sized": (Jv, (_P, _I)),
    "jv_parser_new": (_P, (_I,)),
    "jv_parser_set_buf": (None, (_P, _P, _I, _I)),
    "jv_parser_next": (Jv, (_P,)),
    "jv_parser_free": (None, (_P,)),
}
_OPTIONAL: Final = {"jq_set_stderr_cb": (None, (_P, MSG_CB, _P))}  # libjq >= 1.7


class JqLib:
    """The loaded library: typed entry points plus small helpers over them."""

    # typed entry points, set from _SIGNATURES in __init__
    jq_init: Callable[..., Any]
    jq_teardown: Callable[..., Any]
    jq_set_error_cb: Callable[..., Any]
    jq_set_debug_cb: Callable[..., Any]
    jq_set_stderr_cb: Callable[..., Any]
    jq_compile_args: Callable[..., Any]
    jq_format_error: Callable[..., Any]
    jq_start: Callable[..., Any]
    jq_next: Callable[..., Any]
    jq_halted: Callable[..., Any]
    jq_halt: Callable[..., Any]
    jq_get_exit_code: Callable[..., Any]
    jq_get_error_message: Callable[..., Any]
    jv_copy: Callable[..., Any]
    jv_free: Callable[..., Any]
    jv_null: Callable[..., Any]
    jv_array: Callable[..., Any]
    jv_array_append: Callable[..., Any]
    jv_string_sized: Callable[..., Any]
    jv_string_value: Callable[..., Any]
    jv_string_length_bytes: Callable[..., Any]
    jv_number_value: Callable[..., Any]
    jv_dump_string: Callable[..., Any]
    jv_dumpf: Callable[..., Any]
    jv_invalid_has_msg: Callable[..., Any]
    jv_invalid_get_msg: Callable[..., Any]
    jv_parse_sized: Callable[..., Any]
    jv_parser_new: Callable[..., Any]
    jv_parser_set_buf: Callable[..., Any]
    jv_parser_next: Callable[..., Any]
    jv_parser_free: Callable[..., Any]

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
        self.libc = _libc()

    def text_of(self, string: Jv) -> bytes:
        """The bytes of a jv string (not consumed)."""
        size = self.jv_string_length_bytes(self.jv_copy(string))
        return ctypes.string_at(self.jv_string_value(string), size)

    def dump(self, value: Jv, flags: int = 0) -> bytes:
        """Print a value (consumed) as JSON text."""
        dumped = self.jv_dump_string(value, flags)
        try:
            return ctypes.string_at(self.jv_string_value(dumped))
        finally:
            self.jv_free(dumped)

    def message_of(self, value: Jv) -> str:
        """An error value (consumed) as text: strings as they are, others as JSON."""
        if value.kind_flags & 0xF == KIND_STRING:
            try:
                return self.text_of(value).decode("utf-8", "replace")
            finally:
                self.jv_free(value)
        return self.dump(value).decode("utf-8", "replace") + " (not a string)"

    def parse(self, text: bytes) -> Jv:
        """One JSON value from text; an invalid jv (with its message) when malformed."""
        buffer = ctypes.create_string_buffer(text, len(text))
        return self.jv_parse_sized(ctypes.addressof(buffer), len(text))


class _LibC:
    def __init__(self, handle: ctypes.CDLL) -> None:
        self.open_memstream = handle.open_memstream
        self.open_memstream.restype = _P
        self.open_memstream.argtypes = (ctypes.POINTER(_P), ctypes.POINTER(ctypes.c_size_t))
        self.fputc = handle.fputc
        self.fputc.restype = _I
        self.fputc.argtypes = (_I, _P)
        self.fflush = handle.fflush
        self.fflush.restype = _I
        self.fflush.argtypes = (_P,)
        self.ftell = handle.ftell
        self.ftell.restype = ctypes.c_long
        self.ftell.argtypes = (_P,)
        self.fseek = handle.fseek
        self.fseek.restype = _I
        self.fseek.argtypes = (_P, ctypes.c_long, _I)
        self.fclose = handle.fclose
        self.fclose.restype = _I
        self.fclose.argtypes = (_P,)
        self.free = handle.free
        self.free.restype = None
        self.free.argtypes = (_P,)


def _libc() -> _LibC | None:
    """libc's open_memstream & co (POSIX 2008), or None where they are missing."""
    try:
        return _LibC(ctypes.CDLL(None))
    except (OSError, AttributeError, TypeError):
        return None


class MemStream:
    """A C `FILE*` that writes into memory; `take()` drains what was written.

    libjq prints straight into it (`jv_dumpf`): one foreign call per result
    instead of a string round trip per result.
    """

    __slots__ = ("_buffer", "_libc", "_size", "handle")

    def __init__(self, libc: _LibC) -> None:
        self._libc = libc
        self._buffer = ctypes.c_void_p()
        self._size = ctypes.c_size_t()
        self.handle = libc.open_memstream(ctypes.byref(self._buffer), ctypes.byref(self._size))
        if not self.handle:
            raise MemoryError("open_memstream failed")

    def position(self) -> int:
        """Bytes written since the last take."""
        return int(self._libc.ftell(self.handle))

    def take(self) -> bytes:
        """Everything written since the last take; the stream starts over."""
        self._libc.fflush(self.handle)
        size = self._size.value  # POSIX: the position, after a flush
        data = ctypes.string_at(self._buffer.value or 0, size) if size else b""
        self._libc.fseek(self.handle, 0, 0)
        return data

    def close(self) -> None:
        if self.handle:
            self._libc.fclose(self.handle)
            self.handle = None
            self._libc.free(self._buffer)


_lib: JqLib | None = None
_lock = threading.Lock()


def load() -> JqLib:
    """The library, loaded once: `$KAISH_LIBJQ` if set, the `jq` package's copy,
    else a system libjq."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            _lib = JqLib(_load_handle())
    return _lib


def _load_handle() -> ctypes.CDLL:
    tried: list[str] = []
    override = os.environ.get(LIBJQ_ENV)
    candidates = [override] if override else []
    try:
        # Imported first so the extension is loaded the way Python loads it;
        # CDLL then opens the same, already mapped, library.
        import jq as package
    except ImportError:
        package = None
    if package is not None and getattr(package, "__file__", None):
        candidates.append(package.__file__)
    import ctypes.util  # slow to import (it may run a compiler); only needed here

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
