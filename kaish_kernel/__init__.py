"""kaish-kernel: the kaish shell in Python, as a Jupyter kernel and IPython magics."""

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    """`%load_ext kaish_kernel` registers the %kaish / %%kaish magics."""
    from kaish_kernel.jupyter.magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython):  # type: ignore[no-untyped-def]
    from kaish_kernel.jupyter.magics import unload_ipython_extension as _unload

    _unload(ipython)


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """`from kaish_kernel import KaishCommandError` without importing IPython at start."""
    if name in ("KaishCommandError", "KaishResult"):
        from kaish_kernel.jupyter import magic_session

        return getattr(magic_session, name)
    raise AttributeError(f"module 'kaish_kernel' has no attribute {name!r}")
