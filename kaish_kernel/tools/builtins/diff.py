"""diff: compare two text files line by line, as a unified diff.

    diff [-u] [-q] [-C N] [--color] OLD NEW

Exit status 0 when the files are the same, 1 when they differ, 2 on trouble
(an unreadable operand, binary data, not exactly two files). With every
operand literal, a wrong operand count is refused before the script runs
(E011); a glob or variable that expands to more than two files is refused
when diff runs.

`--json` gives one record: `old_file`, `new_file`, `differ`, and (except
with -q) `hunks`, each with its `@@` ranges and `changes` of `{tag, content,
missing_newline}` (tag: equal, delete or insert; content without its newline).
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import SequenceMatcher
from typing import ClassVar

from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.builtins._textio import (
    OperandError,
    close_input,
    describe_os_error,
    open_operand,
    operand_names,
)
from kaish_kernel.tools.schema import BoundArgs, Param, Schema
from kaish_kernel.values import Value

__all__ = ["TOOLS", "Diff"]

_NO_NEWLINE = "\\ No newline at end of file\n"
_COLORS = (("---", "\x1b[1m"), ("+++", "\x1b[1m"), ("@@", "\x1b[36m"), ("-", "\x1b[31m"), ("+", "\x1b[32m"))


def _arity(count: int) -> str:
    return f"needs exactly two file operands (got {count}); usage: diff OLD NEW"


def _range(start: int, count: int) -> str:
    """A hunk side as `@@` writes it: an empty side names the line before it."""
    first = start + 1 if count else start
    return f"{first}" if count == 1 else f"{first},{count}"


class _Hunk:
    def __init__(self, old: list[str], new: list[str], ops: list[tuple[str, int, int, int, int]]) -> None:
        self.old_start, self.old_end = ops[0][1], ops[-1][2]
        self.new_start, self.new_end = ops[0][3], ops[-1][4]
        self.changes: list[tuple[str, str]] = []  # (tag, line with its newline if any)
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                self.changes += [("equal", line) for line in old[i1:i2]]
                continue
            if tag in ("replace", "delete"):
                self.changes += [("delete", line) for line in old[i1:i2]]
            if tag in ("replace", "insert"):
                self.changes += [("insert", line) for line in new[j1:j2]]

    def text(self) -> Iterator[str]:
        old_n, new_n = self.old_end - self.old_start, self.new_end - self.new_start
        yield f"@@ -{_range(self.old_start, old_n)} +{_range(self.new_start, new_n)} @@\n"
        for tag, line in self.changes:
            mark = " " if tag == "equal" else "-" if tag == "delete" else "+"
            yield mark + line if line.endswith("\n") else mark + line + "\n" + _NO_NEWLINE

    def record(self) -> dict[str, Value]:
        old_n, new_n = self.old_end - self.old_start, self.new_end - self.new_start
        changes: list[Value] = [
            {"tag": tag, "content": line.removesuffix("\n").removesuffix("\r"),
             "missing_newline": not line.endswith("\n")}
            for tag, line in self.changes
        ]
        return {
            "old_start": self.old_start if old_n == 0 else self.old_start + 1,
            "old_lines": old_n,
            "new_start": self.new_start if new_n == 0 else self.new_start + 1,
            "new_lines": new_n,
            "changes": changes,
        }


class Diff(Tool):
    schema: ClassVar[Schema] = Schema(
        name="diff",
        summary="Compare two files line by line (a unified diff)",
        usage="diff [-u] [-q] [-C N] [--color] OLD NEW",
        params=(
            Param("unified", short="u", help="Unified format (the only one; accepted for habit)"),
            Param("quiet", short="q", help="Only say whether the files differ"),
            Param("context", type="int", short="C", metavar="N", help="Lines of context (default 3)"),
            Param("color", help="Colour the headers, hunk ranges and changed lines"),
            Param("files", type="any", positional=True, variadic=True, metavar="file",
                  help="The two files to compare"),
        ),
        description=(
            "Exit status: 0 same, 1 different, 2 trouble. Binary files are refused (use cmp).\n"
            "--json: {old_file, new_file, differ, hunks: [{old_start, old_lines, new_start,\n"
            "new_lines, changes: [{tag, content, missing_newline}]}]}; -q leaves out hunks."
        ),
        examples=(("Compare two files", "diff old.txt new.txt"),
                  ("Only whether they differ", "diff -q old.txt new.txt"),
                  ("Changed lines as data", "diff --json a b | jq '.hunks[].changes[]'")),
        json_output=True,
        category="text",
    )

    @staticmethod
    def check(args: BoundArgs) -> str | None:
        """E011 before the script runs when literal operands are not two files."""
        count = len(args.positional)
        return None if count == 2 else f"error [E011]: diff: {_arity(count)}"

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        try:
            names = operand_names(list(args.positional))
        except OperandError as exc:
            return ctx.error(str(exc), 2)
        if len(names) != 2:
            return ctx.error(_arity(len(names)), 2)
        context = args.get("context")
        if context is None:
            context = 3
        if context < 0:
            return ctx.error(f"invalid -C {context}: must be >= 0", 2)
        texts = []
        for name in names:
            text = await self._read(ctx, name)
            if text is None:
                return 2
            texts.append(text)
        old_name, new_name = names
        record: dict[str, Value] = {"old_file": old_name, "new_file": new_name}
        if texts[0] == texts[1]:
            if args.json:
                await ctx.emit_value({**record, "differ": False, "hunks": []})
            return 0
        if args.flag("quiet"):
            if args.json:
                await ctx.emit_value({**record, "differ": True})
            else:
                await ctx.write_text(f"Files {old_name} and {new_name} differ\n")
            return 1
        old, new = (t.splitlines(keepends=True) for t in texts)
        matcher = SequenceMatcher(None, old, new, autojunk=False)
        hunks = [_Hunk(old, new, ops) for ops in matcher.get_grouped_opcodes(context)]
        if args.json:
            await ctx.emit_value({**record, "differ": True, "hunks": [h.record() for h in hunks]})
            return 1
        lines = [f"--- {old_name}\n", f"+++ {new_name}\n"]
        for hunk in hunks:
            lines.extend(hunk.text())
        if args.flag("color"):
            lines = [_paint(line) for line in lines]
        await ctx.write_text("".join(lines))
        return 1

    @staticmethod
    async def _read(ctx: ToolContext, name: str) -> str | None:
        try:
            stream = open_operand(ctx, name)
        except OSError as exc:
            ctx.error(f"{name}: {describe_os_error(exc)}")
            return None
        try:
            parts = []
            while chunk := await stream.read(1 << 16):
                parts.append(chunk)
        finally:
            close_input(ctx, stream)
        data = b"".join(parts)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            ctx.error(f"{name}: not valid UTF-8 text (invalid UTF-8 at byte {exc.start});"
                      " binary data? compare bytes with cmp")
            return None


def _paint(line: str) -> str:
    for prefix, color in _COLORS:
        if line.startswith(prefix):
            return f"{color}{line.removesuffix(chr(10))}\x1b[0m\n"
    return line


TOOLS = (Diff,)
