"""The small everyday builtins: echo, printf, true/false/:, sleep, seq,
basename, dirname, hostname, uname (`date` is its own family, in `_date`).

None of them touches the filesystem. Each writes its whole output with one
`stdout.write` except `seq`, which streams in batches so that
`seq 1 100000000 | head -n 1` stops at once:

    seq ── batch of ~4096 numbers ──► stdout ──► (reader gone) BrokenPipeError ──► exit 0
     └── set_data(LazyData(list))   the typed view, built only if someone asks
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator

from kaish_kernel import __version__
from kaish_kernel.scheduler.stage import LazyData
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import BoundArgs, Param, Schema
from kaish_kernel.values import Value, ValueError_, display, render_float

__all__ = [
    "TOOLS",
    "Basename",
    "Dirname",
    "Echo",
    "False_",
    "Hostname",
    "Printf",
    "Seq",
    "Sleep",
    "True_",
    "Uname",
]


async def _write(ctx: ToolContext, text: str, *, as_json: bool = False) -> None:
    """Write all of `text` (as a JSON string under --json); a reader that left is not an error."""
    if not text:
        return
    if as_json or ctx.args.json:
        await ctx.emit_value(text)
        return
    try:
        await ctx.stdout.write(text.encode("utf-8"))
    except BrokenPipeError:
        pass


def _texts(ctx: ToolContext, values: list[Value], what: str) -> list[str] | None:
    """Display form of every operand; binary that is not UTF-8 is reported."""
    out = []
    for value in values:
        try:
            out.append(display(value))
        except ValueError_ as exc:
            ctx.error(f"{what}: {exc}" if what else str(exc))
            return None
    return out


class Echo(Tool):
    schema = Schema(
        name="echo",
        summary="Print arguments to standard output",
        params=(
            Param(
                "no-newline",
                short="n",
                aliases=("no_newline",),
                help="Leave off the trailing newline.",
            ),
            Param("words", type="any", positional=True, variadic=True, help="Words to print, joined by spaces."),
        ),
        description=(
            "Typed values print in their display form (42, true, 3.14; lists and records as\n"
            "compact JSON). When the joined words are empty nothing is printed, not even a\n"
            "newline. Use `--` before words that start with a dash."
        ),
        examples=(("Print a message", "echo hello world"), ("No newline", 'echo -n "prompt: "')),
        json_output=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        words = _texts(ctx, ctx.args.positional, "")
        if words is None:
            return 1
        text = " ".join(words)
        if text and not ctx.args.flag("no-newline"):
            text += "\n"
        await _write(ctx, text)
        return 0


class Printf(Tool):
    schema = Schema(
        name="printf",
        summary="Format and print data",
        params=(
            Param("format", type="str", positional=True, help="The format string."),
            Param("arguments", type="any", positional=True, variadic=True, help="Values for the conversions."),
        ),
        usage="printf FORMAT [ARGUMENT]...",
        description=(
            "Conversions: %s %b %c %d %i %u %x %X %o %f %e %E %g %G %% with flags - 0 + space #,\n"
            "a width and a .precision. Escapes: \\n \\t \\r \\\\ \\a \\b \\f \\v \\e \\NNN \\0NN \\xHH\n"
            "\\uHHHH; \\c stops all output. The format is reused until every argument is used.\n"
            "No newline is added."
        ),
        examples=(
            ("Formatted output", 'printf "%s is %d\\n" name 42'),
            ("Zero-padded number", 'printf "%08d" 42'),
            ("One line per argument", "printf '%s\\n' a b c"),
        ),
        raw=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        words = list(ctx.args.positional)
        end = words.index("--") if "--" in words else len(words)
        as_json = "--json" in words[:end]  # printf reads raw words: the global flag too
        if as_json:
            words.remove("--json")
        if "--" in words:
            words.remove("--")  # the first `--` only ends options, as clap treats it
        if not words:
            return ctx.error("missing format argument")
        texts = _texts(ctx, words, "")
        if texts is None:
            return 1
        from kaish_kernel.tools.builtins.printf_format import format_cycling

        await _write(ctx, format_cycling(texts[0], words[1:]), as_json=as_json)
        return 0


class True_(Tool):
    aliases = (":",)
    schema = Schema(
        name="true",
        summary="Do nothing and succeed (exit 0); `:` is the same command",
        params=(Param("ignored", type="any", positional=True, variadic=True, help="Ignored."),),
        usage="true [ANYTHING]...",
        examples=(("An empty branch", "if [[ -f log ]]; then :; else touch log; fi"), ("Truncate a file", ": > log.txt")),
        raw=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        return 0


class False_(Tool):
    schema = Schema(
        name="false",
        summary="Do nothing and fail (exit 1)",
        params=(Param("ignored", type="any", positional=True, variadic=True, help="Ignored."),),
        usage="false [ANYTHING]...",
        examples=(("Always fails", "false || echo recovered"),),
        raw=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        return 1


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Value) -> float:
    """Seconds in `5`, `0.5`, `2m`, `1.5h`, `1d`; raises ValueError when it is none of those."""
    if isinstance(value, bool):
        raise ValueError(display(value))
    if isinstance(value, int | float):
        return float(value)
    text = display(value).strip()
    if not text:
        raise ValueError(text)
    scale = _UNITS.get(text[-1], 1.0)
    number = text[:-1] if text[-1] in _UNITS else text
    try:
        seconds = float(number) * scale
    except ValueError:
        raise ValueError(text) from None
    if math.isnan(seconds):
        raise ValueError(text)
    return seconds


class Sleep(Tool):
    schema = Schema(
        name="sleep",
        summary="Wait for a while",
        params=(
            Param(
                "duration",
                type="any",
                positional=True,
                variadic=True,
                help="How long: seconds (5, 0.5) or with a unit suffix s, m, h, d; several add up.",
            ),
        ),
        description="Interrupting (Ctrl-C, `timeout`, `kill %N`) ends the wait at once.",
        examples=(("One second", "sleep 1"), ("Half a second", "sleep 0.5"), ("Two minutes", "sleep 2m")),
        json_output=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        if not ctx.args.positional:
            return ctx.error("missing seconds argument")
        total = 0.0
        for value in ctx.args.positional:
            try:
                seconds = parse_duration(value)
            except ValueError as exc:
                return ctx.error(f"invalid time interval '{exc}'")
            if seconds < 0:
                return ctx.error(f"invalid time interval '{display(value)}'")
            total += seconds
        # Cancellation arrives as CancelledError out of asyncio.sleep and is
        # left to propagate: the caller owns how an interrupt is reported.
        while total > 0:
            step = min(total, 86400.0)
            await asyncio.sleep(step)
            total -= step
        return 0


def _seq_number(value: Value) -> float | int:
    if isinstance(value, bool):
        raise ValueError(display(value))
    if isinstance(value, int | float):
        return value
    text = display(value).strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise ValueError(text) from None
    if math.isnan(number):
        raise ValueError(text)
    return number


class Seq(Tool):
    schema = Schema(
        name="seq",
        summary="Print a sequence of numbers",
        params=(
            Param("separator", type="str", short="s", help="Text between numbers (default: newline).", metavar="SEP"),
            Param("width", short="w", help="Pad with leading zeros to equal width."),
            Param("range", type="any", positional=True, variadic=True, help="LAST, FIRST LAST, or FIRST INCREMENT LAST."),
        ),
        usage="seq [OPTIONS] [FIRST [INCREMENT]] LAST",
        description=(
            "Counts from FIRST (default 1) by INCREMENT (default 1) while not past LAST.\n"
            "The output is streamed, and also carries the numbers as a typed list, so\n"
            "`seq 1 3 | jq -c .` sees [1,2,3]. A zero increment is an error."
        ),
        examples=(("Count to 5", "seq 5"), ("Odd numbers", "seq 1 2 9"), ("Zero-padded", "seq -w 1 10"), ("One line", "seq -s ', ' 1 3")),
        json_output=True,
        category="basic",
    )

    BATCH = 4096

    @staticmethod
    def check(args: BoundArgs) -> str | None:
        """The E004 report for a literal zero increment, before anything runs."""
        operands = args.positional
        if len(operands) == 3:
            try:
                step = _seq_number(operands[1])
            except ValueError:
                return None
            if step == 0:
                return "error [E004]: seq: increment cannot be zero (LAST would never be reached)"
        return None

    async def run(self, ctx: ToolContext) -> int:
        operands = ctx.args.positional
        if not operands:
            return ctx.error("missing operand")
        if len(operands) > 3:
            return ctx.error(f"extra operand '{display(operands[3])}'", 2)
        try:
            numbers = [_seq_number(v) for v in operands]
        except ValueError as exc:
            return ctx.error(f"invalid number '{exc}'")
        first: float | int
        step: float | int
        last: float | int
        if len(numbers) == 1:
            first, step, last = 1, 1, numbers[0]
        elif len(numbers) == 2:
            first, step, last = numbers[0], 1, numbers[1]
        else:
            first, step, last = numbers
        if step == 0:
            return ctx.error("increment cannot be zero")
        if any(isinstance(n, float) and math.isinf(n) for n in (first, step)):
            return ctx.error("invalid number 'inf'")
        integral = all(float(n).is_integer() for n in (first, step))
        width = _widest(first, step, last) if ctx.args.flag("width") and integral else 0

        def text_of(value: Value) -> str:
            return _pad(int(value), width) if width else _format(value)

        if ctx.args.json:
            await ctx.emit_value([text_of(v) for v in _sequence(first, step, last, integral)])
            return 0
        ctx.stdout.set_data(LazyData(lambda: list(_sequence(first, step, last, integral))))
        separator = display(ctx.args.get("separator", "\n"))
        if integral and not width and not (isinstance(last, float) and math.isinf(last)):
            start, by = int(first), int(step)
            end = int(math.floor(last) if by > 0 else math.ceil(last))
            counting = range(start, end + (1 if by > 0 else -1), by)
            sep = separator.encode("utf-8")
            return await self._stream_pieces(ctx, _integer_pieces(counting, sep), sep)
        return await self._stream(ctx, map(text_of, _sequence(first, step, last, integral)), separator)

    async def _stream_pieces(self, ctx: ToolContext, pieces: Iterator[bytes], separator: bytes) -> int:
        """Write pieces of separator-terminated numbers; the last separator
        becomes a newline (`seq -s, 1 3` prints `1,2,3` and a newline)."""
        held = b""
        try:
            for piece in pieces:
                if held:
                    await ctx.stdout.write(held)
                    await asyncio.sleep(0)  # let a cancel or a closed reader in
                held = piece
            if held:
                await ctx.stdout.write(held[: len(held) - len(separator)] + b"\n")
        except BrokenPipeError:
            pass
        return 0

    async def _stream(self, ctx: ToolContext, texts: Iterator[str], separator: str) -> int:
        started = False
        batch: list[str] = []
        try:
            for text in texts:
                batch.append(text)
                if len(batch) >= self.BATCH:
                    chunk = (separator if started else "") + separator.join(batch)
                    await ctx.stdout.write(chunk.encode())
                    started = True
                    batch.clear()
                    await asyncio.sleep(0)  # let a cancel or a closed reader in
            if batch:
                chunk = (separator if started else "") + separator.join(batch)
                await ctx.stdout.write(chunk.encode())
                started = True
            if started:
                await ctx.stdout.write(b"\n")
        except BrokenPipeError:
            pass
        return 0


def _sequence(first: float | int, step: float | int, last: float | int, integral: bool) -> Iterator[Value]:
    if integral:
        start, by = int(first), int(step)
        if isinstance(last, float) and math.isinf(last):
            if (last > 0) != (by > 0):
                return
            current = start
            while True:
                yield current
                current += by
        end = math.floor(last) if by > 0 else math.ceil(last)
        yield from range(start, int(end) + (1 if by > 0 else -1), by)
        return
    # Floats accumulate the increment, with a little slack at the end so
    # `seq 0 0.1 1` reaches 1 despite rounding.
    slack = abs(step) * 1e-10
    value = float(first)
    if step > 0:
        while value <= last + slack:
            yield value
            value += step
    else:
        while value >= last - slack:
            yield value
            value += step


_SUFFIXES = tuple(b"%03d" % i for i in range(1000))
_RUN = 8000  # numbers per written piece: tens of KiB, a pipe's worth


def _integer_pieces(numbers: range, separator: bytes) -> Iterator[bytes]:
    """The decimal numbers of `numbers`, each followed by `separator`, in
    pieces of about _RUN numbers.

    Counting up by one through non-negative numbers, each aligned thousand
    (`N000` .. `N999`) is one join of a constant suffix table behind its
    prefix, many times faster than formatting every number.
    """
    sep = separator.decode("utf-8")
    if numbers.step != 1 or numbers.start < 0:
        for at in range(0, len(numbers), _RUN):
            yield (sep.join(map(str, numbers[at : at + _RUN])) + sep).encode()
        return
    n, stop = numbers.start, numbers.stop
    while n < stop:
        limit = min(stop, n + _RUN)
        parts: list[bytes] = []
        while n < limit:
            if n >= 1000 and n % 1000 == 0 and n + 1000 <= stop:
                prefix = b"%d" % (n // 1000)
                parts.append(prefix)
                parts.append((separator + prefix).join(_SUFFIXES))
                parts.append(separator)
                n += 1000
            else:
                upto = min(stop, n - n % 1000 + 1000)
                parts.append((sep.join(map(str, range(n, upto))) + sep).encode())
                n = upto
        yield b"".join(parts)


def _format(value: Value) -> str:
    if isinstance(value, float):
        return render_float(value)
    return str(value)


def _pad(value: int, width: int) -> str:
    if value < 0:
        return "-" + str(-value).rjust(width - 1, "0")
    return str(value).rjust(width, "0")


def _widest(first: float | int, step: float | int, last: float | int) -> int:
    """Width of the widest number, sign included (`seq -w -10 2` pads to 3)."""
    start, by = int(first), int(step)
    if isinstance(last, float) and math.isinf(last):
        return len(str(start))
    end = math.floor(last) if by > 0 else math.ceil(last)
    count = (int(end) - start) // by
    if count < 0:
        return 0
    final = start + count * by
    return max(len(str(start)), len(str(final)))


def posix_basename(path: str) -> str:
    """POSIX basename: trailing slashes ignored; all slashes give `/`; empty stays empty."""
    if not path:
        return ""
    stripped = path.rstrip("/")
    if not stripped:
        return "/"
    return stripped.rsplit("/", 1)[-1]


def posix_dirname(path: str) -> str:
    """POSIX dirname: `a` → `.`, `/a` → `/`, `a/b/` → `a`, `//` → `/`, `` → `.`."""
    if not path:
        return "."
    stripped = path.rstrip("/")
    if not stripped:
        return "/"
    if "/" not in stripped:
        return "."
    parent = stripped.rsplit("/", 1)[0].rstrip("/")
    return parent or "/"


class Basename(Tool):
    schema = Schema(
        name="basename",
        summary="Strip the directory (and optionally a suffix) from a path",
        params=(
            Param("path", type="any", positional=True, required=True, help="The path."),
            Param("suffix", type="str", positional=True, help="A suffix to remove, unless it is the whole name."),
        ),
        examples=(("File name", "basename /usr/bin/sort"), ("Drop the extension", "basename /path/to/file.txt .txt")),
        json_output=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = _texts(ctx, ctx.args.positional, "")
        if texts is None:
            return 1
        name = posix_basename(texts[0])
        if len(texts) > 1 and texts[1] and name.endswith(texts[1]) and name != texts[1]:
            name = name[: -len(texts[1])]
        await _write(ctx, name + "\n")
        return 0


class Dirname(Tool):
    schema = Schema(
        name="dirname",
        summary="Strip the last component from each path",
        params=(Param("paths", type="any", positional=True, variadic=True, required=True, help="Paths, one result line each."),),
        examples=(("Directory part", "dirname /usr/bin/sort"), ("Relative path", "dirname path/to/file.txt")),
        json_output=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = _texts(ctx, ctx.args.positional, "")
        if texts is None:
            return 1
        await _write(ctx, "".join(posix_dirname(t) + "\n" for t in texts))
        return 0


class Hostname(Tool):
    schema = Schema(
        name="hostname",
        summary="Print the name of this machine",
        examples=(("Host name", "hostname"),),
        json_output=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        import socket

        await _write(ctx, socket.gethostname() + "\n")
        return 0


class Uname(Tool):
    schema = Schema(
        name="uname",
        summary="Print system information (kaish's own identity unless --host)",
        params=(
            Param("all", short="a", help="Everything, in the order below."),
            Param("kernel-name", short="s", help="System name (the default)."),
            Param("nodename", short="n", help="Network node name ($HOSTNAME, else kaish)."),
            Param("kernel-release", short="r", help="Release."),
            Param("kernel-version", short="v", help="Version string."),
            Param("machine", short="m", help="Machine hardware name."),
            Param("processor", short="p", help="Same as -m."),
            Param("hardware-platform", short="i", help="Same as -m."),
            Param("operating-system", short="o", help="Operating system."),
            Param("host", help="Describe the host OS instead of kaish."),
        ),
        examples=(("Shell identity", "uname -a"), ("Host kernel", "uname --host -sr")),
        json_output=True,
        category="basic",
    )

    async def run(self, ctx: ToolContext) -> int:
        import platform

        flag = ctx.args.flag
        if flag("host"):
            un = platform.uname()
            info = [un.system, un.node, un.release, un.version, un.machine, platform.system()]
        else:
            node = ctx.shell.get_var("HOSTNAME") if ctx.shell.has_var("HOSTNAME") else ""
            info = [
                "kaish",
                display(node) or "kaish",
                __version__,
                f"kaish {__version__} (python {platform.python_version()})",
                platform.machine(),
                "kai",
            ]
        every = flag("all")
        chosen = [
            every or flag("kernel-name"),
            every or flag("nodename"),
            every or flag("kernel-release"),
            every or flag("kernel-version"),
            every or flag("machine") or flag("processor") or flag("hardware-platform"),
            every or flag("operating-system"),
        ]
        if not any(chosen):
            chosen[0] = True
        await _write(ctx, " ".join(part for part, on in zip(info, chosen, strict=True) if on) + "\n")
        return 0


# `date` lives in _date.py, its own family: datetime, calendar and email.utils
# would cost every start-up more than the rest of this module.
TOOLS = (Echo, Printf, True_, False_, Sleep, Seq, Basename, Dirname, Hostname, Uname)
