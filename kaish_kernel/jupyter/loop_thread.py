"""A private asyncio event loop on a daemon thread, for code that cannot own one.

    caller thread (IPython cell)            loop thread (runs forever)
    ────────────────────────────            ──────────────────────────
    submit(coro) ── call_soon_threadsafe ──► create_task(coro) ─► Submission.task
    wait(sub) ◄───── concurrent Future ◄──── task done (result / error / cancelled)
      │ KeyboardInterrupt
      └─ sub.cancel() ─ call_soon_threadsafe ─► task.cancel(); wait() then waits
                                                 (bounded) for the task to unwind

Why: `asyncio.run()` cannot be called inside an ipykernel cell (its loop is
already running), and a loop that only runs while a cell runs would freeze
background jobs between cells. A loop of its own keeps jobs running while
IPython sits idle or runs plain Python.

Invariants: callbacks reach the loop in FIFO order, so a cancel requested
right after a submit always finds the task; `wait` returns only when the task
has finished (or a second interrupt gives up on it), so two submissions never
run at once unless the caller starts them that way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["LoopThread", "Submission"]

T = TypeVar("T")

_POLL = 0.25  # seconds: how often a blocked caller wakes (signals land in between)


class Submission(Generic[T]):
    """One coroutine running on the loop thread: its future and its task."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self.task: asyncio.Task[T] | None = None
        self._loop = loop

    def __repr__(self) -> str:
        state = "done" if self.future.done() else "running"
        return f"<Submission {state} task={self.task!r}>"

    def cancel(self) -> None:
        """Ask the loop to cancel the task; safe from any thread."""

        def cancel_task() -> None:
            if self.task is not None:
                self.task.cancel()

        with contextlib.suppress(RuntimeError):  # loop already closed
            self._loop.call_soon_threadsafe(cancel_task)

    def _adopt(self, task: asyncio.Task[T]) -> None:
        self.task = task
        task.add_done_callback(self._settle)

    def _settle(self, task: asyncio.Task[T]) -> None:
        if task.cancelled():
            self.future.cancel()
            self.future.set_running_or_notify_cancel()
            return
        error = task.exception()
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(task.result())


class LoopThread:
    """Own an event loop on a daemon thread; run coroutines on it from anywhere."""

    def __init__(self, name: str = "kaish-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        # daemon: a non-daemon thread would make interpreter exit wait for it
        # *before* atexit handlers run, and atexit is where jobs get killed.
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def __repr__(self) -> str:
        return f"<LoopThread {self._thread.name} alive={self.is_alive()}>"

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        try:
            self.loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def is_alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def in_loop_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> Submission[T]:
        """Start `coro` as a task on the loop; returns at once."""
        submission: Submission[T] = Submission(self.loop)

        def start() -> None:
            submission._adopt(self.loop.create_task(coro))

        try:
            self.loop.call_soon_threadsafe(start)
        except RuntimeError:
            coro.close()
            raise
        return submission

    def wait(self, submission: Submission[T], *, unwind_timeout: float = 10.0) -> T:
        """Block until the submission finishes and return its result.

        Cancellation: a KeyboardInterrupt while waiting cancels the task, waits
        up to `unwind_timeout` for it to unwind (a second interrupt stops
        waiting), then re-raises the KeyboardInterrupt.
        Raises: whatever the coroutine raised; CancelledError if it was cancelled.
        """
        try:
            while not submission.future.done():
                concurrent.futures.wait([submission.future], timeout=_POLL)
        except KeyboardInterrupt:
            submission.cancel()
            with contextlib.suppress(KeyboardInterrupt):
                concurrent.futures.wait([submission.future], timeout=unwind_timeout)
            raise
        return submission.future.result()

    def run(self, coro: Coroutine[Any, Any, T], *, timeout: float | None = None) -> T:
        """Submit and wait; with `timeout`, cancel the task when it is exceeded."""
        submission = self.submit(coro)
        if timeout is None:
            return self.wait(submission)
        try:
            return submission.future.result(timeout)
        except concurrent.futures.TimeoutError:
            submission.cancel()
            raise

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop (pending tasks are abandoned) and join the thread."""
        if self.loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.in_loop_thread():
            self._thread.join(timeout)
