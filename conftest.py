"""Repository-wide pytest setup for the example notebooks.

`pytest` collects tests/ and notebooks/ with `--nbval` (see
[tool.pytest.ini_options] in pyproject.toml), so every notebook cell is run and
its output compared with the stored one. Here, before anything is collected:

- the kernels the notebooks name ("kaish", "python3") are installed into a
  temporary JUPYTER_PATH for this run, so a fresh clone needs no `kaish install`;
- notebooks/nbval_sanitize.cfg is used unless --nbval-sanitize-with names
  another file, so `pytest --nbval notebooks/` works from any directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SANITIZE = Path(__file__).resolve().parent / "notebooks" / "nbval_sanitize.cfg"


def pytest_configure(config: pytest.Config) -> None:
    option = config.option
    if not (getattr(option, "nbval", False) or getattr(option, "nbval_lax", False)):
        return
    from tests.notebooks.kernelspecs import install_notebook_kernelspecs

    install_notebook_kernelspecs()
    if getattr(option, "nbval_sanitize_with", None) is None:
        option.nbval_sanitize_with = str(SANITIZE)
