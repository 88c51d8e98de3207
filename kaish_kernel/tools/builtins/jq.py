"""jq: the real jq (libjq) as a builtin, speaking jq's command line.

    stdin bytes ─► drain ─► typed value from the pipe? ─ yes ─► its JSON text ─┐
                                      └──────────── no ─► the text itself ─────┤
    FILE operands / --path ─────────────────────────────────────────────────────┤
                                                                                 ▼
          worker thread: compile (cached) ─► parse (C) ─► run ─► print (C) ─► chunks
                                                                                 │
    event loop: chunks ─► ctx.stdout (backpressure) ◄───────────────────────────┘
                results ─► typed value (one result: it; several: the list)

Input is one JSON document (the text boundary): several documents are an
error that names `fromjsonl` and `jq -s`; `-s` reads a stream with jq's own
framing. A typed value from the pipe wins over the text, and a string value
stays a string (`fromjson '"1"' | jq type` is "string").

Output is jq's: pretty with two spaces by default, `-c` compact, `-r` raw
strings, one result per line. The stage's typed value is what `$(jq ...)`
binds: a single result is that value, several are a list of them (so
`for x in $(jq -r '.[]')` iterates the results), none sets no value.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Final

from kaish_kernel.errors import ErrorCode
from kaish_kernel.scheduler.stage import NO_DATA, LazyData
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.builtins._textio import describe_os_error
from kaish_kernel.tools.schema import BoundArgs, Param, Schema
from kaish_kernel.values import Value, ValueError_, coerce_text, display, from_json, to_json

if TYPE_CHECKING:
    from kaish_kernel.tools.builtins import _jq_engine as engine

__all__ = ["TOOLS", "Jq", "check_filter"]

_MAX_KEPT: Final = 256 * 1024 * 1024  # result text kept for the typed value
_QUEUED_CHUNKS: Final = 4
_MANUAL: Final = "check the filter syntax: https://jqlang.org/manual/"
# libjq 1.8: `Cannot index array with string ("foo")`; 1.6/1.7: `... with "foo"`
_INDEX_ARRAY_RE: Final = re.compile(
    r'Cannot index array with (?:string )?\(?"((?:[^"\\]|\\.)*)"\)?'
)
_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _load_engine() -> ModuleType:
    """The libjq engine, imported on first use: ctypes and friends stay off start-up."""
    from kaish_kernel.tools.builtins import _jq_engine

    return _jq_engine


def check_filter(source: str, names: tuple[str, ...] = ()) -> str | None:
    """The E007 report for a filter that does not compile, else None.

    For a validator that wants to refuse a script before it runs; the
    compiled program is cached, so the run that follows pays nothing.
    """
    eng = _load_engine()
    try:
        eng.compile_program(source, names)
    except eng.JqCompileError as exc:
        return _compile_report(exc.messages)
    except eng.JqUnavailable:
        return None
    return None


def _compile_report(messages: list[str]) -> str:
    lines = [m.removeprefix("jq: error: ").removeprefix("jq: ") for m in messages]
    return f"error [{ErrorCode.JQ_INVALID}]: jq: " + "\n".join(lines) + f"\n  → {_MANUAL}\n"


def _runtime_message(message: str) -> str:
    """A jq error for stderr, with a hint for the usual one-document mistake."""
    match = _INDEX_ARRAY_RE.match(message)
    if message.startswith("Cannot "):
        message = "c" + message[1:]
    if match is None:
        return message
    key = match.group(1)
    step = f".{key}" if _IDENT_RE.match(key) else f'.["{key}"]'
    return (
        f"{message} — the input is one array, not a stream of its elements;"
        f" try '.[] | {step}'"
    )


class _Channel:
    """Hands output from the worker thread to the event loop, with backpressure.

    The worker blocks while `_QUEUED_CHUNKS` chunks wait to be written; it
    gives up (returns False) once `control` is stopped: the reader left, or the
    stage was cancelled (which also halts a filter busy computing).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        eng = _load_engine()
        self._loop = loop
        self._queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        self._slots = threading.Semaphore(_QUEUED_CHUNKS)
        self.control = eng.RunControl()

    def _post(self, item: tuple[str, object]) -> bool:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is gone
            self.control.stop()
            return False
        return True

    def put(self, chunk: bytes) -> bool:
        """Worker side: queue an output chunk, waiting for room."""
        while not self._slots.acquire(timeout=0.05):
            if self.control.is_set():
                return False
        if self.control.is_set():
            self._slots.release()
            return False
        return self._post(("out", chunk))

    def put_error(self, data: bytes) -> None:
        self._post(("err", data))

    def finish(self, result: object) -> None:
        self._post(("done", result))

    async def get(self) -> tuple[str, object]:
        kind, payload = await self._queue.get()
        if kind == "out":
            self._slots.release()
        return kind, payload


class _Collector:
    """The sink the engine prints into: forwards chunks, keeps results for the value."""

    def __init__(self, channel: _Channel, *, stream: bool) -> None:
        self._channel = channel
        self._stream = stream
        self.keeping = True
        self._kept_size = 0
        self._json: list[bytes] = []  # chunks that are streams of JSON documents
        self._texts: list[bytes] = []  # per-result texts (raw output)
        self._raws: list[bool] = []

    def output(self, chunk: engine.Chunk) -> bool:
        if self.keeping:
            self._kept_size += len(chunk.data)
            if self._stream and self._kept_size > _MAX_KEPT:
                self.keeping = False  # too big to keep as a value; the text still flows
                self._json, self._texts, self._raws = [], [], []
            elif chunk.texts is None:
                self._json.append(chunk.data)
            else:
                self._texts.extend(chunk.texts)
                self._raws.extend(chunk.raws or ())
        if not self._stream or not chunk.data:
            return True
        return self._channel.put(chunk.data)

    def error(self, data: bytes) -> None:
        self._channel.put_error(data)

    def value(self) -> Value:
        """The results as a value: one result is itself, several are a list."""
        if self._json:
            results = _json_documents(b"".join(self._json))
        else:
            results = [
                text.decode("utf-8", "replace") if raw else json.loads(text)
                for text, raw in zip(self._texts, self._raws, strict=True)
            ]
        return results[0] if len(results) == 1 else results


_SPACE_RE: Final = re.compile(r"\s*")


def _json_documents(data: bytes) -> list[Value]:
    """Every JSON document in printed jq output, in order."""
    text = data.decode("utf-8")
    decode = json.JSONDecoder().raw_decode
    skip = _SPACE_RE.match
    documents: list[Value] = []
    index = skip(text, 0).end()  # type: ignore[union-attr]
    while index < len(text):
        value, index = decode(text, index)
        documents.append(value)
        index = skip(text, index).end()  # type: ignore[union-attr]
    return documents


class Jq(Tool):
    schema = Schema(
        name="jq",
        summary="Query and transform JSON with jq (built in: libjq, no external binary)",
        usage="jq [OPTIONS] FILTER [FILE]...",
        description=(
            "Runs a jq filter over one JSON document: the typed value piped in by a\n"
            "kaish builtin (fromjson, gather, seq, ...), else the text on stdin, else\n"
            "the FILE operands. Several documents (JSONL) are refused: convert with\n"
            "fromjsonl, or slurp them into one array with -s.\n"
            "`$(jq ...)` binds the result as a value: one result is that value,\n"
            "several are a list (so `for x in $(jq -r '.[]')` iterates them).\n"
            "Bind kaish values into the filter with --arg (a string) and --argjson\n"
            "(JSON text, or a typed value as is). $ENV and env are the exported\n"
            "variables."
        ),
        params=(
            Param("raw-output", short="r", aliases=("raw",),
                  help="Print strings without quotes"),
            Param("join-output", short="j",
                  help="Like -r, and print no newline after each result"),
            Param("compact-output", short="c", aliases=("compact",),
                  help="One line per result instead of pretty-printing"),
            Param("null-input", short="n", aliases=("null_input",),
                  help="Run once with null as the input; do not read stdin"),
            Param("slurp", short="s",
                  help="Read every document of the input into one array"),
            Param("raw-input", short="R",
                  help="Each line of input is a string (the whole text with -s)"),
            Param("exit-status", short="e",
                  help="Exit 1 if the last result is false or null, 4 if there is none"),
            Param("sort-keys", short="S", help="Print object keys in sorted order"),
            Param("ascii-output", short="a", help="Escape every non-ASCII character"),
            Param("tab", help="Indent with a tab"),
            Param("indent", type="int", metavar="n", help="Indent with n spaces (0-7)"),
            Param("arg", type="any", repeatable=True, consumes=2, metavar="name value",
                  help="Bind $name to the string value (repeatable)"),
            Param("argjson", type="any", repeatable=True, consumes=2, metavar="name json",
                  help="Bind $name to a JSON value (repeatable)"),
            Param("rawfile", type="any", repeatable=True, consumes=2, metavar="name file",
                  help="Bind $name to the text of a file"),
            Param("slurpfile", type="any", repeatable=True, consumes=2, metavar="name file",
                  help="Bind $name to the list of JSON documents in a file"),
            Param("path", type="str", metavar="file", help="Read this file instead of stdin"),
            Param("filter", type="any", positional=True, required=True,
                  help="The jq filter"),
            Param("files", type="any", positional=True, variadic=True, metavar="file",
                  help="Files to read instead of stdin"),
        ),
        examples=(
            ("Pick a field", "cat user.json | jq -r '.name'"),
            ("Filter a list", "gather | jq '[.[] | select(.ok)] | length'"),
            ("Compact output, one result per line", "jq -c '.items[]' data.json"),
            ("From a variable", "jq -r '.name' <<< \"$RESULT\""),
            ("Bind kaish values", "jq -n --arg who amy --argjson n 3 '{who: $who, n: $n}'"),
            ("Slurp a JSONL stream", "cat events.jsonl | jq -s 'length'"),
        ),
        json_output=True,
        category="json",
    )

    def check(self, args: BoundArgs) -> str | None:
        """The E007 report when the filter does not compile, before anything runs.

        Variables declared with --arg and friends count as defined. The
        compiled program is cached, so the run that follows reuses it.
        """
        if not args.positional or not isinstance(args.positional[0], str):
            return None
        return check_filter(args.positional[0], _declared_names(args))

    async def run(self, ctx: ToolContext) -> int:
        eng = _load_engine()
        args = ctx.args
        source = args.positional[0]
        source = source if isinstance(source, str) else display(source)
        files = [v if isinstance(v, str) else display(v) for v in args.positional[1:]]
        if args.get("path"):
            files.insert(0, args.get("path"))
        try:
            named = _named_values(
                ctx, args.get("arg") or [], args.get("argjson") or [],
                args.get("rawfile") or [], args.get("slurpfile") or [],
            )
        except (ValueError_, OSError) as exc:
            return ctx.error(str(exc))
        names = tuple(named)
        environment = ctx.shell.exported_env() if ctx.shell is not None else {}
        variables = {**named, "ARGS": {"positional": [], "named": named}, "ENV": environment}
        arguments = to_json(variables).encode("utf-8")
        as_json = args.json
        style = eng.DumpStyle(
            raw=args.flag("raw-output") and not as_json,
            join=args.flag("join-output") and not as_json,
            compact=args.flag("compact-output") or as_json,
            ascii=args.flag("ascii-output"),
            sort_keys=args.flag("sort-keys"),
            tab=args.flag("tab"),
            indent=2 if args.get("indent") is None else max(0, int(args.get("indent"))),
        )
        feeds = await self._feeds(ctx, files)
        if isinstance(feeds, int):
            return feeds
        return await self._run(ctx, source, names, arguments, feeds, style)

    async def _feeds(self, ctx: ToolContext, files: list[str]) -> list[engine.Feed] | int:
        """What to run on: null, the files, the piped value or the piped text."""
        eng = _load_engine()
        args = ctx.args
        slurp = args.flag("slurp")
        kind = "raw" if args.flag("raw-input") else "json"
        if args.flag("null-input"):
            return [eng.Feed("null", slurp=slurp)]
        if files:
            feeds: list[engine.Feed] = []
            for name in files:
                if name == "-":
                    data = await ctx.stdin.read_all()
                else:
                    try:
                        data = ctx.shell.vfs.read_bytes(ctx.shell.resolve_path(name))
                    except OSError as exc:
                        return ctx.error(f"{name}: {describe_os_error(exc)}")
                if not _is_text(ctx, data, name):
                    return 1
                feeds.append(eng.Feed(kind, data, slurp, "stdin" if name == "-" else name))
            if slurp and len(feeds) > 1:  # one stream across the files, as jq reads them
                joined = b"\n".join(f.data for f in feeds)
                return [eng.Feed(kind, joined, True, feeds[0].name)]
            return feeds
        data = await ctx.stdin.read_all()
        value = await ctx.stdin.data()
        if value is not NO_DATA and kind == "json":
            text = to_json(value).encode("utf-8")
            return [eng.Feed("json", b"[" + text + b"]" if slurp else text)]
        if not _is_text(ctx, data, "input"):
            return 1
        return [eng.Feed(kind, data, slurp)]

    async def _run(
        self,
        ctx: ToolContext,
        source: str,
        names: tuple[str, ...],
        arguments: bytes,
        feeds: list[engine.Feed],
        style: engine.DumpStyle,
    ) -> int:
        eng = _load_engine()
        as_json = ctx.args.json
        channel = _Channel(asyncio.get_running_loop())
        collector = _Collector(channel, stream=not as_json)

        def work() -> None:
            try:
                program = eng.compile_program(source, names, arguments.decode("utf-8"))
                outcome: object = program.run(feeds, arguments, style, collector, channel.control)
            except BaseException as exc:  # reported on the loop side
                outcome = exc
            channel.finish(outcome)

        if collector.keeping:
            ctx.stdout.expect_value()  # the printed results are the value's text
        threading.Thread(target=work, name="kaish-jq", daemon=True).start()
        broken = False
        try:
            while True:
                kind, payload = await channel.get()
                if kind == "out":
                    if broken:
                        continue
                    try:
                        await ctx.stdout.write(payload)  # type: ignore[arg-type]
                    except BrokenPipeError:
                        broken = True
                        channel.control.stop()
                elif kind == "err":
                    ctx.stderr.write(payload)  # type: ignore[arg-type]
                else:
                    outcome = payload
                    break
        except BaseException:
            channel.control.stop()
            raise
        if broken:
            return 0
        return await self._finish(ctx, outcome, collector)

    async def _finish(self, ctx: ToolContext, outcome: object, collector: _Collector) -> int:
        eng = _load_engine()
        if isinstance(outcome, eng.JqCompileError):
            ctx.stderr.write(_compile_report(outcome.messages))
            return 1
        if isinstance(outcome, eng.JqInputError | eng.JqUnavailable):
            return ctx.error(str(outcome))
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, eng.RunOutcome)
        if outcome.results and collector.keeping:
            if ctx.args.json:
                await ctx.emit_value(collector.value())
            else:
                ctx.stdout.set_data(LazyData(collector.value), is_value=True)
        if outcome.halted:
            if outcome.error:
                ctx.stderr.write(outcome.error)
            return outcome.halt_code
        if outcome.error is not None:
            return ctx.error("error: " + _runtime_message(outcome.error))
        if ctx.args.flag("exit-status"):
            if outcome.results == 0:
                return 4
            return 1 if outcome.last_was_falsy else 0
        return 0


def _is_text(ctx: ToolContext, data: bytes, what: str) -> bool:
    """jq reads text: binary input is a loud error, never silently replaced."""
    if data.isascii():
        return True
    try:
        coerce_text(data, what)
    except ValueError_ as exc:
        ctx.error(str(exc))
        return False
    return True


def _declared_names(args: BoundArgs) -> tuple[str, ...]:
    """The variable names a command line declares, in the order `run` binds them."""
    names = (
        display(pair[0])
        for flag in ("arg", "argjson", "rawfile", "slurpfile")
        for pair in args.get(flag) or ()
        if isinstance(pair, list) and pair
    )
    return tuple(dict.fromkeys(names))


def _named_values(
    ctx: ToolContext,
    arg_pairs: list[list[Value]],
    argjson_pairs: list[list[Value]],
    rawfile_pairs: list[list[Value]],
    slurpfile_pairs: list[list[Value]],
) -> dict[str, Value]:
    """The filter's named variables, in the order they were given.

    `--arg` values are strings (a number or a collection as kaish prints it);
    `--argjson` takes JSON text, or a typed value as it is; `--rawfile` binds
    a file's text and `--slurpfile` the list of JSON documents in a file.
    """
    named: dict[str, Value] = {}
    for name, value in arg_pairs:
        named[display(name)] = value if isinstance(value, str) else display(value)
    for name, value in argjson_pairs:
        label = display(name)
        if isinstance(value, bytes | bytearray):
            value = display(value)  # JSON text as bytes binds; binary data refuses
        if isinstance(value, str):
            try:
                named[label] = from_json(value)
            except ValueError_ as exc:
                raise ValueError_(f"--argjson {label}: {exc}") from None
        else:
            named[label] = value
    for flag, pairs in (("rawfile", rawfile_pairs), ("slurpfile", slurpfile_pairs)):
        for name, path in pairs:
            label, file_name = display(name), display(path)
            try:
                data = ctx.shell.vfs.read_bytes(ctx.shell.resolve_path(file_name))
            except OSError as exc:
                raise OSError(f"--{flag} {label}: {file_name}: {describe_os_error(exc)}") from None
            text = coerce_text(data, file_name)
            try:
                named[label] = text if flag == "rawfile" else _json_documents(text.encode())
            except ValueError as exc:
                raise ValueError_(f"--slurpfile {label}: {file_name}: invalid JSON: {exc}") from None
    return named


TOOLS = (Jq,)
