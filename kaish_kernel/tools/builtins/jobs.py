"""Job control builtins: jobs, wait, kill, fg, bg, timeout, spawn.

They work on the session's JobManager (`ctx.shell.jobs`). kaish differs
from bash on purpose here: `wait` answers 0 or 1, never the job's own code;
a killed job stays listed (with its output) until `jobs --cleanup`; killing
twice is a harmless no-op.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal as signal_mod
from typing import Any

from kaish_kernel.scheduler.duration import DURATION_HINT, parse_duration, run_with_deadline
from kaish_kernel.scheduler.job import TERMINATING, JobManager
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import Param, Schema
from kaish_kernel.values import Value, display

__all__ = ["TOOLS"]

SIGNALS = ("TERM", "KILL", "INT", "HUP", "STOP", "CONT", "QUIT", "USR1", "USR2")


def _jobs(ctx: ToolContext) -> JobManager:
    manager = ctx.shell.jobs
    if manager is None:
        raise RuntimeError("no job manager in this session")
    return manager  # type: ignore[no-any-return]


def _job_id(spec: str) -> int | None:
    text = spec[1:] if spec.startswith("%") else spec
    return int(text) if text.isdigit() else None


class Jobs(Tool):
    schema = Schema(
        name="jobs",
        summary="List background jobs",
        params=(Param("cleanup", help="Remove finished jobs from the table."),),
        json_output=True,
        examples=(("List jobs", "jobs"), ("Drop finished jobs", "jobs --cleanup")),
        category="jobs",
    )

    async def run(self, ctx: ToolContext) -> int:
        manager = _jobs(ctx)
        if ctx.args.flag("cleanup"):
            await ctx.write_text(f"Cleaned up {manager.cleanup()} completed job(s)\n")
            return 0
        jobs = manager.jobs()
        if ctx.args.json:
            rows: list[dict[str, Any]] = []
            for job in jobs:
                row = job.info().to_dict()
                row["path"] = f"/v/jobs/{job.id}/"
                rows.append(row)
            ctx.stdout.set_data(rows, is_value=True)
            await ctx.write_text(json.dumps(rows, separators=(",", ":"), ensure_ascii=False) + "\n")
            manager.list()
            return 0
        if not jobs:
            await ctx.write_text("(no jobs)\n")
            return 0
        lines = [f"[{j.id}] {j.status.display} {j.command}  /v/jobs/{j.id}/\n" for j in jobs]
        await ctx.write_text("".join(lines))
        manager.list()
        return 0


class Wait(Tool):
    schema = Schema(
        name="wait",
        summary="Wait for background jobs to finish",
        params=(Param("jobs", "str", positional=True, variadic=True, help="Job specs: %N or N."),),
        description="Exit status is 0 when every job waited on is Done, else 1.",
        examples=(("Wait for everything", "wait"), ("Wait for job 1", "wait %1")),
        category="jobs",
    )

    async def run(self, ctx: ToolContext) -> int:
        manager = _jobs(ctx)
        specs = [display(v) for v in ctx.args.positional]
        lines: list[str] = []
        ok = True
        # inside a background job, `wait` waits for the jobs that job started
        # (as a subshell waits for its own children): never for itself, so a
        # job running `wait` cannot deadlock on itself or on a sibling
        own = getattr(ctx.shell, "job_id", None)
        if not specs and own is not None:
            children = [j.id for j in manager.jobs() if j.parent == own and not j.stopped]
            for job_id in children:
                result = await manager.wait(job_id)
                job = manager.get(job_id)
                status = job.status.display if job is not None else (
                    "Done" if result is not None and result.ok else "Failed"
                )
                ok = ok and status == "Done"
                lines.append(f"[{job_id}] {status}\n")
            await ctx.write_text("".join(lines))
            return 0 if ok else 1
        if not specs:
            results = await manager.wait_all()
            if not results:
                await ctx.write_text("(no jobs to wait for)\n")
                return 0
            for job_id, result in results:
                job = manager.get(job_id)
                if job is not None:
                    status = job.status.display
                else:  # dropped by retention meanwhile: its result still says how it went
                    status = "Done" if result.ok else "Failed"
                ok = ok and status == "Done"
                lines.append(f"[{job_id}] {status}\n")
        else:
            for spec in specs:
                number = _job_id(spec)
                if number is None:
                    return ctx.error(f"invalid job id: {spec}")
                job = manager.get(number)
                if job is None:
                    return ctx.error(f"job {number} not found")
                if number == own:
                    return ctx.error(f"job {number} cannot wait for itself")
                if job.stopped:
                    return ctx.error(
                        f"job {number} is stopped and cannot finish; resume it with bg or fg first"
                    )
                await manager.wait(number)
                status = job.status.display
                ok = ok and status == "Done"
                lines.append(f"[{number}] {status}\n")
        await ctx.write_text("".join(lines))
        return 0 if ok else 1


class _KillUsage(Exception):
    pass


TERMINATING_NUMBERS = {int(getattr(signal_mod, f"SIG{name}")) for name in TERMINATING}


def _signal_name(word: str) -> str | None:
    """A known signal name (case-insensitive, optional SIG prefix) in canonical form."""
    name = word.upper().removeprefix("SIG")
    return name if name in SIGNALS else None


def _parse_kill(words: list[str]) -> tuple[str, bool, list[str]]:
    """(signal as written, no_wait, targets), reading words in order as kaish does.

    Raises _KillUsage (exit 2): an unknown option, a missing --signal value,
    or a signal given both as --signal/-s and as a shorthand."""
    explicit: str | None = None
    shorthand: str | None = None
    no_wait = False
    targets: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            targets.extend(words[i:])
            break
        if word == "--no-wait":
            no_wait = True
        elif word == "--json" or word.startswith("--json="):
            continue  # the kernel's flag; nothing to do here
        elif word in ("-s", "--signal"):
            if i >= len(words):
                raise _KillUsage("--signal requires a value")
            explicit = words[i]
            i += 1
        elif word.startswith("--signal="):
            explicit = word.removeprefix("--signal=")
        elif word[1:].isdigit() and word.startswith("-"):
            shorthand = word[1:]  # -9, -15: a signal number
        elif word.startswith("-") and len(word) > 1:
            named = _signal_name(word.lstrip("-"))
            if named is not None:
                shorthand = named  # -KILL, -sigterm, -stop (before the glued -s form)
            elif word.startswith("-s") and len(word) > 2 and not word.startswith("--"):
                explicit = word[2:]  # -sKILL
            else:
                raise _KillUsage(
                    f"unrecognized option {word} — kill accepts --signal/-s NAME or a signal"
                    " shorthand (-TERM/-KILL/-INT/-HUP/-STOP/-CONT/-QUIT/-USR1/-USR2,"
                    " case-insensitive, optional SIG prefix) or -<N> (e.g. -9); see `help kill`"
                )
        else:
            targets.append(word)
    if explicit is not None and shorthand is not None:
        raise _KillUsage("signal specified twice (--signal/-s and a shorthand) — use one form")
    return (explicit if explicit is not None else shorthand or "TERM"), no_wait, targets


def _resolve_signal(written: str) -> tuple[str, int] | None:
    """("TERM", 15) for a known name or any number the OS knows; None otherwise."""
    if written.isdigit():
        try:
            sig = signal_mod.Signals(int(written))
        except ValueError:
            return None
        return sig.name.removeprefix("SIG"), int(sig)
    name = _signal_name(written)
    if name is None:
        return None
    return name, int(getattr(signal_mod, f"SIG{name}"))


class Kill(Tool):
    schema = Schema(
        name="kill",
        summary="Send a signal to a background job (%N) or a process (PID)",
        params=(
            Param("signal", "str", short="s", help="Signal name: TERM KILL INT HUP STOP CONT QUIT USR1 USR2."),
            Param("no-wait", help="Return once the signal is sent instead of confirming the job ended."),
            Param("targets", "str", positional=True, variadic=True, help="%N job specs or PIDs."),
        ),
        usage="kill [-SIGNAL | --signal NAME] [--no-wait] %N|PID...",
        description=(
            "A terminating signal (TERM KILL INT HUP QUIT) ends a job and waits to confirm it"
            " exited; the job stays listed as Killed until `jobs --cleanup`. Externals get the"
            " signal on their whole process group, then KILL after the grace period."
        ),
        examples=(("Stop job 1", "kill %1"), ("Force", "kill -9 %1"), ("Pause", "kill -STOP %1")),
        raw=True,
        category="jobs",
    )

    async def run(self, ctx: ToolContext) -> int:
        words = [display(v) for v in ctx.args.positional]
        try:
            written, no_wait, targets = _parse_kill(words)
        except _KillUsage as exc:
            return ctx.error(str(exc), 2)
        if not targets:
            return ctx.error("usage: kill [--signal SIG | -SIG | -N] target...", 1)
        manager = _jobs(ctx)
        grace = float(getattr(ctx.shell, "kill_grace", manager.kill_grace))
        messages: list[str] = []
        failed = False
        for target in targets:
            ok, message = await self._one(manager, target, written, no_wait, grace)
            failed = failed or not ok
            if message.strip():
                messages.append(message.rstrip())
        text = "\n".join(messages)
        if failed:
            ctx.stderr.write(text + "\n")
            return 1
        await ctx.write_text(text)
        return 0

    async def _one(
        self, manager: JobManager, target: str, written: str, no_wait: bool, grace: float
    ) -> tuple[bool, str]:
        if not target.startswith("%"):
            return self._pid(target, written)
        job_id = _job_id(target)
        if job_id is None:
            return False, f"kill: invalid job reference: {target}"
        job = manager.get(job_id)
        if job is not None and job.result is not None:
            # killing twice is a harmless no-op that names the outcome
            return True, f"kill: job {job_id} already finished ({job.status_string})"
        resolved = _resolve_signal(written)
        if resolved is None:
            return False, f"kill: unknown signal: {written}"
        name, number = resolved
        if job is None:
            return False, f"kill: job {job_id} not found"
        recorded = manager.job_pgids(job_id)
        groups = ", ".join(map(str, recorded))
        if number not in TERMINATING_NUMBERS:
            if not recorded:
                return False, (
                    f"kill: job {job_id} is an in-process task with no process group; only"
                    f" termination signals (TERM/KILL/INT/HUP/QUIT) can be delivered, not {written}"
                )
            if not manager.signal_job(job_id, name):
                return False, (
                    f"kill: job {job_id}: recorded process group(s) {groups} have already"
                    f" exited — nothing to deliver SIG{name} to"
                )
            return True, f"kill: job {job_id}: delivered SIG{name} to process group(s) {groups}"
        delivery = f"SIG{name} to process group(s) {groups}" if recorded else "termination"
        if manager.terminate(job_id, name, settle=min(0.25, grace)) is None:
            return False, (
                f"kill: job {job_id} has no cancellation token and no live process group"
                f" — nothing to deliver {delivery} to"
            )
        if no_wait:
            return True, (
                f"kill: job {job_id}: {delivery} dispatched; not awaited (--no-wait)"
                " — the job stays in jobs until it unwinds"
            )
        bound = grace + 3
        try:
            await asyncio.wait_for(asyncio.shield(job.done.wait()), bound)
        except TimeoutError:
            return False, (
                f"kill: job {job_id}: {delivery} dispatched, but the job has not exited after"
                f" {bound:g}s — check jobs; wait %{job_id} returns its result when it dies"
            )
        return True, f"kill: job {job_id} exited ({job.status_string})"

    def _pid(self, target: str, written: str) -> tuple[bool, str]:
        resolved = _resolve_signal(written)
        if resolved is None:
            return False, f"kill: unknown signal: {written}"
        if not target.lstrip("-").isdigit():
            return False, f"kill: invalid pid: {target}"
        pid = int(target)
        if pid <= 0:
            # kill(0) or kill(-N) would signal a whole process group (kaish's own, for 0)
            return False, f"kill: refusing pid {pid}: only single processes (PID > 0) can be signalled"
        try:
            os.kill(pid, resolved[1])
        except OSError as exc:
            code = errno.errorcode.get(exc.errno or 0, "EIO")
            return False, f"kill: ({pid}): {code}: {os.strerror(exc.errno or 0)}"
        return True, ""


class Fg(Tool):
    schema = Schema(
        name="fg",
        summary="Bring a stopped job to the foreground (interactive terminals only)",
        params=(Param("job", "str", positional=True, help="%N"),),
        category="jobs",
    )

    async def run(self, ctx: ToolContext) -> int:
        return ctx.error("not an interactive terminal")


class Bg(Tool):
    schema = Schema(
        name="bg",
        summary="Resume a stopped job in the background",
        params=(Param("job", "str", positional=True, help="%N"),),
        category="jobs",
    )

    async def run(self, ctx: ToolContext) -> int:
        if not ctx.args.positional:
            return ctx.error("no stopped jobs")
        spec = display(ctx.args.positional[0])
        job_id = _job_id(spec)
        if job_id is None:
            return ctx.error(f"invalid job id: {spec}")
        return ctx.error(f"job {job_id} not found or not stopped")


class Timeout(Tool):
    schema = Schema(
        name="timeout",
        summary="Run a command with a time limit (exit 124 when it runs out)",
        params=(
            Param("duration", "str", positional=True, required=True, help="30, 5s, 500ms, 2m, 1h."),
            Param("command", "any", positional=True, variadic=True, help="The command and its arguments."),
        ),
        usage="timeout DURATION COMMAND [ARGS...]",
        raw=True,
        examples=(("Give up after 5 seconds", "timeout 5s curl -s example.com"),),
        category="jobs",
    )

    async def run(self, ctx: ToolContext) -> int:
        words: list[Value] = list(ctx.args.positional)
        if len(words) < 2:
            return ctx.error("usage: timeout DURATION COMMAND [ARGS...]")
        written = display(words[0])
        seconds = parse_duration(written)
        if seconds is None:
            return ctx.error(f"invalid duration '{written}' ({DURATION_HINT})")

        def note() -> None:
            # written when the timer fires, so what the command reports while
            # unwinding comes after it (kaish: the note, then the command's err)
            ctx.stderr.write(f"timeout: timed out after {written}\n")

        timed_out, code = await run_with_deadline(
            ctx.shell.dispatch(words[1:], ctx), seconds, on_deadline=note
        )
        if not timed_out:
            return code or 0
        if _is_builtin_sleep(ctx, words[1]):
            ctx.stderr.write("sleep: interrupted\n")  # what kaish's sleep says when cancelled
        return 124


def _is_builtin_sleep(ctx: ToolContext, word: Value) -> bool:
    """Is this command word kaish's own `sleep` (not a function or alias of that name)?"""
    name = display(word)
    if name == "/v/bin/sleep":
        return True
    return (
        name == "sleep"
        and name not in ctx.shell.function_names()
        and name not in ctx.shell.aliases
        and ctx.shell.registry.get(name) is not None
    )


def _boundary(value: Value, sink: str) -> str:
    """The text of one scalar crossing into a process; a collection is refused."""
    if isinstance(value, list | dict):
        kind = "record" if isinstance(value, dict) else "list"
        raise ValueError(
            f"cannot use a {kind} as {sink} — serialize it explicitly first, "
            "e.g. `cmd $(tojson $x)`"
        )
    return display(value)


def _spawn_argv(value: Value) -> list[str]:
    """--argv: a list (or JSON array text) of scalars, or one word."""
    if isinstance(value, str) and value.startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            pass  # not an array after all: one argument, as written
    if value is None:
        return []
    if isinstance(value, list):
        return [_boundary(v, "a command argument") for v in value]
    return [_boundary(value, "a command argument")]


def _spawn_env(value: Value) -> dict[str, str]:
    """--env: a record (or JSON object text) of scalars."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"--env: expected a JSON object, got {value!r}") from None
    if not isinstance(value, dict):
        raise ValueError("--env: expected a record of NAME: value")
    return {k: _boundary(v, f"the value of environment variable {k}") for k, v in value.items()}


class Spawn(Tool):
    schema = Schema(
        name="spawn",
        summary="Run one external program with explicit argv, env and cwd",
        params=(
            Param("command", "str", help="The program to run."),
            Param("argv", "any", help="Arguments: a JSON array, or one word."),
            Param("env", "any", help="Extra environment: a JSON object."),
            Param("cwd", "str", help="Working directory."),
            Param("timeout", "any", help="Kill after this many milliseconds (exit 124)."),
            Param("clear-env", help="Start from an empty environment."),
        ),
        category="jobs",
    )

    async def run(self, ctx: ToolContext) -> int:
        from kaish_kernel.scheduler.processes import find_executable, run_external

        command = ctx.args.get("command")
        if not command:
            return ctx.error("--command is required", 2)
        env = {} if ctx.args.flag("clear-env") else ctx.shell.exported_env()
        try:
            args = _spawn_argv(ctx.args.get("argv"))
            if ctx.args.get("env") is not None:
                env.update(_spawn_env(ctx.args.get("env")))
        except ValueError as exc:
            return ctx.error(str(exc))
        timeout_value = ctx.args.get("timeout")
        timeout_ms: int | None = None
        if timeout_value is not None:
            text = display(timeout_value)
            if not text.isdigit():
                return ctx.error(f"invalid timeout '{text}': expected non-negative milliseconds", 2)
            timeout_ms = int(text)
        cwd = ctx.shell.resolve_path(display(ctx.args.get("cwd"))) if ctx.args.get("cwd") else ctx.shell.cwd
        path = find_executable(display(command), env.get("PATH", os.defpath), cwd)
        if path is None:
            return ctx.error(f"{command}: command not found", 127)
        coro = run_external(
            [path, *args], cwd=cwd, env=env, stdin=ctx.stdin, stdout=ctx.stdout,
            stderr=ctx.stderr, kill_grace=0.0,
        )
        if timeout_ms is None:
            return await coro
        timed_out, code = await run_with_deadline(coro, timeout_ms / 1000)
        if not timed_out:
            return code or 0
        return ctx.error(f"{command}: timed out after {timeout_ms}ms", 124)


TOOLS = (Jobs, Wait, Kill, Fg, Bg, Timeout, Spawn)
