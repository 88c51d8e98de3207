"""Running a `… | scatter … | worker … | gather … | …` pipeline.

    pre_scatter ──(text + typed value)──► extract_items ──► ScatterGatherRunner
                                                              │ per item: a fork of the session,
                                                              │ VAR bound to the typed item,
                                                              │ the worker segment run to the end
    post_gather ◄── (JSONL text + the rows as a typed list) ◄─ format_gather (+ gather's redirects)

Differences from the plain builtins: options go through the reduced binder
(`$(...)` is refused, an unset bare `$VAR` drops the value); each worker's
stderr is collected into its own row (kaish sends a multi-stage worker's
stderr to the session instead — see docs/divergences.md).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.interpreter.commands import call_bound_tool, run_stage_isolated, run_tool
from kaish_kernel.interpreter.expand import eval_raw_args
from kaish_kernel.interpreter.json_errors import envelope
from kaish_kernel.interpreter.redirects import open_redirects
from kaish_kernel.lang import ast
from kaish_kernel.lang.names import name_problem
from kaish_kernel.scheduler.scatter import (
    NO_ITEMS_DATA,
    ScatterError,
    ScatterGatherRunner,
    Worker,
    extract_items,
    format_gather,
    parse_gather_options,
    parse_scatter_options,
)
from kaish_kernel.scheduler.stage import (
    NO_DATA,
    BytesInput,
    CaptureOutput,
    EmptyInput,
    resolve_data,
)
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink
from kaish_kernel.tools.base import Tool
from kaish_kernel.tools.schema import (
    BoundArgs,
    Param,
    RawArg,
    Schema,
    UsageError,
    bind,
    build_tool_args,
)
from kaish_kernel.values import Value, ValueError_, truthy

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import IO, Executor

__all__ = ["find_scatter", "make_worker", "run_scatter_pipeline"]

SCATTER_OPTIONS = Schema(
    name="scatter",
    summary="fan out",
    params=(
        Param("as", "any"),
        Param("limit", "any"),
        Param("timeout", "any"),
        Param("engine", "any"),
        Param("scheduler", "any"),
    ),
)
GATHER_OPTIONS = Schema(name="gather", summary="fan in", params=(Param("lines"),))


def find_scatter(stmt: ast.Pipeline) -> tuple[int, int] | None:
    """Indexes of the first `scatter` stage and the first `gather` after it."""
    names = [s.name if isinstance(s, ast.Command) else None for s in stmt.stages]
    if "scatter" not in names:
        return None
    si = names.index("scatter")
    if "gather" not in names[si + 1 :]:
        return None
    return si, names.index("gather", si + 1)


def _has_substitution(args: tuple[ast.Arg, ...]) -> bool:
    def walk(expr: ast.Expr) -> bool:
        if isinstance(expr, ast.CommandSubst):
            return True
        if isinstance(expr, ast.Interpolated):
            return any(walk(p) for p in expr.parts)
        if isinstance(expr, ast.VarDefault):
            return walk(expr.default)
        return False

    for arg in args:
        value = getattr(arg, "value", None)
        if value is not None and walk(value):
            return True
    return False


def _is_unset(ex: Executor, expr: ast.Expr) -> bool:
    return (
        isinstance(expr, ast.VarRef)
        and not expr.path.segments
        and not ex.session.scope.has(expr.path.name)
    )


def _drop_unset(ex: Executor, args: tuple[ast.Arg, ...]) -> tuple[ast.Arg, ...]:
    """A bare unset `$VAR` as an option value gives no value: the option
    keeps its default (`--as $UNSET` binds as ITEM), as in kaish."""
    kept: list[ast.Arg] = []
    for arg in args:
        if isinstance(arg, ast.Positional) and _is_unset(ex, arg.value):
            if kept and isinstance(kept[-1], ast.LongFlag | ast.ShortFlag):
                kept.pop()  # `--as $UNSET`: the option goes with its missing value
            continue
        if isinstance(arg, ast.NamedArg) and _is_unset(ex, arg.value):
            continue  # `--as=$UNSET`
        kept.append(arg)
    return tuple(kept)


async def _options(ex: Executor, cmd: ast.Command, schema: Schema, io: IO) -> BoundArgs:
    """Bind scatter's or gather's words with the reduced binder; any failure
    there is exit 1 (`scatter: <error>`), a bad value is checked later (2)."""
    if _has_substitution(cmd.args):
        raise ScatterError(
            f"{cmd.name}: command substitution is not allowed in {cmd.name} options;"
            " assign it to a variable first", 1
        )
    try:
        raw = await eval_raw_args(ex, _drop_unset(ex, cmd.args), io, glob=False)
        return build_tool_args(raw, schema)
    except KaishRuntimeError as exc:
        raise ScatterError(f"{cmd.name}: {exc.message}", 1) from None
    except (UsageError, ValueError_) as exc:
        raise ScatterError(f"{cmd.name}: {exc}", 1) from None


async def _fail(io: IO, message: str, code: int, as_json: bool) -> list[int]:
    text = message.rstrip("\n")
    if as_json:
        await io.stdout.write(envelope(text, code))  # as any builtin's --json failure
    io.stderr.write(text + "\n")
    return [code]


def _engine_set(ex: Executor) -> bool:
    """Does the session name a scatter engine ($KAISH_SCATTER_ENGINE)?"""
    return ex.session.scope.has("KAISH_SCATTER_ENGINE")


def _wants_json(stmt: ast.Pipeline, si: int, gi: int) -> bool:
    for index in (si, gi):
        stage = stmt.stages[index]
        assert isinstance(stage, ast.Command)
        for arg in stage.args:
            if isinstance(arg, ast.LongFlag) and arg.name == "json":
                return True
            # `--json=VALUE` as the binder reads it: `--json=0` / `=false` / `=""` are off
            if isinstance(arg, ast.NamedArg) and arg.name == "json" and isinstance(arg.value, ast.Literal):
                return truthy(arg.value.value)
    return False


def _lone_builtin(ex: Executor, segment: tuple[ast.Stage, ...]) -> tuple[Tool, ast.Command] | None:
    """The segment's tool when it is one plain builtin command: no alias or
    function of that name, no redirects, no `VAR=value` prefixes. Such a
    worker needs none of the general dispatch chain."""
    if len(segment) != 1 or not isinstance(segment[0], ast.Command):
        return None
    cmd = segment[0]
    name = cmd.name
    session = ex.session
    if cmd.redirects or cmd.env or name in ("source", "."):
        return None
    if name in session.alias_table or name in session.functions:
        return None
    tool = session.registry.get(name[len("/v/bin/") :] if name.startswith("/v/bin/") else name)
    return None if tool is None else (tool, cmd)


_AS_GIVEN = frozenset({"any", "list", "path"})  # param types whose values bind unchanged


class _Binding:
    """Binds a lone builtin's words once per operand count, not once per item.

    When every word is an operand (no flag is written) and the tool takes its
    operands as given (a raw tool, or positional params typed any/list/path),
    the binder's answer depends only on how many operands there are. So the
    first item with n operands is bound against the schema in full; if that
    bound every operand unchanged, later items with n operands reuse the
    shape and only carry their own values. Anything else (a usage error, a
    coercion, flags) goes the ordinary way, through `run_tool`, every time.
    """

    __slots__ = ("_bad", "_good", "enabled", "name", "schema")

    def __init__(self, tool: Tool, cmd: ast.Command) -> None:
        self.schema = tool.schema
        self.name = cmd.name
        self.enabled = all(isinstance(arg, ast.Positional) for arg in cmd.args) and (
            self.schema.raw or all(p.type.lower() in _AS_GIVEN for p in self.schema.positionals)
        )
        self._good: set[int] = set()
        self._bad: set[int] = set()

    def bound(self, raw: list[RawArg]) -> BoundArgs | None:
        """The bound arguments, or None: bind the ordinary way."""
        if not self.enabled:
            return None
        count = len(raw)
        if count in self._good:
            return BoundArgs(positional=[arg.value for arg in raw], schema=self.schema, raw=raw)
        if count in self._bad:
            return None
        try:
            args = bind(self.schema, raw, self.name)
        except (UsageError, ValueError_):
            self._bad.add(count)
            return None
        unchanged = len(args.positional) == count and all(
            bound is arg.value for bound, arg in zip(args.positional, raw, strict=True)
        )
        if args.named or args.flags or not unchanged or any(arg.kind != "pos" for arg in raw):
            self._bad.add(count)
            return None
        self._good.add(count)
        return args


def _make_worker(ex: Executor, segment: tuple[ast.Stage, ...], as_var: str, stmt: ast.Pipeline) -> Worker:
    """The coroutine function that runs one item's worker segment.

    Every worker runs in its own fork of the session (a snapshot: what it
    changes never leaks out or into another worker), with `as_var` bound to
    the typed item and no stdin. Three shapes, cheapest first:

        (empty)            nothing to run: code 0
        one plain builtin  evaluate the words, bind (once per shape), run the tool
        anything else      the full dispatch chain (functions, externals,
                           aliases, redirects, several stages)
    """
    from kaish_kernel.interpreter.executor import IO as _IO

    if not segment:

        async def nothing(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
            return 0

        return nothing

    lone = _lone_builtin(ex, segment)
    if lone is not None:
        tool, cmd = lone
        glob = not tool.schema.patterns_as_data
        is_sleep = tool.schema.name == "sleep"

        binding = _Binding(tool, cmd)

        async def builtin(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
            fork = ex.fork()
            fork.session.scope.set(as_var, item)
            io = _IO(EmptyInput(), out, err)
            try:
                raw = await eval_raw_args(fork, cmd.args, io, glob=glob)
                args = binding.bound(raw)
                if args is None:
                    return await run_tool(fork, tool, cmd.name, raw, io)
                return await call_bound_tool(fork, tool, args, io)
            except KaishRuntimeError as exc:
                err.write(exc.message.rstrip("\n") + "\n")
                return exc.code
            except asyncio.CancelledError:
                if is_sleep:
                    err.write("sleep: interrupted\n")  # what kaish's sleep reports (a timed-out row)
                raise

        return builtin

    pipeline = ast.Pipeline(segment, span=stmt.span)

    async def general(i: int, item: Value, out: CaptureOutput, err: CaptureErrorSink) -> int:
        fork = ex.fork()
        fork.session.scope.set(as_var, item)
        io = _IO(EmptyInput(), out, err)
        try:
            if len(segment) == 1:
                return await run_stage_isolated(fork, segment[0], io)
            return await fork.run_pipeline(pipeline, io)
        except KaishRuntimeError as exc:
            err.write(exc.message.rstrip("\n") + "\n")
            return exc.code

    return general


make_worker = _make_worker  # the Dask engine's workers build theirs the same way


async def run_scatter_pipeline(ex: Executor, stmt: ast.Pipeline, io: IO, si: int, gi: int) -> list[int]:
    from kaish_kernel.interpreter.executor import IO as _IO

    as_json = _wants_json(stmt, si, gi)
    compound = next((s for s in stmt.stages if not isinstance(s, ast.Command)), None)
    if compound is not None:
        kind = type(compound).__name__.lower()
        return await _fail(
            io,
            f"scatter: scatter/gather cannot share a pipeline with a compound stage ({kind});"
            " run the compound on its own and pipe its output in",
            2,
            as_json,
        )
    scatter_cmd, gather_cmd = stmt.stages[si], stmt.stages[gi]
    assert isinstance(scatter_cmd, ast.Command) and isinstance(gather_cmd, ast.Command)
    try:
        sbound = await _options(ex, scatter_cmd, SCATTER_OPTIONS, io)
        gbound = await _options(ex, gather_cmd, GATHER_OPTIONS, io)
        options = parse_scatter_options(sbound.named, sbound.flags, name_problem)
        gather_options = parse_gather_options(gbound.flags)
    except ScatterError as exc:
        prefix = "" if exc.code == 1 else "scatter: "
        return await _fail(io, prefix + exc.message, exc.code, as_json)

    # the item source
    if si == 0:
        raw_bytes = await io.stdin.read_all()
        data = resolve_data(await io.stdin.data())
    else:
        capture = CaptureOutput()
        pre = ast.Pipeline(stmt.stages[:si], span=stmt.span)
        code = await ex.run_pipeline(pre, io.with_stdout(capture))
        if code != 0:
            return [code]
        raw_bytes = capture.getvalue()
        data = resolve_data(capture.data) if capture.data is not NO_DATA else NO_DATA
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        if data is NO_DATA:
            return await _fail(io, f"scatter: input is binary ({len(raw_bytes)} bytes) — decode it to text or JSON first", 2, as_json)
        text = ""
    try:
        items = extract_items(NO_ITEMS_DATA if data is NO_DATA else data, text)
    except ScatterError as exc:
        return await _fail(io, exc.message, exc.code, as_json)
    if not items:
        return [0]

    segment = stmt.stages[si + 1 : gi]
    result = None
    if options.engine is not None or options.scheduler is not None or _engine_set(ex):
        from kaish_kernel.interpreter.dask_engine import run_if_remote

        try:
            result = await run_if_remote(ex, segment, stmt.span, items, options)
        except ScatterError as exc:
            return await _fail(io, exc.message, exc.code, as_json)
    if result is None:
        worker = _make_worker(ex, segment, options.as_var, stmt)
        runner = ScatterGatherRunner(options, progress=ex.session.scatter_progress)
        result = await runner.run(items, worker)
    gathered = format_gather(result, gather_options)
    if gathered.err:
        io.stderr.write(gathered.err)

    post = stmt.stages[gi + 1 :]
    target = CaptureOutput() if post else io.stdout
    redirected = await open_redirects(ex, gather_cmd.redirects, io.with_stdout(target))
    try:
        if gathered.data is not NO_ITEMS_DATA:
            redirected.stdout.set_data(gathered.data, is_value=True)
        if gathered.text:
            await redirected.stdout.write(gathered.text.encode("utf-8"))
    finally:
        await redirected.close()
    if not post:
        return [gathered.code]
    assert isinstance(target, CaptureOutput)
    if gathered.code != 0:
        # a failed gather short-circuits the stages after it (partial rows must
        # not flow on), and its own rows are the statement's output, as in kaish
        await io.stdout.write(target.getvalue())
        return [gathered.code]
    post_stdin = BytesInput(target.getvalue(), target.data)
    return [await ex.run_pipeline(ast.Pipeline(post, span=stmt.span), _IO(post_stdin, io.stdout, io.stderr))]
