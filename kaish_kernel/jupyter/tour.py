"""`kaish tour`: run the tour notebook through the real kaish kernel.

    kaish tour [--output PATH] [--notebook PATH]

Executes notebooks/01-tour.ipynb (from the source checkout) with nbclient,
writes the executed copy (default ./kaish-tour.ipynb) and prints where it is,
with a one-line summary per cell. The kaish kernelspec must be installed
(`kaish install`); if Jupyter cannot find it, this says so.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

_REPO_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01-tour.ipynb"


def _summary(cell: dict) -> str:  # type: ignore[type-arg]
    first = (cell.get("source") or "").splitlines()[:1]
    text = first[0] if first else ""
    outputs = cell.get("outputs", [])
    kinds = sorted({o.get("output_type", "?") for o in outputs})
    return f"  {text[:60]:<60}  {', '.join(kinds) or '-'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kaish tour", description="Execute the kaish tour notebook.")
    parser.add_argument("--output", default="kaish-tour.ipynb", help="where to write the executed copy")
    parser.add_argument("--notebook", default=str(_REPO_NOTEBOOK), help="the notebook to run")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        import nbformat
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as exc:
        sys.stderr.write(f"kaish tour: {exc.name} is missing; pip install kaish-kernel\n")
        return 1
    source = Path(args.notebook)
    if not source.exists():
        sys.stderr.write(f"kaish tour: {source} not found (run from a source checkout, or pass --notebook)\n")
        return 1
    try:
        KernelSpecManager().get_kernel_spec("kaish")
    except NoSuchKernel:
        sys.stderr.write("kaish tour: the kaish kernelspec is not installed; run `kaish install` first\n")
        return 1
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="kaish", timeout=120, allow_errors=True,
        resources={"metadata": {"path": str(source.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        sys.stderr.write(f"kaish tour: {exc}\n")
        return 1
    output = Path(args.output).resolve()
    nbformat.write(notebook, output)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    sys.stdout.write(f"Ran {len(code_cells)} cells of {source.name} in the kaish kernel:\n")
    for cell in code_cells:
        sys.stdout.write(_summary(cell) + "\n")
    sys.stdout.write(f"Executed copy: {output}\n(open it with `jupyter lab {output.name}`)\n")
    return 0
