"""What a fan-out ships to a Dask worker: the segment, and the session it runs in.

    SegmentSpec ─┬─ token      one id per scatter run; the worker caches its restore by it
                 ├─ segment    the worker stages, as parsed (frozen AST nodes pickle as they are)
                 ├─ as_var, timeout, span
                 └─ snapshot   SessionSnapshot ─┬─ variables: globals, function frames,
                                                │  exported names, $0 and $1..
                                                ├─ functions (syntax trees), aliases
                                                └─ cwd, previous cwd, HOME, set options,
                                                   kill grace, call depth, $?

`capture(session)` takes the snapshot on the client, exactly what a local
fork copies (spec §0.4); `restore(snapshot, base)` turns it back into a
Session on the worker, sharing the worker Shell's registry, VFS and job
table as a local fork shares its parent's. Everything here is plain data:
values are JSON-like (or bytes), functions are syntax trees, so pickling
needs no help. The spec is sent to the workers once per scatter run; each
item's task carries only its index and its item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kaish_kernel.interpreter.scope import Frame, Scope
from kaish_kernel.interpreter.session import Session
from kaish_kernel.lang import ast
from kaish_kernel.lang.span import Span
from kaish_kernel.tools.base import ShellOptions
from kaish_kernel.values import Value

__all__ = ["SegmentSpec", "SessionSnapshot", "capture", "restore"]


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """A session's state, as a fork would copy it (spec §0.4)."""

    globals: Mapping[str, Value]
    frames: tuple[tuple[Mapping[str, Value], tuple[Value, ...], str], ...]  # locals, args, name
    exported: frozenset[str]
    script_name: str
    script_args: tuple[Value, ...]
    functions: Mapping[str, ast.FunctionDef]
    aliases: Mapping[str, str]
    cwd: str
    prev_cwd: str
    home: str
    options: tuple[bool, bool, bool]  # errexit, pipefail, glob
    kill_grace: float
    depth: int
    last_status: int


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """One scatter run's worker segment and everything it needs but the item."""

    token: str
    segment: tuple[ast.Stage, ...]
    span: Span
    as_var: str
    timeout: float | None
    snapshot: SessionSnapshot

    @property
    def pipeline(self) -> ast.Pipeline:
        return ast.Pipeline(self.segment, span=self.span)


def capture(session: Session) -> SessionSnapshot:
    """The snapshot of `session` that a worker's fork starts from."""
    scope = session.scope
    opts = session.opts
    return SessionSnapshot(
        globals=dict(scope.globals),
        frames=tuple((dict(f.locals), tuple(f.args), f.name) for f in scope.frames),
        exported=frozenset(scope.exported),
        script_name=scope.script_name,
        script_args=tuple(scope.script_args),
        functions=dict(session.functions),
        aliases=dict(session.alias_table),
        cwd=session.cwd_path,
        prev_cwd=session.prev_cwd,
        home=session.home,
        options=(opts.errexit, opts.pipefail, opts.glob),
        kill_grace=session.kill_grace,
        depth=session.depth,
        last_status=session.last_status,
    )


def restore(snapshot: SessionSnapshot, base: Session) -> Session:
    """A session in `snapshot`'s state that shares `base`'s registry, VFS and jobs."""
    session = base.fork()
    scope = Scope()
    scope.globals = dict(snapshot.globals)
    scope.frames = [Frame(dict(local), list(args), name) for local, args, name in snapshot.frames]
    scope.exported = set(snapshot.exported)
    scope.script_name = snapshot.script_name
    scope.script_args = list(snapshot.script_args)
    session.scope = scope
    session.functions = dict(snapshot.functions)
    session.alias_table = dict(snapshot.aliases)
    session.cwd_path = snapshot.cwd
    session.prev_cwd = snapshot.prev_cwd
    session.home = snapshot.home
    session.opts = ShellOptions(*snapshot.options)
    session.kill_grace = snapshot.kill_grace
    session.depth = snapshot.depth
    session.last_status = snapshot.last_status
    session.scatter_progress = None  # nobody on the worker draws a nested fan-out's progress
    return session
