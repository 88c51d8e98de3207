"""Re-record the example notebooks' outputs: run every cell for real, store what came.

    .venv/bin/python -m tests.notebooks.refresh                 all of notebooks/*.ipynb
    .venv/bin/python -m tests.notebooks.refresh notebooks/02-pipelines-and-jobs.ipynb

Outputs are collected the way nbval collects them when it checks the notebook:
the iopub messages of the cell's own request, up to its `idle`. Output that a
background job sends to its cell later is left out here too (a notebook waits
for it in a later cell). One difference, for the reader: an `update_display_data`
that arrives before `idle` (a scatter's progress line) replaces the output it
updates, as a live notebook shows it; the sanitize file makes both forms compare
equal.

A cell may fail only if it is tagged `raises-exception`; any other error stops
the run and leaves the notebook unchanged.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager

from tests.notebooks.kernelspecs import install_notebook_kernelspecs

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
CELL_TIMEOUT = 120.0


class CellFailed(Exception):
    pass


def _collect(kc: Any, msg_id: str) -> tuple[list[Any], int | None]:
    outputs: list[Any] = []
    displays: dict[str, list[Any]] = {}
    count = None
    deadline = time.monotonic() + CELL_TIMEOUT
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise CellFailed(f"no idle within {CELL_TIMEOUT:.0f}s") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue  # an earlier cell's background job, or another request
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status":
            if content["execution_state"] == "idle":
                return outputs, count
        elif kind == "execute_input":
            count = content.get("execution_count")
        elif kind == "clear_output":
            outputs.clear()
        elif kind == "update_display_data":
            for out in displays.get(content.get("transient", {}).get("display_id", ""), []):
                out["data"] = content["data"]
                out["metadata"] = content.get("metadata", {})
        elif kind in ("stream", "display_data", "execute_result", "error"):
            if kind == "stream" and outputs and outputs[-1].get("name") == content["name"]:
                outputs[-1]["text"] += content["text"]
                continue
            out = nbformat.v4.output_from_msg(msg)
            outputs.append(out)
            display_id = content.get("transient", {}).get("display_id")
            if display_id:
                displays.setdefault(display_id, []).append(out)


def _reply(kc: Any, msg_id: str) -> Any:
    """The execute_reply to `msg_id` (wait_for_ready leaves kernel_info replies behind)."""
    while True:
        reply = kc.get_shell_msg(timeout=CELL_TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def refresh(path: Path) -> float:
    """Execute `path` in its own kernel and write the outputs back; returns seconds."""
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name=nb.metadata["kernelspec"]["name"])
    km.start_kernel(cwd=str(path.parent))
    kc = km.client()
    kc.start_channels()
    started = time.monotonic()
    try:
        kc.wait_for_ready(timeout=60)
        for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
            msg_id = kc.execute(cell.source, allow_stdin=False)
            outputs, count = _collect(kc, msg_id)
            reply = _reply(kc, msg_id)
            failed = reply["content"]["status"] != "ok"
            if failed and "raises-exception" not in cell.metadata.get("tags", []):
                errors = [o for o in outputs if o.output_type == "error"]
                detail = (
                    "\n".join(errors[0].traceback) if errors else reply["content"].get("evalue", "")
                )
                raise CellFailed(
                    f"{path.name}: code cell {number} failed:\n{cell.source}\n{detail}"
                )
            cell.outputs = outputs
            cell.execution_count = (
                count if count is not None else reply["content"].get("execution_count")
            )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.notebooks.refresh", description=__doc__.split("\n")[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = parser.parse_args(argv)
    install_notebook_kernelspecs()
    for path in args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb")):
        try:
            seconds = refresh(path)
        except CellFailed as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{path}: {seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
