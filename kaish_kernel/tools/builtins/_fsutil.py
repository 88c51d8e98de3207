"""Helpers shared by the file builtins (ls, glob, cp, mv, rm, find, ...).

Every path goes through the session's VFS router. Where a question only a
host filesystem can answer (is this a symlink, where does it point) comes
up, the router is asked for the host path behind a mount (`real_path`) and
virtual mounts simply answer "not a link".

Text output is written in ~64 KiB batches, one name per line; a reader that
leaves ends the listing quietly.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from typing import Any, Final

from kaish_kernel.tools.base import ToolContext
from kaish_kernel.values import Value, ValueError_, display
from kaish_kernel.vfs.base import EntryInfo

__all__ = [
    "WRITE_BATCH",
    "host_path",
    "is_symlink",
    "lstat",
    "newline_name",
    "newline_refusal",
    "operand_texts",
    "read_link",
    "reason",
    "write_lines",
]

WRITE_BATCH: Final = 64 * 1024


def reason(exc: OSError) -> str:
    """`No such file or directory`, `Permission denied`, ... for a message."""
    if exc.strerror:
        return exc.strerror
    if exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def host_path(vfs: Any, path: str) -> str | None:
    """The host path behind `path`, or None on a virtual mount."""
    try:
        fs, sub = vfs.route(path)
        return fs.real_path(sub)  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def lstat(vfs: Any, path: str) -> EntryInfo:
    """Like `vfs.stat` but a symlink is reported as itself (kind "symlink")."""
    fs, sub = vfs.route(path)
    if hasattr(fs, "lstat"):
        return fs.lstat(sub)  # type: ignore[no-any-return]
    return fs.stat(sub)  # type: ignore[no-any-return]


def is_symlink(vfs: Any, path: str) -> bool:
    real = host_path(vfs, path)
    return real is not None and os.path.islink(real)


def read_link(vfs: Any, path: str) -> str:
    """The target text of a symlink; OSError(EINVAL) when `path` is not one."""
    real = host_path(vfs, path)
    if real is not None and os.path.islink(real):
        return os.readlink(real)
    if not (os.path.lexists(real) if real is not None else vfs.exists(path)):
        raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    raise OSError(errno.EINVAL, "not a symbolic link", path)


def operand_texts(ctx: ToolContext, values: Iterable[Value]) -> list[str] | None:
    """Operands as path text; a collection or binary operand is reported (None)."""
    out = []
    for value in values:
        if isinstance(value, list | dict):
            kind = "list" if isinstance(value, list) else "record"
            ctx.error(f"cannot use a {kind} as a path")
            return None
        try:
            out.append(display(value))
        except ValueError_ as exc:
            ctx.error(str(exc))
            return None
    return out


def newline_name(names: Iterable[str]) -> str | None:
    """The first name holding a newline (text output would split it in two)."""
    for name in names:
        if "\n" in name:
            return name
    return None


def newline_refusal(tool: str, name: str) -> str:
    escaped = name.replace("\n", "\\n")
    return (
        f"'{escaped}': a newline in a filename cannot be reported as text — the line split "
        f"would report two files that do not exist. Use `{tool} --json` to read it "
        "losslessly, or rename the file."
    )


async def write_lines(ctx: ToolContext, lines: Iterable[str]) -> bool:
    """Each line plus `\\n`, batched; False when the reader went away."""
    batch: list[str] = []
    size = 0
    try:
        for line in lines:
            batch.append(line)
            size += len(line) + 1
            if size >= WRITE_BATCH:
                await ctx.stdout.write(("\n".join(batch) + "\n").encode("utf-8"))
                batch.clear()
                size = 0
        if batch:
            await ctx.stdout.write(("\n".join(batch) + "\n").encode("utf-8"))
    except BrokenPipeError:
        return False
    return True
