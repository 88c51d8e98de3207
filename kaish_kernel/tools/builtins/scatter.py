"""`scatter` and `gather` as plain commands.

Inside `… | scatter … | worker … | gather` the interpreter runs the fan-out
itself (kaish_kernel/interpreter/scatter_runner.py). These tools are what
runs when the names appear anywhere else: `scatter` describes the items it
would fan out over, `gather` passes its input through. Their schemas are
the documentation `help scatter` shows.
"""

from __future__ import annotations

from kaish_kernel.lang.names import name_problem
from kaish_kernel.scheduler.scatter import (
    NO_ITEMS_DATA,
    ScatterError,
    extract_items,
    item_label,
    parse_scatter_options,
)
from kaish_kernel.scheduler.stage import NO_DATA
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import BoundArgs, Param, Schema

__all__ = ["TOOLS"]


class Scatter(Tool):
    schema = Schema(
        name="scatter",
        summary="Fan the rest of the pipeline out over items, in parallel (use with gather)",
        params=(
            Param("as", "str", help="Variable that holds each item (default ITEM).", metavar="VAR"),
            Param("limit", "any", help="At most this many workers at once (default 8, max 10000).", metavar="N"),
            Param("timeout", "any", help="Per-worker time limit: 30, 5s, 500ms, 2m (row code 124).", metavar="DUR"),
            Param(
                "engine",
                "str",
                help="Where workers run: local (default) or dask; default from $KAISH_SCATTER_ENGINE.",
                metavar="ENGINE",
            ),
            Param(
                "scheduler",
                "str",
                help="Dask scheduler address, tcp://host:8786 (implies --engine dask);"
                " default from $KAISH_DASK_SCHEDULER.",
                metavar="ADDRESS",
            ),
        ),
        usage=(
            "… | scatter [--as VAR] [--limit N] [--timeout DUR] [--engine local|dask]"
            " [--scheduler ADDRESS] | worker … | gather [--json|--lines]"
        ),
        description=(
            "Items come from the previous stage: a typed list keeps its elements' types"
            " (records stay records), text gives one string item per non-blank line."
            " Each worker runs the stages between scatter and gather in its own snapshot"
            " of the session with VAR bound to its item; rows come out in item order:"
            ' {"i","item","ok","code","out","err"} plus "data" and "timed_out" when set.'
            " gather exits 123 when any worker failed."
            " With --engine dask the workers run on a Dask cluster (the [dask] extra):"
            " each item's segment is sent with a snapshot of the session and run there by"
            " kaish, the rows are the same; --limit bounds the tasks in flight, --timeout"
            " is enforced on the worker, an unreachable scheduler is exit 2."
        ),
        examples=(
            ("Probe hosts, 8 at a time", 'cat hosts.txt | scatter --as H --limit 8 | ping -c1 "$H" | gather'),
            ("Typed items", "seq 1 5 | scatter | echo $((ITEM * 2)) | gather --json"),
            ("Retry the failures", "for r in $(… | gather); do if [[ ${r[ok]} == false ]]; then …; fi; done"),
            ("On a Dask cluster", "cat urls.txt | scatter --engine dask --scheduler tcp://sched:8786 --limit 64 | curl -sI \"$ITEM\" | gather"),
        ),
        json_output=True,
        category="parallel",
    )

    @staticmethod
    def bound_names(args: BoundArgs) -> list[str]:
        """`--as VAR` names the variable each worker binds (W007 judges it)."""
        name = args.named.get("as")
        return [name] if isinstance(name, str) else []

    async def run(self, ctx: ToolContext) -> int:
        try:
            options = parse_scatter_options(ctx.args.named, ctx.args.flags, name_problem)
        except ScatterError as exc:
            return ctx.error(exc.message, exc.code)
        raw = await ctx.stdin.read_all()
        data = await ctx.stdin.data()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return ctx.error(f"input is binary ({len(raw)} bytes) — decode it to text or JSON first", 2)
        try:
            items = extract_items(NO_ITEMS_DATA if data is NO_DATA else data, text)
        except ScatterError as exc:
            ctx.stderr.write(exc.message + "\n")
            return exc.code
        if not items:
            return 0
        header = f"scatter: {len(items)} items (as=${options.as_var}, limit={options.limit})\n"
        await ctx.write_text(header + "\n".join(item_label(i) for i in items))
        return 0


class Gather(Tool):
    schema = Schema(
        name="gather",
        summary="Collect the rows of a scatter fan-out (JSONL by default)",
        params=(Param("lines", help="Print each worker's output instead of rows; fails if any worker failed."),),
        usage="… | scatter … | worker … | gather [--json | --lines]",
        description="Outside a scatter pipeline, gather passes its input through unchanged.",
        json_output=True,
        category="parallel",
    )

    async def run(self, ctx: ToolContext) -> int:
        while chunk := await ctx.stdin.read():
            await ctx.stdout.write(chunk)
        return 0


TOOLS = (Scatter, Gather)
