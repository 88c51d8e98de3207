"""kaish in a real JupyterLab, driven through headless Chromium by Playwright.

    pytest ──► JupyterLab (127.0.0.1:<port>, token, temp root + Jupyter dirs)
      │            └──► kaish kernel (kernelspec from `kaish install --prefix`)
      └──► Playwright ──► /usr/bin/chromium ──► /lab/tree/kaish.ipynb

One test, one notebook, in the order a person would go: streaming output, a
background job's live status line, a table for a typed value, Tab completion,
the toolbar's stop button. Then a screenshot, a clean shutdown (kernel through
the sessions API, the browser, the server through /api/shutdown) and a check
that no process it started is still running.

Select it with `-m browser`, leave it out with `-m "not browser"`; it runs by
default as part of `pytest`.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.lab import JupyterLab, write_notebook
from tests.browser.notebook_page import RUNNING, NotebookPage
from tests.browser.processes import Process, ProcessTracker, descendants, mentioning, wait_gone

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not os.path.isdir("/proc"), reason="process checks read /proc"),
]

NOTEBOOK = "kaish.ipynb"
CELLS = [
    "echo a; sleep 2; echo b",  # 0 streaming
    "sleep 3 &",  # 1 background job
    """fromjson '[{"a":1},{"a":2}]'""",  # 2 table
    "echo sleeping; sleep 100",  # 3 interrupted
    "echo after the interrupt",  # 4 runs after it
    "",  # 5 typed into: completion
]
FINISHED_JS = r"/^\[\d+\]:$/.test(s.prompt)"


def _kernel_processes(lab: JupyterLab) -> set[Process]:
    assert lab.process is not None
    return {p for p in descendants(lab.process.pid) if "kaish_kernel.jupyter" in p.command}


def test_kaish_notebook_in_jupyterlab(
    lab: JupyterLab,
    browser: Any,
    processes: ProcessTracker,
    base_dir: Path,
    output_dir: Path,
    record_screenshot: Any,
) -> None:
    began = time.monotonic()
    lab.wait_ready()
    write_notebook(lab.root / NOTEBOOK, CELLS)
    page = browser.page
    page.goto(lab.page_url(NOTEBOOK))
    notebook = NotebookPage(page)
    expect(notebook.cell(len(CELLS) - 1)).to_be_visible(timeout=60_000)
    notebook.wait_for_kernel_idle()
    kernels = _kernel_processes(lab)
    assert len(kernels) == 1, f"expected one kaish kernel under the server, found {kernels}"

    # 0 -- output streams: `a` is on the page while the cell is still running.
    notebook.run(0)
    notebook.wait_for_state(
        0, f"s.prompt === '{RUNNING}' && s.output.trim() === 'a'", "`a` alone while the cell runs"
    )
    notebook.wait_finished(0)
    expect(notebook.outputs(0)).to_have_text(re.compile(r"^\s*a\s+b\s*$"))

    # 1 -- a background job: its status line says running after the cell is done,
    #      then changes in place to done.
    notebook.run(1)
    notebook.wait_for_state(
        1,
        f"{FINISHED_JS} && /\\[\\d+\\] running/.test(s.output)",
        "`[N] running` after the cell finished",
    )
    notebook.wait_for_state(
        1, r"/\[\d+\] done:0/.test(s.output)", "the status line change to done", timeout=30_000
    )
    assert "running" not in notebook.state(1)["output"]
    expect(notebook.outputs(1)).to_have_count(1)  # replaced in place, not appended

    # 2 -- a typed value is shown as an HTML table.
    notebook.run(2)
    notebook.wait_finished(2)
    expect(notebook.outputs(2)).to_have_count(1)
    assert notebook.cell(2).locator(".jp-OutputArea-output.jp-RenderedJSON").count() == 0, (
        "JupyterLab shows the value as a JSON tree, not a table: its application/json "
        "renderer (rank 0) outranks text/html, so a bundle that offers application/json "
        "is never shown as the kernel's HTML table"
    )
    table = notebook.outputs(2).locator("table")
    expect(table).to_be_visible()
    expect(table.locator("th")).to_have_text(["a"])
    expect(table.locator("td")).to_have_text(["1", "2"])

    # 3 -- the toolbar's stop button interrupts `sleep 100`; 4 -- the next cell runs.
    notebook.run(3)
    notebook.wait_for_state(
        3, f"s.prompt === '{RUNNING}' && s.output.includes('sleeping')", "`sleeping`"
    )
    clicked = time.monotonic()
    notebook.interrupt_button.click()
    notebook.wait_finished(3, timeout=20_000)
    stopped_after = time.monotonic() - clicked
    assert stopped_after < 15, f"the interrupt took {stopped_after:.1f}s"
    expect(notebook.outputs(3).last).to_contain_text("KeyboardInterrupt")
    assert lab.process is not None
    sleepers = {p for p in descendants(lab.process.pid) if p.command == "sleep 100"}
    assert not wait_gone(sleepers, 10), "`sleep 100` outlived the interrupt"
    notebook.run(4)
    notebook.wait_finished(4)
    expect(notebook.outputs(4)).to_have_text(re.compile(r"^\s*after the interrupt\s*$"))

    # 5 -- typing `ec` then Tab offers `echo` (a single match is inserted at once).
    notebook.focus_editor(5)
    page.keyboard.type("ec")
    page.keyboard.press("Tab")
    offered = notebook.completer.locator('.jp-Completer-item[data-value="echo"]')
    expect(offered.or_(notebook.editor(5).get_by_text("echo", exact=True))).to_be_visible()
    if offered.is_visible():  # several matches: pick `echo` from the popup
        page.keyboard.press("Enter")
        print("completion: `echo` offered in the completer popup")
    else:
        print("completion: the single match `echo` was inserted")
    expect(notebook.editor(5)).to_have_text("echo")
    page.keyboard.type(" completed")
    page.keyboard.press("Shift+Enter")
    notebook.wait_finished(5)
    expect(notebook.outputs(5)).to_have_text(re.compile(r"^\s*completed\s*$"))

    # The page as a person would leave it.
    page.keyboard.press("Escape")
    screenshot = output_dir / "jupyterlab-final.png"
    page.screenshot(path=str(screenshot))
    record_screenshot(screenshot)
    ran_for = time.monotonic() - began

    # Clean shutdown: kernel, browser, server -- then nothing of ours is left.
    started = processes.ours() | mentioning(str(base_dir))
    lab.shutdown_sessions()
    assert not wait_gone(kernels, 15), "the kernel did not exit after its session was deleted"
    browser.close()
    assert lab.shutdown() == 0, lab.log()
    left = wait_gone(started | mentioning(str(base_dir)), 15)
    assert not left, "still running:\n" + "\n".join(map(str, left))
    print(
        f"browser steps took {ran_for:.1f}s; everything stopped after {time.monotonic() - began:.1f}s"
    )
