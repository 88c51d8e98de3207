"""`--json` on the error path: a failing builtin's diagnostic as a JSON object.

As kaish does: when a builtin was asked for `--json`, exits non-zero, wrote
nothing on stdout and did write a diagnostic on stderr, stdout gets

    {"error":"<the stderr text, trailing newlines dropped>","code":<status>}

(compact, keys in that order, no newline after it; a `"data"` key follows
when the tool attached a typed value). Stderr keeps the message and the
status is unchanged. A quiet failure (`grep` finding nothing, `false`) and
any failure that did print something stay as they are. Usage errors count:
`--json` is read before the arguments are bound, so `grep --json --bogus`
answers in JSON too. `--help` is never wrapped.

Which builtins: every one that takes `--json` (`Schema.json_output`), and a
raw-argv builtin whose words before `--` hold `--json` (as kaish scans `test`
and `kill`) — except the ones whose words are another command's
(`timeout`, `env`, `source`): that command answers for itself.
"""

from __future__ import annotations

from kaish_kernel.scheduler.stage import NO_DATA, ForwardingOutput, OutputStream, resolve_data
from kaish_kernel.scheduler.stderr_stream import ErrorSink, StderrSink
from kaish_kernel.tools.schema import RawArg, Schema
from kaish_kernel.values import Value, to_json, truthy

__all__ = ["JsonErrorWatch", "envelope", "json_requested"]

# raw-argv builtins whose words belong to a command they run
_RUNS_A_COMMAND = frozenset({"timeout", "env", "source"})


def json_requested(schema: Schema, raw: list[RawArg]) -> bool:
    """Do these (unbound) arguments ask `schema`'s tool for `--json`?"""
    if schema.raw:
        if schema.name in _RUNS_A_COMMAND:
            return False
        for arg in raw:
            if arg.kind == "dashdash":
                return False
            if arg.kind == "long" and arg.name == "json":
                return True
            if arg.kind == "named" and arg.name == "json" and truthy(arg.value):
                return True
            if arg.kind == "pos" and isinstance(arg.value, str):
                word = arg.value
                if word == "--json" or (word.startswith("--json=") and truthy(word[7:])):
                    return True
        return False
    if not schema.json_output and schema.param("json") is None:
        return False
    on = False
    for arg in raw:  # the binder's rule: the last spelling wins, `--` ends flags
        if arg.kind == "dashdash":
            break
        if arg.kind == "long" and arg.name == "json":
            on = True
        elif arg.kind == "named" and arg.name == "json":
            on = truthy(arg.value)
    return on


def envelope(message: str, code: int, data: object = NO_DATA) -> bytes:
    """The JSON error object for a failure's diagnostic (no newline after it)."""
    obj: dict[str, Value] = {"error": message.rstrip("\n"), "code": code}
    if data is not NO_DATA and data is not None:
        obj["data"] = data  # type: ignore[assignment]
    return to_json(obj).encode("utf-8")


class _WatchedOutput(ForwardingOutput):
    """Passes everything through to `inner`, noting whether anything was written."""

    def __init__(self, inner: OutputStream) -> None:
        super().__init__(inner)
        self.wrote = False
        self.value: object = None
        self.has_value = False

    async def write(self, data: bytes) -> None:
        if data:
            self.wrote = True
        await self.inner.write(data)

    def set_data(self, value: object, *, is_value: bool = False) -> None:
        self.value, self.has_value = value, True
        self.inner.set_data(value, is_value=is_value)

    def fileno(self) -> int | None:
        fd = self.inner.fileno()
        if fd is not None:
            self.wrote = True  # someone may write there unseen: leave the output alone
        return fd


class _TeeSink(StderrSink):
    """Passes everything through to `inner`, keeping a copy."""

    def __init__(self, inner: ErrorSink) -> None:
        self.inner = inner
        self.parts: list[bytes] = []

    def write(self, data: bytes | str) -> None:
        self.parts.append(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data))
        self.inner.write(data)

    def fileno(self) -> int | None:
        fileno = getattr(self.inner, "fileno", None)
        return fileno() if callable(fileno) else None

    def flush(self) -> None:
        flush = getattr(self.inner, "flush", None)
        if callable(flush):
            flush()

    def text(self) -> str:
        return b"".join(self.parts).decode("utf-8", "replace")


class JsonErrorWatch:
    """Watch one builtin's streams; `finish` adds the JSON error object when due."""

    def __init__(self, stdout: OutputStream, stderr: ErrorSink) -> None:
        self.stdout = _WatchedOutput(stdout)
        self.stderr = _TeeSink(stderr)

    async def finish(self, code: int) -> int:
        if code == 0 or self.stdout.wrote:
            return code
        if not any(self.stderr.parts):
            return code  # a quiet failure (no match, `false`) is not an error
        value = resolve_data(self.stdout.value) if self.stdout.has_value else NO_DATA
        try:
            await self.stdout.inner.write(envelope(self.stderr.text(), code, value))
        except BrokenPipeError:
            pass
        return code
