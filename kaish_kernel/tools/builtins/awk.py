"""awk — pattern scanning and processing, the everyday POSIX subset.

The program is parsed and compiled before anything runs (`_awk_parse`,
`_awk_run`), so a syntax error or an unsupported construct is one loud
error. The run itself happens on a worker thread: an awk program is
ordinary synchronous code that may loop for a long time or print a lot, and
the thread lets it do so while the event loop stays responsive, output
keeps flowing with backpressure, and cancellation can stop it.

    event loop (tool task)                     worker thread (Machine.run)
    ──────────────────────                     ───────────────────────────
    read chunk  ◄──── bridge.call(read) ◄───── records(): decode, split by RS
    write bytes ◄──── bridge.call(write) ◄──── sink(): ~64 KiB of output
    cancelled?  ────► bridge.cancel() ───────► Machine.stop → Stopped

Input is the file operands in order (`name=value` operands assign when
reached), else stdin; text must be UTF-8.
"""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import queue
import re
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Final, TypeVar

from kaish_kernel.scheduler.stage import InputStream
from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins._awk_builtins import AwkError, awk_regex
from kaish_kernel.tools.builtins._awk_lex import AwkSyntaxError, unescape
from kaish_kernel.tools.builtins._awk_parse import parse_program
from kaish_kernel.tools.builtins._awk_run import Machine, Stopped
from kaish_kernel.tools.builtins._awk_value import to_str
from kaish_kernel.tools.builtins._textio import (
    FILE_CHUNK,
    NotText,
    Output,
    TextTool,
    describe_os_error,
    emit_text_value,
    open_operand,
    source_name,
)
from kaish_kernel.tools.schema import Param, Schema
from kaish_kernel.values import Value, ValueError_, display

__all__ = ["TOOLS", "Awk", "split_records"]

T = TypeVar("T")

_ASSIGNMENT: Final = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z", re.DOTALL)
_BLANK_LINES: Final = re.compile(r"\n\n+")


def split_records(buffer: str, separator: str, eof: bool) -> tuple[list[str], str]:
    """The complete records at the front of `buffer`, and the unfinished rest.

    RS "\\n" (lines; a `\\r\\n` ending loses its `\\r`), a single character,
    "" (paragraphs: blank lines separate, leading/trailing newlines ignored)
    or a longer string (an ERE, as in gawk).
    """
    if len(separator) == 1:
        cut = buffer.rfind(separator)
        if eof:
            body, rest = buffer, ""
            records = body.split(separator) if body else []
            if records and records[-1] == "":
                records.pop()
        elif cut < 0:
            return [], buffer
        else:
            body, rest = buffer[:cut], buffer[cut + 1 :]
            records = body.split(separator)
        if separator == "\n" and "\r" in body:
            last = len(records) - 1
            terminated = not eof or buffer.endswith("\n")
            records = [
                r[:-1] if r.endswith("\r") and (i < last or terminated) else r
                for i, r in enumerate(records)
            ]
        return records, rest
    if separator == "":
        buffer = buffer.lstrip("\n")
        regex = _BLANK_LINES
    else:
        regex = awk_regex(separator)
    records = []
    pos = 0
    for m in regex.finditer(buffer):
        if m.end() == m.start():
            continue
        if not eof and m.end() == len(buffer):
            break  # the separator may go on in the next chunk
        records.append(buffer[pos : m.start()])
        pos = m.end()
    rest = buffer[pos:]
    if eof:
        if separator == "":
            rest = rest.rstrip("\n")
        if rest:
            records.append(rest)
        rest = ""
    return records, rest


class _Bridge:
    """Runs coroutines on the event loop on behalf of the worker thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.stopped = False
        self.machine: Machine | None = None
        self._pending: concurrent.futures.Future[Any] | None = None

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` on the loop and return its result (worker thread only)."""
        if self.stopped:
            coro.close()
            raise Stopped
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        self._pending = future
        if self.stopped:
            future.cancel()
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise Stopped from None
        finally:
            self._pending = None

    def cancel(self) -> None:
        """Stop the worker at its next check or bridge call (event loop only)."""
        self.stopped = True
        if self.machine is not None:
            self.machine.stop = True
        pending = self._pending
        if pending is not None:
            pending.cancel()


def _text(value: Value, what: str) -> str:
    if isinstance(value, str):
        return value
    try:
        return display(value)
    except ValueError_:
        raise AwkError(f"{what} must be text, not binary data") from None


class Awk(TextTool):
    schema = Schema(
        name="awk",
        summary="Pattern scanning and text processing language",
        usage="awk [-F FS] [-v NAME=VALUE]... 'PROGRAM' [FILE | NAME=VALUE]...",
        description=(
            "Runs an awk program over each record (line) of the files or stdin.\n"
            "Supported: BEGIN/END, /regex/ and expression patterns, ranges, fields\n"
            "$0..$NF, NR NF FNR FS OFS ORS RS FILENAME RSTART RLENGTH, variables,\n"
            "arrays (in, delete, for-in), if/while/do/for, next, exit, print, printf,\n"
            "and length substr index split sub gsub match sprintf tolower toupper\n"
            "int sqrt. Regex is ERE plus the GNU BRE spellings (\\| \\( \\) \\{ \\} \\+).\n"
            "Refused with a hint: getline, output redirection, user functions,\n"
            "a[i,j], ENVIRON/ARGV, and math beyond int and sqrt."
        ),
        params=(
            Param("field-separator", type="str", short="F", aliases=("field_separator",),
                  metavar="fs", help="Field separator: one character, \" \", or an ERE"),
            Param("var", type="str", short="v", repeatable=True, metavar="name=value",
                  help="Set a variable before the program starts (repeatable)"),
            Param("program", type="any", positional=True, metavar="program",
                  help="The awk program text"),
            Param("files", type="any", positional=True, variadic=True, metavar="file",
                  help="Files to read (NAME=VALUE assigns); stdin when none are given"),
        ),
        examples=(
            ("Print the second field", "awk '{print $2}' data.txt"),
            ("Split on colons", "awk -F: '{print $1}' /etc/passwd"),
            ("Filter on a numeric field", "awk '$3 > 100 {print $1, $3}' data.txt"),
            ("Sum a column", "awk '{sum += $2} END {print sum}' data.txt"),
            ("Count by key", "awk '{n[$1]++} END {for (k in n) print k, n[k]}' log.txt"),
            ("Lines between two markers", "awk '/start/,/stop/' notes.txt"),
            ("Pass a value in", "awk -v limit=10 'NR <= limit' data.txt"),
        ),
        json_output=True,
        category="text",
    )

    async def execute(self, ctx: ToolContext) -> int:
        operands = list(ctx.args.positional)
        if not operands:
            return ctx.error("missing program (usage: awk 'PROGRAM' [FILE]...)")
        out = Output(ctx.stdout, collect=ctx.args.json)
        loop = asyncio.get_running_loop()
        bridge = _Bridge(loop)
        try:
            source = _text(operands.pop(0), "the program")
            names = [_text(v, "a file operand") for v in operands]
            program = parse_program(source)
            machine = Machine(program, lambda text: bridge.call(_write(out, text)))
            separator = ctx.args.get("field-separator")
            if separator is not None:
                machine.assign("FS", str(separator))
            for assignment in ctx.args.get("var") or []:
                name, value = _parse_assignment(str(assignment))
                machine.assign(name, unescape(value))
        except (AwkSyntaxError, AwkError) as exc:
            return ctx.error(str(exc))
        except RecursionError:
            return ctx.error("the program is nested too deeply")
        bridge.machine = machine
        reader = _Reader(ctx, bridge, names)
        try:
            status = await _in_worker(lambda: machine.run(reader.batches), bridge)
        except AwkError as exc:
            await out.flush()
            return ctx.error(str(exc))
        await out.flush()
        if ctx.args.json:
            await emit_text_value(ctx, out.collected())
        return status or reader.status


def _parse_assignment(text: str) -> tuple[str, str]:
    m = _ASSIGNMENT.match(text)
    if m is None:
        raise AwkError(f"-v: invalid assignment {text!r} (expected NAME=VALUE)")
    return m.group(1), m.group(2)


async def _write(out: Output, text: str) -> None:
    await out.write(text.encode("utf-8"))
    await out.flush()


class _WorkerThreads:
    """Threads for awk runs: an idle one is reused, otherwise a new one starts.

    Deliberately unbounded: awk stages can wait on each other through pipes
    (`awk ... | awk ...`), and a fixed-size pool could starve the stage that
    everyone is waiting for. Idle threads exit after `idle_seconds`.
    """

    def __init__(self, idle_seconds: float = 30.0) -> None:
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Callable[[], None]]] = []

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), name="kaish-awk", daemon=True).start()
        inbox.put(job)

    def _serve(self, inbox: queue.SimpleQueue[Callable[[], None]]) -> None:
        while True:
            try:
                job = inbox.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        return
                continue  # handed a job just as we timed out
            job()
            with self._lock:
                self._idle.append(inbox)


_WORKERS: Final = _WorkerThreads()


async def _in_worker(work: Callable[[], int], bridge: _Bridge) -> int:
    """Run `work` on its own thread; cancelling the caller stops the work."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[int] = loop.create_future()

    def settle(ok: bool, payload: Any) -> None:
        if not result.done():
            if ok:
                result.set_result(payload)
            else:
                result.set_exception(payload)

    def target() -> None:
        try:
            value = work()
        except BaseException as exc:  # handed to the awaiting task, never lost
            outcome: tuple[bool, Any] = (False, exc)
        else:
            outcome = (True, value)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:
            pass  # the loop is gone; nobody is waiting

    _WORKERS.submit(target)
    try:
        return await result
    except asyncio.CancelledError:
        bridge.cancel()
        raise


class _Reader:
    """Input for the worker thread: operands in order, records in batches."""

    def __init__(self, ctx: ToolContext, bridge: _Bridge, operands: list[str]) -> None:
        self.ctx = ctx
        self.bridge = bridge
        self.operands = operands
        self.status = 0

    def batches(self, machine: Machine) -> Iterator[list[str]]:
        files = [op for op in self.operands if not _ASSIGNMENT.match(op)]
        for operand in self.operands if files else [*self.operands, "-"]:
            assignment = _ASSIGNMENT.match(operand)
            if assignment and operand != "-":
                machine.assign(assignment.group(1), unescape(assignment.group(2)))
                continue
            try:
                stream = self.bridge.call(_open(self.ctx, operand))
            except OSError as exc:
                self.bridge.call(_report(self.ctx, f"{operand}: {describe_os_error(exc)}"))
                self.status = 2
                continue
            machine.vars["FILENAME"] = "" if operand == "-" else operand
            machine.fnr = 0
            try:
                yield from self._records(machine, stream, source_name(operand))
            finally:
                if not self.bridge.stopped:
                    self.bridge.call(_close(stream))

    def _records(self, machine: Machine, stream: InputStream, where: str) -> Iterator[list[str]]:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        buffer = ""
        offset = 0
        while True:
            chunk = self.bridge.call(stream.read(FILE_CHUNK))
            eof = not chunk
            try:
                text = decoder.decode(chunk, final=eof)
            except UnicodeDecodeError as exc:
                raise NotText(where, max(0, offset + exc.start - len(decoder.getstate()[0]))) from None
            offset += len(chunk)
            buffer += text
            separator = to_str(machine.vars["RS"], machine.convfmt)
            machine.paragraph_mode = separator == ""
            records, buffer = split_records(buffer, separator, eof)
            if records:
                yield records
            if eof:
                return


async def _open(ctx: ToolContext, name: str) -> InputStream:
    return open_operand(ctx, name)


async def _close(stream: InputStream) -> None:
    stream.close()


async def _report(ctx: ToolContext, message: str) -> None:
    ctx.error(message)


TOOLS = (Awk,)
