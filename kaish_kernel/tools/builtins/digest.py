"""Builtins that read bytes and say something about them: base64, cmp, checksum.

    base64 [-d] [-w N] [FILE]        bytes ─► base64 text (76 a line), or back with -d
    cmp [-s] FILE1 FILE2             first differing byte (exit 1), or nothing (exit 0)
    checksum [-a ALGO] [FILE...]     `HASH  NAME` lines (sha256, sha1 or md5)

All three read their input as raw bytes, so binary files and binary pipes are
handled exactly. `base64 -d` writes the decoded bytes as they are.
"""

from __future__ import annotations

import binascii
import hashlib
from typing import ClassVar, Final

from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.builtins._textio import (
    OperandError,
    close_input,
    describe_os_error,
    open_operand,
    operand_names,
)
from kaish_kernel.tools.schema import Param, Schema

__all__ = ["TOOLS", "Base64", "Checksum", "Cmp"]

_CATEGORY = "files"
_CHUNK: Final = 64 * 1024
_WHITESPACE: Final = b" \t\n\r\x0b\x0c"


async def _slurp(ctx: ToolContext, name: str) -> bytes:
    """All bytes of a file operand (`-` is stdin). Raises OSError."""
    stream = open_operand(ctx, name)
    try:
        return await stream.read_all()
    finally:
        close_input(ctx, stream)


# ---------------------------------------------------------------- base64


def _wrap(text: str, width: int) -> str:
    if width <= 0:
        return text
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def _b64decode(data: bytes) -> bytes:
    """Strict decode: whitespace is ignored, but padding must be present and the
    unused bits of the last character zero (the canonical encoding only)."""
    cleaned = data.translate(None, _WHITESPACE)
    decoded = binascii.a2b_base64(cleaned, strict_mode=True)
    if binascii.b2a_base64(decoded, newline=False) != cleaned:
        raise binascii.Error("not the canonical encoding (non-zero trailing bits)")
    return decoded


class Base64(Tool):
    schema: ClassVar[Schema] = Schema(
        name="base64",
        summary="Encode bytes as base64 text, or decode base64 text back to bytes",
        usage="base64 [-d] [-w N] [FILE]",
        description=(
            "Reads FILE (stdin when none) as raw bytes. Encoded output is broken into\n"
            "lines of 76 characters (-w sets the width; -w 0 keeps one line) and ends\n"
            "with a newline. With -d, whitespace in the input is skipped and the\n"
            "decoded bytes are written unchanged; input that is not valid, padded\n"
            "base64 fails with exit 1."
        ),
        params=(
            Param("decode", short="d", help="Decode base64 text to the bytes it stands for"),
            Param("wrap", type="int", short="w", metavar="N",
                  help="Characters per encoded line (0: no line breaks; default 76)"),
            Param("paths", type="any", positional=True, variadic=True, metavar="file",
                  help="The file to read (stdin when none)"),
        ),
        examples=(("Encode stdin", "echo hi | base64"),
                  ("Decode", "echo aGkK | base64 -d"),
                  ("One long line", "base64 -w 0 image.png")),
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        wrap = args.get("wrap")
        width = 76 if wrap is None else int(wrap)
        try:
            names = operand_names(list(args.positional))
        except OperandError as exc:
            return ctx.error(str(exc))
        name = names[0] if names else "-"
        try:
            data = await _slurp(ctx, name)
        except OSError as exc:
            return ctx.error(f"{name}: {describe_os_error(exc)}")
        if args.flag("decode"):
            try:
                decoded = _b64decode(data)
            except (binascii.Error, ValueError) as exc:
                return ctx.error(f"invalid input: {exc}")
            if decoded:
                await ctx.stdout.write(decoded)
            return 0
        encoded = binascii.b2a_base64(data, newline=False).decode("ascii")
        if encoded:
            await ctx.stdout.write((_wrap(encoded, width) + "\n").encode("ascii"))
        return 0


# ---------------------------------------------------------------- cmp


def _compare(a: bytes, b: bytes, name1: str, name2: str) -> str | None:
    """The report for the first difference, or None when identical."""
    common = min(len(a), len(b))
    at = next((i for i in range(common) if a[i] != b[i]), None)
    if at is not None:
        line = a.count(b"\n", 0, at) + 1
        return f"{name1} {name2} differ: byte {at + 1}, line {line}"
    if len(a) != len(b):
        shorter, size = (name1, len(a)) if len(a) < len(b) else (name2, len(b))
        return f"cmp: EOF on {shorter} after byte {size}"
    return None


class Cmp(Tool):
    schema: ClassVar[Schema] = Schema(
        name="cmp",
        summary="Compare two files byte by byte",
        usage="cmp [-s] FILE1 FILE2",
        description=(
            "Reads both files as raw bytes. Identical files: no output, exit 0. Otherwise\n"
            "it reports the first differing byte and its line (counted in FILE1), or\n"
            "which file ended first, and exits 1. Trouble (a missing file, a wrong\n"
            "number of operands) exits 2. One operand may be `-` for stdin."
        ),
        params=(
            Param("silent", short="s", help="Print nothing; only the exit status tells"),
            Param("paths", type="any", positional=True, variadic=True, metavar="file",
                  help="The two files to compare"),
        ),
        examples=(("Compare two files", "cmp a.bin b.bin"),
                  ("Status only", "cmp -s a.bin b.bin && echo same"),
                  ("Stdin against a file", "cat a.bin | cmp - b.bin")),
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        try:
            names = operand_names(list(ctx.args.positional))
        except OperandError as exc:
            return ctx.error(str(exc), 2)
        if len(names) != 2:
            return ctx.error("expected two file operands", 2)
        if names == ["-", "-"]:
            return ctx.error("only one operand may be '-' (stdin)", 2)
        contents: list[bytes] = []
        for name in names:
            try:
                contents.append(await _slurp(ctx, name))
            except OSError as exc:
                return ctx.error(f"{name}: {describe_os_error(exc)}", 2)
        report = _compare(contents[0], contents[1], names[0], names[1])
        if report is None:
            return 0
        if not ctx.args.flag("silent"):
            await ctx.write_text(report)
        return 1


# ---------------------------------------------------------------- checksum

_ALGORITHMS: Final = ("sha256", "sha1", "md5")


async def _hash_file(ctx: ToolContext, name: str, algo: str) -> str:
    """Hex digest of a file operand, read in chunks. Raises OSError."""
    hasher = hashlib.new(algo)
    stream = open_operand(ctx, name)
    try:
        while chunk := await stream.read(_CHUNK):
            hasher.update(chunk)
    finally:
        close_input(ctx, stream)
    return hasher.hexdigest()


class Checksum(Tool):
    schema: ClassVar[Schema] = Schema(
        name="checksum",
        summary="Hash files (sha256, sha1 or md5), or verify a list of hashes",
        usage="checksum [-a ALGO | --sha256 | --sha1 | --md5] [FILE...] | checksum -c LIST",
        description=(
            "Prints one `HASH  NAME` line for each FILE (stdin, named `-`, when none);\n"
            "the last line has no newline. The default algorithm is sha256.\n"
            "With -c LIST, each `HASH  NAME` line of LIST is checked: `NAME: OK` or\n"
            "`NAME: FAILED`; any failure makes the exit status 1."
        ),
        params=(
            Param("algo", type="str", short="a", metavar="ALGO",
                  help="Hash algorithm: sha256 (default), sha1 or md5"),
            Param("check", type="str", short="c", metavar="LIST",
                  help="Verify the `HASH  NAME` lines of file LIST"),
            Param("sha256", help="Same as -a sha256"),
            Param("sha1", help="Same as -a sha1"),
            Param("md5", help="Same as -a md5"),
            Param("paths", type="any", positional=True, variadic=True, metavar="file",
                  help="Files to hash (stdin when none)"),
        ),
        examples=(("SHA-256 of a file", "checksum notes.txt"),
                  ("MD5", "checksum -a md5 archive.tar.gz"),
                  ("Hash stdin", "echo hi | checksum"),
                  ("Verify", "checksum -c sums.txt")),
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        algo = args.get("algo")
        if algo is None:
            algo = next((a for a in _ALGORITHMS if args.flag(a)), "sha256")
        algo = str(algo)
        if algo not in _ALGORITHMS:
            return ctx.error(f"unknown algorithm '{algo}' (use sha256, sha1, or md5)")
        check = args.get("check")
        if check is not None:
            return await self._verify(ctx, str(check), algo)
        try:
            names = operand_names(list(args.positional))
        except OperandError as exc:
            return ctx.error(str(exc))
        lines = []
        for name in names or ["-"]:
            try:
                digest = await _hash_file(ctx, name, algo)
            except OSError as exc:
                return ctx.error(f"{name}: {describe_os_error(exc)}")
            lines.append(f"{digest}  {name}")
        await ctx.write_text("\n".join(lines))
        return 0

    async def _verify(self, ctx: ToolContext, listing: str, algo: str) -> int:
        try:
            raw = await _slurp(ctx, listing)
        except OSError as exc:
            return ctx.error(f"{listing}: {describe_os_error(exc)}")
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            return ctx.error(f"{listing}: invalid UTF-8")
        report: list[str] = []
        failures = 0
        for entry in content.splitlines():
            entry = entry.strip()
            if not entry:
                continue
            expected, space, rest = entry.partition(" ")
            if not space:
                report.append(f"{entry}: FAILED (malformed line)")
                failures += 1
                continue
            name = rest.lstrip(" *")
            try:
                actual = await _hash_file(ctx, name, algo)
            except OSError as exc:
                report.append(f"{name}: FAILED ({describe_os_error(exc)})")
                failures += 1
                continue
            if actual == expected:
                report.append(f"{name}: OK")
            else:
                report.append(f"{name}: FAILED")
                failures += 1
        await ctx.write_text("\n".join(report))
        if failures:
            return ctx.error(f"{failures} computed checksum(s) did NOT match")
        return 0


TOOLS = (Base64, Cmp, Checksum)
