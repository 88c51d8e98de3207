"""scatter's Dask engine, the client side: ship each item's worker segment to a cluster.

    choose_engine ── --engine / --scheduler, else $KAISH_SCATTER_ENGINE and
          │          $KAISH_DASK_SCHEDULER (session variables: the environment
          │          reaches a session as its variables) ── None means local
          ▼
    run_on_dask
      connect ────────── one asynchronous Client per address per Shell, made on
          │              first use, fail fast (CONNECT_TIMEOUT) with exit 2
      scatter(spec) ──── the segment and the session snapshot, to every worker, once
          │
      for each item, in order:                       ┌──────── Dask worker ─────────┐
          take a permit (--limit tasks in flight) ─► │ run_item(spec, i, item):     │
          submit ──────────────────────────────────► │ kaish Shell, --timeout here, │
          row ◄──────────────────────────────────────│ the same row as local        │
                                                     └──────────────────────────────┘
      rows in item order ─► ScatterResult (gather formats it as for local rows)

The client runs on the shell's own event loop (`Client(..., asynchronous=True)`).
Cancelling the pipeline (a notebook interrupt, `timeout`, `kill`) cancels
every future still out; the workers see their tasks cancelled and stop them
(externals get TERM, grace, KILL). `--timeout` is enforced on the worker,
where the run is. A task that fails in Dask itself (a worker that died, an
exception in the task) becomes a `<worker panicked>` row, as a local crash.

`distributed` is an optional dependency (the `dask` extra): it is imported
here only when the engine is used, and its absence is exit 2 with the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from kaish_kernel.distributed.snapshot import SegmentSpec, capture
from kaish_kernel.lang import ast
from kaish_kernel.scheduler.scatter import (
    ScatterError,
    ScatterOptions,
    ScatterProgress,
    ScatterResult,
    WorkerOutcome,
    make_row,
)
from kaish_kernel.values import Value

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import Executor
    from kaish_kernel.interpreter.session import Session

__all__ = [
    "CONNECT_TIMEOUT",
    "ENGINE_VARIABLE",
    "SCHEDULER_VARIABLE",
    "DaskClients",
    "choose_engine",
    "close_clients",
    "run_if_remote",
    "run_on_dask",
]

ENGINE_VARIABLE = "KAISH_SCATTER_ENGINE"
SCHEDULER_VARIABLE = "KAISH_DASK_SCHEDULER"
TIMEOUT_VARIABLE = "KAISH_DASK_CONNECT_TIMEOUT"
CONNECT_TIMEOUT = 3.0  # seconds to reach the scheduler (and see a worker) before exit 2
CANCEL_TIMEOUT = 5.0  # seconds to wait for the scheduler to take a cancel
INSTALL_HINT = "pip install 'kaish-kernel[dask]'"


def _setting(session: Session, name: str) -> str | None:
    found, value = session.scope.lookup(name)
    if not found or not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def choose_engine(session: Session, options: ScatterOptions) -> str | None:
    """The Dask scheduler address to run on, or None for the local engine.

    The options win (`--scheduler` alone implies `--engine dask`); then the
    session's variables. Inside a Dask worker the variables are not
    consulted: a nested fan-out there runs locally unless it asks itself.
    Raises ScatterError (exit 2) for an unknown engine or a missing address.
    """
    from kaish_kernel.distributed.worker import ON_DASK_WORKER

    engine = options.engine
    if engine is None and options.scheduler is not None:
        engine = "dask"
    if engine is None and not ON_DASK_WORKER.get():
        engine = _setting(session, ENGINE_VARIABLE)
        if engine is not None and engine.lower() not in ("local", "dask"):
            raise ScatterError(
                f'scatter: ${ENGINE_VARIABLE}: expected local or dask, got "{engine}"', 2
            )
    if engine is None or engine.lower() == "local":
        return None
    address = options.scheduler or _setting(session, SCHEDULER_VARIABLE)
    if address is None:
        raise ScatterError(
            "scatter: the dask engine needs a scheduler address: --scheduler tcp://HOST:8786"
            f" or ${SCHEDULER_VARIABLE}",
            2,
        )
    return address


def _connect_timeout(session: Session) -> float:
    text = _setting(session, TIMEOUT_VARIABLE)
    try:
        return max(0.1, float(text)) if text is not None else CONNECT_TIMEOUT
    except ValueError:
        return CONNECT_TIMEOUT


async def _probe(address: str, timeout: float) -> None:
    """Fail at once when nothing listens at a TCP address: Dask itself would
    retry a refused connection until its timeout."""
    from distributed.comm import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme not in ("tcp", "tls"):
        return
    host, port = parse_host_port(location)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except ConnectionRefusedError:
        raise ConnectionRefusedError("connection refused") from None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class DaskClients:
    """The Dask clients of one Shell (shared by all its forks): one per
    scheduler address, connected on first use and kept until the Shell closes.

    Concurrent first uses of one address share a single connection attempt.
    A client that lost its scheduler, or belongs to another event loop, is
    replaced on the next use."""

    def __init__(self) -> None:
        self._clients: dict[str, asyncio.Task[Any]] = {}

    def __repr__(self) -> str:
        return f"<DaskClients {sorted(self._clients)}>"

    async def get(self, address: str, timeout: float) -> Any:
        """A connected client for `address`. Raises ScatterError (exit 2)."""
        try:
            import distributed
        except ImportError:
            raise ScatterError(
                f"scatter: the dask engine (scheduler {address}) needs the optional"
                f" Dask support, which is not installed: {INSTALL_HINT}",
                2,
            ) from None
        loop = asyncio.get_running_loop()
        attempt = self._clients.get(address)
        if attempt is not None and attempt.done():
            client = None if attempt.cancelled() or attempt.exception() else attempt.result()
            if client is None or client.status != "running" or client.loop.asyncio_loop is not loop:
                del self._clients[address]
                attempt = None
                if client is not None and client.loop.asyncio_loop is loop:
                    await _close(client, 1.0)  # lost its scheduler: stop its reconnecting
        if attempt is None:
            attempt = loop.create_task(self._connect(distributed, address, timeout))
            self._clients[address] = attempt
        try:
            return await asyncio.shield(attempt)
        except (OSError, TimeoutError, ValueError, RuntimeError, TypeError) as exc:
            if self._clients.get(address) is attempt:
                del self._clients[address]
            if isinstance(exc, TimeoutError) or "Timed out" in str(exc):
                reason = f"no answer within {timeout:g}s"
            elif isinstance(exc, OSError) and exc.strerror:
                reason = exc.strerror.lower()
            else:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ScatterError(f"scatter: cannot reach the Dask scheduler at {address}: {reason}", 2) from None

    @staticmethod
    async def _connect(distributed: Any, address: str, timeout: float) -> Any:
        await _probe(address, timeout)
        client = distributed.Client(
            address, asynchronous=True, timeout=timeout, set_as_default=False, name="kaish"
        )
        try:
            await asyncio.wait_for(client, timeout + 1.0)  # Dask's own timeout, and a backstop
            try:
                await client.wait_for_workers(1, timeout=timeout)
            except TimeoutError:
                raise ScatterError(
                    f"scatter: the Dask scheduler at {address} has no workers (waited {timeout:g}s)", 2
                ) from None
        except BaseException:
            await _close(client, timeout)
            raise
        return client

    async def close(self) -> None:
        """Close every client (bounded: a scheduler that has gone never holds this up)."""
        attempts, self._clients = list(self._clients.values()), {}
        for attempt in attempts:
            if not attempt.done():
                attempt.cancel()
                continue
            if attempt.cancelled() or attempt.exception() is not None:
                continue
            await _close(attempt.result(), CANCEL_TIMEOUT)


async def _close(client: Any, timeout: float) -> None:
    """Close `client`, waiting at most `timeout` seconds; never raises."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), timeout)


# One DaskClients per Shell. A Shell's forks share its VFS router (and only
# the forks of that Shell do), so the router names the Shell from any fork.
_POOLS: weakref.WeakKeyDictionary[object, DaskClients] = weakref.WeakKeyDictionary()


def clients_of(session: Session) -> DaskClients:
    pool = _POOLS.get(session.router)
    if pool is None:
        pool = _POOLS[session.router] = DaskClients()
    return pool


async def close_clients(session: Session) -> None:
    """Close the Dask clients of `session`'s Shell (Shell.close calls this)."""
    pool = _POOLS.pop(session.router, None)
    if pool is not None:
        await pool.close()


def _panicked(i: int, exc: BaseException) -> tuple[dict[str, Value], str | None]:
    crash = WorkerOutcome(1, b"", f"Task panicked: {_describe(exc)}")
    return make_row(i, "<worker panicked>", crash, False)


async def _cancel(client: Any, futures: list[Any]) -> None:
    """Cancel `futures` on the cluster, waiting a bounded time for the scheduler."""
    if not futures:
        return
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(client.cancel(futures)), CANCEL_TIMEOUT)


async def run_if_remote(
    ex: Executor,
    segment: tuple[ast.Stage, ...],
    span: Any,
    items: Sequence[Value],
    options: ScatterOptions,
) -> ScatterResult | None:
    """The rows from the Dask engine when the options or the session choose it;
    None when the fan-out runs locally. Raises ScatterError (exit 2)."""
    address = choose_engine(ex.session, options)
    if address is None:
        return None
    return await run_on_dask(
        ex, segment, span, items, options, address, progress=ex.session.scatter_progress
    )


async def run_on_dask(
    ex: Executor,
    segment: tuple[ast.Stage, ...],
    span: Any,
    items: Sequence[Value],
    options: ScatterOptions,
    address: str,
    *,
    progress: Callable[[ScatterProgress], None] | None = None,
) -> ScatterResult:
    """Run one worker per item on the Dask cluster at `address`; rows in item order.

    Input: the worker segment as parsed, the items, the options (`--limit`
    bounds the tasks in flight, `--timeout` goes to the workers).
    Output: the same ScatterResult the local runner makes.
    Cancellation: every future still out is cancelled on the cluster before
    CancelledError propagates.
    Raises: ScatterError (exit 2) when the scheduler cannot be reached or
    Dask is not installed.
    """
    from kaish_kernel.distributed.worker import run_item

    session = ex.session
    client = await clients_of(session).get(address, _connect_timeout(session))
    token = uuid.uuid4().hex
    spec = SegmentSpec(token, segment, span, options.as_var, options.timeout, capture(session))
    try:
        [shipped] = await client.scatter([spec], broadcast=True, hash=False)
    except (OSError, TimeoutError) as exc:
        raise ScatterError(f"scatter: lost the Dask scheduler at {address}: {_describe(exc)}", 2) from None

    total = len(items)
    slots: list[tuple[dict[str, Value], str | None] | None] = [None] * total
    permits = asyncio.Semaphore(options.limit)
    pending: dict[int, Any] = {}  # item index -> its future, until its row is in
    counts = [0, 0, 0]  # done, failed, running

    def report() -> None:
        if progress is not None:
            progress(ScatterProgress(total, counts[0], counts[1], counts[2]))

    async def one(i: int, item: Value) -> None:
        future = pending[i]
        try:
            slot = await future
        except asyncio.CancelledError:
            raise  # ours: the run is being cancelled, and cancels `future` with the rest
        except Exception as exc:  # a Dask failure: lost worker, failed task, cancelled future
            slot = _panicked(i, exc)
        del pending[i]  # dropping the future releases its result on the cluster
        permits.release()
        slots[i] = slot
        counts[0] += 1
        counts[1] += slot[1] is not None
        counts[2] -= 1
        report()

    report()
    try:
        async with asyncio.TaskGroup() as group:
            for i, item in enumerate(items):
                await permits.acquire()
                pending[i] = client.submit(
                    run_item, shipped, i, item, key=f"kaish-scatter-{token}-{i}", pure=False
                )
                counts[2] += 1
                report()
                group.create_task(one(i, item))
    except BaseException:
        await _cancel(client, list(pending.values()))
        raise
    # `shipped` (the spec on the workers) is released when this frame drops it
    return ScatterResult.from_slots(slots)
