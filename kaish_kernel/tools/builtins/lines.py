"""Line-transforming builtins: sort, uniq, cut, tr.

    sort  needs every line before it can print one; sorts decoded text by
          code point (the same order as UTF-8 bytes), keys computed in bulk
    uniq  streams: adjacent groups are counted block by block, and a group
          that runs across a block edge is carried over
    cut   streams block by block (one regex pass for a single field range);
          also offers its output lines as a typed list
          (`cut -f1 f | jq length` sees strings, not text)
    tr    streams chunk by chunk; pure-ASCII chunks go through `bytes.translate`
          (sets and the compiled transform live in `_tr_sets`)

All four are text tools: input that is not UTF-8 is refused, never mangled.
"""

from __future__ import annotations

import codecs
import functools
import operator
import re
from collections.abc import Callable
from itertools import compress
from typing import Any, Final

from kaish_kernel.scheduler.stage import LazyData
from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins._textio import (
    STDIN_NAME,
    NotText,
    Output,
    TextTool,
    chunks,
    close_input,
    decode_text,
    emit_text_value,
    ensure_text,
    line_blocks,
    open_or_report,
    operand_names,
    source_name,
    split_lines,
)
from kaish_kernel.tools.builtins._tr_sets import TrPlan, expand_set
from kaish_kernel.tools.schema import Param, Schema, UsageError

__all__ = ["TOOLS", "Cut", "Sort", "Tr", "Uniq"]

_PATHS = Param(
    "paths", type="any", positional=True, variadic=True, metavar="file",
    help="Files to read; stdin when none are given",
)
_WRITE_LINES: Final = 8192  # lines per write when printing a sorted list


async def _read_texts(ctx: ToolContext, names: list[str]) -> list[str] | None:
    """The whole content of every operand (stdin when none), decoded strictly.

    Returns None after reporting an unreadable operand (the tool fails).
    """
    texts: list[str] = []
    for name in names or ["-"]:
        stream = open_or_report(ctx, name)
        if stream is None:
            return None
        try:
            data = b"".join([chunk async for chunk in chunks(stream)])
        finally:
            close_input(ctx, stream)
        if data:
            texts.append(decode_text(data, source_name(name)))
    return texts


def _text_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def run_starts(keys: list[Any]) -> list[int]:
    """Indexes where a run of equal adjacent keys begins (C-level, no Python loop)."""
    if not keys:
        return []
    return [0, *compress(range(1, len(keys)), map(operator.ne, keys[1:], keys[:-1]))]


async def _write_lines(out: Output, lines: list[str]) -> None:
    for start in range(0, len(lines), _WRITE_LINES):
        await out.write(("\n".join(lines[start : start + _WRITE_LINES]) + "\n").encode("utf-8"))
        await out.flush()


# ---------------------------------------------------------------- sort

# A line's leading number: blanks, an optional sign, digits with an optional
# fraction. The group is empty (-> 0) when a line starts with no number.
_NUMBER_RE: Final = re.compile(r"^[ \t\r\f\v]*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))?", re.M | re.A)
# The same, consuming the rest of the line so findall never tries mid-line.
_NUMBER_LINES_RE: Final = re.compile(
    r"^[ \t\r\f\v]*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))?[^\n]*", re.M | re.A
)


def leading_number(text: str) -> float:
    """The number a line starts with (`33 foo` -> 33.0); 0 when there is none."""
    m = _NUMBER_RE.match(text)
    return float(m.group(1)) if m and m.group(1) else 0.0


def leading_numbers(text: str) -> list[float]:
    """`leading_number` of every line of `text`, in one regex pass."""
    found = _NUMBER_LINES_RE.findall(text)
    if text.endswith("\n"):
        found.pop()  # the empty "line" after the final newline
    return [float(s) if s else 0.0 for s in found]


def compare_versions(a: str, b: str) -> int:
    """Version order: digit runs by numeric value, other characters one by one.

    `v1.2 < v1.9 < v1.10`; when one side runs out first, the shorter
    string sorts first (`v1 < v1.0`).
    """
    i = j = 0
    la, lb = len(a), len(b)
    while i < la and j < lb:
        ca, cb = a[i], b[j]
        da, db = "0" <= ca <= "9", "0" <= cb <= "9"
        if da and db:
            ei, ej = i, j
            while ei < la and "0" <= a[ei] <= "9":
                ei += 1
            while ej < lb and "0" <= b[ej] <= "9":
                ej += 1
            ra, rb = a[i:ei].lstrip("0") or "0", b[j:ej].lstrip("0") or "0"
            if ra != rb:
                if len(ra) != len(rb):
                    return -1 if len(ra) < len(rb) else 1
                return -1 if ra < rb else 1
            i, j = ei, ej
        elif ca != cb or da != db:
            return -1 if ca < cb else 1
        else:
            i += 1
            j += 1
    # Equal so far: the shorter one first, by length in UTF-8 bytes.
    la, lb = len(a.encode("utf-8")), len(b.encode("utf-8"))
    return (la > lb) - (la < lb)


class KeySpec:
    """A `-k START[,STOP]` key: 1-based fields, with `n`/`r` modifiers."""

    __slots__ = ("numeric", "reverse", "start", "stop")

    def __init__(self, spec: str) -> None:
        start, _, stop = spec.partition(",")
        self.numeric = self.reverse = False
        self.start = self._field(start)
        self.stop = self._field(stop) if stop else None

    def _field(self, text: str) -> int:
        m = re.fullmatch(r"([0-9]+)(?:\.[0-9]*)?([a-zA-Z]*)", text)
        if not m:
            raise UsageError(f"invalid key spec '{text}': expected FIELD[.CHAR][MODIFIERS]")
        field = int(m.group(1))
        if field == 0:
            raise UsageError("invalid key spec: fields are numbered from 1")
        self.numeric |= "n" in m.group(2)
        self.reverse |= "r" in m.group(2)
        return field

    def extract(self, line: str, delimiter: str | None) -> str:
        """The part of `line` this key compares: from the start field to the stop field."""
        if delimiter is None:
            spans = [m.span() for m in _FIELD_RE.finditer(line)]
        else:
            spans, pos = [], 0
            for piece in line.split(delimiter):
                spans.append((pos, pos + len(piece)))
                pos += len(piece) + len(delimiter)
        first = self.start - 1
        if first >= len(spans):
            return ""
        if self.stop is None:
            return line[spans[first][0] :]
        last = min(self.stop - 1, len(spans) - 1)
        if last < first:
            return line[slice(*spans[first])]
        return line[spans[first][0] : spans[last][1]]


_FIELD_RE: Final = re.compile(r"[^ \t\n\r\f]+")


class Sort(TextTool):
    """Sorts all lines; stable, so equal keys keep their input order."""

    schema = Schema(
        name="sort",
        summary="Sort lines of text",
        params=(
            Param("numeric", short="n", aliases=("numeric-sort",),
                  help="Compare by the number each line (or key) starts with"),
            Param("version-sort", short="V", help="Version order: v1.2 before v1.10"),
            Param("reverse", short="r", help="Reverse the order"),
            Param("unique", short="u", help="Print only the first of lines that compare equal"),
            Param("key", type="str", short="k", metavar="keydef",
                  help="Sort by fields START[,STOP] (1-based), with n/r modifiers: -k 2,2n"),
            Param("delimiter", type="str", short="t", aliases=("field-separator",), metavar="sep",
                  help="Field separator for -k (default: runs of blanks)"),
            _PATHS,
        ),
        examples=(
            ("Alphabetical", "sort names.txt"),
            ("Numeric, largest first", "sort -rn sizes.txt"),
            ("By the second field, numerically", "sort -k 2n data.txt"),
            ("CSV by the third column", "sort -t , -k 3 data.csv"),
            ("Versions", "sort -V tags.txt"),
        ),
        json_output=True,
        category="text",
    )

    async def execute(self, ctx: ToolContext) -> int:
        args = ctx.args
        key = KeySpec(str(args.get("key"))) if args.get("key") is not None else None
        delimiter = str(args.get("delimiter") or "") or None
        # Sorting `str` is faster than `bytes` (the list sort has a fast path
        # for one-byte-per-character strings) and orders by code point, which
        # is the same order as UTF-8 bytes.
        texts = await _read_texts(ctx, operand_names(args.positional))
        if texts is None:
            return 1
        lines = _text_lines(texts[0]) if len(texts) == 1 else [
            line for text in texts for line in _text_lines(text)
        ]
        version = args.flag("version-sort")
        numeric = args.flag("numeric") or (key is not None and key.numeric)
        reverse = args.flag("reverse") != (key is not None and key.reverse)
        keys: list[Any] | None = None  # one sort key per line, when not the line itself
        if version:
            parts = lines if key is None else [key.extract(ln, delimiter) for ln in lines]
            keys = list(map(functools.cmp_to_key(compare_versions), parts))
        elif numeric and key is None:
            keys = [n for text in texts for n in leading_numbers(text)]
        elif numeric:
            keys = [leading_number(key.extract(ln, delimiter)) for ln in lines]  # type: ignore[union-attr]
        elif key is not None:
            keys = [key.extract(ln, delimiter) for ln in lines]
        if keys is None:
            lines.sort(reverse=reverse)
            if args.flag("unique"):
                lines = list(map(lines.__getitem__, run_starts(lines)))
        else:
            # Sort positions by their precomputed key (a C-level key function),
            # which keeps equal keys in input order, as the stable sort must.
            order = sorted(range(len(lines)), key=keys.__getitem__, reverse=reverse)
            if args.flag("unique"):
                order = list(map(order.__getitem__, run_starts(list(map(keys.__getitem__, order)))))
            lines = list(map(lines.__getitem__, order))
        out = Output(ctx.stdout, collect=args.json)
        await _write_lines(out, lines)
        if args.json:
            await emit_text_value(ctx, out.collected(), empty_prints=False)
        return 0


# ---------------------------------------------------------------- uniq


class Uniq(TextTool):
    """Collapses adjacent equal lines as they stream past."""

    schema = Schema(
        name="uniq",
        summary="Collapse or report adjacent repeated lines",
        params=(
            Param("count", short="c", help="Prefix each line with how many times it occurred"),
            Param("repeated", short="d", help="Print only lines that repeat"),
            Param("unique", short="u", help="Print only lines that do not repeat"),
            Param("ignore-case", short="i", aliases=("ignore_case",),
                  help="Compare lines ignoring ASCII case"),
            Param("input", type="any", positional=True, metavar="file",
                  help="File to read; stdin when omitted"),
        ),
        description="Only adjacent lines are compared: sort first to count all duplicates.",
        examples=(
            ("Distinct lines", "sort words.txt | uniq"),
            ("Top ten by frequency", "sort words.txt | uniq -c | sort -rn | head"),
        ),
        json_output=True,
        category="text",
    )

    async def execute(self, ctx: ToolContext) -> int:
        args = ctx.args
        show_count = args.flag("count")
        only_repeated, only_unique = args.flag("repeated"), args.flag("unique")
        fold = bytes.lower if args.flag("ignore-case") else None
        names = operand_names(args.positional)
        name = names[0] if names else "-"
        stream = open_or_report(ctx, name)
        if stream is None:
            return 1
        where = source_name(name)
        out = Output(ctx.stdout, collect=args.json)

        def render(firsts: list[bytes], counts: list[int]) -> bytes:
            if only_repeated or only_unique:
                chosen = [(c, ln) for c, ln in zip(counts, firsts, strict=True)
                          if (c > 1 if only_repeated else c == 1)]
                counts, firsts = [c for c, _ in chosen], [ln for _, ln in chosen]
            if not firsts:
                return b""
            if show_count:
                return b"".join(map(b"%7d %s\n".__mod__, zip(counts, firsts, strict=True)))
            return b"\n".join(firsts) + b"\n"

        # The last group of a block may continue in the next one: it is held
        # back (line, key, count) until a different line shows up.
        held: tuple[bytes, bytes, int] | None = None
        offset = 0
        try:
            async for block in line_blocks(stream):
                ensure_text(block, where, offset)
                offset += len(block)
                lines = split_lines(block)
                if not lines:
                    continue
                keys = lines if fold is None else list(map(fold, lines))
                starts = run_starts(keys)
                counts = list(map(operator.sub, [*starts[1:], len(lines)], starts))
                firsts = list(map(lines.__getitem__, starts))
                if held is not None:
                    if keys[0] == held[1]:
                        firsts[0] = held[0]
                        counts[0] += held[2]
                    else:
                        firsts.insert(0, held[0])
                        counts.insert(0, held[2])
                held = (firsts.pop(), keys[starts[-1]], counts.pop())
                data = render(firsts, counts)
                if data:
                    await out.write(data)
                    await out.flush()
        finally:
            close_input(ctx, stream)
        if held is not None:
            await out.write(render([held[0]], [held[2]]))
            await out.flush()
        if args.json:
            await emit_text_value(ctx, out.collected(), empty_prints=False)
        return 0


# ---------------------------------------------------------------- cut


def select_positions(spec: str, length: int) -> list[int]:
    """0-based positions chosen by a list like `1,3-5,7-` among `length` items.

    The union of all parts, ascending, each position once (GNU cut).
    Unparseable parts select nothing.
    """
    chosen: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo_text, _, hi_text = part.partition("-")
            lo = int(lo_text) if lo_text.isdigit() else 1
            if hi_text == "":
                hi = length
            else:
                hi = int(hi_text) if hi_text.isdigit() else length
            chosen.update(range(max(lo, 1) - 1, min(hi, length)))
        elif part.isdigit() and 0 < int(part) <= length:
            chosen.add(int(part) - 1)
    return sorted(chosen)


_DATA_CAP: Final = 64 * 1024 * 1024  # output kept for the typed view


class Cut(TextTool):
    """Selects fields or characters line by line, streaming."""

    schema = Schema(
        name="cut",
        summary="Select fields or characters from each line",
        params=(
            Param("delimiter", type="str", short="d", metavar="char",
                  help="Field delimiter for -f (default: tab)"),
            Param("fields", type="str", short="f", metavar="list",
                  help="Fields to keep, e.g. 1,3-5,7- (1-based)"),
            Param("characters", type="str", short="c", metavar="list",
                  help="Character positions to keep, e.g. 1-10"),
            Param("only-delimited", short="s",
                  help="With -f, skip lines that contain no delimiter"),
            _PATHS,
        ),
        description=(
            "A line without the delimiter passes through whole unless -s is given."
            " The kept lines are also available as a list of strings to typed"
            " consumers (jq, $(...)) and under --json."
        ),
        examples=(
            ("First CSV column", "cut -d , -f 1 data.csv"),
            ("Fields 1 and 3", "cut -d : -f 1,3 /etc/passwd"),
            ("First ten characters", "cut -c 1-10 notes.txt"),
        ),
        json_output=True,
        category="text",
    )

    async def execute(self, ctx: ToolContext) -> int:
        args = ctx.args
        fields, characters = args.get("fields"), args.get("characters")
        delimiter = args.get("delimiter") or "\t"
        if len(delimiter) > 1:
            return ctx.error("delimiter must be a single character")
        if fields is None and characters is None:
            return ctx.error("must specify either -f or -c")
        if characters is not None:
            transform = self._characters(str(characters))
        else:
            transform = self._fields(str(fields), delimiter.encode(), args.flag("only-delimited"))
        out = Output(ctx.stdout, collect=args.json)
        kept: list[bytes] | None = []
        kept_size = 0
        status = 0
        for name in operand_names(args.positional) or ["-"]:
            stream = open_or_report(ctx, name)
            if stream is None:
                status = 1
                continue
            where, offset = source_name(name), 0
            try:
                async for block in line_blocks(stream):
                    ensure_text(block, where, offset)
                    offset += len(block)
                    data = transform(block)
                    if not data:
                        continue
                    if not data.endswith(b"\n"):
                        data += b"\n"
                    if kept is not None and not args.json:
                        kept_size += len(data)
                        if kept_size <= _DATA_CAP:
                            kept.append(data)
                        else:
                            kept = None  # too big to also hold as a list
                    await out.write(data)
                    await out.flush()
            finally:
                close_input(ctx, stream)
        if args.json:
            text = out.collected()
            if text:
                await ctx.emit_value(text.decode("utf-8").split("\n")[:-1])
        elif kept:
            ctx.stdout.set_data(LazyData(functools.partial(_as_strings, kept)), is_value=False)
        return status

    @staticmethod
    def _fields(spec: str, delim: bytes, only_delimited: bool) -> Callable[[bytes], bytes]:
        """Block -> cut block. One contiguous range runs as a single regex pass."""
        span = _single_range(spec)
        d = re.escape(delim)
        if span is not None and delim != b"\n":
            first, last = span
            field = rb"[^%s\n]" % d
            skip = rb"(?:%s*%s){%d}" % (field, d, first - 1)
            keep = rb"[^\n]*" if last is None else rb"%s*(?:%s%s*){0,%d}" % (field, d, field, last - first)
            # Group 1 of each line: fields FIRST..LAST; "" for a line with the
            # delimiter but too few fields; the whole line when it has no
            # delimiter (with -s such a line does not match at all).
            # findall does every line in one C-level pass.
            if only_delimited:
                head = rb"(?=[^\n]*%s)(?:%s|[^\n]*)" % (d, skip)
            else:
                head = rb"(?:%s|(?=[^\n]*%s)[^\n]*)?" % (skip, d)
            pattern = re.compile(rb"^%s(%s)[^\n]*" % (head, keep), re.M)

            def by_regex(block: bytes) -> bytes:
                found = pattern.findall(block)
                if found and not only_delimited and block.endswith(b"\n"):
                    found.pop()  # the empty "line" after the final newline
                return b"\n".join(found) + b"\n" if found else b""

            return by_regex
        cache: dict[int, list[int]] = {}

        def pick(line: bytes) -> bytes | None:
            if delim not in line:
                return None if only_delimited else line
            parts = line.split(delim)
            positions = cache.get(len(parts))
            if positions is None:
                positions = cache[len(parts)] = select_positions(spec, len(parts))
            return delim.join([parts[i] for i in positions])

        def by_line(block: bytes) -> bytes:
            kept = [p for p in map(pick, split_lines(block)) if p is not None]
            return b"\n".join(kept) + b"\n" if kept else b""

        return by_line

    @staticmethod
    def _characters(spec: str) -> Callable[[bytes], bytes]:
        """Block -> cut block, counting characters (code points), not bytes."""
        span = _single_range(spec)
        if span is not None:
            first, last = span
            keep = ".*" if last is None else f".{{0,{last - first + 1}}}"
            pattern = re.compile(f"^.{{0,{first - 1}}}({keep}).*$", re.M)

            def by_regex(block: bytes) -> bytes:
                found = pattern.findall(block.decode("utf-8"))
                if found and block.endswith(b"\n"):
                    found.pop()  # the empty "line" after the final newline
                return ("\n".join(found) + "\n").encode("utf-8") if found else b""

            return by_regex
        cache: dict[int, list[slice]] = {}

        def slices(length: int) -> list[slice]:
            found = cache.get(length)
            if found is None:
                found = []
                for pos in select_positions(spec, length):
                    if found and found[-1].stop == pos:
                        found[-1] = slice(found[-1].start, pos + 1)
                    else:
                        found.append(slice(pos, pos + 1))
                cache[length] = found
            return found

        def by_line(block: bytes) -> bytes:
            lines = _text_lines(block.decode("utf-8"))
            cut = ["".join([line[s] for s in slices(len(line))]) for line in lines]
            return ("\n".join(cut) + "\n").encode("utf-8") if cut else b""

        return by_line


def _single_range(spec: str) -> tuple[int, int | None] | None:
    """`N`, `A-B`, `A-` or `-B` as (first, last or None); None for anything else."""
    m = re.fullmatch(r"\s*([0-9]*)(-?)([0-9]*)\s*", spec)
    if not m or not (m.group(1) or m.group(3)):
        return None
    first = int(m.group(1)) if m.group(1) else 1
    if not m.group(2):
        last: int | None = first
    else:
        last = int(m.group(3)) if m.group(3) else None
    if first < 1 or (last is not None and last < first):
        return None
    return first, last


def _as_strings(kept: list[bytes]) -> list[str]:
    return b"".join(kept).decode("utf-8").split("\n")[:-1]


# ---------------------------------------------------------------- tr


class Tr(TextTool):
    """Translates, deletes or squeezes characters of stdin, chunk by chunk."""

    schema = Schema(
        name="tr",
        summary="Translate, delete or squeeze characters",
        params=(
            Param("delete", short="d", help="Delete characters in SET1"),
            Param("squeeze", short="s", aliases=("squeeze-repeats",),
                  help="Squeeze runs of a repeated character into one"),
            Param("complement", short="c", help="Use every character NOT in SET1"),
            Param("set1", type="str", positional=True, help="Characters to match"),
            Param("set2", type="str", positional=True, help="Replacement characters"),
        ),
        description=(
            "Sets take ranges (a-z), classes ([:digit:], [:alpha:], [:space:], ...)"
            " and escapes (\\n, \\t, \\\\, \\NNN octal). When SET2 is shorter than"
            " SET1 its last character repeats. Reads stdin only."
        ),
        examples=(
            ("Upper-case", "echo hello | tr a-z A-Z"),
            ("Delete digits", "echo a1b2 | tr -d '0-9'"),
            ("Keep only digits", "echo a1b2 | tr -cd '[:digit:]'"),
            ("Squeeze spaces", "echo 'a   b' | tr -s ' '"),
        ),
        json_output=True,
        category="text",
    )

    async def execute(self, ctx: ToolContext) -> int:
        args = ctx.args
        sets = args.positional
        set1 = str(sets[0]) if sets else None
        set2 = str(sets[1]) if len(sets) > 1 else None
        if set1 is None:
            return ctx.error("missing SET1 argument")
        delete, squeeze = args.flag("delete"), args.flag("squeeze")
        if not delete and not squeeze and set2 is None:
            return ctx.error("SET2 required for translation")
        plan = TrPlan(
            expand_set(set1), expand_set(set2) if set2 is not None else None,
            delete, squeeze, args.flag("complement"),
        )
        out = Output(ctx.stdout, collect=args.json)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        offset = 0
        last = ""  # last character written, for squeezing across chunks
        async for chunk in chunks(ctx.stdin):
            pending = decoder.getstate()[0]
            if plan.ascii is not None and not pending and chunk.isascii():
                data = plan.ascii(chunk)
                if plan.squeeze_bytes is not None:
                    data = plan.squeeze_bytes(data)
                    if last and data[:1] == last.encode() and plan.squeezable(last):
                        data = data.lstrip(data[:1])
                if data:
                    last = chr(data[-1])
            else:
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise NotText(STDIN_NAME, offset - len(pending) + exc.start) from None
                text = plan.text(text)
                if plan.squeeze_text is not None:
                    text = plan.squeeze_text(text)
                    if last and text[:1] == last and plan.squeezable(last):
                        text = text.lstrip(last)
                if text:
                    last = text[-1]
                data = text.encode("utf-8")
            offset += len(chunk)
            await out.write(data)
            await out.flush()
        try:
            decoder.decode(b"", True)
        except UnicodeDecodeError as exc:
            raise NotText(STDIN_NAME, offset - len(decoder.getstate()[0]) + exc.start) from None
        if args.json:
            await emit_text_value(ctx, out.collected())
        return 0


TOOLS = (Sort, Uniq, Cut, Tr)
