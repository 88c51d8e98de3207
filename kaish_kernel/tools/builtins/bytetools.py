"""Builtins that move raw bytes: xxd (hex dump and back) and dd (a byte window).

    xxd [-p] [-s N] [-l N] [FILE]     bytes ─► hex dump (16 a line) or plain hex (30 a line)
    xxd -r [-p] [FILE]                hex text ─► bytes (odd trailing nibble dropped)
    dd if=F of=F bs=N count=N skip=N  copy count blocks of bs bytes after skip blocks

Both read bytes, never text: a hex dump of binary shows the real bytes. The
one exception is `xxd -r`, whose input is hex *text*: input that is not UTF-8
is refused (exit 2) instead of being half-read as filler.
"""

from __future__ import annotations

import re
from typing import ClassVar, Final

from kaish_kernel.scheduler.stage import InputStream
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.builtins._textio import (
    STDIN_NAME,
    OperandError,
    close_input,
    describe_os_error,
    open_operand,
    operand_names,
)
from kaish_kernel.tools.builtins.help_topics import word_text
from kaish_kernel.tools.schema import Param, RawArg, Schema
from kaish_kernel.values import ValueError_

__all__ = ["TOOLS", "Dd", "Xxd"]

_CATEGORY = "files"
_CHUNK: Final = 64 * 1024
_DD_CAP: Final = 256 * 1024 * 1024  # one dd transfer, whatever the device
_SIZE: Final = re.compile(r"(\d+)([kKmMgG]?)\Z")
_SUFFIX: Final = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


async def _read(stream: InputStream, limit: int | None = None) -> bytes:
    """Everything up to EOF, or at most `limit` bytes."""
    parts: list[bytes] = []
    got = 0
    while limit is None or got < limit:
        want = _CHUNK if limit is None else min(_CHUNK, limit - got)
        chunk = await stream.read(want)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


# ---------------------------------------------------------------- xxd


def _dump(data: bytes, start: int) -> str:
    lines = []
    for at in range(0, len(data), 16):
        row = data[at : at + 16]
        pairs = " ".join(row[i : i + 2].hex() for i in range(0, len(row), 2))
        shown = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        lines.append(f"{start + at:08x}: {pairs:<40} {shown}\n")
    return "".join(lines)


def _plain(data: bytes) -> str:
    digits = data.hex()
    return "".join(digits[i : i + 60] + "\n" for i in range(0, len(digits), 60))


def _unhex(text: str, plain: bool) -> bytes:
    if plain:
        digits = "".join(ch for ch in text if ch in "0123456789abcdefABCDEF")
    else:  # `addr: hex groups  ascii` lines: only the part between the two
        rows = (line.strip().partition(": ")[2].split("  ")[0] for line in text.splitlines())
        digits = "".join(ch for row in rows for ch in row if ch in "0123456789abcdefABCDEF")
    return bytes.fromhex(digits[: len(digits) // 2 * 2])


class Xxd(Tool):
    schema: ClassVar[Schema] = Schema(
        name="xxd",
        summary="Make a hex dump of bytes, or turn one back into bytes",
        usage="xxd [-p] [-s N] [-l N] [FILE] | xxd -r [-p] [FILE]",
        params=(
            Param("plain", short="p", help="Plain hex: no offsets and no text column, 30 bytes a line"),
            Param("reverse", short="r", help="Read a hex dump (or plain hex with -p) back into bytes"),
            Param("length", type="int", short="l", metavar="N", help="Dump at most N bytes"),
            Param("seek", type="int", short="s", metavar="N", help="Start N bytes into the input"),
            Param("paths", type="any", positional=True, variadic=True, metavar="file",
                  help="The file to read (stdin when none)"),
        ),
        examples=(("Hex dump", "xxd file.bin"),
                  ("Plain hex", "echo hello | xxd -p"),
                  ("Back to bytes", "echo 68656c6c6f | xxd -r -p")),
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        length, seek = args.get("length"), args.get("seek") or 0
        if (length is not None and length < 0) or seek < 0:
            return ctx.error("-l and -s take a non-negative number of bytes", 2)
        try:
            names = operand_names(list(args.positional))
        except OperandError as exc:
            return ctx.error(str(exc))
        name = names[0] if names else "-"
        try:
            stream = open_operand(ctx, name)
        except OSError as exc:
            return ctx.error(f"{name}: {describe_os_error(exc)}")
        try:
            data = await stream.read_all()
        finally:
            close_input(ctx, stream)
        if args.flag("reverse"):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                where = STDIN_NAME if name == "-" else name
                return ctx.error(
                    f"{where}: not valid UTF-8 (invalid UTF-8 at byte {exc.start}); -r reads hex"
                    " text, not raw bytes", 2)
            await ctx.stdout.write(_unhex(text, args.flag("plain")))
            return 0
        data = data[seek:] if length is None else data[seek : seek + length]
        out = _plain(data) if args.flag("plain") else _dump(data, seek)
        if out:
            await ctx.stdout.write(out.encode("ascii"))
        return 0


# ---------------------------------------------------------------- dd


def _size(key: str, text: str) -> int:
    match = _SIZE.match(text)
    if match is None:
        raise ValueError_(f"{key}={text}: expected a number of bytes (suffix k, M or G allowed)")
    return int(match.group(1)) * _SUFFIX[match.group(2).lower()]


class _DdRequest:
    def __init__(self, raw: list[RawArg]) -> None:
        self.source: str | None = None
        self.target: str | None = None
        self.bs, self.skip = 512, 0
        self.count: int | None = None
        for arg in raw:
            if arg.kind == "assign":
                key, text = arg.name, word_text(arg.value)
            else:
                key, eq, text = word_text(arg.as_word()).partition("=")
                if not eq:
                    raise ValueError_(f"bad operand '{key}' (operands are key=value, e.g. if=FILE)")
            if key == "if":
                self.source = text
            elif key == "of":
                self.target = text
            elif key in ("bs", "skip", "count"):
                setattr(self, key, _size(key, text))
            else:
                raise ValueError_(f"unknown operand '{key}' (known: if, of, bs, count, skip)")
        if self.bs == 0:
            raise ValueError_("bs must be greater than 0")
        if self.count is not None and self.count * self.bs > _DD_CAP:
            raise ValueError_(f"count*bs is {self.count * self.bs} bytes; one dd copies at most {_DD_CAP}")


class Dd(Tool):
    schema: ClassVar[Schema] = Schema(
        name="dd",
        summary="Copy bytes between files and devices: if=, of=, bs=, count=, skip=",
        usage="dd [if=FILE] [of=FILE] [bs=N] [count=N] [skip=N]",
        description=(
            "Reads count blocks of bs bytes (default 512; k, M, G suffixes) after skipping\n"
            "skip blocks, from if= (stdin when absent) to of= (stdout when absent).\n"
            "Without count= it reads to the end. `N bytes copied` goes to stderr."
        ),
        examples=(("Random bytes to a file", "dd if=/dev/urandom of=key.bin bs=16 count=1"),
                  ("A window of a file", "dd if=data.bin bs=1 skip=4 count=8 | xxd -p")),
        raw=True,
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        try:
            request = _DdRequest(ctx.args.raw)
        except ValueError_ as exc:
            return ctx.error(str(exc), 2)
        name = request.source or "-"
        try:
            stream = open_operand(ctx, name)
        except OSError as exc:
            return ctx.error(f"{name}: {describe_os_error(exc)}")
        try:
            skipped = await _read(stream, request.skip * request.bs) if request.skip else b""
            data = b""
            if len(skipped) == request.skip * request.bs:
                limit = None if request.count is None else request.count * request.bs
                data = await _read(stream, limit)
        finally:
            close_input(ctx, stream)
        if request.target is None:
            await ctx.stdout.write(data)
        else:
            try:
                ctx.shell.vfs.write_bytes(ctx.shell.resolve_path(request.target), data)
            except OSError as exc:
                return ctx.error(f"{request.target}: {describe_os_error(exc)}")
        ctx.error(f"{len(data)} bytes copied")
        return 0


TOOLS = (Xxd, Dd)
