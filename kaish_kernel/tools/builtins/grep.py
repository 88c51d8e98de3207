"""grep: search lines for a pattern, block by block.

The search never loops over lines in Python when it does not have to: each
block of whole lines is decoded once and searched with one compiled regex
(`^`/`$` anchored at line ends); only the lines that match cost a Python
step. Context (-A/-B/-C) and `--json` walk the lines of a block instead.

    InputStream ─► line_blocks ─► NUL? stop (binary) ─► decode (strict UTF-8)
                                                            │
                        regex.search(block, pos) ───────────┤  one hit per matching line
                        line loop (context / --json) ───────┘
                                                            ▼
                                  prefix (name: / 12:) + line ─► Output (64 KiB batches)

Dialect: ERE plus the GNU BRE spellings (`a\\|b`, `\\(x\\)`, `a\\{2\\}`), shared
with sed and awk (`_regex_dialect`); `-E` is strict ERE, `-F` a literal.
Exit status: 0 something selected, 1 nothing, 2 trouble (an unreadable
operand, binary input); a bad pattern is 1 with the dialect hint.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kaish_kernel.scheduler.stage import InputStream
from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins._globbing import IgnoreRules, glob_match
from kaish_kernel.tools.builtins._regex_dialect import RegexDialectError, translate
from kaish_kernel.tools.builtins._textio import (
    Output,
    TextTool,
    close_input,
    decode_text,
    describe_os_error,
    emit_text_value,
    line_blocks,
    open_operand,
    operand_names,
)
from kaish_kernel.tools.schema import BoundArgs, Param, Schema, UsageError
from kaish_kernel.values import Value, display

__all__ = ["TOOLS", "Grep", "build_matcher"]

STDIN_LABEL = "(standard input)"
_REGEX_META = re.compile(r"[.^$*+?()\[\]{}|\\]")


def build_matcher(
    patterns: list[str], *, extended: bool, fixed: bool, ignore_case: bool, word: bool
) -> re.Pattern[str]:
    """One compiled regex for all patterns; `^`/`$` match at line ends.

    Raises RegexDialectError (with the GNU BRE hint where it applies).
    Remembered: a grep in a loop translates its pattern once.
    """
    return _build_matcher(tuple(patterns), extended, fixed, ignore_case, word)


@functools.lru_cache(maxsize=256)
def _build_matcher(
    patterns: tuple[str, ...], extended: bool, fixed: bool, ignore_case: bool, word: bool
) -> re.Pattern[str]:
    sources = [
        re.escape(p) if fixed else translate(p, extended=extended, multiline=True)
        for p in patterns
    ]
    source = sources[0] if len(sources) == 1 else "|".join(f"(?:{s})" for s in sources)
    if word:
        source = rf"\b(?:{source})\b"
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile(source, flags)
    except re.error as exc:  # only reachable by combining patterns
        raise RegexDialectError(f"invalid regex: {exc.msg}") from None


def matching_lines(regex: re.Pattern[str], text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line of `text` that the regex matches, in order.

    `end` excludes the newline. A match that would run across a newline is
    re-checked against its own line alone, so results are exactly per-line.
    """
    search = regex.search
    size = len(text)
    pos = 0
    while pos <= size:
        m = search(text, pos)
        if m is None:
            return
        start = m.start()
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", start)
        if line_end < 0:
            line_end = size
        if m.end() > line_end and search(text, line_start, line_end) is None:
            pos = line_end + 1
            continue
        if line_start == size:  # the empty "line" after a final newline
            return
        yield line_start, line_end
        pos = line_end + 1


def line_counter(regex: re.Pattern[str]) -> re.Pattern[str]:
    """For a regex that can never match a newline (nor the empty string):
    the regex followed by the rest of its line. Each match then ends its
    line, so `len(line_counter(r).findall(text))` counts the lines `r`
    matches, which is what `matching_lines` yields, in one C loop."""
    return re.compile(f"(?:{regex.pattern})[^\\n]*", regex.flags)


@dataclass(slots=True)
class _Run:
    """Per-invocation settings and totals."""

    regex: re.Pattern[str]
    lowered: re.Pattern[str] | None  # -i on a literal: search ASCII text lower-cased
    invert: bool
    count: bool
    only: bool
    quiet: bool
    files_only: bool
    numbers: bool
    names: bool
    max_count: int | None
    before: int
    after: int
    as_json: bool
    binary_text: bool
    out: Output
    rows: list[Value] = field(default_factory=list)
    selected_total: int = 0
    done: bool = False  # -q found a line: stop everything
    # literal patterns (no newline, not empty): -c may count with line_counter
    countable: bool = False
    counters: dict[re.Pattern[str], re.Pattern[str]] = field(default_factory=dict)


@dataclass(slots=True)
class _FileState:
    """Where one input stands: line numbers, byte offsets, context window."""

    label: str
    line: int = 0  # lines before the current block
    offset: int = 0  # bytes before the current block
    selected: int = 0
    capped: bool = False  # --max-count reached: only trailing context may follow
    stop: bool = False
    after_left: int = 0
    last_printed: int = 0  # line number of the last printed line (0: none yet)
    before: deque[tuple[int, str]] = field(default_factory=deque)


def _type_globs(names: list[str]) -> list[str]:
    """The file-name globs of --ftype names (the table glob --ftype-list prints)."""
    from kaish_kernel.tools.builtins._listing import FILE_TYPES

    unknown = [n for n in names if n not in FILE_TYPES]
    if unknown:
        raise UsageError(f"unknown file type '{unknown[0]}' (see glob --ftype-list)")
    return [g for n in names for g in FILE_TYPES[n]]


class Grep(TextTool):
    """Regex search over stdin, files, or (-r) directory trees."""

    schema = Schema(
        name="grep",
        summary="Print lines that match a pattern",
        params=(
            Param("ignore-case", short="i", aliases=("ignore_case",), help="Match case-insensitively"),
            Param("line-number", short="n", aliases=("line_number",), help="Prefix lines with their line number"),
            Param("invert", short="v", aliases=("invert-match",), help="Select lines that do NOT match"),
            Param("count", short="c", help="Print only the number of selected lines"),
            Param("only-matching", short="o", aliases=("only_matching",),
                  help="Print only the matched parts, one per line"),
            Param("quiet", short="q", aliases=("silent",), help="Print nothing; the exit status says whether a line matched"),
            Param("files-with-matches", short="l", aliases=("files_with_matches",),
                  help="Print only the names of files with a match"),
            Param("word-regexp", short="w", aliases=("word_regexp",), help="Match whole words only"),
            Param("recursive", short="r", help="Search directories recursively"),
            Param("dereference-recursive", short="R", help="Like -r (the uppercase spelling)"),
            Param("extended-regexp", short="E", aliases=("extended_regexp",),
                  help="Strict ERE: a backslashed |+?(){} is a literal character"),
            Param("fixed-strings", short="F", aliases=("fixed_strings",),
                  help="The pattern is a literal string, not a regex"),
            Param("regexp", type="str", short="e", repeatable=True, metavar="pattern",
                  help="A pattern (repeatable); the first operand is then a file"),
            Param("after-context", type="int", short="A", aliases=("after_context",), metavar="num",
                  help="Print NUM lines after each match"),
            Param("before-context", type="int", short="B", aliases=("before_context",), metavar="num",
                  help="Print NUM lines before each match"),
            Param("context", type="int", short="C", metavar="num",
                  help="Print NUM lines before and after each match"),
            Param("max-count", type="int", short="m", metavar="num",
                  help="Stop after NUM selected lines per file"),
            Param("with-filename", short="H", help="Prefix each line with its file name"),
            Param("no-filename", short="h", help="Never prefix lines with file names"),
            Param("include", type="str", repeatable=True, metavar="glob",
                  help="With -r, search only files whose name matches (repeatable)"),
            Param("exclude", type="str", repeatable=True, metavar="glob",
                  help="With -r, skip files whose name matches (repeatable)"),
            Param("ftype", type="str", repeatable=True, metavar="type",
                  help="With -r, search only files of this type (see glob --ftype-list; repeatable)"),
            Param("ftype-not", type="str", repeatable=True, metavar="type",
                  help="With -r, skip files of this type (repeatable)"),
            Param("hidden", help="With -r, also search hidden files and directories"),
            Param("binary", type="str", metavar="mode",
                  help="At a NUL byte: quit (default) stops reading; text searches on"),
            Param("pattern", type="any", positional=True, help="The pattern to search for"),
            Param("paths", type="any", positional=True, variadic=True, metavar="file",
                  help="Files (or, with -r, directories); stdin when none"),
        ),
        description=(
            "Patterns are ERE and also accept the GNU BRE spellings a\\|b, \\(x\\), a\\{2\\},"
            " a\\+; -E makes those backslashes literal. Exit status: 0 when a line was"
            " selected, 1 when none was, 2 on an error. --json gives one record per"
            " selected line: path, line, byte_offset, line_text, submatches."
        ),
        examples=(
            ("Search a file", "grep TODO notes.md"),
            ("Case-insensitive, with line numbers", "grep -in error app.log"),
            ("Either word", "grep 'foo\\|bar' notes.md"),
            ("Count matching lines", "grep -c WARN app.log"),
            ("Search a tree", "grep -rn TODO src --include '*.py'"),
            ("Two lines of context", "grep -C 2 panic app.log"),
        ),
        json_output=True,
        category="text",
    )
    binary_status = 2

    @staticmethod
    def check(args: BoundArgs) -> str | None:
        """The E005 report for a literal pattern that does not compile, before
        anything runs (the run that follows reuses the cached matcher)."""
        patterns = [str(p) for p in args.get("regexp") or []]
        if not patterns and args.positional:
            patterns = [display(args.positional[0])]
        if not patterns:
            return None
        try:
            build_matcher(
                patterns,
                extended=args.flag("extended-regexp"),
                fixed=args.flag("fixed-strings"),
                ignore_case=args.flag("ignore-case"),
                word=args.flag("word-regexp"),
            )
        except RegexDialectError as exc:
            detail = str(exc).removeprefix("invalid pattern: ").removeprefix("invalid regex: ")
            return f"error [E005]: grep: invalid regex pattern: {detail}"
        return None

    async def execute(self, ctx: ToolContext) -> int:
        args = ctx.args
        operands = list(args.positional)
        patterns = [str(p) for p in args.get("regexp") or []]
        if not patterns:
            if not operands:
                raise UsageError("missing pattern argument")
            patterns = [display(operands.pop(0))]
        operands = operand_names(operands)
        try:
            regex = build_matcher(
                patterns,
                extended=args.flag("extended-regexp"),
                fixed=args.flag("fixed-strings"),
                ignore_case=args.flag("ignore-case"),
                word=args.flag("word-regexp"),
            )
        except RegexDialectError as exc:
            message = str(exc)
            if not message.startswith("invalid"):
                message = f"invalid pattern: {message}"
            return ctx.error(message)
        context = self._number(args.get("context"), "--context") or 0
        after = self._number(args.get("after-context"), "--after-context")
        before = self._number(args.get("before-context"), "--before-context")
        binary = args.get("binary") or "quit"
        if binary not in ("quit", "text"):
            raise UsageError(f"invalid --binary mode '{binary}' (expected quit or text)")
        _type_globs([*(args.get("ftype") or []), *(args.get("ftype-not") or [])])  # names checked even without -r
        status = 0
        recursive = args.flag("recursive") or args.flag("dereference-recursive")
        if recursive:
            targets, walked, status = self._walk(ctx, operands)
        else:
            targets = [(n, STDIN_LABEL if n == "-" else n) for n in operands] or [("-", STDIN_LABEL)]
            walked = False
        show_names = (walked or len(targets) > 1) and not args.flag("no-filename")
        as_json = args.json
        count, files_only = args.flag("count"), args.flag("files-with-matches")
        literal = args.flag("fixed-strings") or not any(_REGEX_META.search(p) for p in patterns)
        run = _Run(
            regex=regex,
            lowered=self._lowered(patterns, args) if args.flag("ignore-case") else None,
            invert=args.flag("invert"),
            count=count,
            only=args.flag("only-matching"),
            quiet=args.flag("quiet"),
            files_only=files_only,
            numbers=args.flag("line-number"),
            names=show_names or args.flag("with-filename"),
            max_count=self._number(args.get("max-count"), "--max-count"),
            before=before if before is not None else context,
            after=after if after is not None else context,
            as_json=as_json and not (count or files_only),
            binary_text=binary == "text",
            out=Output(ctx.stdout, collect=as_json),
            countable=literal and all(p and "\n" not in p for p in patterns),
        )
        for name, label in targets:
            try:
                stream = open_operand(ctx, name)
            except OSError as exc:
                ctx.error(f"{label}: {describe_os_error(exc)}")
                status = 2
                continue
            try:
                await self._search(run, stream, _FileState(label))
            finally:
                close_input(ctx, stream)
            if run.done:
                break
        if as_json:
            if run.as_json:
                if run.rows:
                    await ctx.emit_value(run.rows)
            else:
                await emit_text_value(ctx, run.out.collected(), empty_prints=False)
        else:
            await run.out.flush()
        found = 0 if run.selected_total else 1
        if status and not (run.quiet and run.selected_total):
            return status
        return found

    @staticmethod
    def _number(value: Value, flag: str) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or value < 0:
            raise UsageError(f"invalid {flag} value '{value}' (expected a non-negative number)")
        return value

    # -- operands --------------------------------------------------------

    def _walk(self, ctx: ToolContext, operands: list[str]) -> tuple[list[tuple[str, str]], bool, int]:
        """-r: files to search as (path to open, label to print), and whether any dir was walked."""
        args = ctx.args
        defaulted = not operands
        names = operands or ["."]
        vfs = ctx.shell.vfs
        files: list[tuple[str, str]] = []
        dirs: list[tuple[str, str]] = []  # (operand, absolute path)
        status = 0
        for name in names:
            path = ctx.shell.resolve_path(name)
            try:
                info = vfs.stat(path)
            except OSError as exc:
                ctx.error(f"{name}: {describe_os_error(exc)}")
                status = 2
                continue
            if info.is_dir:
                dirs.append((name, path))
            else:
                files.append((name, name))
        if not dirs:
            return files, False, status
        includes = [str(p) for p in args.get("include") or []]
        excludes = [str(p) for p in args.get("exclude") or []]
        selected, rejected = _type_globs(args.get("ftype") or []), _type_globs(args.get("ftype-not") or [])
        hidden = args.flag("hidden")
        cwd = ctx.shell.cwd.rstrip("/") + "/"
        sole = len(dirs) == 1 and not files
        for name, root in dirs:
            ignore = IgnoreRules.for_root(vfs, root)
            for path in _walk_tree(vfs, root, hidden, ignore):
                base = posixpath.basename(path)
                if includes and not any(glob_match(p, base) for p in includes):
                    continue
                if any(glob_match(p, base) for p in excludes):
                    continue
                if selected and not any(glob_match(g, base) for g in selected):
                    continue
                if any(glob_match(g, base) for g in rejected):
                    continue
                rel = posixpath.relpath(path, root)
                if sole and name.startswith("/"):
                    label = path
                elif sole and defaulted:
                    label = rel
                elif sole:
                    label = f"{name.rstrip('/') or '/'}/{rel}".replace("//", "/")
                else:
                    label = path[len(cwd) :] if path.startswith(cwd) else path
                files.append((path, label))
        return files, True, status

    # -- searching --------------------------------------------------------

    async def _search(self, run: _Run, stream: InputStream, state: _FileState) -> None:
        out = run.out
        line_mode = run.as_json or run.before or run.after
        numbered = line_mode or run.numbers  # only then are line numbers kept
        state.capped = run.max_count == 0
        async for block in line_blocks(stream):
            if state.capped and not state.after_left:
                break
            if not run.binary_text:
                nul = block.find(b"\0")
                if nul >= 0:  # binary: search only the lines before the NUL's line,
                    # but a NUL is valid UTF-8 — bytes that are not still refuse
                    decode_text(block, state.label, state.offset)
                    block = block[: block.rfind(b"\n", 0, nul) + 1]
                    state.stop = True
            text = decode_text(block, state.label, state.offset)
            found = self._lines(run, state, text) if line_mode else self._fast(run, state, text)
            if found:
                await out.write(found.encode("utf-8"))
            state.offset += len(block)
            if numbered:
                state.line += block.count(b"\n") + (0 if block.endswith(b"\n") or not block else 1)
            await out.flush()
            if state.stop or run.done:
                break
        stream.close()
        if run.quiet:  # -q beats -l, which beats -c
            return
        if run.files_only:
            if state.selected:
                await out.write(f"{state.label}\n".encode())
        elif run.count:
            prefix = f"{state.label}:" if run.names else ""
            await out.write(f"{prefix}{state.selected}\n".encode())

    @staticmethod
    def _take(run: _Run, state: _FileState, lines: int = 1) -> None:
        """Count selected lines, noting when a limit says stop."""
        state.selected += lines
        run.selected_total += lines
        if run.max_count is not None and state.selected >= run.max_count:
            state.capped = True
        if run.quiet:
            run.done = True
        elif run.files_only:
            state.stop = True

    @staticmethod
    def _lowered(patterns: list[str], args: Any) -> re.Pattern[str] | None:
        """For -i with literal patterns: the same search, case-sensitive, on lower-cased text.

        Python's case-insensitive matching is several times slower than a plain
        literal search; on ASCII text lower-casing first gives the same lines.
        """
        fixed = args.flag("fixed-strings")
        if not fixed and any(_REGEX_META.search(p) for p in patterns):
            return None
        return build_matcher(
            [p.lower() for p in patterns], extended=True, fixed=True,
            ignore_case=False, word=args.flag("word-regexp"),
        )

    def _fast(self, run: _Run, state: _FileState, text: str) -> str:
        """No context, no --json: jump from match to match."""
        regex, haystack = run.regex, text
        if run.lowered is not None and text.isascii():
            regex, haystack = run.lowered, text.lower()
        if run.invert and not run.numbers and not run.only:
            return self._fast_invert(run, state, text, matching_lines(regex, haystack))
        emit = not (run.count or run.quiet or run.files_only)
        if run.count and run.countable and not (run.invert or run.quiet or run.files_only):
            if run.max_count is None:  # -c alone: count whole blocks in C
                counter = run.counters.get(regex)
                if counter is None:
                    counter = run.counters[regex] = line_counter(regex)
                self._take(run, state, len(counter.findall(haystack)))
                return ""
        parts: list[str] = []
        prefix = f"{state.label}:" if run.names else ""
        numbers = run.numbers
        line, counted = state.line + 1, 0
        if run.invert:
            spans = _unmatched_lines(regex, haystack)
        else:
            spans = matching_lines(regex, haystack)
        for start, end in spans:
            self._take(run, state)
            if emit:
                lead = prefix
                if numbers:
                    line += text.count("\n", counted, start)
                    counted = start
                    lead = f"{prefix}{line}:"
                if not run.only:
                    parts.append(f"{lead}{text[start:end]}\n")
                elif not run.invert:
                    parts.extend(
                        f"{lead}{text[m.start():m.end()]}\n"
                        for m in regex.finditer(haystack, start, end)
                        if m.end() > m.start()
                    )
            if state.capped or state.stop or run.done:
                state.stop = True
                break
        return "".join(parts)

    def _fast_invert(
        self, run: _Run, state: _FileState, text: str, hits: Iterator[tuple[int, int]]
    ) -> str:
        """-v without -n/-o: copy the stretches between matching lines whole."""
        emit = not (run.count or run.quiet or run.files_only)
        parts: list[str] = []
        prefix = f"{state.label}:" if run.names else ""
        size, pos = len(text), 0
        while pos < size:
            hit_start, hit_end = next(hits, (size, size))
            stretch = text[pos:hit_start]
            pos = hit_end + 1
            if not stretch:
                continue
            if not stretch.endswith("\n"):
                stretch += "\n"
            lines = stretch.count("\n")
            if run.max_count is not None:
                room = run.max_count - state.selected
                if lines >= room:
                    cut = -1
                    for _ in range(room):
                        cut = stretch.index("\n", cut + 1)
                    stretch, lines = stretch[: cut + 1], room
            if not lines:
                continue
            self._take(run, state, lines)
            if emit:
                if prefix:
                    stretch = prefix + stretch[:-1].replace("\n", "\n" + prefix) + "\n"
                parts.append(stretch)
            if state.capped or state.stop or run.done:
                state.stop = True
                break
        return "".join(parts)

    def _lines(self, run: _Run, state: _FileState, text: str) -> str:
        """Context and --json: walk every line, knowing which ones matched."""
        hits = {start for start, _ in matching_lines(run.regex, text)}
        parts: list[str] = []
        name = state.label if run.names else None
        emit = not (run.count or run.quiet or run.files_only or run.as_json)
        context = bool(run.before or run.after)
        line, offset = state.line, state.offset
        for start, end in _line_spans(text, 0, len(text)):
            line += 1
            body = text[start:end]
            chosen = (start in hits) != run.invert
            if state.capped:
                if chosen or not state.after_left:
                    state.stop = True
                    break
                if emit:  # trailing context of the last allowed match
                    parts.append(_format(name, line, "-", body, run.numbers))
                state.last_printed = line
                state.after_left -= 1
            elif chosen:
                self._take(run, state)
                if run.as_json:
                    run.rows.append(self._record(run, state.label, line, offset, body))
                elif emit:
                    first = state.before[0][0] if state.before else line
                    if context and state.last_printed and first > state.last_printed + 1:
                        parts.append("--\n")
                    for number, held in state.before:
                        parts.append(_format(name, number, "-", held, run.numbers))
                    state.before.clear()
                    if run.only and not run.invert:
                        parts.extend(
                            _format(name, line, ":", m.group(), run.numbers)
                            for m in run.regex.finditer(body)
                            if m.end() > m.start()
                        )
                    else:
                        parts.append(_format(name, line, ":", body, run.numbers))
                state.last_printed = line
                state.after_left = run.after
                if state.stop or run.done:
                    break
            elif state.after_left:
                if emit:
                    parts.append(_format(name, line, "-", body, run.numbers))
                state.last_printed = line
                state.after_left -= 1
            elif run.before:
                state.before.append((line, body))
                if len(state.before) > run.before:
                    state.before.popleft()
            if run.as_json:
                offset += len(body.encode("utf-8")) + 1
        return "".join(parts)

    @staticmethod
    def _record(run: _Run, label: str, line: int, offset: int, body: str) -> Value:
        """One `--json` row; offsets are bytes, like the reference's."""
        subs: list[Value] = []
        if not run.invert:
            for m in run.regex.finditer(body):
                start = len(body[: m.start()].encode("utf-8"))
                subs.append({"text": m.group(), "start": start,
                             "end": start + len(m.group().encode("utf-8"))})
        return {
            "path": None if label == STDIN_LABEL else label,
            "line": line,
            "byte_offset": offset,
            "line_text": body,
            "submatches": subs,
        }


def _format(name: str | None, line: int, sep: str, body: str, numbers: bool) -> str:
    lead = f"{name}{sep}" if name is not None else ""
    if numbers:
        lead += f"{line}{sep}"
    return f"{lead}{body}\n"


def _unmatched_lines(regex: re.Pattern[str], text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line of `text` the regex does not match."""
    pos = 0
    for start, end in matching_lines(regex, text):
        yield from _line_spans(text, pos, start)
        pos = end + 1
    yield from _line_spans(text, pos, len(text))


def _line_spans(text: str, start: int, stop: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each line beginning in text[start:stop] (end excludes `\\n`)."""
    pos = start
    while pos < stop:
        end = text.find("\n", pos)
        if end < 0:
            end = len(text)
        yield pos, end
        pos = end + 1


def _walk_tree(vfs: Any, root: str, hidden: bool, ignore: IgnoreRules) -> Iterator[str]:
    """Files under `root`, depth-first in name order; symlinked dirs are not followed."""
    try:
        entries = sorted(vfs.listdir(root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") and not hidden:
            continue
        path = posixpath.join(root, entry.name)
        if ignore(path, entry.is_dir):
            continue
        if entry.is_dir:
            if not _is_link(vfs, path):
                yield from _walk_tree(vfs, path, hidden, ignore)
        elif entry.kind in ("file", "other", "symlink") and not _is_link_to_dir(vfs, path):
            yield path


def _is_link(vfs: Any, path: str) -> bool:
    try:
        fs, sub = vfs.route(path)
        real = fs.real_path(sub)
    except (OSError, AttributeError):
        return False
    return real is not None and os.path.islink(real)


def _is_link_to_dir(vfs: Any, path: str) -> bool:
    return _is_link(vfs, path) and vfs.is_dir(path)


TOOLS = (Grep,)
