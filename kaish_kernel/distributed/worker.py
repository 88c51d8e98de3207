"""The Dask task: run one item's worker segment in a kaish Shell on the worker.

    Dask worker thread                          kaish loop thread (one per process)
    ──────────────────                          ───────────────────────────────────
    run_item(spec, i, item)
      WorkerHost.current() ───── first call ──► Shell() built on its own event loop
      host.run(spec, i, item, probe) ─────────► template(spec): restore the snapshot and
        (waits)                                   build the worker function, once per spec
                                                ScatterGatherRunner([item], timeout): the
                                                  very code that makes a local row
                                                every POLL seconds: probe() says the Dask
                                                  task was cancelled, or the worker is
                                                  closing? cancel the run (its externals
                                                  get TERM, grace, KILL)
      ◄──────────────────────── (row, failure label) ┘

Why a loop thread of its own: the Dask worker's event loop talks to the
scheduler (heartbeats, transfers); a segment that keeps the CPU busy in a
builtin must never hold that up. Each Dask thread only waits for its item.

Invariants:

- The row is made here by the same runner as a local row, so a remote row
  equals a local one field for field (the item index is put back: the
  runner numbers its single item 0).
- `--timeout` is enforced here, on the worker: the run is cancelled when the
  timer fires even if the client has gone away.
- A Dask task that is cancelled (the client cancelled its future, was
  interrupted or went away) ends its run within POLL seconds plus the kill
  grace; nothing it started outlives it.
- A nested fan-out inside a worker runs locally unless it asks for Dask
  with `--engine dask` itself: `ON_DASK_WORKER` tells the engine choice.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kaish_kernel.distributed.snapshot import SegmentSpec, restore
from kaish_kernel.interpreter.executor import Executor
from kaish_kernel.interpreter.scatter_runner import make_worker
from kaish_kernel.scheduler.scatter import (
    ScatterGatherRunner,
    ScatterOptions,
    Worker,
    WorkerOutcome,
    make_row,
)
from kaish_kernel.shell import Shell
from kaish_kernel.values import Value

__all__ = ["ON_DASK_WORKER", "POLL", "RowResult", "WorkerHost", "run_item"]

POLL = 0.05  # seconds between looks at whether the Dask task was cancelled
TEMPLATES = 8  # restored sessions kept per worker process, most recent first

ON_DASK_WORKER: contextvars.ContextVar[bool] = contextvars.ContextVar("kaish_on_dask_worker", default=False)

RowResult = tuple[dict[str, Value], str | None]
"""A row and its failure label (None when the worker succeeded)."""


def _never() -> bool:
    return False


class WorkerHost:
    """One kaish Shell per worker process, on an event loop of its own.

    Restoring a snapshot is done once per scatter run (per `spec.token`);
    each item then runs in a fork of that restored session, as a local
    worker runs in a fork of the user's session."""

    _current: WorkerHost | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="kaish-worker-loop", daemon=True)
        self._thread.start()
        self.shell: Shell = asyncio.run_coroutine_threadsafe(self._build(), self.loop).result()
        self._templates: OrderedDict[str, Worker] = OrderedDict()

    def __repr__(self) -> str:
        return f"<WorkerHost {self.shell!r} templates={len(self._templates)}>"

    @classmethod
    def current(cls) -> WorkerHost:
        """This process's host, made on first use (safe from any thread)."""
        with cls._lock:
            if cls._current is None:
                cls._current = WorkerHost()
            return cls._current

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @staticmethod
    async def _build() -> Shell:
        return Shell(script_name="kaish", guard_orphans=True)

    def run(self, spec: SegmentSpec, i: int, item: Value, cancelled: Callable[[], bool] = _never) -> RowResult:
        """Run item `i` to its row, blocking the calling thread (a Dask worker thread)."""
        future = asyncio.run_coroutine_threadsafe(self.run_async(spec, i, item, cancelled), self.loop)
        return future.result()

    def _template(self, spec: SegmentSpec) -> Worker:
        worker = self._templates.get(spec.token)
        if worker is not None:
            self._templates.move_to_end(spec.token)
            return worker
        executor = Executor(restore(spec.snapshot, self.shell.session))
        worker = make_worker(executor, spec.segment, spec.as_var, spec.pipeline)
        self._templates[spec.token] = worker
        while len(self._templates) > TEMPLATES:
            self._templates.popitem(last=False)
        return worker

    async def run_async(
        self, spec: SegmentSpec, i: int, item: Value, cancelled: Callable[[], bool] = _never
    ) -> RowResult:
        """The row for item `i` (on the host's loop). See the module docstring."""
        ON_DASK_WORKER.set(True)  # this task's own context: nested scatters stay local
        runner = ScatterGatherRunner(ScatterOptions(spec.as_var, 1, spec.timeout))
        task = asyncio.ensure_future(runner.run([item], self._template(spec)))
        try:
            while not task.done():
                await asyncio.wait([task], timeout=POLL)
                if not task.done() and cancelled():
                    task.cancel()
                    await asyncio.wait([task])  # until its externals are gone
                    return make_row(i, item, WorkerOutcome(130, err="scatter: cancelled\n"), False)
        except asyncio.CancelledError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([task])
            raise
        result = task.result()
        row = result.rows[0]
        row["i"] = i  # the runner saw one item, numbered 0; the key keeps its place
        return row, (result.failed_labels[0] if result.failed_labels else None)


def _cancel_probe() -> Callable[[], bool]:
    """A check, safe from another thread, that says whether the Dask task that
    called us has been cancelled or its worker is closing. Outside a Dask
    task (a direct call) it always says no."""
    try:
        from distributed import get_worker
        from distributed.core import Status
        from distributed.worker import thread_state

        worker: Any = get_worker()
        key = thread_state.key
    except (ImportError, ValueError, AttributeError):
        return _never
    ending = (Status.closing, Status.closed, Status.failed)

    def cancelled() -> bool:
        if worker.status in ending:
            return True
        task = worker.state.tasks.get(key)
        return task is None or task.state in ("cancelled", "released", "forgotten")

    return cancelled


def run_item(spec: SegmentSpec, i: int, item: Value) -> RowResult:
    """The Dask task: item `i`'s row, made by this process's kaish Shell."""
    return WorkerHost.current().run(spec, i, item, _cancel_probe())
