"""`find`: walk directory trees and print the paths that pass every predicate.

    find [START...] [-name P] [-iname P] [-type f|d|l] [-maxdepth N] [-mindepth N]
                    [-path P] [-ipath P] [-size [+-]N[kMG]] [-mtime [+-]N]

    START (depth 0) ─► entries, depth first, sorted by name in each directory
                       │ predicates are ANDed; -maxdepth stops descent,
                       │ -mindepth only hides shallow entries
                       ▼
                     START/sub/file   (paths keep the start's spelling)

Unlike the polite walkers (`glob`, `ls -R`) find sees everything: hidden
entries and ignored directories included. Symlinks are listed, never
followed. A regular-file START is printed itself (if it passes). Names
stream out in batches; the list is also the stage's typed value.
"""

from __future__ import annotations

import os
import posixpath
import time
from collections.abc import Iterator
from dataclasses import dataclass

from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.builtins._fsutil import (
    WRITE_BATCH,
    host_path,
    lstat,
    newline_refusal,
    operand_texts,
    reason,
)
from kaish_kernel.tools.builtins._globbing import glob_match
from kaish_kernel.tools.schema import Param, Schema
from kaish_kernel.values import Value, display

__all__ = ["TOOLS", "Find"]

_SUFFIX = {"K": 1024, "M": 1024**2, "G": 1024**3}


def _relative(value: Value, *, sizes: bool) -> tuple[str, int] | None:
    """`+N` → (">", N), `-N` → ("<", N), `N` → ("=", N); sizes take k/M/G suffixes."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return ("<", -value) if value < 0 else ("=", value)
    text = display(value).strip()
    if not text:
        return None
    sign = {"+": ">", "-": "<"}.get(text[0], "=")
    if text[0] in "+-":
        text = text[1:]
    scale = 1
    if sizes and text and text[-1].upper() in _SUFFIX:
        scale = _SUFFIX[text[-1].upper()]
        text = text[:-1]
    if not text.isdigit():
        return None
    return sign, int(text) * scale


def _compare(sign: str, actual: int, wanted: int) -> bool:
    if sign == ">":
        return actual > wanted
    if sign == "<":
        return actual < wanted
    return actual == wanted


@dataclass(slots=True)
class _Node:
    abs_path: str
    shown: str
    name: str
    kind: str  # "file" | "dir" | "symlink" | "other"
    size: int
    mtime: float
    depth: int


@dataclass(slots=True)
class _Predicates:
    name: str | None
    iname: str | None
    kind: str | None
    path: str | None
    ipath: str | None
    size: tuple[str, int] | None
    mtime: tuple[str, int] | None
    min_depth: int
    now: float

    def accept(self, node: _Node) -> bool:
        if node.depth < self.min_depth:
            return False
        if self.kind is not None and node.kind != self.kind:
            return False
        if self.name is not None and not glob_match(self.name, node.name):
            return False
        if self.iname is not None and not glob_match(self.iname, node.name, ignore_case=True):
            return False
        if self.path is not None and not glob_match(self.path, node.shown):
            return False
        if self.ipath is not None and not glob_match(self.ipath, node.shown, ignore_case=True):
            return False
        if self.size is not None and not _compare(self.size[0], node.size, self.size[1]):
            return False
        if self.mtime is not None:
            age_days = int(max(self.now - node.mtime, 0) // 86400)
            if not _compare(self.mtime[0], age_days, self.mtime[1]):
                return False
        return True


_TYPES = {"f": "file", "d": "dir", "l": "symlink"}


class Find(Tool):
    schema = Schema(
        name="find",
        summary="Search directory trees for paths matching predicates",
        params=(
            Param("name", type="str", help="The entry's name matches this glob.", metavar="PATTERN"),
            Param("iname", type="str", help="Like -name, ignoring case.", metavar="PATTERN"),
            Param("type", type="str", help="f regular file, d directory, l symlink.", metavar="KIND"),
            Param("maxdepth", type="int", help="Descend at most N levels (0: the starts only).", metavar="N"),
            Param("mindepth", type="int", help="Hide entries shallower than N (1: skip the starts).", metavar="N"),
            Param("path", type="str", help="The whole printed path matches this glob (`*` crosses `/`).", metavar="PATTERN"),
            Param("ipath", type="str", help="Like -path, ignoring case.", metavar="PATTERN"),
            Param("size", type="any", help="Size in bytes: +N more, -N less, N exactly; k, M, G suffixes.", metavar="N"),
            Param("mtime", type="any", help="Modified +N (more than N days ago), -N (less), N days ago.", metavar="N"),
            Param("paths", type="any", positional=True, variadic=True, help="Where to start (default: .)."),
        ),
        usage="find [START...] [PREDICATES]",
        description=(
            "Predicates are spelled with one dash, as in POSIX find (-name, -type, ...), and\n"
            "all must hold. Hidden entries are included; symlinks are not followed."
        ),
        examples=(
            ("Everything below here", "find ."),
            ("By name", "find src -name '*.rs'"),
            ("Directories only", "find . -type d"),
            ("Two levels deep", "find . -maxdepth 2"),
            ("Path pattern", "find . -path '*/tests/*'"),
        ),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        starts = operand_texts(ctx, args.positional) if args.positional else ["."]
        if starts is None:
            return 1
        kind = args.get("type")
        if kind is not None and kind not in _TYPES:
            return ctx.error(f"invalid type '{kind}': use 'f', 'd' or 'l'")
        max_depth, min_depth = args.get("maxdepth"), args.get("mindepth")
        for label, value in (("-maxdepth", max_depth), ("-mindepth", min_depth)):
            if value is not None and value < 0:
                return ctx.error(f"invalid {label} '{value}': expected a non-negative integer")
        parsed = {}
        for label in ("size", "mtime"):
            raw = args.get(label)
            parsed[label] = None if raw is None else _relative(raw, sizes=label == "size")
            if raw is not None and parsed[label] is None:
                return ctx.error(f"invalid -{label} '{display(raw)}'")
        predicates = _Predicates(
            name=args.get("name"),
            iname=args.get("iname"),
            kind=_TYPES[kind] if kind else None,
            path=args.get("path"),
            ipath=args.get("ipath"),
            size=parsed["size"],
            mtime=parsed["mtime"],
            min_depth=min_depth or 0,
            now=time.time(),
        )
        found: list[str] = []
        pending: list[str] = []
        size = 0
        failed = False
        reader_gone = False
        for start in starts:
            for node in self._walk(ctx, start, max_depth):
                if node is None:
                    failed = True
                    continue
                if not predicates.accept(node):
                    continue
                found.append(node.shown)
                if args.json:
                    continue
                if "\n" in node.shown:
                    return ctx.error(newline_refusal("find", node.shown), 2)
                pending.append(node.shown)
                size += len(node.shown) + 1
                if size >= WRITE_BATCH and not reader_gone:
                    reader_gone = not await _flush(ctx, pending)
                    size = 0
                if reader_gone:
                    return 0
        if args.json:
            await ctx.emit_value(found)
            return 1 if failed else 0
        ctx.stdout.set_data(found)
        if not reader_gone:
            await _flush(ctx, pending)
        return 1 if failed else 0

    def _walk(self, ctx: ToolContext, start: str, max_depth: int | None) -> Iterator[_Node | None]:
        """Depth-first, pre-order; yields None after reporting an unreadable spot."""
        vfs = ctx.shell.vfs
        root = ctx.shell.resolve_path(start)
        try:
            info = lstat(vfs, root)
        except OSError as exc:
            ctx.stderr.write(f"find: '{start}': {reason(exc)}\n")
            yield None
            return
        kind = info.kind
        if kind == "symlink" and start.endswith("/"):
            kind = "dir" if vfs.is_dir(root) else kind  # `link/` names the directory
        first_name = posixpath.basename(start.rstrip("/")) or start
        stack = [_Node(root, start, first_name, kind, info.size, info.mtime, 0)]
        while stack:
            node = stack.pop()
            yield node
            if node.kind != "dir" or (max_depth is not None and node.depth >= max_depth):
                continue
            try:
                listing = vfs.listdir(node.abs_path)
            except OSError as exc:
                ctx.stderr.write(f"find: '{node.shown}': {reason(exc)}\n")
                yield None
                continue
            real = host_path(vfs, node.abs_path)
            children = []
            prefix = node.shown.rstrip("/") if node.shown.rstrip("/") else ""
            for entry in sorted(listing, key=lambda e: e.name):
                child_kind = entry.kind
                if real is not None and os.path.islink(os.path.join(real, entry.name)):
                    child_kind = "symlink"
                children.append(
                    _Node(
                        posixpath.join(node.abs_path, entry.name),
                        f"{prefix}/{entry.name}",
                        entry.name,
                        child_kind,
                        entry.size,
                        entry.mtime,
                        node.depth + 1,
                    )
                )
            stack.extend(reversed(children))


async def _flush(ctx: ToolContext, lines: list[str]) -> bool:
    if not lines:
        return True
    try:
        await ctx.stdout.write(("\n".join(lines) + "\n").encode("utf-8"))
    except BrokenPipeError:
        return False
    finally:
        lines.clear()
    return True


TOOLS = (Find,)
