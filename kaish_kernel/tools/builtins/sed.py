"""sed — the stream editor, kaish's "muscle-memory" subset.

The script is parsed up front (`_sed_program`), so an invalid or
out-of-scope program is one E006 error and nothing runs. Input then streams
through a `SedRunner` one cycle per line; output is batched per input block
and a departed reader stops the tool quietly.

    -e / SCRIPT ─► parse_program ─► SedProgram (immutable)
                                        │
    files or stdin ─► line_blocks ─► decode ─► SedRunner.cycle(line, is_last) ─► Output
                         (whole lines)             (range state, q)         (batched)

`$` needs to know which line is last, so only a program that uses `$`
holds one line back until the next block (or EOF) arrives. `-i` edits each
file operand separately: read, run, write back (refusing to clobber a file
that changed meanwhile).
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from typing import Final

from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins._regex_dialect import iter_matches
from kaish_kernel.tools.builtins._sed_program import (
    Append,
    CaseSwitch,
    Change,
    Command,
    Delete,
    Insert,
    LastLine,
    LineNumber,
    LineNumberPrint,
    Print,
    Quit,
    RegexMatch,
    Replacement,
    SedProgram,
    SedScriptError,
    Substitute,
    Transliterate,
    parse_program,
)
from kaish_kernel.tools.builtins._textio import (
    Output,
    TextTool,
    close_input,
    decode_text,
    describe_os_error,
    emit_text_value,
    line_blocks,
    open_operand,
    source_name,
)
from kaish_kernel.tools.schema import BoundArgs, Param, Schema
from kaish_kernel.values import Value, ValueError_, display

__all__ = ["TOOLS", "Sed", "SedRunner", "sed_error_message"]

_SUGGESTION: Final = (
    "commands: s/pat/rep/[gipN], y/abc/xyz/, d, p, =, q, a/i/c TEXT; chain with ; or -e;"
    " addresses: N, $, /re/, N,M, addr!; regex is ERE (egrep-style; GNU BRE \\| \\(…\\)"
    " \\{N,M\\} also accepted)"
)


def sed_error_message(detail: str) -> str:
    """The E006 report for a script kaish's sed does not accept."""
    return f"error [E006]: sed: {detail}\n  → {_SUGGESTION}\n"


class SedRunner:
    """Runs a program over lines: one cycle per line, range state kept between.

    Two everyday shapes take a fast path over a whole block of lines:
    unaddressed `s`/`y` edits (`sed 's/a/b/g'`), via C-level `re.sub` and
    one join; and a single regex filter (`sed -n '/re/p'`, `sed '/re/d'`).
    """

    __slots__ = ("_active", "_commands", "_fast", "_filter", "_kinds", "done", "exit_code",
                 "line_number", "quiet")

    def __init__(self, program: SedProgram, *, quiet: bool) -> None:
        self._commands = program.commands
        self._kinds = [type(c.action) for c in program.commands]
        self._active = [False] * len(program.commands)
        self.quiet = quiet
        self.line_number = 0
        self.done = False  # a `q` ran: stop reading
        self.exit_code = 0
        self._fast = _fast_edits(program) if not quiet else None
        self._filter = _fast_filter(program, quiet)

    def run_lines(self, lines: list[str], is_last: bool, out: list[str]) -> None:
        """Cycle over `lines`; only the final one may be the last input line."""
        if self._fast is not None:
            if lines:
                self.line_number += len(lines)
                for edit in self._fast:
                    lines = list(map(edit, lines))
                out.append("\n".join(lines) + "\n")
            return
        if self._filter is not None:
            search, keep_matches = self._filter
            self.line_number += len(lines)
            kept = [line for line in lines if (search(line) is not None) is keep_matches]
            if kept:
                out.append("\n".join(kept) + "\n")
            return
        final = len(lines) - 1
        cycle = self.cycle
        for index, line in enumerate(lines):
            cycle(line, is_last and index == final, out)
            if self.done:
                return

    def cycle(self, line: str, is_last: bool, out: list[str]) -> None:
        """One sed cycle: run every selected command, then auto-print and append."""
        self.line_number += 1
        space = line
        appended: list[str] | None = None
        deleted = False
        kinds = self._kinds
        for index, command in enumerate(self._commands):
            if command.start is None:
                closing = True
            else:
                selected, closing = self._select(index, command, space, is_last)
                if command.negated:
                    selected, closing = not selected, True
                if not selected:
                    continue
            kind = kinds[index]
            action = command.action
            if kind is Substitute:
                space, made = _substitute(action, space)  # type: ignore[arg-type]
                if made and action.print_:  # type: ignore[union-attr]
                    out.append(space + "\n")
            elif kind is Print:
                out.append(space + "\n")
            elif kind is Delete:
                deleted = True
                break
            elif kind is Transliterate:
                space = space.translate(action.table)  # type: ignore[union-attr]
            elif kind is Append:
                if appended is None:
                    appended = []
                appended.append(action.text + "\n")  # type: ignore[union-attr]
            elif kind is Insert:
                out.append(action.text + "\n")  # type: ignore[union-attr]
            elif kind is Change:
                deleted = True
                if closing:
                    out.append(action.text + "\n")  # type: ignore[union-attr]
                break
            elif kind is LineNumberPrint:
                out.append(f"{self.line_number}\n")
            elif kind is Quit:
                self.done = True
                self.exit_code = action.exit_code  # type: ignore[union-attr]
                break
        if not deleted and not self.quiet:
            out.append(space + "\n")
        if appended:
            out.extend(appended)

    def _select(
        self, index: int, command: Command, space: str, is_last: bool
    ) -> tuple[bool, bool]:
        """(selected, closing): closing marks the last line of the selection,
        which is where `c` prints its text once for a whole range."""
        start, end = command.start, command.end
        assert start is not None
        if end is None:
            hit = self._matches(start, space, is_last)
            return hit, hit
        if self._active[index]:
            if type(end) is LineNumber:
                close = self.line_number >= end.number
            else:
                close = self._matches(end, space, is_last)
            if close:
                self._active[index] = False
                return True, True
            return True, is_last
        if not self._matches(start, space, is_last):
            return False, False
        # a line-number end at or before the start line closes the range at once
        if type(end) is LineNumber and end.number <= self.line_number:
            return True, True
        self._active[index] = True
        return True, is_last

    def _matches(self, address: object, space: str, is_last: bool) -> bool:
        kind = type(address)
        if kind is LineNumber:
            return self.line_number == address.number  # type: ignore[attr-defined]
        if kind is LastLine:
            return is_last
        return address.regex.search(space) is not None  # type: ignore[attr-defined]


def _fast_edits(program: SedProgram) -> list[Callable[[str], str]] | None:
    """Per-line functions for a program of unaddressed `s`/`y` commands only, else None."""
    steps: list[Callable[[str], str]] = []
    for command in program.commands:
        action = command.action
        if command.start is not None:
            return None
        if type(action) is Transliterate:
            assert isinstance(action, Transliterate)
            steps.append(operator.methodcaller("translate", action.table))
            continue
        if type(action) is not Substitute:
            return None
        assert isinstance(action, Substitute)
        if action.print_:
            return None
        if action.c_loop:
            assert action.template is not None
            count = 0 if action.replace_all else 1
            steps.append(functools.partial(action.regex.sub, action.template, count=count))
        else:
            steps.append(functools.partial(_substituted_text, action))
    return steps


def _fast_filter(
    program: SedProgram, quiet: bool
) -> tuple[Callable[[str], re.Match[str] | None], bool] | None:
    """(search, keep lines that match?) for `-n '/re/p'` or `'/re/d'` (either with `!`)."""
    if len(program.commands) != 1:
        return None
    command = program.commands[0]
    if command.end is not None or type(command.start) is not RegexMatch:
        return None
    assert isinstance(command.start, RegexMatch)
    kind = type(command.action)
    if quiet and kind is Print:
        return command.start.regex.search, not command.negated
    if not quiet and kind is Delete:
        return command.start.regex.search, command.negated
    return None


def _substituted_text(action: Substitute, space: str) -> str:
    return _substitute(action, space)[0]


def _substitute(action: Substitute, space: str) -> tuple[str, bool]:
    """Apply `s///` to the pattern space; returns (new text, whether a match was replaced)."""
    regex = action.regex
    if action.c_loop:
        assert action.template is not None
        text, count = regex.subn(action.template, space, 0 if action.replace_all else 1)
        return text, count > 0
    replacement = action.replacement
    if action.occurrence == 1 and not action.replace_all:
        m = regex.search(space)
        if m is None:
            return space, False
        return space[: m.start()] + _expand(replacement, m) + space[m.end() :], True
    pieces: list[str] = []
    last = 0
    seen = 0
    for m in iter_matches(regex, space):
        seen += 1
        if seen < action.occurrence:
            continue
        pieces.append(space[last : m.start()])
        pieces.append(_expand(replacement, m))
        last = m.end()
        if not action.replace_all:
            break
    if not pieces:
        return space, False
    pieces.append(space[last:])
    return "".join(pieces), True


def _expand(replacement: Replacement, m: re.Match[str]) -> str:
    """The replacement text for one match (`&`, `\\N`, GNU case operators)."""
    if replacement.literal is not None:
        return replacement.literal
    out: list[str] = []
    mode = ""  # "U" / "L" until \E
    once = ""  # "u" / "l" for the next character
    for part in replacement.parts:
        if type(part) is CaseSwitch:
            op = part.op
            if op in "UL":
                mode, once = op, ""
            elif op == "E":
                mode, once = "", ""
            else:
                once = op
            continue
        text = part if type(part) is str else (m.group(part) or "")  # type: ignore[arg-type]
        assert isinstance(text, str)
        if mode:
            text = text.upper() if mode == "U" else text.lower()
        if once and text:
            text = (text[0].upper() if once == "u" else text[0].lower()) + text[1:]
            once = ""
        out.append(text)
    return "".join(out)


def _lines_of(text: str, terminated: bool) -> list[str]:
    """Lines of a decoded block, like the reference: `\\r\\n` endings lose the `\\r`."""
    lines = text.split("\n")
    if terminated:
        lines.pop()
        return [line[:-1] if line.endswith("\r") else line for line in lines]
    return [line[:-1] if line.endswith("\r") else line for line in lines[:-1]] + lines[-1:]


def _word(value: Value, what: str) -> str:
    if isinstance(value, str):
        return value
    try:
        return display(value)
    except ValueError_:
        raise SedScriptError(f"{what} must be text, not binary data") from None


def _program_and_files(args: BoundArgs) -> tuple[SedProgram, list[str]] | None:
    """The parsed program and the file operands; None when there is no script.

    Scripts come from every -e, else from the first operand. Raises SedScriptError.
    """
    operands = list(args.positional)
    expressions = args.get("expression") or []
    if expressions:
        scripts = [_word(e, "a -e script") for e in expressions]
    elif operands:
        scripts = [_word(operands.pop(0), "the script")]
    else:
        return None
    program = parse_program(scripts, extended=args.flag("regexp-extended"))
    return program, [_word(v, "a file operand") for v in operands]


class Sed(TextTool):
    schema = Schema(
        name="sed",
        summary="Stream editor for filtering and transforming text",
        usage="sed [OPTIONS] SCRIPT [FILE]...   |   sed [OPTIONS] -e SCRIPT... [FILE]...",
        description=(
            "Runs a sed script over each line of the files (or stdin). kaish's sed is\n"
            "the everyday subset: s/re/rep/[g i I p m M N], y/src/dst/, d, p, =, q [CODE],\n"
            "a/i/c TEXT; addresses N, $, /re/ (or \\%re%, with I for any case), ranges\n"
            "A,B and negation A!; commands chained with ; newlines or repeated -e.\n"
            "Regex is ERE; the GNU BRE spellings \\| \\( \\) \\{ \\} \\+ \\? also work unless\n"
            "-E/-r asks for strict ERE (match a literal meta with [|], [+], [)]).\n"
            "Hold space, branching, r/w files and GNU address extensions are refused\n"
            "(error E006) rather than half-run; use an external sed for those."
        ),
        params=(
            Param("quiet", short="n", aliases=("silent",),
                  help="Print only what p, s///p, a, i and c print"),
            Param("expression", type="str", short="e", repeatable=True, metavar="script",
                  help="Add a script; repeat to chain them in order"),
            Param("regexp-extended", short="E", aliases=("r",),
                  help="Strict ERE: \\| \\( \\+ and friends match literal characters"),
            Param("in-place", short="i",
                  help="Edit the file operands in place instead of printing"),
            Param("script", type="any", positional=True, metavar="script",
                  help="The sed script (when no -e is given)"),
            Param("files", type="any", positional=True, variadic=True, metavar="file",
                  help="Files to read; stdin when none are given"),
        ),
        examples=(
            ("Replace every match on each line", "sed 's/old/new/g' notes.txt"),
            ("Swap two words with groups", "sed -E 's/(\\w+) (\\w+)/\\2 \\1/' names.txt"),
            ("Delete lines matching a pattern", "sed '/^#/d' config.ini"),
            ("Print only lines 5 to 10", "sed -n '5,10p' log.txt"),
            ("Insert a first line", "sed '1i #!/bin/sh' script.sh"),
            ("Chain commands", "sed -e 's/a/b/' -e '/^$/d' file.txt"),
            ("Edit a file in place", "sed -i 's/http:/https:/g' links.txt"),
        ),
        json_output=True,
        category="text",
    )

    @staticmethod
    def check(args: BoundArgs) -> str | None:
        """The E006 report for bound (literal) arguments whose script is invalid,
        else None — for a pre-run validator that wants to refuse before running."""
        try:
            _program_and_files(args)
        except SedScriptError as exc:
            return sed_error_message(str(exc))
        return None

    async def execute(self, ctx: ToolContext) -> int:
        args = ctx.args
        try:
            parsed = _program_and_files(args)
        except SedScriptError as exc:
            ctx.stderr.write(sed_error_message(str(exc)))
            return 1
        if parsed is None:
            return ctx.error("missing expression (usage: sed SCRIPT [FILE]...)")
        program, names = parsed
        quiet = args.flag("quiet")
        if args.flag("in-place"):
            return await self._in_place(ctx, program, quiet, names)
        return await self._stream(ctx, program, quiet, names or ["-"])

    async def _stream(
        self, ctx: ToolContext, program: SedProgram, quiet: bool, names: list[str]
    ) -> int:
        """Run over the operands as one continuous input (line numbers carry on)."""
        as_json = ctx.args.json
        out = Output(ctx.stdout, collect=as_json)
        runner = SedRunner(program, quiet=quiet)
        look_ahead = program.needs_last_line
        held: str | None = None  # the line waiting to learn whether it is last
        status = 0
        produced: list[str] = []
        for name in names:
            try:
                stream = open_operand(ctx, name)
            except OSError as exc:
                ctx.error(f"{name}: {describe_os_error(exc)}")
                status = 2
                continue
            where = source_name(name)
            offset = 0
            try:
                async for block in line_blocks(stream):
                    text = decode_text(block, where, offset)
                    offset += len(block)
                    lines = _lines_of(text, block.endswith(b"\n"))
                    if look_ahead:
                        if held is not None:
                            runner.cycle(held, False, produced)
                        held = lines.pop()
                        if not runner.done:
                            runner.run_lines(lines, False, produced)
                    else:
                        runner.run_lines(lines, False, produced)
                    if produced:
                        await out.write("".join(produced).encode("utf-8"))
                        await out.flush()
                        produced.clear()
                    if runner.done:
                        stream.close()
                        break
            finally:
                close_input(ctx, stream)
            if runner.done:
                break
        if held is not None and not runner.done:
            runner.cycle(held, True, produced)
        if produced:
            await out.write("".join(produced).encode("utf-8"))
        await out.flush()
        if as_json:
            await emit_text_value(ctx, out.collected())
        return status or runner.exit_code

    async def _in_place(
        self, ctx: ToolContext, program: SedProgram, quiet: bool, names: list[str]
    ) -> int:
        """-i: each file is its own input; the result replaces its contents."""
        if not names:
            return ctx.error("-i requires file operands (cannot edit a stream in place)")
        vfs = ctx.shell.vfs
        status = 0
        for name in names:
            path = ctx.shell.resolve_path(name)
            try:
                if vfs.is_dir(path):
                    raise IsADirectoryError(21, "Is a directory", name)
                original = vfs.read_bytes(path)
            except OSError as exc:
                ctx.error(f"{name}: {describe_os_error(exc)}")
                status = 1
                continue
            text = decode_text(original, name)
            runner = SedRunner(program, quiet=quiet)
            produced: list[str] = []
            lines = _lines_of(text, text.endswith("\n")) if text else []
            runner.run_lines(lines, True, produced)
            try:
                if vfs.read_bytes(path) != original:
                    ctx.error(f"{name}: changed while sed was editing it; not overwritten")
                    status = 1
                    continue
                vfs.write_bytes(path, "".join(produced).encode("utf-8"))
            except OSError as exc:
                ctx.error(f"{name}: {describe_os_error(exc)}")
                status = 1
        return status


TOOLS = (Sed,)
