"""kaish-kernel: the kaish shell in Python, as a Jupyter kernel and IPython magics.

The package root imports nothing else, so any layer may import it; the
IPython extension entry points load the magics by name on first use.
"""

import importlib

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """`%load_ext kaish_kernel` registers the %kaish / %%kaish magics."""
    importlib.import_module("kaish_kernel.jupyter.magics").load_ipython_extension(ipython)


def unload_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    importlib.import_module("kaish_kernel.jupyter.magics").unload_ipython_extension(ipython)


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """`from kaish_kernel import KaishCommandError` without importing IPython at start."""
    if name in ("KaishCommandError", "KaishResult"):
        return getattr(importlib.import_module("kaish_kernel.jupyter.magic_session"), name)
    raise AttributeError(f"module 'kaish_kernel' has no attribute {name!r}")
