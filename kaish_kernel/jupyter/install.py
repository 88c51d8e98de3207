"""`kaish install`: put the kaish kernelspec where Jupyter looks for kernels.

    kaish install                     a venv's sys.prefix inside a venv; else --user
                                      (or the system prefix as root)
    kaish install --user              ~/.local/share/jupyter/kernels/kaish
    kaish install --sys-prefix        <sys.prefix>/share/jupyter/kernels/kaish (a venv, conda)
    kaish install --prefix P          P/share/jupyter/kernels/kaish

The spec's `argv[0]` is always this interpreter (`sys.executable`), so the
kernel runs with the Python that has kaish installed, whatever `python`
means on PATH later. The logos come from `kernelspec/kaish/` in a source
checkout; when that folder is not there (an installed wheel) they are drawn
here, so installing never depends on data files being shipped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import struct
import sys
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "KERNEL_NAME",
    "install_kernelspec",
    "kernel_json",
    "logo_png",
    "main",
    "write_kernelspec",
]

KERNEL_NAME = "kaish"
_SOURCE_SPEC = Path(__file__).resolve().parents[2] / "kernelspec" / KERNEL_NAME


def kernel_json(
    *,
    python: str | None = None,
    display_name: str = "kaish",
    interrupt_mode: str = "signal",
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The kernel.json content: how Jupyter starts and interrupts the kernel."""
    spec: dict[str, Any] = {
        "argv": [python or sys.executable, "-m", "kaish_kernel.jupyter", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "kaish",
        "interrupt_mode": interrupt_mode,
        "metadata": {"debugger": False},
    }
    if env:
        spec["env"] = dict(env)
    return spec


# -- logos: a small RGBA PNG writer, so no imaging library is needed --------


def _png(width: int, height: int, rgba: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + rgba[y * width * 4 : (y + 1) * width * 4] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _segment_distance(px: float, py: float, ax: float, ay: float, bx: float, by: float) -> float:
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _logo_coverage(u: float, v: float) -> tuple[float, float]:
    """(inside the tile, on a glyph stroke) for a point in the unit square.

    The picture is a prompt: a rounded tile with `>` and `_` on it."""
    r = 0.2
    cx = min(max(u, r), 1 - r)
    cy = min(max(v, r), 1 - r)
    tile = 1.0 if math.hypot(u - cx, v - cy) <= r else 0.0
    width = 0.065
    chevron = min(
        _segment_distance(u, v, 0.24, 0.28, 0.48, 0.5),
        _segment_distance(u, v, 0.48, 0.5, 0.24, 0.72),
    )
    underscore = _segment_distance(u, v, 0.55, 0.72, 0.78, 0.72)
    stroke = 1.0 if min(chevron, underscore) <= width else 0.0
    return tile, stroke


def logo_png(size: int) -> bytes:
    """A `size`×`size` kaish logo, antialiased by 4×4 supersampling."""
    background = (0x1E, 0x3A, 0x5F)
    ink = (0x7F, 0xE0, 0xB0)
    samples = 4
    pixels = bytearray()
    for y in range(size):
        for x in range(size):
            tile_sum = stroke_sum = 0.0
            for sy in range(samples):
                for sx in range(samples):
                    u = (x + (sx + 0.5) / samples) / size
                    v = (y + (sy + 0.5) / samples) / size
                    tile, stroke = _logo_coverage(u, v)
                    tile_sum += tile
                    stroke_sum += stroke * tile
            n = samples * samples
            alpha = tile_sum / n
            mix = stroke_sum / tile_sum if tile_sum else 0.0
            rgb = [round(b + (i - b) * mix) for b, i in zip(background, ink, strict=True)]
            pixels += bytes((*rgb, round(alpha * 255)))
    return _png(size, size, bytes(pixels))


# -- installing --------------------------------------------------------------


def write_kernelspec(
    directory: str | os.PathLike[str],
    *,
    interrupt_mode: str = "signal",
    display_name: str = "kaish",
    env: Mapping[str, str] | None = None,
) -> Path:
    """Write kernel.json and the logos into `directory` (created if needed)."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    spec = kernel_json(interrupt_mode=interrupt_mode, display_name=display_name, env=env)
    (target / "kernel.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    for size in (32, 64):
        name = f"logo-{size}x{size}.png"
        shipped = _SOURCE_SPEC / name
        if shipped.is_file():
            shutil.copyfile(shipped, target / name)
        else:
            (target / name).write_bytes(logo_png(size))
    return target


def install_kernelspec(
    *,
    user: bool = False,
    prefix: str | None = None,
    kernel_name: str = KERNEL_NAME,
    interrupt_mode: str = "signal",
    display_name: str = "kaish",
    env: Mapping[str, str] | None = None,
) -> str:
    """Install the spec through jupyter_client; returns the installed folder."""
    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory(prefix="kaish-kernelspec-") as tmp:
        write_kernelspec(tmp, interrupt_mode=interrupt_mode, display_name=display_name, env=env)
        return KernelSpecManager().install_kernel_spec(
            tmp, kernel_name=kernel_name, user=user, prefix=prefix
        )


def _is_root() -> bool:
    try:
        return os.geteuid() == 0
    except AttributeError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kaish install", description="Install the kaish Jupyter kernelspec.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user")
    where.add_argument("--sys-prefix", action="store_true", help=f"install into sys.prefix ({sys.prefix})")
    where.add_argument("--prefix", help="install into PREFIX/share/jupyter/kernels")
    parser.add_argument("--name", default=KERNEL_NAME, help="kernelspec name (default: kaish)")
    parser.add_argument("--display-name", default="kaish", help="name shown in the launcher")
    parser.add_argument(
        "--interrupt-mode",
        choices=("signal", "message"),
        default="signal",
        help="how Jupyter interrupts the kernel (default: signal)",
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    in_venv = sys.prefix != sys.base_prefix
    default_prefix = not (args.user or args.sys_prefix or args.prefix)
    prefix = sys.prefix if args.sys_prefix or (default_prefix and in_venv) else args.prefix
    user = bool(args.user) or (prefix is None and not _is_root())
    try:
        path = install_kernelspec(
            user=user,
            prefix=prefix,
            kernel_name=args.name,
            interrupt_mode=args.interrupt_mode,
            display_name=args.display_name,
        )
    except OSError as exc:
        sys.stderr.write(f"kaish install: {exc}\n")
        return 1
    sys.stdout.write(f"Installed the kaish kernelspec in {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
