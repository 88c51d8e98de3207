"""kaish-last (the previous statement's result, as text) and kaish-validate.

The session keeps the last top-level statement's typed value and the bytes
it wrote in-process (see kaish_kernel.scheduler.last_result). `kaish-last`
prints the value as compact JSON when there is one, else those bytes, else
fails with "no data". It reads the *statement* before it, so it refuses to
be fed by an earlier pipeline stage (it would silently show something else);
it may feed later stages (`kaish-last | jq '.[0]'`).
"""

from __future__ import annotations

from typing import ClassVar

from kaish_kernel.scheduler.last_result import LastResult
from kaish_kernel.scheduler.stage import NO_DATA, resolve_data
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.values import Value, display, to_json

__all__ = ["TOOLS"]

from kaish_kernel.tools.schema import Param, Schema


class KaishLast(Tool):
    schema: ClassVar[Schema] = Schema(
        name="kaish-last",
        summary="Print the previous statement's data as JSON (or its output)",
        description=(
            "The typed value of the statement before this one (seq, jq, cut, "
            "find, ...) as one line of compact JSON; when it had none, the text "
            "it wrote (text from external commands goes straight to its "
            "destination and is not kept). Exit 1 with `no data` when there is "
            "neither. It cannot be fed by a pipe: run it as a statement of its "
            "own or as the first stage of a pipeline."
        ),
        examples=(
            ("Pick from structured data", "seq 1 5\nkaish-last | jq '.[2]'"),
            ("Keep it for later", "seq 1 5\nDATA=$(kaish-last)"),
        ),
        category="session",
    )

    async def run(self, ctx: ToolContext) -> int:
        if ctx.stdin.pipeline_edge:
            return ctx.error(
                "cannot take piped stdin: it shows the previous statement's result, "
                "not the previous pipeline stage's; run it on its own or first in a pipeline",
                2,
            )
        last = ctx.shell.last_result
        if not isinstance(last, LastResult):  # a span its recorder noted
            last = last.last()
        data = resolve_data(last.data)
        if data is not NO_DATA:
            value: Value = data  # type: ignore[assignment]
            await ctx.write_text(to_json(value) + "\n")
            return 0
        if last.out:
            await ctx.stdout.write(last.out)
            if last.cut:
                return ctx.error("the previous output was longer than 10 MiB; this is its start", 3)
            return 0
        return ctx.error("no data from the previous statement")


class KaishValidate(Tool):
    schema: ClassVar[Schema] = Schema(
        name="kaish-validate",
        summary="Check a kaish script without running it",
        params=(
            Param("expr", type="str", short="e", help="Check this text instead of a file."),
            Param("quiet", short="q", help="Print nothing; the exit status says it all."),
            Param("warnings", short="w", help="Also print warnings."),
            Param("path", type="str", positional=True, metavar="file",
                  help="The script to check; stdin when neither FILE nor -e is given."),
        ),
        usage="kaish-validate [-q] [-w] [-e TEXT | FILE]",
        description=(
            "Parses and validates as running it would, and runs nothing. Prints "
            "`LABEL: valid` (the file name, <expr> or <stdin>) and exits 0 when it "
            "would run; prints the report and exits 1 when the validator refuses "
            "it, 2 when it does not parse."
        ),
        examples=(
            ("Check a file", "kaish-validate build.kai"),
            ("Check a line", "kaish-validate -e 'grep \"[\" notes.txt'"),
            ("Only the status", "kaish-validate -q build.kai && echo ok"),
        ),
        category="session",
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        expr = args.get("expr")
        path = args.positional[0] if args.positional else None
        if expr is not None:
            source, label = str(expr), "<expr>"
        elif path is not None:
            label = display(path)
            try:
                data = ctx.shell.vfs.read_bytes(ctx.shell.resolve_path(label))
            except OSError as exc:
                return ctx.error(f"{label}: {exc.strerror or exc}")
            try:
                source = data.decode("utf-8")
            except UnicodeDecodeError:
                return ctx.error(f"{label}: not UTF-8 text")
        else:
            data = await ctx.stdin.read_all()
            if not data:
                return ctx.error("no input provided (give a FILE or -e TEXT)")
            source, label = data.decode("utf-8", "replace"), "<stdin>"
        code, report, warnings = ctx.shell.check_script(source)
        if args.flag("quiet"):
            return code
        if report is not None:
            what = "parse error: " if code == 2 else ""
            ctx.stderr.write(f"{label}: {what}{report}\n")
            return code
        shown = [f"{label}: {w}\n" for w in warnings] if args.flag("warnings") else []
        await ctx.write_text("".join(shown) or f"{label}: valid\n")
        return 0


TOOLS = (KaishLast, KaishValidate)
