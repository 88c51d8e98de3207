"""Whole-stream text builtins: cat, head, tail, wc, tac, tee.

Each reads its file operands through the VFS (or stdin when there are none)
in large chunks and writes as it goes:

    cat  bytes through unchanged; -n numbers lines (needs text)
    head stops reading (and closes its input) once it has N lines or bytes
    tail keeps only a bounded window (the last N lines or bytes)
    wc   counts newlines and bytes on raw chunks; words/chars decode strictly
    tac  needs the whole input (it reverses it)
    tee  copies each chunk to its files and to stdout

Line-mode output always ends each line with `\\n` (except `cat`, which is
byte-exact). A reader that goes away stops the tool quietly (TextTool).
"""

from __future__ import annotations

import codecs
from collections import deque
from typing import Any

from kaish_kernel.scheduler.stage import InputStream, OutputStream
from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins._textio import (
    NotText,
    Output,
    TextTool,
    chunks,
    close_input,
    decode_text,
    describe_os_error,
    emit_text_value,
    ensure_text,
    line_blocks,
    open_or_report,
    operand_names,
    source_name,
    split_lines,
)
from kaish_kernel.tools.schema import Param, Schema, UsageError
from kaish_kernel.values import Value

__all__ = ["TOOLS", "Cat", "Head", "Tac", "Tail", "Tee", "Wc"]

# Operands stay values (`any`) until operand_names checks them: a list or a
# record is refused, and head/tail can see a `-5` that arrived as a number.
_PATHS = Param(
    "paths", type="any", positional=True, variadic=True, metavar="file",
    help="Files to read; stdin when none are given",
)


def _rows(lines: list[bytes], first: int, where: str) -> list[Value]:
    """`--json` rows for numbered lines: {"TEXT": line, "line": n}."""
    return [
        {"TEXT": decode_text(line, where), "line": first + i} for i, line in enumerate(lines)
    ]


# ---------------------------------------------------------------- cat


class Cat(TextTool):
    """Bytes through unchanged; with -n, numbered lines in GNU's `%6d\\t` form."""

    schema = Schema(
        name="cat",
        summary="Concatenate files (or stdin) to stdout",
        params=(
            Param("number", short="n", help="Number every output line"),
            _PATHS,
        ),
        examples=(
            ("Show a file", "cat notes.txt"),
            ("Join files", "cat head.txt body.txt > page.txt"),
            ("Number lines", "cat -n script.kai"),
        ),
        json_output=True,
        category="text",
    )
    binary_hint = "cat -n numbers text lines; plain cat passes bytes through"

    async def execute(self, ctx: ToolContext) -> int:
        names = operand_names(ctx.args.positional) or ["-"]
        number = ctx.args.flag("number")
        as_json = ctx.args.json
        out = Output(ctx.stdout, collect=as_json)
        status = 0
        rows: list[Value] = []
        lineno = 1
        dangling = False  # the previous file's last line had no newline yet
        for name in names:
            stream = open_or_report(ctx, name)
            if stream is None:
                status = 1
                continue
            try:
                if not number:
                    async for chunk in chunks(stream):
                        await out.write(chunk)
                        await out.flush()
                    continue
                where = source_name(name)
                offset = 0
                async for block in line_blocks(stream):
                    ensure_text(block, where, offset)
                    offset += len(block)
                    lines = split_lines(block)
                    if as_json:
                        rows.extend(_rows(lines, lineno, where))
                        lineno += len(lines)
                        continue
                    parts = [b"%6d\t%s\n" % (lineno + i, line) for i, line in enumerate(lines)]
                    lineno += len(lines)
                    if dangling:
                        parts.insert(0, b"\n")
                    dangling = not block.endswith(b"\n")
                    if dangling:
                        parts[-1] = parts[-1][:-1]
                    await out.write(b"".join(parts))
                    await out.flush()
            finally:
                close_input(ctx, stream)
        if as_json:
            if number:
                await ctx.emit_value(rows)
            else:
                await emit_text_value(ctx, out.collected())
        return status


# ---------------------------------------------------------------- head / tail


def _count_spec(what: str, value: Value) -> tuple[int, str]:
    """`-n`/`-c` values: (count, sign) where sign is "", "-" or "+"."""
    if isinstance(value, bool):
        raise UsageError(f"invalid number of {what}: '{value}'")
    if isinstance(value, int):
        return abs(value), "-" if value < 0 else ""
    if isinstance(value, float) and value.is_integer():
        return abs(int(value)), "-" if value < 0 else ""
    text = str(value).strip()
    sign = text[:1] if text[:1] in ("+", "-") else ""
    digits = text[1:] if sign else text
    if not digits.isdigit():
        raise UsageError(f"invalid number of {what}: '{value}'")
    return int(digits), sign


def _shorthand(ctx: ToolContext) -> tuple[Value, list[str]]:
    """Pick up POSIX `head -5` when `-5` arrived as a negative number operand."""
    positional = list(ctx.args.positional)
    lines = ctx.args.get("lines")
    if positional and isinstance(positional[0], int) and not isinstance(positional[0], bool):
        if positional[0] < 0:
            lines = -positional.pop(0)
    return lines, operand_names(positional)


def _lines_end(block: bytes, count: int) -> int:
    """Where the first `count` lines of `block` end (just past its count-th `\\n`)."""
    cut = -1
    for _ in range(count):
        cut = block.index(b"\n", cut + 1)
    return cut + 1


def _header(name: str, first: bool) -> bytes:
    return ("" if first else "\n").encode() + f"==> {name} <==\n".encode()


class Head(TextTool):
    """First N lines (or bytes); closes its input as soon as it has them."""

    schema = Schema(
        name="head",
        summary="Print the first lines (or bytes) of files or stdin",
        params=(
            Param("lines", type="any", short="n", metavar="n",
                  help="Print the first N lines (default 10); -N prints all but the last N"),
            Param("bytes", type="any", short="c", metavar="n",
                  help="Print the first N bytes instead of lines"),
            _PATHS,
        ),
        examples=(
            ("First ten lines", "head notes.txt"),
            ("First three lines", "head -n 3 notes.txt"),
            ("All but the last line", "head -n -1 notes.txt"),
            ("First 100 bytes", "head -c 100 blob.bin"),
        ),
        json_output=True,
        numeric_shorthand="lines",
        category="text",
    )
    binary_hint = "use head -c N for bytes"

    async def execute(self, ctx: ToolContext) -> int:
        lines_value, names = _shorthand(ctx)
        byte_value = ctx.args.get("bytes")
        count, all_but = 10, False
        byte_count: int | None = None
        if byte_value is not None:
            byte_count, sign = _count_spec("bytes", byte_value)
            if sign == "-" and byte_count:
                raise UsageError(
                    f"invalid byte count -{byte_count}: negative -c is not supported"
                )
        elif lines_value is not None:
            count, sign = _count_spec("lines", lines_value)
            all_but = sign == "-"
        sources = names or ["-"]
        multi = len(sources) > 1
        as_json = ctx.args.json
        out = Output(ctx.stdout, collect=as_json and multi)
        rows: list[Value] = []
        status = 0
        for index, name in enumerate(sources):
            stream = open_or_report(ctx, name)
            if stream is None:
                status = 1
                continue
            try:
                if multi:
                    await out.write(_header(name, index == 0))
                if byte_count is not None:
                    data = await self._bytes(ctx, stream, byte_count, out, as_json and not multi)
                    if as_json and not multi:
                        await emit_text_value(ctx, data)
                elif all_but:
                    await self._all_but(stream, count, source_name(name), out, rows, as_json and not multi)
                else:
                    await self._first(ctx, stream, count, source_name(name), out, rows, as_json and not multi)
                await out.flush()
            finally:
                close_input(ctx, stream)
        if as_json:
            if multi:
                await emit_text_value(ctx, out.collected().rstrip())
            elif byte_count is None:
                await ctx.emit_value(rows)
        return status

    async def _bytes(
        self, ctx: ToolContext, stream: InputStream, count: int, out: Output, keep: bool
    ) -> bytes:
        """The first `count` bytes, then let go of the input."""
        kept = bytearray()
        remaining = count
        if remaining:
            async for chunk in chunks(stream, min(remaining, 256 * 1024)):
                piece = chunk[:remaining]
                remaining -= len(piece)
                if keep:
                    kept += piece
                else:
                    await out.write(piece)
                    await out.flush()
                if remaining <= 0:
                    break
        stream.close()
        return bytes(kept)

    async def _first(
        self, ctx: ToolContext, stream: InputStream, count: int, where: str,
        out: Output, rows: list[Value], as_json: bool,
    ) -> None:
        """The first `count` lines; stop reading the moment we have them."""
        remaining, offset, lineno = count, 0, 1
        if remaining:
            async for block in line_blocks(stream):
                newlines = block.count(b"\n")
                if newlines >= remaining:
                    block = block[: _lines_end(block, remaining)]
                ensure_text(block, where, offset)
                offset += len(block)
                lines = split_lines(block)
                remaining -= len(lines)
                if as_json:
                    rows.extend(_rows(lines, lineno, where))
                    lineno += len(lines)
                else:
                    await out.write(block if block.endswith(b"\n") else block + b"\n")
                    await out.flush()
                if remaining <= 0:
                    break
        stream.close()

    async def _all_but(
        self, stream: InputStream, count: int, where: str,
        out: Output, rows: list[Value], as_json: bool,
    ) -> None:
        """Everything except the last `count` lines, streaming behind a window."""
        held: deque[bytes] = deque()
        offset, lineno = 0, 1
        async for block in line_blocks(stream):
            ensure_text(block, where, offset)
            offset += len(block)
            held.extend(split_lines(block))
            ready = len(held) - count
            if ready <= 0:
                continue
            lines = [held.popleft() for _ in range(ready)]
            if as_json:
                rows.extend(_rows(lines, lineno, where))
                lineno += len(lines)
            else:
                await out.write(b"\n".join(lines) + b"\n")
                await out.flush()


class Tail(TextTool):
    """Last N lines or bytes (a bounded window), or everything from line/byte +N."""

    schema = Schema(
        name="tail",
        summary="Print the last lines (or bytes) of files or stdin",
        params=(
            Param("lines", type="any", short="n", metavar="n",
                  help="Print the last N lines (default 10); +N starts at line N"),
            Param("bytes", type="any", short="c", metavar="n",
                  help="Print the last N bytes; +N starts at byte N"),
            _PATHS,
        ),
        examples=(
            ("Last ten lines", "tail app.log"),
            ("Last 20 lines", "tail -n 20 app.log"),
            ("Skip a header line", "tail -n +2 table.csv"),
            ("Last 100 bytes", "tail -c 100 blob.bin"),
        ),
        json_output=True,
        numeric_shorthand="lines",
        category="text",
    )
    binary_hint = "use tail -c N for bytes"

    async def execute(self, ctx: ToolContext) -> int:
        lines_value, names = _shorthand(ctx)
        byte_value = ctx.args.get("bytes")
        byte_spec: tuple[int, str] | None = None
        count, sign = 10, ""
        if byte_value is not None:
            byte_spec = _count_spec("bytes", byte_value)
        elif lines_value is not None:
            count, sign = _count_spec("lines", lines_value)
        sources = names or ["-"]
        multi = len(sources) > 1
        as_json = ctx.args.json
        out = Output(ctx.stdout, collect=as_json)
        rows: list[Value] = []
        status = 0
        for index, name in enumerate(sources):
            stream = open_or_report(ctx, name)
            if stream is None:
                status = 1
                continue
            try:
                if multi:
                    await out.write(_header(name, index == 0))
                as_rows = as_json and not multi
                if byte_spec is not None:
                    await self._bytes(stream, *byte_spec, out)
                elif sign == "+":
                    await self._from_line(stream, count, source_name(name), out, rows, as_rows)
                else:
                    await self._last(stream, count, source_name(name), out, rows, as_rows)
                await out.flush()
            finally:
                close_input(ctx, stream)
        if as_json:
            if multi:
                await emit_text_value(ctx, out.collected().rstrip())
            elif byte_spec is not None:
                await emit_text_value(ctx, out.collected())
            else:
                await ctx.emit_value(rows)
        return status

    async def _bytes(self, stream: InputStream, count: int, sign: str, out: Output) -> None:
        if sign == "+":
            skip = max(count - 1, 0)
            async for chunk in chunks(stream):
                if skip >= len(chunk):
                    skip -= len(chunk)
                    continue
                await out.write(chunk[skip:])
                await out.flush()
                skip = 0
            return
        window = bytearray()
        async for chunk in chunks(stream):
            window += chunk
            if len(window) > count:
                del window[: len(window) - count]
        await out.write(bytes(window))

    async def _from_line(
        self, stream: InputStream, start: int, where: str,
        out: Output, rows: list[Value], as_rows: bool,
    ) -> None:
        """Stream everything from line `start` (1-based) on."""
        skip, offset, lineno = max(start - 1, 0), 0, 1
        async for block in line_blocks(stream):
            if skip:
                newlines = block.count(b"\n")
                if newlines >= skip:
                    end = _lines_end(block, skip)
                    offset += end
                    lineno += skip
                    block = block[end:]
                    skip = 0
                else:
                    skip -= newlines + (0 if block.endswith(b"\n") else 1)
                    offset += len(block)
                    lineno += newlines
                    continue
                if not block:
                    continue
            ensure_text(block, where, offset)
            offset += len(block)
            if as_rows:
                lines = split_lines(block)
                rows.extend(_rows(lines, lineno, where))
                lineno += len(lines)
                continue
            await out.write(block if block.endswith(b"\n") else block + b"\n")
            await out.flush()

    async def _last(
        self, stream: InputStream, count: int, where: str,
        out: Output, rows: list[Value], as_rows: bool,
    ) -> None:
        """Keep a window of whole-line blocks just big enough for the last `count` lines."""
        held: deque[tuple[bytes, int]] = deque()
        window_lines = total_lines = total_bytes = 0
        async for block in line_blocks(stream):
            n = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
            held.append((block, n))
            window_lines += n
            total_lines += n
            total_bytes += len(block)
            while held and window_lines - held[0][1] >= count:
                window_lines -= held.popleft()[1]
        data = b"".join(block for block, _ in held)
        lines = split_lines(data)
        lines = lines[len(lines) - count :] if count else []
        text = b"\n".join(lines) + b"\n" if lines else b""
        ensure_text(text, where, max(total_bytes - len(text), 0))
        if as_rows:
            rows.extend(_rows(lines, total_lines - len(lines) + 1, where))
        else:
            await out.write(text)


# ---------------------------------------------------------------- wc


_WC_INVALID_HINT = "word and char counts need text; -c and -l count any bytes"


class _Counter:
    """Counts one stream incrementally: newlines and bytes always, words/chars on demand."""

    __slots__ = ("_decoder", "bytes", "chars", "in_word", "lines", "text", "where", "words")

    def __init__(self, where: str, text: bool) -> None:
        self.where = where
        self.text = text
        self.lines = self.words = self.chars = self.bytes = 0
        self.in_word = False
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")

    def feed(self, chunk: bytes, final: bool = False) -> None:
        offset = self.bytes
        self.lines += chunk.count(b"\n")
        self.bytes += len(chunk)
        if not self.text:
            return
        pending = self._decoder.getstate()[0]
        if not pending and chunk.isascii():
            self.chars += len(chunk)
            self._words(chunk, chunk.split(), chunk[:1].isspace(), chunk[-1:].isspace())
            return
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise NotText(self.where, offset - len(pending) + exc.start) from None
        self.chars += len(text)
        if text:
            self._words(text, text.split(), text[:1].isspace(), text[-1:].isspace())

    def _words(self, data: Any, words: list[Any], starts_space: bool, ends_space: bool) -> None:
        if not data:
            return
        self.words += len(words)
        if self.in_word and words and not starts_space:
            self.words -= 1  # the word continues from the previous chunk
        self.in_word = not ends_space

    def finish(self) -> None:
        if self.text:
            self.feed(b"", final=True)


class Wc(TextTool):
    """Counts; newlines and bytes straight off the raw chunks."""

    schema = Schema(
        name="wc",
        summary="Count lines, words, characters and bytes",
        params=(
            Param("lines", short="l", help="Count newlines"),
            Param("words", short="w", help="Count whitespace-separated words"),
            Param("chars", short="m", help="Count characters (needs UTF-8 text)"),
            Param("bytes", short="c", help="Count bytes"),
            _PATHS,
        ),
        description=(
            "Without flags prints lines, words and bytes. Counts are right-aligned to a"
            " common width; with several files a total row follows."
        ),
        examples=(
            ("Lines, words and bytes", "wc notes.txt"),
            ("Just the line count", "wc -l < notes.txt"),
        ),
        json_output=True,
        category="text",
    )
    binary_hint = _WC_INVALID_HINT

    async def execute(self, ctx: ToolContext) -> int:
        args = ctx.args
        want = {k: args.flag(k) for k in ("lines", "words", "chars", "bytes")}
        if not any(want.values()):
            want.update(lines=True, words=True, bytes=True)
        columns = [k for k in ("lines", "words", "bytes", "chars") if want[k]]
        names = operand_names(args.positional)
        needs_text = want["words"] or want["chars"]
        table: list[tuple[str, list[int]]] = []
        status = 0
        for name in names or ["-"]:
            stream = open_or_report(ctx, name)
            if stream is None:
                status = 1
                continue
            counter = _Counter(source_name(name), needs_text)
            try:
                async for chunk in chunks(stream):
                    counter.feed(chunk)
                counter.finish()
            except NotText as exc:
                ctx.error(exc.message(_WC_INVALID_HINT))
                status = 1
                continue
            finally:
                close_input(ctx, stream)
            label = name if names else ""
            table.append((label, [getattr(counter, k) for k in columns]))
        if len(names) > 1:
            totals = [sum(row[1][i] for row in table) for i in range(len(columns))]
            table.append(("total", totals))
        if ctx.args.json:
            headers = [k.upper() for k in columns]
            await ctx.emit_value(
                [{"FILE": label, **dict(zip(headers, map(str, cells), strict=True))}
                 for label, cells in table]
            )
            return status
        width = max((len(str(c)) for _, cells in table for c in cells), default=0)
        text = "".join(
            " ".join(str(c).rjust(width) for c in cells) + (f" {label}" if label else "") + "\n"
            for label, cells in table
        )
        await ctx.write_text(text)
        return status


# ---------------------------------------------------------------- tac


class Tac(TextTool):
    """Lines in reverse order; each file reversed on its own, files in order."""

    schema = Schema(
        name="tac",
        summary="Print lines in reverse order",
        params=(_PATHS,),
        examples=(("Newest log lines first", "tac app.log"), ("Reverse stdin", "seq 1 5 | tac")),
        json_output=True,
        category="text",
    )

    async def execute(self, ctx: ToolContext) -> int:
        out = Output(ctx.stdout, collect=ctx.args.json)
        status = 0
        for name in operand_names(ctx.args.positional) or ["-"]:
            stream = open_or_report(ctx, name)
            if stream is None:
                status = 1
                continue
            try:
                data = b"".join([block async for block in chunks(stream)])
            finally:
                close_input(ctx, stream)
            ensure_text(data, source_name(name))
            lines = split_lines(data)
            if lines:
                lines.reverse()
                await out.write(b"\n".join(lines) + b"\n")
                await out.flush()
        if ctx.args.json:
            await emit_text_value(ctx, out.collected())
        return status


# ---------------------------------------------------------------- tee


class Tee(TextTool):
    """Each chunk of stdin goes to every file and on to stdout as it arrives."""

    schema = Schema(
        name="tee",
        summary="Copy stdin to files and to stdout",
        params=(
            Param("append", short="a", help="Append to the files instead of overwriting them"),
            Param("paths", type="any", positional=True, variadic=True, metavar="file",
                  help="Files to write"),
        ),
        examples=(
            ("Save and show", "make 2>&1 | tee build.log"),
            ("Append to a log", "echo done | tee -a run.log"),
        ),
        json_output=True,
        category="text",
    )

    async def execute(self, ctx: ToolContext) -> int:
        names = operand_names(ctx.args.positional)
        if not names:
            return ctx.error("missing file argument")
        append = ctx.args.flag("append")
        status = 0
        sinks: list[tuple[str, OutputStream]] = []
        for name in names:
            try:
                sinks.append(
                    (name, ctx.shell.vfs.open_output(ctx.shell.resolve_path(name), append=append))
                )
            except OSError as exc:
                ctx.error(f"{name}: {describe_os_error(exc)}")
                status = 1
        out = Output(ctx.stdout, collect=ctx.args.json)
        try:
            async for chunk in chunks(ctx.stdin):
                for entry in list(sinks):
                    try:
                        await entry[1].write(chunk)
                    except OSError as exc:
                        ctx.error(f"{entry[0]}: {describe_os_error(exc)}")
                        status = 1
                        sinks.remove(entry)
                await out.write(chunk)
                await out.flush()
        finally:
            for name, sink in sinks:
                try:
                    await sink.close()
                except OSError as exc:
                    ctx.error(f"{name}: {describe_os_error(exc)}")
                    status = 1
        if ctx.args.json:
            await emit_text_value(ctx, out.collected())
        return status


TOOLS = (Cat, Head, Tail, Wc, Tac, Tee)
