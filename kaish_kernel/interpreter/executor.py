"""The tree walker: statements, control flow, pipelines, substitutions.

    run_program ─► run_block ─► run_stmt ─┬─ Pipeline ──► run_pipeline ─► commands.run_command
                                          ├─ AndOr, If, For, While, Case, TestStmt
                                          ├─ Assignment, FunctionDef
                                          └─ Break / Continue / Return / Exit (raise)

Every stage streams: a pipeline's stages run concurrently, joined by bounded
pipes (or real OS pipes between two externals), each in its own fork of the
session; the last stage's changes come back. `$(...)` runs in a fork and
hands back its typed value or its text.

Invariants:

- After every statement of a block, a block whose stdout's reader has gone
  (`reader_closed`) raises BrokenPipeError: a loop feeding `head -n 1` stops,
  as SIGPIPE stops a `sh` subshell; the pipeline counts the stage as code 0.
- A body that owns no loop (a script, a function body, `$(...)`, a sourced
  file) absorbs a `break N` / `continue N` that outran its loops.
- Exit codes are not masked here (`return 300` gives `$?` = 300); only a
  process status is a byte.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.interpreter import commands
from kaish_kernel.interpreter.control import (
    BreakLoop,
    ContinueLoop,
    ExitShell,
    ReturnFromFunction,
)
from kaish_kernel.interpreter.expand import (
    eval_string,
    eval_values,
    eval_word,
    segments_of,
    text_of,
)
from kaish_kernel.interpreter.test_expr import eval_test
from kaish_kernel.lang import ast
from kaish_kernel.scheduler.last_result import RecordingOutput
from kaish_kernel.scheduler.stage import (
    NO_DATA,
    CaptureOutput,
    InputStream,
    OutputStream,
    resolve_data,
)
from kaish_kernel.tools.base import ErrorSink
from kaish_kernel.values import PathError, Value, set_path, type_name

if TYPE_CHECKING:
    from kaish_kernel.interpreter.session import Session
    from kaish_kernel.tools.base import ToolContext

__all__ = ["IO", "Executor"]

_INTEGER = re.compile(r"[+-]?[0-9]+")


LOOP_YIELD_EVERY = 16  # loop passes between yields to the event loop


@dataclass(slots=True)
class IO:
    """The three streams a statement runs with."""

    stdin: InputStream
    stdout: OutputStream
    stderr: ErrorSink

    def with_stdout(self, stdout: OutputStream) -> IO:
        return IO(self.stdin, stdout, self.stderr)


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, one at a time: trailing newlines do not make empty
    items, an empty line inside does; a line's trailing `\r`s are dropped."""
    start, end = 0, len(text.rstrip("\r\n"))
    while start < end:
        stop = text.find("\n", start, end)
        if stop < 0:
            stop = end
        yield text[start:stop].rstrip("\r")
        start = stop + 1


class Executor:
    """Walks statements against one Session (a fork gets its own Executor)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        session.executor = self
        self.cond_depth = 0  # >0 while evaluating an if/while condition (no errexit)
        self.exempt = False  # the last statement's failure is errexit-exempt
        self.subst_status: int | None = None  # code of the last $(...) evaluated
        self.source = ""  # the program text being run (job command strings quote it)
        self.spins = 0  # loop iterations since the last yield to the event loop

    def __repr__(self) -> str:
        return f"<Executor {self.session!r}>"

    def fork(self) -> Executor:
        other = Executor(self.session.fork())
        other.source = self.source
        return other

    # ------------------------------------------------------------------
    # blocks and statements
    # ------------------------------------------------------------------
    async def run_program(self, program: ast.Program, io: IO) -> int:
        self.source = program.source
        io = io.with_stdout(RecordingOutput(io.stdout))
        try:
            return await self.run_block(program.body, io, reset_data=True, absorb=True)
        except ExitShell as exc:
            return exc.code
        except ReturnFromFunction as exc:
            return exc.code
        except BrokenPipeError:
            return self.session.last_status  # the program's own reader has gone

    async def run_block(
        self, block: ast.Block, io: IO, *, reset_data: bool = False, absorb: bool = False
    ) -> int:
        """Run statements in order, applying errexit after each.

        `absorb` marks a body that owns no loop (a script, a function body, a
        `$(...)`): a `break N` / `continue N` that outran its loops ends
        where it was issued, and the next statement runs, as in kaish.
        """
        status = 0
        session = self.session
        recorder = io.stdout if isinstance(io.stdout, RecordingOutput) else None
        start = 0
        for stmt in block:
            if recorder is None:
                if reset_data:
                    io.stdout.set_data(NO_DATA)
            elif reset_data:
                recorder.begin()
            else:
                start = recorder.mark()
            self.exempt = False
            if absorb:
                try:
                    status = await self.run_stmt(stmt, io)
                except (BreakLoop, ContinueLoop):
                    status = 0
            else:
                status = await self.run_stmt(stmt, io)
            session.last_status = status
            if recorder is not None:
                session.last_result = recorder.finish() if reset_data else recorder.note(start)
            if io.stdout.reader_closed:
                # nobody reads this block's output any more (`... | head -n 1`
                # has what it wanted): end here, as SIGPIPE ends a sh subshell
                raise BrokenPipeError("the reader of this output has gone")
            if (
                status != 0
                and session.opts.errexit
                and not self.exempt
                and self.cond_depth == 0
            ):
                raise ExitShell(status)
        return status

    async def run_stmt(self, stmt: ast.Stmt, io: IO) -> int:
        if isinstance(stmt, ast.Pipeline):
            return await self.run_pipeline(stmt, io)
        if isinstance(stmt, ast.AndOr):
            return await self.run_and_or(stmt, io)
        if isinstance(stmt, ast.Assignment):
            return await self.run_assignment(stmt, io)
        if isinstance(stmt, ast.If):
            return await self.run_if(stmt, io)
        if isinstance(stmt, ast.For):
            return await self.run_for(stmt, io)
        if isinstance(stmt, ast.While):
            return await self.run_while(stmt, io)
        if isinstance(stmt, ast.Case):
            return await self.run_case(stmt, io)
        if isinstance(stmt, ast.TestStmt):
            return 0 if await eval_test(self, stmt.expr, io) else 1
        if isinstance(stmt, ast.FunctionDef):
            self.session.functions[stmt.name] = stmt
            return 0
        if isinstance(stmt, ast.Break):
            raise BreakLoop(await self._count(stmt.levels, io, "break"))
        if isinstance(stmt, ast.Continue):
            raise ContinueLoop(await self._count(stmt.levels, io, "continue"))
        if isinstance(stmt, ast.Return):
            raise ReturnFromFunction(await self._code(stmt.value, io, "return"))
        if isinstance(stmt, ast.Exit):
            raise ExitShell(await self._code(stmt.value, io, "exit"))
        raise KaishRuntimeError(f"cannot run {type(stmt).__name__}")

    async def _count(self, expr: ast.Expr | None, io: IO, what: str) -> int:
        if expr is None:
            return 1
        value = await eval_word(self, expr, io)
        text = value.strip() if isinstance(value, str) else None
        if isinstance(value, int) and not isinstance(value, bool):
            count = value
        elif text is not None and _INTEGER.fullmatch(text):
            count = int(text)
        else:
            shown = repr(value) if isinstance(value, str) else type_name(value)
            raise KaishRuntimeError(f"{what}: {shown}: numeric argument required")
        if count < 1:
            raise KaishRuntimeError(f"{what}: {count}: loop count out of range")
        return count

    async def _code(self, expr: ast.Expr | None, io: IO, what: str) -> int:
        """The code of `return [N]` / `exit [N]`, coerced as kaish does: no N
        is 0 (not `$?`), true/false are 0/1, a float truncates, text must be
        an integer. Nothing is masked here; a process exit status is, by the OS."""
        if expr is None:
            return 0
        value = await eval_word(self, expr, io)
        if value is True or value is False:
            return 0 if value else 1
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            code = int(value.strip())
            if -(2**63) <= code < 2**63:  # a 64-bit integer, as kaish reads it
                return code
        shown = repr(value) if isinstance(value, str) else type_name(value)
        raise KaishRuntimeError(f"{what}: numeric argument required: {shown}")

    async def run_and_or(self, stmt: ast.AndOr, io: IO) -> int:
        self.cond_depth += 1
        try:
            left = await self.run_stmt(stmt.left, io)
        finally:
            self.cond_depth -= 1
        self.session.last_status = left
        if (stmt.op == "&&") == (left == 0):
            self.exempt = False
            return await self.run_stmt(stmt.right, io)
        # short-circuited: `false && x` is exempt from errexit; `true || x` is 0 anyway
        self.exempt = True
        return left

    async def run_condition(self, block: ast.Block, io: IO) -> int:
        self.cond_depth += 1
        try:
            return await self.run_block(block, io)
        finally:
            self.cond_depth -= 1

    async def run_if(self, stmt: ast.If, io: IO) -> int:
        for branch in stmt.branches:
            if await self.run_condition(branch.condition, io) == 0:
                return await self.run_block(branch.body, io)
        if stmt.else_body is not None:
            return await self.run_block(stmt.else_body, io)
        return 0

    async def _loop_body(self, body: ast.Block, io: IO) -> tuple[int, bool]:
        """Run one iteration; (status, stop)."""
        self.spins += 1
        if self.spins >= LOOP_YIELD_EVERY:
            # a cancellation checkpoint, and fairness for other cells; not on
            # every pass, as one event-loop turn costs more than `true` does
            self.spins = 0
            await asyncio.sleep(0)
        try:
            return await self.run_block(body, io), False
        except BreakLoop as brk:
            if brk.levels > 1:
                raise BreakLoop(brk.levels - 1) from None
            return 0, True
        except ContinueLoop as cont:
            if cont.levels > 1:
                raise ContinueLoop(cont.levels - 1) from None
            return 0, False

    async def for_items(self, stmt: ast.For, io: IO) -> list[Iterable[Value]]:
        """The loop's items, one iterable per head word, all evaluated before
        the first iteration. A `$(...)` giving text iterates its lines
        (an empty one inside included), lazily: a million-line head costs its text, not a million strings."""
        groups: list[Iterable[Value]] = []
        for expr in stmt.items:
            if isinstance(expr, ast.CommandSubst):
                value = await self.command_substitution(expr, io)
                if isinstance(value, list):
                    groups.append(value)
                elif isinstance(value, str):
                    groups.append(_lines(value))
                else:
                    groups.append((value,))
            else:
                groups.append(await eval_values(self, expr, io))
        return groups

    async def run_for(self, stmt: ast.For, io: IO) -> int:
        groups = await self.for_items(stmt, io)
        scope = self.session.scope
        had, previous = scope.lookup(stmt.var)
        status = 0
        try:
            for item in itertools.chain.from_iterable(groups):
                scope.set(stmt.var, item)
                status, stop = await self._loop_body(stmt.body, io)
                if stop:
                    break
        finally:
            if had:
                scope.set(stmt.var, previous)
            else:
                scope.unset(stmt.var)
        return status

    async def run_while(self, stmt: ast.While, io: IO) -> int:
        status = 0
        while True:
            await asyncio.sleep(0)
            if await self.run_condition(stmt.condition, io) != 0:
                break
            status, stop = await self._loop_body(stmt.body, io)
            if stop:
                break
        return status

    async def run_case(self, stmt: ast.Case, io: IO) -> int:
        subject = text_of(await eval_word(self, stmt.subject, io), "case subject")
        for branch in stmt.branches:
            for pattern_expr in branch.patterns:
                if isinstance(pattern_expr, ast.GlobWord):
                    pattern = pattern_expr.pattern
                else:
                    pattern = await eval_string(self, pattern_expr, io)
                if fnmatch.fnmatchcase(subject, pattern):
                    return await self.run_block(branch.body, io)
        return 0

    async def run_assignment(self, stmt: ast.Assignment, io: IO) -> int:
        self.subst_status = None
        value = await eval_word(self, stmt.value, io)
        scope = self.session.scope
        if stmt.path:
            found, root = scope.lookup(stmt.name)
            if not found:
                raise KaishRuntimeError(f"{stmt.name}: not defined; initialize it first ({stmt.name}=[] or {stmt.name}={{}})")
            segs = await segments_of(self, ast.VarPath(stmt.name, stmt.path), io)
            try:
                value = set_path(root, segs, value, stmt.name)
            except PathError as exc:
                raise KaishRuntimeError(str(exc)) from None
            scope.set(stmt.name, value)
        elif stmt.local:
            scope.set_local(stmt.name, value)
        else:
            scope.set(stmt.name, value)
        return self.subst_status or 0

    # ------------------------------------------------------------------
    # pipelines
    # ------------------------------------------------------------------
    async def run_pipeline(self, stmt: ast.Pipeline, io: IO) -> int:
        if stmt.background:
            return await commands.start_background(self, stmt, io)
        scatter = None
        if len(stmt.stages) > 1 and any(
            isinstance(s, ast.Command) and s.name == "scatter" for s in stmt.stages
        ):
            # The scatter runner and its engine load on first use (start-up time).
            from kaish_kernel.interpreter.scatter_runner import find_scatter, run_scatter_pipeline

            scatter = find_scatter(stmt)
        if scatter is not None:
            codes = await run_scatter_pipeline(self, stmt, io, *scatter)
        elif len(stmt.stages) == 1:
            codes = [await self.run_stage(stmt.stages[0], io)]
        else:
            codes = await commands.run_multistage(self, stmt, io)
        self.session.scope.globals["PIPESTATUS"] = codes
        code = codes[-1]
        if self.session.opts.pipefail:
            code = next((c for c in reversed(codes) if c), 0)
        if stmt.negated:
            self.exempt = True
            code = 0 if code else 1
        return code

    async def run_stage(self, stage: ast.Stage, io: IO) -> int:
        if isinstance(stage, ast.Command):
            return await commands.run_command(self, stage, io)
        return await self.run_stmt(stage, io)

    # ------------------------------------------------------------------
    # substitution, functions, sourcing
    # ------------------------------------------------------------------
    async def command_substitution(self, node: ast.CommandSubst, io: IO) -> Value:
        """Run `$(...)` in a fork; its typed value when it made one, else its text."""
        fork = self.fork()
        fork.session.depth += 1
        if fork.session.depth > commands.MAX_DEPTH:
            raise KaishRuntimeError("maximum recursion depth exceeded")
        capture = CaptureOutput()
        try:
            code = await fork.run_block(
                node.body, io.with_stdout(capture), reset_data=True, absorb=True
            )
        except ExitShell as exc:
            code = exc.code
        except ReturnFromFunction as exc:
            code = exc.code
        self.session.last_status = code
        self.subst_status = code
        if capture.is_value and capture.data is not NO_DATA:
            return resolve_data(capture.data)
        raw = capture.getvalue()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
        return text.rstrip("\n")

    async def call_function(self, fn: ast.FunctionDef, args: list[Value], io: IO) -> int:
        session = self.session
        if session.depth >= commands.MAX_DEPTH:
            raise KaishRuntimeError("maximum recursion depth exceeded")
        session.scope.push_frame(fn.name, args)
        session.depth += 1
        try:
            return await self.run_block(fn.body, io, absorb=True)
        except ReturnFromFunction as ret:
            return ret.code
        finally:
            session.depth -= 1
            session.scope.pop_frame()

    async def source_file(self, path: str, args: list[Value], ctx: ToolContext) -> int:
        io = IO(ctx.stdin, ctx.stdout, ctx.stderr)
        return await commands.source(self, path, args, io)

    async def dispatch_words(self, argv: list[Value], ctx: ToolContext) -> int:
        io = IO(ctx.stdin, ctx.stdout, ctx.stderr)
        return await commands.dispatch_words(self, argv, io)

    def expand_glob(self, pattern: str) -> list[Value]:
        return commands.expand_glob(self, pattern)



