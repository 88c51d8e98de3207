"""The real kernel with scatter on a Dask LocalCluster: configured from a cell,
rows shown as the cell's value, and an interrupt that reaches the cluster.

Marker arguments (`/bin/sleep 4791`) let /proc checks find exactly our
processes, wherever they run (the cluster's workers are local processes).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pytest

from tests.jupyter.harness import KernelHarness
from tests.jupyter.test_lifecycle import processes_with, wait_until_gone

distributed = pytest.importorskip("distributed")

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not os.path.isdir("/proc"), reason="process checks read /proc"),
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, set[int]]]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0"
    ) as local, distributed.Client(local) as client:
        yield local.scheduler_address, set(client.run(os.getpid).values())


def test_a_notebook_runs_scatter_on_the_cluster_and_an_interrupt_cancels_it(
    kernel: KernelHarness, cluster: tuple[str, set[int]]
) -> None:
    address, worker_pids = cluster
    setup = kernel.run(f"KAISH_SCATTER_ENGINE=dask\nKAISH_DASK_SCHEDULER={address}")
    assert setup.reply is not None and setup.reply["status"] == "ok"

    shown = kernel.run("seq 1 4 | scatter | sh -c 'echo $PPID' | gather")
    assert shown.reply is not None and shown.reply["status"] == "ok", shown.reply
    [result] = shown.outputs("execute_result")
    data = result["content"]["data"]
    rows = data.get("application/json", data.get("application/vnd.kaish.value+json"))
    assert [row["i"] for row in rows] == [0, 1, 2, 3]
    assert {int(row["out"]) for row in rows} <= worker_pids

    cell = kernel.submit("seq 1 8 | scatter --limit 4 | /bin/sleep 4791 | gather")
    deadline = time.monotonic() + 30
    while len(processes_with("4791")) < 4:
        assert time.monotonic() < deadline, "the workers never started their sleeps"
        kernel.pump_for(0.05)
    kernel.km.interrupt_kernel()
    kernel.wait(cell, timeout=15)
    assert cell.reply is not None and cell.reply["ename"] == "KeyboardInterrupt"
    assert wait_until_gone("4791", timeout=10) == []

    after = kernel.run("seq 1 2 | scatter | echo \"ok-$ITEM\" | gather --lines")
    assert after.stream_text() == "ok-1\nok-2", json.dumps(after.outputs(), default=str)[:2000]
