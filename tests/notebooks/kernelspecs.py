"""Kernels for the example notebooks, installed per test run (no manual step).

    <tmp>/share/jupyter/kernels/kaish     this checkout's kaish kernel
    <tmp>/share/jupyter/kernels/python3   ipykernel, on this same interpreter

JUPYTER_PATH is pointed at <tmp>/share/jupyter first, so the kernelspec names the
notebooks store ("kaish", "python3") resolve to this environment, whatever a
user's ~/.local or the system has installed under the same names. Both specs
start `sys.executable`: the interpreter running pytest, which has kaish_kernel.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

__all__ = ["install_notebook_kernelspecs"]

_installed: str | None = None


def install_notebook_kernelspecs() -> str:
    """Install both specs once per process; returns the JUPYTER_PATH entry."""
    global _installed
    if _installed is None:
        from ipykernel.kernelspec import install as install_python_kernelspec

        from kaish_kernel.jupyter.install import install_kernelspec

        prefix = tempfile.mkdtemp(prefix="kaish-notebooks-jupyter-")
        atexit.register(shutil.rmtree, prefix, True)
        install_kernelspec(prefix=prefix, kernel_name="kaish")
        install_python_kernelspec(prefix=prefix, kernel_name="python3")
        _installed = os.path.join(prefix, "share", "jupyter")
        previous = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = _installed + (os.pathsep + previous if previous else "")
    return _installed
