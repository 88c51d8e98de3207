"""scatter on a Dask cluster: the rows equal the local engine's, limits,
timeouts and cancellation reach the cluster, and a missing scheduler or a
missing extra fails fast and clearly.

One real `distributed.LocalCluster` (worker processes, 2 workers of 2 threads)
is started for the whole module. Each comparison runs a script in one Shell
twice: on the local engine, then with the session's engine variables set to
the cluster, and expects the same stdout, stderr and exit code.

Spec: issue 9; ../shared/spec/scheduler.md §5 for the rows.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kaish_kernel.scheduler.scatter import ScatterProgress
from tests.scheduler.helpers import run as run_async
from tests.shell_session import Outcome, ShellSession, processes_with, wait_for_processes, wait_gone

distributed = pytest.importorskip("distributed")


def run(main, timeout: float = 90.0):  # type: ignore[no-untyped-def]
    return run_async(main, timeout=timeout)


class Cluster:
    def __init__(self, address: str, pids: set[int]) -> None:
        self.address = address
        self.pids = pids


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0"
    ) as local, distributed.Client(local) as client:
        pids = set(client.run(os.getpid).values())
        yield Cluster(local.scheduler_address, pids)


def _use_dask(sh: ShellSession, address: str) -> None:
    sh.shell.set_var("KAISH_SCATTER_ENGINE", "dask")
    sh.shell.set_var("KAISH_DASK_SCHEDULER", address)


async def _both(sh: ShellSession, address: str, script: str) -> tuple[Outcome, Outcome]:
    """`script` on the local engine, then on the cluster (the engine variables set)."""
    local = await sh(script)
    _use_dask(sh, address)
    remote = await sh(script)
    sh.shell.set_var("KAISH_SCATTER_ENGINE", "local")
    return local, remote


SAME_AS_LOCAL = [
    pytest.param("seq 1 3 | scatter --as N | echo $N | gather", id="typed-int-items"),
    pytest.param(
        "xs=$(fromjson '[1, \"1\", 2.5, true, {\"host\":\"web1\",\"id\":3}, [1,2]]')\n"
        "values $xs | scatter | typeof $ITEM | gather",
        id="typed-mixed-items",
    ),
    pytest.param(
        "jobs=$(fromjson '[{\"id\":1,\"host\":\"web1\"},{\"id\":2,\"host\":\"db1\"}]')\n"
        'values $jobs | scatter | echo "${ITEM[host]}" | gather --json',
        id="record-items-json",
    ),
    pytest.param("printf 'a b\\n\\nc\\n' | scatter | echo $ITEM | gather", id="text-items"),
    pytest.param("seq 1 3 | scatter --as N | echo $N | grep 2 | gather", id="failures-are-rows"),
    pytest.param("seq 1 2 | scatter --as N | echo $N | grep 2 | gather --lines", id="lines-refuses"),
    pytest.param('seq 1 2 | scatter | cat "/nope-$ITEM" | gather', id="stderr-in-rows"),
    pytest.param("seq 1 3 | scatter | test $ITEM -ne 2 | gather", id="exit-codes"),
    pytest.param("seq 1 1 | scatter | fromjson '{\"k\": [1, 2]}' | gather", id="worker-data"),
    pytest.param("seq 1 2 | scatter | gather", id="empty-segment"),
    pytest.param("seq 1 2 | scatter | echo $ITEM | wc -c | gather", id="several-stages"),
    pytest.param("seq 1 2 | scatter | sh -c 'printf \"\\\\377\"' | gather", id="binary-output"),
    pytest.param("seq 1 3 | scatter | echo $((ITEM * 2)) | gather --lines", id="arithmetic"),
    pytest.param('seq 1 2 | scatter | echo $(echo "in-$ITEM") | gather', id="substitution"),
    pytest.param(
        'f() { echo "f:$ITEM:$1"; return $((ITEM - 1)); }\nseq 1 3 | scatter | f arg | gather',
        id="session-function",
    ),
    pytest.param(
        'greet() { echo "hi $1"; }\nwrap() { greet "$ITEM"; }\nseq 1 2 | scatter | wrap | gather',
        id="function-calling-function",
    ),
    pytest.param(
        'g() { local pre="<$1>"; seq 1 2 | scatter | echo "$pre $ITEM $1 $#" | gather; }\ng hey there',
        id="inside-a-function-locals-and-args",
    ),
    pytest.param(
        "seq 1 2 | scatter --as X | sh -c 'echo ext-$0-$GREETING' $X | gather",
        id="external-command",
    ),
    pytest.param("seq 1 2 | scatter | /bin/sh -c 'exit 3' | gather", id="external-failure"),
    pytest.param('seq 1 2 | scatter | cat "file-$ITEM.txt" | gather', id="cwd-relative-paths"),
    pytest.param("alias say=echo\nseq 1 2 | scatter | say \"alias-$ITEM\" | gather", id="alias"),
    pytest.param('seq 1 2 | scatter | echo "$SETTING ${CONF[mode]} $ITEM" | gather', id="session-variables"),
    pytest.param(
        'inner() { seq 1 2 | scatter --as J | echo "$ITEM.$J" | gather --lines; }\n'
        "seq 1 2 | scatter | inner | gather",
        id="nested-fan-out",
    ),
    pytest.param(
        "seq 1 3 | scatter | echo $ITEM | gather | jq -r '.[] | select(.ok) | .out'", id="post-gather"
    ),
    pytest.param("seq 1 1 | scatter --timeout 200ms | sleep 5 | gather", id="timeout-builtin"),
    pytest.param(
        "printf '0.01\\n5\\n' | scatter --timeout 300ms | sleep $ITEM | gather", id="timeout-mixed"
    ),
    pytest.param("seq 1 2 | scatter --timeout 200ms | /bin/sleep 7.5301 | gather", id="timeout-external"),
]


@pytest.mark.parametrize("script", SAME_AS_LOCAL)
def test_rows_from_dask_equal_the_local_rows(cluster: Cluster, tmp_path: Path, script: str) -> None:
    for n in (1, 2):
        (tmp_path / f"file-{n}.txt").write_text(f"content {n}\n")

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("export GREETING=hello\nSETTING=on\nCONF=$(fromjson '{\"mode\":\"fast\"}')")
            local, remote = await _both(sh, cluster.address, script)
            assert remote == local
            assert local.out or local.code  # every case says something

    run(main())
    assert wait_gone("7.5301") == []


def test_workers_really_run_in_the_cluster_processes(cluster: Cluster, tmp_path: Path) -> None:
    async def main() -> tuple[set[int], str]:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh(
                f"seq 1 8 | scatter --engine dask --scheduler {cluster.address} | sh -c 'echo $PPID' | gather --lines"
            )
            assert outcome.code == 0, outcome
            here = await sh(f"seq 1 2 | scatter --scheduler {cluster.address} | pwd | gather --lines")
            return {int(line) for line in outcome.out.splitlines()}, here.out

    parents, cwd = run(main())
    assert parents <= cluster.pids and os.getpid() not in parents
    assert cwd == f"{tmp_path}\n{tmp_path}"


def test_engine_choice_options_win_over_the_session_variables(cluster: Cluster, tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            _use_dask(sh, cluster.address)
            remote = await sh("seq 1 2 | scatter | sh -c 'echo $PPID' | gather --lines")
            local = await sh("seq 1 2 | scatter --engine local | sh -c 'echo $PPID' | gather --lines")
            assert {int(p) for p in remote.out.split()} <= cluster.pids
            assert {int(p) for p in local.out.split()} == {os.getpid()}
            sh.shell.set_var("KAISH_SCATTER_ENGINE", "local")
            implied = await sh(f"seq 1 2 | scatter --scheduler {cluster.address} | sh -c 'echo $PPID' | gather --lines")
            assert {int(p) for p in implied.out.split()} <= cluster.pids

    run(main())


def test_a_timed_out_worker_that_ignores_sigterm_is_killed_on_the_worker(
    cluster: Cluster, tmp_path: Path
) -> None:
    async def main() -> float:
        async with ShellSession(tmp_path, kill_grace=0.5) as sh:
            _use_dask(sh, cluster.address)
            started = time.monotonic()
            outcome = await sh(
                "seq 1 2 | scatter --timeout 200ms | sh -c 'trap \"\" TERM; /bin/sleep 1000.5311' | gather"
            )
            rows = [json.loads(line) for line in outcome.out.splitlines()]
            assert [(r["code"], r["timed_out"]) for r in rows] == [(124, True), (124, True)]
            assert outcome.code == 123
            return time.monotonic() - started

    elapsed = run(main())
    assert 0.2 + 0.5 <= elapsed < 15, elapsed
    assert wait_gone("1000.5311") == []


def test_cancelling_the_pipeline_cancels_the_futures_and_kills_the_workers_processes(
    cluster: Cluster, tmp_path: Path
) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            _use_dask(sh, cluster.address)
            task = asyncio.create_task(sh("seq 1 10 | scatter --limit 4 | /bin/sleep 1000.5312 | gather"))
            await wait_for_processes("1000.5312", 4, timeout=30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await asyncio.to_thread(wait_gone, "1000.5312", 10.0) == []
            assert (await sh("seq 1 2 | scatter | echo \"after-$ITEM\" | gather --lines")).out == "after-1\nafter-2"

    run(main())


def test_the_limit_bounds_the_tasks_in_flight(cluster: Cluster, tmp_path: Path) -> None:
    """4 worker threads in the cluster, --limit 2: never more than 2 at once."""
    reports: list[ScatterProgress] = []
    seen: list[int] = []

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            _use_dask(sh, cluster.address)
            sh.shell.set_scatter_progress(reports.append)

            async def sample() -> None:
                while True:
                    seen.append(len(processes_with("0.3013")))
                    await asyncio.sleep(0.01)

            sampler = asyncio.create_task(sample())
            outcome = await sh("seq 1 6 | scatter --limit 2 | /bin/sleep 0.3013 | gather")
            sampler.cancel()
            assert outcome.code == 0 and len(outcome.out.splitlines()) == 6

    run(main())
    assert max(r.running for r in reports) == 2
    assert max(seen) <= 2
    assert reports[0] == ScatterProgress(6, 0, 0, 0)
    assert reports[-1] == ScatterProgress(6, 6, 0, 0)


def test_one_client_per_address_per_shell_closed_with_the_shell(cluster: Cluster, tmp_path: Path) -> None:
    from kaish_kernel.interpreter import dask_engine

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            _use_dask(sh, cluster.address)
            await sh("seq 1 2 | scatter | echo $ITEM | gather")
            pool = dask_engine.clients_of(sh.shell.session)
            first = await pool.get(cluster.address, 1.0)
            await sh("seq 1 2 | scatter | echo $ITEM | gather")
            assert await pool.get(cluster.address, 1.0) is first
            await sh.shell.close()
            assert first.status == "closed"

    run(main())


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_scheduler_fails_fast_and_names_the_address(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{_unused_port()}"

    async def main() -> tuple[Outcome, float]:
        async with ShellSession(tmp_path) as sh:
            started = time.monotonic()
            outcome = await sh(f"seq 1 3 | scatter --engine dask --scheduler {address} | echo $ITEM | gather")
            return outcome, time.monotonic() - started

    outcome, elapsed = run(main())
    assert (outcome.out, outcome.code) == ("", 2)
    assert outcome.err == f"scatter: cannot reach the Dask scheduler at {address}: connection refused\n"
    assert elapsed < 2.0


def test_a_scheduler_that_never_answers_times_out_with_exit_2(tmp_path: Path) -> None:
    """Something listens but never speaks Dask: the connect timeout ends it."""

    async def main() -> tuple[Outcome, float]:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with ShellSession(tmp_path) as sh:
                sh.shell.set_var("KAISH_DASK_CONNECT_TIMEOUT", "0.5")
                started = time.monotonic()
                outcome = await sh(f"seq 1 3 | scatter --scheduler tcp://127.0.0.1:{port} | echo | gather --json")
                return outcome, time.monotonic() - started
        finally:
            server.close()

    outcome, elapsed = run(main())
    assert outcome.code == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in outcome.err
    assert "no answer within 0.5s" in outcome.err
    assert json.loads(outcome.out)["code"] == 2  # --json on gather: the error as JSON
    assert elapsed < 5.0


def test_without_the_dask_extra_the_engine_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails

    async def main() -> Outcome:
        async with ShellSession(tmp_path) as sh:
            sh.shell.set_var("KAISH_SCATTER_ENGINE", "dask")
            sh.shell.set_var("KAISH_DASK_SCHEDULER", "tcp://127.0.0.1:8786")
            return await sh("seq 1 3 | scatter | echo $ITEM | gather")

    outcome = run(main())
    assert (outcome.out, outcome.code) == ("", 2)
    assert "tcp://127.0.0.1:8786" in outcome.err
    assert "pip install 'kaish-kernel[dask]'" in outcome.err


@pytest.mark.parametrize(
    ("setup", "script", "needle"),
    [
        ("", "seq 1 2 | scatter --engine spark | echo | gather", 'scatter --engine: expected local or dask, got "spark"'),
        ("", "seq 1 2 | scatter --engine dask | echo | gather", "needs a scheduler address"),
        ("KAISH_SCATTER_ENGINE=dask", "seq 1 2 | scatter | echo | gather", "KAISH_DASK_SCHEDULER"),
        ("KAISH_SCATTER_ENGINE=ray", "seq 1 2 | scatter | echo | gather", '$KAISH_SCATTER_ENGINE: expected local or dask, got "ray"'),
        ("", "seq 1 2 | scatter --scheduler '' | echo | gather", "scatter --scheduler: expected an address"),
    ],
)
def test_engine_choice_errors_are_usage_errors(tmp_path: Path, setup: str, script: str, needle: str) -> None:
    async def main() -> Outcome:
        async with ShellSession(tmp_path) as sh:
            if setup:
                await sh(setup)
            return await sh(script)

    outcome = run(main())
    assert outcome.code == 2, outcome
    assert needle in outcome.err, outcome


def test_no_items_never_contacts_the_scheduler(tmp_path: Path) -> None:
    async def main() -> Outcome:
        async with ShellSession(tmp_path) as sh:
            return await sh("printf '' | scatter --scheduler tcp://127.0.0.1:9 | echo | gather")

    assert run(main()) == ("", "", 0)


def test_the_shipped_spec_pickles_and_restores_the_session(tmp_path: Path) -> None:
    """What crosses the wire: the segment as parsed and the session snapshot."""
    from kaish_kernel.distributed.snapshot import SegmentSpec, capture, restore
    from kaish_kernel.lang.parser import parse

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("f() { local x=1; echo $x; }\nalias ll='ls -l'\nexport A=1\nB=$(fromjson '[1,{\"k\":null}]')\nset -o pipefail")
            session = sh.shell.session
            pipeline = parse("seq 1 2 | scatter | f | wc -c | gather").body[0]
            segment = pipeline.stages[2:4]  # type: ignore[union-attr]
            spec = SegmentSpec("t", segment, pipeline.span, "ITEM", 1.5, capture(session))  # type: ignore[union-attr]
            back = pickle.loads(pickle.dumps(spec))
            assert back == spec
            restored = restore(back.snapshot, session)
            assert restored.functions == session.functions
            assert restored.alias_table == {"ll": "ls -l"}
            assert restored.scope.globals["B"] == [1, {"k": None}]
            assert "A" in restored.scope.exported and restored.opts.pipefail
            assert restored.cwd_path == str(tmp_path)

    run(main())


def _spec(session: object, script: str, timeout: float | None) -> object:
    """The spec the engine would ship for `seq 1 1 | scatter | SCRIPT | gather`."""
    from kaish_kernel.distributed.snapshot import SegmentSpec, capture
    from kaish_kernel.lang.parser import parse

    pipeline = parse(f"seq 1 1 | scatter | {script} | gather").body[0]
    segment = pipeline.stages[2:-1]  # type: ignore[union-attr]
    return SegmentSpec(os.urandom(8).hex(), segment, pipeline.span, "ITEM", timeout, capture(session))  # type: ignore[arg-type, union-attr]


def test_the_worker_enforces_the_timeout_itself(tmp_path: Path) -> None:
    """The run on the worker ends at --timeout with no client watching: the
    task function, called directly, returns the timed-out row."""
    from kaish_kernel.distributed.worker import run_item

    async def main() -> tuple[dict[str, object], str | None]:
        async with ShellSession(tmp_path, kill_grace=0.3) as sh:
            spec = _spec(sh.shell.session, "sh -c 'trap \"\" TERM; /bin/sleep 1000.5314'", 0.2)
            return await asyncio.to_thread(run_item, spec, 5, "x")  # type: ignore[arg-type]

    row, failure = run(main())
    assert row == {"i": 5, "item": "x", "ok": False, "code": 124, "out": "", "err": "", "timed_out": True}
    assert failure == "x"
    assert wait_gone("1000.5314") == []


def test_a_client_that_goes_away_leaves_no_process_on_the_workers(cluster: Cluster, tmp_path: Path) -> None:
    from kaish_kernel.distributed.worker import run_item

    async def snapshot() -> object:
        async with ShellSession(tmp_path) as sh:
            return _spec(sh.shell.session, "/bin/sleep 1000.5315", None)

    spec = run(snapshot())
    client = distributed.Client(cluster.address)
    try:
        futures = [client.submit(run_item, spec, i, i, pure=False) for i in range(2)]
        run(wait_for_processes("1000.5315", 2, timeout=30))
        assert all(not f.done() for f in futures)
    finally:
        client.close()
    assert wait_gone("1000.5315", 10.0) == []


def test_a_scheduler_without_workers_is_exit_2_not_a_hang(tmp_path: Path) -> None:
    async def main() -> tuple[Outcome, float, str]:
        async with distributed.Scheduler(host="127.0.0.1", port=0, dashboard_address=":0") as scheduler:
            async with ShellSession(tmp_path) as sh:
                sh.shell.set_var("KAISH_DASK_CONNECT_TIMEOUT", "0.5")
                started = time.monotonic()
                outcome = await sh(f"seq 1 3 | scatter --scheduler {scheduler.address} | echo | gather")
                return outcome, time.monotonic() - started, scheduler.address

    outcome, elapsed, address = run(main())
    assert (outcome.out, outcome.code) == ("", 2)
    assert outcome.err == f"scatter: the Dask scheduler at {address} has no workers (waited 0.5s)\n"
    assert elapsed < 5.0


def test_a_task_that_fails_in_dask_is_a_panicked_row(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure of the task itself (here: a snapshot the worker cannot
    restore) is a `<worker panicked>` row, as a local worker's crash is."""
    from kaish_kernel.interpreter import dask_engine

    monkeypatch.setattr(dask_engine, "capture", lambda session: None)

    async def main() -> Outcome:
        async with ShellSession(tmp_path) as sh:
            _use_dask(sh, cluster.address)
            return await sh("seq 1 2 | scatter | echo $ITEM | gather")

    outcome = run(main())
    rows = [json.loads(line) for line in outcome.out.splitlines()]
    assert [(r["i"], r["item"], r["ok"], r["code"]) for r in rows] == [
        (0, "<worker panicked>", False, 1),
        (1, "<worker panicked>", False, 1),
    ]
    assert all(r["err"].startswith("Task panicked: AttributeError: ") for r in rows)
    assert outcome.code == 123
