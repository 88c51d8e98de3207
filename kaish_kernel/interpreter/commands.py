"""Running one command: aliases, prefixes, arguments, redirects, dispatch.

The dispatch chain, first match wins:

    source / .  ─► run a script in this session
    alias       ─► re-parse the alias text in front of the arguments (10 deep)
    /v/bin/NAME ─► the builtin NAME
    function    ─► a new frame with $1.. bound to the words
    builtin     ─► bind against the tool's schema, Tool.run(ctx)
    external    ─► PATH lookup (or a path with '/'), own process group
    otherwise   ─► 127 "command not found: NAME"
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError, KaishSyntaxError
from kaish_kernel.interpreter.control import (
    BreakLoop,
    ContinueLoop,
    ExitShell,
    ReturnFromFunction,
)
from kaish_kernel.interpreter.expand import eval_raw_args, eval_word, text_of
from kaish_kernel.interpreter.json_errors import JsonErrorWatch, json_requested
from kaish_kernel.interpreter.redirects import open_redirects
from kaish_kernel.interpreter.scope import positional_text
from kaish_kernel.interpreter.session import MAX_RECURSION_DEPTH
from kaish_kernel.lang import ast
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import (
    BoundArgs,
    RawArg,
    UsageError,
    bind,
    format_help,
    words_to_raw,
)
from kaish_kernel.values import Value, ValueError_, display, is_collection

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import IO, Executor

__all__ = [
    "MAX_DEPTH",
    "dispatch_words",
    "expand_glob",
    "run_command",
    "run_multistage",
    "source",
    "start_background",
]

MAX_DEPTH = MAX_RECURSION_DEPTH
MAX_ALIAS_DEPTH = 10


# ----------------------------------------------------------------------
# resolution
# ----------------------------------------------------------------------
def _alias_command(ex: Executor, cmd: ast.Command) -> ast.Command:
    """Expand aliases on the first word, up to MAX_ALIAS_DEPTH levels."""
    if cmd.name not in ex.session.alias_table:
        return cmd  # the common case, checked before any set-up
    from kaish_kernel.lang.parser import parse

    seen: set[str] = set()
    for _ in range(MAX_ALIAS_DEPTH):
        text = ex.session.alias_table.get(cmd.name)
        if text is None or cmd.name in seen:
            return cmd
        seen.add(cmd.name)
        try:
            program = parse(text)
        except KaishSyntaxError as exc:
            raise KaishRuntimeError(f"alias {cmd.name}: {exc.message}") from None
        if len(program.body) != 1 or not isinstance(program.body[0], ast.Pipeline):
            raise KaishRuntimeError(f"alias {cmd.name}: the alias must be a single command")
        inner = program.body[0].stages[0]
        if len(program.body[0].stages) != 1 or not isinstance(inner, ast.Command):
            raise KaishRuntimeError(f"alias {cmd.name}: the alias must be a single command")
        cmd = ast.Command(
            inner.name,
            inner.args + cmd.args,
            inner.redirects + cmd.redirects,
            inner.env + cmd.env,
            cmd.span,
        )
    return cmd


def _builtin(ex: Executor, name: str) -> Tool | None:
    if name.startswith("/v/bin/"):
        return ex.session.registry.get(name[len("/v/bin/") :])
    return ex.session.registry.get(name)


def is_external(ex: Executor, cmd: ast.Command) -> bool:
    """Would this command run as an OS process? (Then pipes to it can be OS pipes.)"""
    cmd = _alias_command(ex, cmd)
    name = cmd.name
    if name in ("source", ".") or name in ex.session.functions:
        return False
    if _builtin(ex, name) is not None or name.startswith("/v/"):
        return False
    return find_script(ex, name) is None


def expand_glob(ex: Executor, pattern: str) -> list[Value]:
    from kaish_kernel.tools.builtins._globbing import expand_glob as _expand

    matches = _expand(pattern, ex.session.cwd_path, vfs=ex.session.vfs)
    if not matches:
        raise KaishRuntimeError(f"no matches for pattern '{pattern}'")
    return list(matches)


# ----------------------------------------------------------------------
# one command
# ----------------------------------------------------------------------
async def run_command(ex: Executor, cmd: ast.Command, io: IO) -> int:
    """Run one simple command. `A=1 B=2 cmd` prefixes are exported for the
    command's duration (a function it calls and every process it starts see
    them) and put back afterwards, export marks included."""
    cmd = _alias_command(ex, cmd)
    scope = ex.session.scope
    saved: list[tuple[str, bool, Value, bool]] = []
    try:
        for assignment in cmd.env:
            value = await eval_word(ex, assignment.value, io)
            name = assignment.name
            found, old = scope.lookup(name)
            saved.append((name, found, old, name in scope.exported))
            scope.set(name, value)
            scope.exported.add(name)
        tool = _builtin(ex, cmd.name)
        glob_ok = not (tool is not None and tool.schema.patterns_as_data)
        raw = await eval_raw_args(ex, cmd.args, io, glob=glob_ok)
        if not cmd.redirects:
            return await dispatch(ex, cmd.name, raw, io)
        try:
            redirected = await open_redirects(ex, cmd.redirects, io)
        except KaishRuntimeError as exc:
            io.stderr.write(exc.message.rstrip("\n") + "\n")
            return 1
        try:
            from kaish_kernel.interpreter.executor import IO as _IO

            sub_io = _IO(redirected.stdin, redirected.stdout, redirected.stderr)
            return await dispatch(ex, cmd.name, raw, sub_io)
        finally:
            await redirected.close()
    finally:
        for name, found, old, exported in reversed(saved):
            if found:
                scope.set(name, old)
            else:
                scope.unset(name)
            if exported:
                scope.exported.add(name)
            else:
                scope.exported.discard(name)


async def dispatch(ex: Executor, name: str, raw: list[RawArg], io: IO) -> int:
    if name in ("source", "."):
        words = [a.as_word() for a in raw]
        if not words:
            io.stderr.write(f"{name}: usage: {name} FILE [ARGS...]\n")
            return 2
        return await source(ex, text_of(words[0], "source"), words[1:], io)
    if name.startswith("/v/bin/"):
        tool = _builtin(ex, name)
        if tool is None:
            io.stderr.write(f"command not found: {name}\n")
            return 127
        return await run_tool(ex, tool, name, raw, io)
    fn = ex.session.functions.get(name)
    if fn is not None:
        return await ex.call_function(fn, _words(name, raw), io)
    tool = ex.session.registry.get(name)
    if tool is not None:
        return await run_tool(ex, tool, name, raw, io)
    script = find_script(ex, name)
    if script is not None:
        return await run_script(ex, name, script, _words(name, raw), io)
    return await run_external(ex, name, _words(name, raw), io)


def _words(name: str, raw: list[RawArg]) -> list[Value]:
    """Arguments as words for a function, script or process; a `--k=v` whose
    value is binary cannot become one word of text, and says so."""
    try:
        return [a.as_word() for a in raw]
    except ValueError_ as exc:
        raise KaishRuntimeError(f"{name}: {exc}") from None


async def dispatch_words(ex: Executor, argv: list[Value], io: IO) -> int:
    """Run a command given as words (for `timeout`, scatter workers, ...)."""
    if not argv:
        return 0
    return await dispatch(ex, text_of(argv[0], "command name"), words_to_raw(argv[1:]), io)


async def run_tool(ex: Executor, tool: Tool, name: str, raw: list[RawArg], io: IO) -> int:
    if not raw or not json_requested(tool.schema, raw):
        return await _run_tool(ex, tool, name, raw, io)
    # `--json`: a failure that printed nothing answers with a JSON error object
    watch = JsonErrorWatch(io.stdout, io.stderr)
    code = await _run_tool(ex, tool, name, raw, replace(io, stdout=watch.stdout, stderr=watch.stderr))
    return await watch.finish(code)


async def _run_tool(ex: Executor, tool: Tool, name: str, raw: list[RawArg], io: IO) -> int:
    schema = tool.schema
    if raw and not schema.raw and any(a.kind == "long" and a.name == "help" for a in raw):
        if schema.param("help") is None:
            await io.stdout.write(format_help(schema).encode())
            return 0
    try:
        args = bind(schema, raw, name)
    except UsageError as exc:
        io.stderr.write(f"{schema.name}: {exc}\n")
        return 2
    except ValueError_ as exc:
        io.stderr.write(f"{schema.name}: {exc}\n")
        return 1
    return await call_bound_tool(ex, tool, args, io)


async def call_bound_tool(ex: Executor, tool: Tool, args: BoundArgs, io: IO) -> int:
    """Run a builtin on bound arguments; its expected failures become a
    message and a status (scatter's one-builtin fast path calls this too)."""
    ctx = ToolContext(
        name=tool.schema.name,
        args=args,
        stdin=io.stdin,
        stdout=io.stdout,
        stderr=io.stderr,
        shell=ex.session,
        interactive=ex.session.interactive,
    )
    try:
        return await tool.run(ctx)
    except BrokenPipeError:
        # the reader has gone: this raises out of the enclosing compound, so a
        # loop feeding `head` stops (the pipeline counts the stage as code 0)
        raise
    except KaishRuntimeError as exc:
        return ctx.error(exc.message, exc.code)
    except ValueError_ as exc:
        return ctx.error(str(exc))
    except UsageError as exc:
        return ctx.error(str(exc), 2)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return ctx.error(f"{where}{exc.strerror or exc}")


async def run_external(ex: Executor, name: str, words: list[Value], io: IO) -> int:
    from kaish_kernel.scheduler.processes import find_executable
    from kaish_kernel.scheduler.processes import run_external as spawn

    session = ex.session
    env = session.process_env()
    if "/" in name:
        path = session.resolve_path(name)
    else:
        found = find_executable(name, env.get("PATH", ""))
        if found is None:
            io.stderr.write(f"command not found: {name}\n")
            return 127
        path = found
    argv: list[str] = [path]
    for word in words:
        if is_collection(word):
            kind = "list" if isinstance(word, list) else "record"
            raise KaishRuntimeError(
                f"cannot use a {kind} as a command argument — serialize it explicitly"
                " first, e.g. `cmd $(tojson $x)`"
            )
        else:
            try:
                argv.append(display(word))
            except ValueError_ as exc:
                raise KaishRuntimeError(f"{name}: {exc}") from None
    real_cwd = session.vfs.real_path(session.cwd_path)
    if real_cwd is None:
        io.stderr.write(f"{name}: the working directory {session.cwd_path} is virtual; nowhere to spawn\n")
        return 127
    jobs = session.job_manager
    job_id = session.job_id
    on_spawn = None
    if jobs is not None and job_id is not None:

        def on_spawn(pgid: int) -> None:
            jobs.add_pgid(job_id, pgid)

    return await spawn(
        argv,
        cwd=real_cwd,
        env=env,
        stdin=io.stdin,
        stdout=io.stdout,
        stderr=io.stderr,
        kill_grace=session.kill_grace,
        on_spawn=on_spawn,
    )


# ----------------------------------------------------------------------
# pipelines, background, source
# ----------------------------------------------------------------------
async def run_stage_isolated(ex: Executor, stage: ast.Stage, io: IO) -> int:
    """A pipeline stage is a boundary: exit/return end only the stage."""
    try:
        return await ex.run_stage(stage, io)
    except (ExitShell, ReturnFromFunction) as exc:
        return exc.code
    except (BreakLoop, ContinueLoop):
        return ex.session.last_status


async def run_multistage(ex: Executor, stmt: ast.Pipeline, io: IO) -> list[int]:
    from kaish_kernel.interpreter.executor import IO as _IO
    from kaish_kernel.scheduler.pipeline import PipelineRunner, StageSpec

    """Run the stages concurrently. A stage that fails with a kaish error
    (`echo $UNSET | cat`) ends, the others finish, and then the error is
    raised for the whole statement, as kaish aborts on it."""
    forks = [ex.fork() for _ in stmt.stages]
    specs = []
    errors: list[KaishRuntimeError] = []
    for fork, stage in zip(forks, stmt.stages, strict=True):
        external = isinstance(stage, ast.Command) and is_external(ex, stage)

        async def run(stdin, stdout, fork=fork, stage=stage):  # type: ignore[no-untyped-def]
            try:
                return await run_stage_isolated(fork, stage, _IO(stdin, stdout, io.stderr))
            except KaishRuntimeError as exc:
                errors.append(exc)
                return exc.code

        specs.append(StageSpec(run=run, external=external))
    codes = await PipelineRunner().run(specs, stdin=io.stdin, stdout=io.stdout, stderr=io.stderr)
    if errors:
        raise errors[0]
    ex.session.adopt(forks[-1].session)
    return codes


async def start_background(ex: Executor, stmt: ast.Pipeline, io: IO) -> int:
    from kaish_kernel.interpreter.jobs_runner import start_job

    return await start_job(ex, stmt, io)


def find_script(ex: Executor, name: str) -> str | None:
    """`NAME.kai` in a $PATH directory (the session's PATH; `/bin` when unset)."""
    if "/" in name or not name:
        return None
    session = ex.session
    found, path_value = session.scope.lookup("PATH")
    search = display(path_value) if found and isinstance(path_value, str) else "/bin"
    for directory in search.split(":"):
        if not directory:
            continue
        candidate = session.resolve_path(posixpath.join(directory, name + ".kai"))
        try:
            if session.vfs.is_file(candidate):
                return candidate
        except (OSError, ValueError):
            continue
    return None


def _load_file(ex: Executor, path: str, label: str, io: IO) -> ast.Program | None:
    """Read, parse and validate a kaish file; report trouble and warnings after `label`."""
    from kaish_kernel.lang.parser import parse, validate

    try:
        text = ex.session.vfs.read_bytes(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        io.stderr.write(f"{label}{reason}\n")
        return None
    try:
        program = parse(text)
        warnings = validate(program, file_body=True)
    except KaishSyntaxError as exc:
        io.stderr.write(f"{label}{exc.render()}\n")
        return None
    for warning in warnings:
        io.stderr.write(f"{label}{warning.render()}\n")
    return program


async def run_script(ex: Executor, name: str, path: str, args: list[Value], io: IO) -> int:
    """Run a `.kai` script found on PATH in isolation, like a subshell: a
    fresh scope (no variables, not even exported ones; $0 is NAME, $1.. the
    words), the caller's errexit, functions and cwd visible, nothing back."""
    from kaish_kernel.interpreter.scope import Scope

    program = _load_file(ex, path, f"{path}: ", io)
    if program is None:
        return 1
    fork = ex.fork()
    fork.session.depth += 1
    if fork.session.depth > MAX_DEPTH:
        raise KaishRuntimeError("maximum recursion depth exceeded")
    scope = Scope()
    scope.script_name = name
    scope.script_args = [positional_text(a) for a in args]
    fork.session.scope = scope
    fork.source = program.source
    try:
        return await fork.run_block(program.body, io, absorb=True)
    except (ExitShell, ReturnFromFunction) as exc:
        return exc.code


async def source(ex: Executor, path: str, args: list[Value], io: IO) -> int:
    """Run a kaish file in this session; `return` ends the file."""
    session = ex.session
    program = _load_file(ex, session.resolve_path(path), f"source: {path}: ", io)
    if program is None:
        return 1
    if session.depth >= MAX_DEPTH:
        raise KaishRuntimeError("maximum recursion depth exceeded")
    session.depth += 1
    pushed = bool(args)
    if pushed:
        session.scope.push_frame(path, list(args))
    try:
        return await ex.run_block(program.body, io, absorb=True)
    except (ReturnFromFunction, ExitShell) as ret:
        # `exit` in a sourced file ends the file, not the caller (as in kaish)
        return ret.code
    finally:
        session.depth -= 1
        if pushed:
            # keep variables the script set in its frame: move locals up
            frame = session.scope.frames[-1]
            session.scope.pop_frame()
            for k, v in frame.locals.items():
                session.scope.set(k, v)

