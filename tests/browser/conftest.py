"""Fixtures for the JupyterLab browser test: a private server and Debian's Chromium.

    lab      JupyterLab on 127.0.0.1, token, temp root and Jupyter dirs, with the
             kaish kernelspec installed by `kaish install --prefix`; launched but
             not waited for, so Chromium starts while the server does (the test
             asks for both, `lab` first, and calls `lab.wait_ready()`)
    browser  Playwright driving /usr/bin/chromium (Playwright's own browser download
             is not used: `.ci/run` installs Debian's chromium when it is missing)

The test itself shuts everything down and checks that nothing is left; the
finalizers here only clean up after a test that failed halfway (and then kill
whatever it started, so a failure never leaves a browser or kernel behind).
The screenshot's path is repeated in pytest's closing summary.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import JupyterLab
from tests.browser.processes import ProcessTracker, mentioning

CHROMIUM = os.environ.get("KAISH_CHROMIUM", "/usr/bin/chromium")
# Flags for a closed network and a root user: no sandbox, no GPU, nothing that
# phones home (background networking, component updates, sync, QUIC).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT_DIR = Path(__file__).resolve().parents[2] / "test-output" / "browser"
VIEWPORT = {"width": 1280, "height": 1000}

_screenshots = pytest.StashKey[list[Path]]()


@pytest.fixture
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR


@pytest.fixture
def record_screenshot(request: pytest.FixtureRequest) -> Any:
    def record(path: Path) -> None:
        request.config.stash.setdefault(_screenshots, []).append(path)
        print(f"screenshot: {path}")

    return record


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for path in config.stash.get(_screenshots, []):
        terminalreporter.write_line(f"browser test screenshot: {path}")


@pytest.fixture
def base_dir() -> Iterator[Path]:
    """One private temp dir for the server, the kernelspec and the browser profile."""
    base = Path(tempfile.mkdtemp(prefix="kaish-browser-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def processes() -> Iterator[ProcessTracker]:
    """What this test starts; anything of it still alive at the end is killed."""
    tracker = ProcessTracker()
    yield tracker
    tracker.kill_leftovers()


@pytest.fixture
def lab(base_dir: Path, output_dir: Path, processes: ProcessTracker) -> Iterator[JupyterLab]:
    """Launched, not yet answering: the test calls `wait_ready()` once the browser is up."""
    server = JupyterLab(base_dir, output_dir / "jupyter-server.log")
    try:
        server.launch()
        yield server
    finally:
        processes.seen |= processes.ours() | mentioning(str(base_dir))
        server.shutdown()


@pytest.fixture
def browser(base_dir: Path, output_dir: Path, processes: ProcessTracker) -> Iterator[Any]:
    """A persistent Chromium context with a fresh profile dir (one tab, `.pages[0]`).

    If the test ends without closing it (it failed), the page is saved as
    `jupyterlab-failure.png` first, to show what the test was looking at.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (`apt-get install -y chromium`, "
            "as .ci/run does) or deselect with -m 'not browser'"
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        context = playwright.chromium.launch_persistent_context(
            str(base_dir / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,  # type: ignore[arg-type]
        )
    except BaseException:
        playwright.stop()
        raise
    context.set_default_timeout(30_000)
    handle = _Browser(playwright, context)
    try:
        yield handle
    finally:
        processes.ours()
        if not handle.closed:
            with contextlib.suppress(Exception):
                handle.page.screenshot(
                    path=str(output_dir / "jupyterlab-failure.png"), timeout=10_000
                )
                print(f"failure screenshot: {output_dir / 'jupyterlab-failure.png'}")
        handle.close()


class _Browser:
    """The context plus the Playwright driver that owns it; `close()` is idempotent."""

    def __init__(self, playwright: Any, context: Any) -> None:
        self.playwright = playwright
        self.context = context
        self.closed = False

    def __repr__(self) -> str:
        return f"<Browser closed={self.closed}>"

    @property
    def page(self) -> Any:
        return self.context.pages[0] if self.context.pages else self.context.new_page()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.context.close()
        finally:
            self.playwright.stop()
