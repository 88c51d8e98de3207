"""A private `jupyter lab` for the browser test: loopback, a token, temp dirs.

    base/                       one temp dir per test run; every path below is in it
      root/                     the server's root dir (the notebook lives here)
      jupyter/{config,data,runtime}
                                JUPYTER_CONFIG_DIR / _DATA_DIR / _RUNTIME_DIR
      kernels/share/jupyter/    `kaish install --prefix base/kernels`; JUPYTER_PATH
      chromium-profile/         the browser's fresh --user-data-dir

Nothing outside `base` is read for kernelspecs, settings or workspaces, so a
developer's own Jupyter setup cannot change what the test sees. The server
runs in its own session; `shutdown()` asks it to stop through the REST API
(it shuts its kernels down first) and only falls back to signals if it will
not. Its log goes to `log_path` so a failure can be read after the fact.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from kaish_kernel.cli import main as kaish_main

__all__ = ["JupyterLab", "free_port", "write_notebook"]

KERNEL_NAME = "kaish"

# JupyterLab plugins that only pop up news or update checks: noise on the page.
_DISABLED_PLUGINS = {
    "@jupyterlab/apputils-extension:announcements": True,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_notebook(path: Path, sources: list[str]) -> None:
    """An nbformat 4.5 notebook with the kaish kernelspec and these code cells."""
    cells: list[dict[str, Any]] = [
        {
            "cell_type": "code",
            "id": f"cell-{index}",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": source,
        }
        for index, source in enumerate(sources)
    ]
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": KERNEL_NAME, "display_name": "kaish", "language": "kaish"},
            "language_info": {"name": "kaish"},
        },
        "cells": cells,
    }
    path.write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")


class JupyterLab:
    """`python -m jupyterlab` on 127.0.0.1:<free port>, token-protected."""

    def __init__(self, base: Path, log_path: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.log_path = log_path
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    def __repr__(self) -> str:
        state = "running" if self.process and self.process.poll() is None else "stopped"
        return f"<JupyterLab {self.url} {state}>"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    # -- setup -----------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        jupyter = self.base / "jupyter"
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(jupyter / "config"),
            JUPYTER_DATA_DIR=str(jupyter / "data"),
            JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
            JUPYTER_PATH=str(self.base / "kernels" / "share" / "jupyter"),
            JUPYTER_PLATFORM_DIRS="0",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _prepare(self, env: dict[str, str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in ("config", "data", "runtime"):
            (self.base / "jupyter" / name).mkdir(parents=True, exist_ok=True)
        labconfig = self.base / "jupyter" / "config" / "labconfig"
        labconfig.mkdir(parents=True, exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps({"disabledExtensions": _DISABLED_PLUGINS})
        )
        # The user's way in, `kaish install --prefix P` (the CLI's code, in-process).
        with contextlib.redirect_stdout(io.StringIO()):
            code = kaish_main(["install", "--prefix", str(self.base / "kernels")])
        if code != 0:
            raise RuntimeError(f"kaish install --prefix failed with {code}")

    def launch(self) -> None:
        """Start the server; `wait_ready` waits for it (start the browser in between)."""
        env = self._environment()
        self._prepare(env)
        argv = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",  # no PyPI queries from the server
            f"--LabApp.workspaces_dir={self.base / 'jupyter' / 'workspaces'}",
            f"--LabApp.user_settings_dir={self.base / 'jupyter' / 'settings'}",
        ]  # fmt: skip
        if os.geteuid() == 0:  # CI machines run as root; the server refuses that by default
            argv.append("--allow-root")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the REST API answers; raises with the server's log if it never does."""
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                self.api("GET", "/api/status", timeout=2)
                return
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"jupyter lab did not answer in {timeout}s:\n{self.log()}"
                    ) from None
                time.sleep(0.2)

    # -- talking to it ---------------------------------------------------------------
    def api(self, method: str, path: str, *, timeout: float = 30) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {self.token}"},
            data=b"" if method in ("POST", "DELETE") else None,
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def sessions(self) -> list[dict[str, Any]]:
        return list(self.api("GET", "/api/sessions"))

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    # -- stopping ----------------------------------------------------------------------
    def shutdown_sessions(self) -> None:
        """DELETE every session: the server sends each kernel shutdown_request and waits."""
        for session in self.sessions():
            self.api("DELETE", f"/api/sessions/{session['id']}", timeout=60)

    def shutdown(self, timeout: float = 30) -> int:
        """POST /api/shutdown and wait; SIGTERM, then SIGKILL the group if it hangs."""
        process = self.process
        if process is None:
            return self.exit_code if self.exit_code is not None else 0
        if process.poll() is None:
            try:
                self.api("POST", "/api/shutdown", timeout=10)
            except (OSError, urllib.error.URLError):
                pass  # it may close the connection while going down
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    process.wait(10)
        self.exit_code = process.returncode
        self.process = None
        return self.exit_code

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass
