"""File builtins: cp, mv, rm, mkdir, touch, write, ln, readlink, realpath,
mktemp, stat (and ls, glob, tree from `_listing`).

All of them reach files through `ctx.shell.vfs` with paths from
`ctx.shell.resolve_path`, so a virtual mount behaves like a directory.

Safety rules (kaish's, plus GNU's refusals):
- a symlink is always handled as itself: `rm link`, `rm -r link-to-dir` and
  `mv link x` touch the link, never its target, and `rm -r` never follows a
  link inside the tree it removes;
- `rm` checks every operand before removing anything, so a typo in the last
  operand removes nothing (`-f` skips missing operands instead);
- `rm` refuses `/`, `.` and `..`; `cp -r`/`mv` refuse to copy or move a
  directory into itself;
- per-operand failures are all reported; the exit status is 1 if any failed.
"""

from __future__ import annotations

import errno
import os
import posixpath
import secrets
import shutil
import string
from collections.abc import Callable
from typing import TypeVar

from kaish_kernel.scheduler.stage import EMPTY_INPUT, FdInput
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.builtins._fsutil import (
    host_path,
    lstat,
    operand_texts,
    read_link,
    reason,
    write_lines,
)
from kaish_kernel.tools.builtins._listing import Glob, Ls, Tree
from kaish_kernel.tools.schema import Param, Schema
from kaish_kernel.values import Value, display, to_json

__all__ = ["TOOLS", "Cp", "Ln", "Mkdir", "Mktemp", "Mv", "Readlink", "Realpath", "Rm", "Stat", "Touch", "Write"]


async def _emit_lines(ctx: ToolContext, lines: list[str]) -> None:
    """Lines of text, or under --json that same text as one JSON string."""
    if ctx.args.json:
        await ctx.emit_value("".join(line + "\n" for line in lines))
    else:
        await write_lines(ctx, lines)


class _Refusal(Exception):
    """A per-operand refusal with its message already worded."""


_T = TypeVar("_T")


def _path_operands(ctx: ToolContext) -> list[str] | None:
    """The operands as path text, or None once a bad one or none at all is reported.

    Every multi-path tool (rm, mkdir, touch, readlink, ...) starts this way."""
    texts = operand_texts(ctx, ctx.args.positional)
    if texts is None:
        return None
    if not texts:
        ctx.error("missing path argument")
        return None
    return texts


def _each_operand(
    ctx: ToolContext, texts: list[str], action: Callable[[str], _T]
) -> tuple[list[_T], bool]:
    """`action` on every operand in turn: the results of those that worked, and
    whether any failed.

    One operand's failure does not stop the rest (GNU's rule): an OSError is
    reported as `OPERAND: reason`, a `_Refusal` with its own wording."""
    results: list[_T] = []
    failed = False
    for text in texts:
        try:
            results.append(action(text))
        except _Refusal as exc:
            ctx.error(str(exc))
            failed = True
        except OSError as exc:
            ctx.error(f"{text}: {reason(exc)}")
            failed = True
    return results, failed


def _inside(child: str, parent: str) -> bool:
    return child == parent or child.startswith(parent.rstrip("/") + "/")


def _split_target(ctx: ToolContext) -> tuple[list[str], str] | int:
    """Sources and destination for cp/mv, or the exit status after an error."""
    texts = operand_texts(ctx, ctx.args.positional)
    if texts is None:
        return 1
    if len(texts) < 2:
        return ctx.error("missing file operand (need source and destination)")
    if len(texts) > 2 and not ctx.shell.vfs.is_dir(ctx.shell.resolve_path(texts[-1])):
        return ctx.error(f"target '{texts[-1]}' is not a directory")
    return texts[:-1], texts[-1]


def _destination(vfs: object, src: str, dst: str) -> str:
    """`dst` itself, or `dst/NAME` when `dst` is an existing directory."""
    if vfs.is_dir(dst):  # type: ignore[attr-defined]
        return posixpath.join(dst, posixpath.basename(src.rstrip("/")) or src)
    return dst


class Cp(Tool):
    schema = Schema(
        name="cp",
        summary="Copy files and directories",
        params=(
            Param("recursive", short="r", aliases=("R",), help="Copy directories and everything in them (-R too)."),
            Param("no-clobber", short="n", aliases=("no_clobber",), help="Never overwrite an existing file."),
            Param("paths", type="any", positional=True, variadic=True, help="SOURCE... DEST (DEST a directory when several)."),
        ),
        usage="cp [OPTIONS] SOURCE... DEST",
        description="Symlinks inside a copied tree are copied as links.",
        examples=(("Copy a file", "cp a.txt b.txt"), ("Copy a tree", "cp -r src/ backup/"), ("Into a directory", "cp a b dir/")),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        split = _split_target(ctx)
        if isinstance(split, int):
            return split
        sources, dest = split
        vfs = ctx.shell.vfs
        dst_abs = ctx.shell.resolve_path(dest)

        def copy(source: str) -> None:
            src_abs = ctx.shell.resolve_path(source)
            try:
                info = vfs.stat(src_abs)
                target = _destination(vfs, src_abs, dst_abs)
                if info.is_dir:
                    if not ctx.args.flag("recursive"):
                        raise _Refusal(f"{source}: is a directory (use -r to copy)")
                    if _inside(target, src_abs):
                        raise _Refusal(f"cannot copy '{source}' into itself")
                    self._copy_tree(vfs, src_abs, target, ctx.args.flag("no-clobber"))
                else:
                    if target == src_abs:
                        raise _Refusal(f"'{source}' and '{dest}' are the same file")
                    self._copy_file(vfs, src_abs, target, ctx.args.flag("no-clobber"))
            except OSError as exc:
                # name the operand the failure is about: the source, or where it was going
                about = source if exc.filename in (None, src_abs, host_path(vfs, src_abs)) else dest
                raise _Refusal(f"{about}: {reason(exc)}") from None

        return 1 if _each_operand(ctx, sources, copy)[1] else 0

    @staticmethod
    def _copy_file(vfs: object, src: str, dst: str, no_clobber: bool) -> None:
        if no_clobber and vfs.exists(dst):  # type: ignore[attr-defined]
            return
        real_src, real_dst = host_path(vfs, src), host_path(vfs, dst)
        if real_src is not None and real_dst is not None:
            shutil.copyfile(real_src, real_dst)
            return
        vfs.write_bytes(dst, vfs.read_bytes(src))  # type: ignore[attr-defined]

    def _copy_tree(self, vfs: object, src: str, dst: str, no_clobber: bool) -> None:
        vfs.mkdir(dst, parents=True)  # type: ignore[attr-defined]
        for entry in sorted(vfs.listdir(src), key=lambda e: e.name):  # type: ignore[attr-defined]
            child_src = posixpath.join(src, entry.name)
            child_dst = posixpath.join(dst, entry.name)
            real_src, real_dst = host_path(vfs, child_src), host_path(vfs, child_dst)
            if real_src is not None and real_dst is not None and os.path.islink(real_src):
                if no_clobber and os.path.lexists(real_dst):
                    continue
                if os.path.lexists(real_dst):
                    os.unlink(real_dst)
                os.symlink(os.readlink(real_src), real_dst)
            elif entry.is_dir:
                self._copy_tree(vfs, child_src, child_dst, no_clobber)
            else:
                self._copy_file(vfs, child_src, child_dst, no_clobber)


class Mv(Tool):
    schema = Schema(
        name="mv",
        summary="Move or rename files and directories",
        params=(
            Param("no-clobber", short="n", aliases=("no_clobber",), help="Never overwrite an existing file."),
            Param("paths", type="any", positional=True, variadic=True, help="SOURCE... DEST (DEST a directory when several)."),
        ),
        usage="mv [OPTIONS] SOURCE... DEST",
        description="A symlink is moved as a link; its target is left alone.",
        examples=(("Rename", "mv old.txt new.txt"), ("Into a directory", "mv a.txt b.txt dir/")),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        split = _split_target(ctx)
        if isinstance(split, int):
            return split
        sources, dest = split
        vfs = ctx.shell.vfs
        dst_abs = ctx.shell.resolve_path(dest)

        def move(source: str) -> None:
            src_abs = ctx.shell.resolve_path(source)
            info = lstat(vfs, src_abs)
            target = _destination(vfs, src_abs, dst_abs)
            if info.is_dir and _inside(target, src_abs) and target != src_abs:
                raise _Refusal(f"cannot move '{source}' into itself")
            if target == src_abs:
                return
            if ctx.args.flag("no-clobber") and (vfs.exists(target) or _lexists(vfs, target)):
                return
            self._move(vfs, src_abs, target, info.kind)

        return 1 if _each_operand(ctx, sources, move)[1] else 0

    @staticmethod
    def _move(vfs: object, src: str, dst: str, kind: str) -> None:
        try:
            vfs.rename(src, dst)  # type: ignore[attr-defined]
            return
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        real_src, real_dst = host_path(vfs, src), host_path(vfs, dst)
        if real_src is not None and real_dst is not None:
            shutil.move(real_src, real_dst)
            return
        if kind == "dir":
            raise OSError(errno.EXDEV, "cannot move a directory across mounts", src)
        vfs.write_bytes(dst, vfs.read_bytes(src))  # type: ignore[attr-defined]
        vfs.remove(src)  # type: ignore[attr-defined]


def _lexists(vfs: object, path: str) -> bool:
    try:
        lstat(vfs, path)
    except OSError:
        return False
    return True


class Rm(Tool):
    schema = Schema(
        name="rm",
        summary="Remove files and directories",
        params=(
            Param("recursive", short="r", aliases=("R",), help="Remove directories and their contents (-R too)."),
            Param("force", short="f", help="Ignore operands that do not exist."),
            Param("paths", type="any", positional=True, variadic=True, help="What to remove."),
        ),
        description=(
            "An empty directory is removed without -r. Every operand is checked first: if one\n"
            "is missing (and -f was not given) nothing is removed. Symlinks are unlinked,\n"
            "never followed. `/`, `.` and `..` are refused."
        ),
        examples=(("Remove a file", "rm temp.txt"), ("Remove a tree", "rm -rf build/")),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = _path_operands(ctx)
        if texts is None:
            return 1
        vfs = ctx.shell.vfs
        recursive = ctx.args.flag("recursive")
        force = ctx.args.flag("force")
        plan: list[tuple[str, str]] = []
        for text in texts:
            if posixpath.basename(text.rstrip("/")) in (".", ".."):
                return ctx.error(f"refusing to remove '.' or '..' directory: skipping '{text}'")
            resolved = ctx.shell.resolve_path(text)
            if resolved == "/":
                return ctx.error("refusing to remove '/'")
            try:
                lstat(vfs, resolved)
            except FileNotFoundError:
                if force:
                    continue
                return ctx.error(f"{text}: No such file or directory")
            except OSError as exc:
                return ctx.error(f"{text}: {reason(exc)}")
            plan.append((text, resolved))
        failed = False
        for text, resolved in plan:
            try:
                vfs.remove(resolved, recursive=recursive)
            except FileNotFoundError:
                if not force:
                    ctx.error(f"{text}: No such file or directory")
                    failed = True
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.EISDIR):
                    ctx.error(f"{text}: is a directory and not empty (use -r to remove it)")
                else:
                    ctx.error(f"{text}: {reason(exc)}")
                failed = True
        return 1 if failed else 0


class Mkdir(Tool):
    schema = Schema(
        name="mkdir",
        summary="Create directories (parents included)",
        params=(
            Param("parents", short="p", help="Accepted for compatibility: parents are always created."),
            Param("paths", type="any", positional=True, variadic=True, help="Directories to create."),
        ),
        description="An existing directory is not an error; an existing file is.",
        examples=(("Nested directories", "mkdir -p a/b/c"),),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = _path_operands(ctx)
        if texts is None:
            return 1

        def make(text: str) -> None:
            ctx.shell.vfs.mkdir(ctx.shell.resolve_path(text), parents=True)

        return 1 if _each_operand(ctx, texts, make)[1] else 0


class Touch(Tool):
    schema = Schema(
        name="touch",
        summary="Create empty files, or update their modification time",
        params=(Param("paths", type="any", positional=True, variadic=True, help="Files to touch."),),
        examples=(("Create or refresh", "touch marker.txt"),),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = _path_operands(ctx)
        if texts is None:
            return 1
        vfs = ctx.shell.vfs

        def touch(text: str) -> None:
            resolved = ctx.shell.resolve_path(text)
            if vfs.exists(resolved):
                real = host_path(vfs, resolved)
                if real is not None:
                    os.utime(real, None)
            else:
                vfs.write_bytes(resolved, b"", append=True)

        return 1 if _each_operand(ctx, texts, touch)[1] else 0


class Ln(Tool):
    schema = Schema(
        name="ln",
        summary="Make a symbolic link",
        params=(
            Param("symbolic", short="s", help="Make a symbolic link (required: hard links are not supported)."),
            Param("force", short="f", help="Replace an existing LINK."),
            Param("target", type="any", positional=True, required=True, help="What the link points to (stored as written)."),
            Param("link", type="any", positional=True, required=True, help="The link to create."),
        ),
        usage="ln -s [-f] TARGET LINK",
        examples=(("Point current at a release", "ln -sf releases/v2 current"),),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = operand_texts(ctx, ctx.args.positional)
        if texts is None:
            return 1
        target, link = texts
        if not ctx.args.flag("symbolic"):
            return ctx.error("hard links not supported, use -s for symbolic links")
        vfs = ctx.shell.vfs
        link_abs = ctx.shell.resolve_path(link)
        real = host_path(vfs, link_abs)
        if real is None:
            return ctx.error(f"failed to create symbolic link '{link}': not supported on this mount")
        try:
            if ctx.args.flag("force") and _lexists(vfs, link_abs):
                if os.path.isdir(real) and not os.path.islink(real):
                    return ctx.error(f"cannot remove '{link}': Is a directory")
                os.unlink(real)
            os.symlink(target, real)
        except OSError as exc:
            return ctx.error(f"failed to create symbolic link '{link}': {reason(exc)}")
        return 0


def _is_session_stdin(stream: object) -> bool:
    """The shell's own fd 0 (as opposed to a pipe, a redirect or a here-doc)."""
    return isinstance(stream, FdInput) and getattr(stream, "_fd", None) == 0


def _content_bytes(value: Value) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list | dict):
        return to_json(value).encode("utf-8")
    return display(value).encode("utf-8")


class Write(Tool):
    schema = Schema(
        name="write",
        summary="Write content to a file (replacing it)",
        params=(
            Param("path", type="any", help="The file (or give it as the first operand).", metavar="PATH"),
            Param("content", type="any", help="What to write (or the second operand, or stdin).", metavar="TEXT"),
            Param("operands", type="any", positional=True, variadic=True, help="PATH [CONTENT]."),
        ),
        usage="write PATH [CONTENT]",
        description=(
            "Without CONTENT the file gets stdin (an empty pipe truncates it). With neither\n"
            "content nor stdin the file is left unchanged and the exit status is 1.\n"
            "Writes exactly the bytes given: no newline is added."
        ),
        examples=(
            ("Write a file", "write notes.txt 'hello'"),
            ("From a pipe", "seq 1 3 | write nums.txt"),
        ),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        operands = list(ctx.args.positional)
        path_value = ctx.args.get("path")
        if path_value is None:
            if not operands:
                return ctx.error("missing path argument")
            path_value = operands.pop(0)
        paths = operand_texts(ctx, [path_value])
        if paths is None:
            return 1
        path = paths[0]
        content = ctx.args.get("content")
        if content is None and operands:
            content = operands.pop(0)
        if operands:
            return ctx.error(f"unexpected argument '{display(operands[0])}'", 2)
        refusal = (
            f"no content to write — pass it as an operand (write {path} CONTENT), pipe it "
            f"in, or redirect a file into it; '{path}' is unchanged"
        )
        if content is not None:
            data = _content_bytes(content)
        elif ctx.stdin is EMPTY_INPUT:
            return ctx.error(refusal)
        else:
            data = await ctx.stdin.read_all()
            # An empty pipe or redirect truncates on purpose; the session's own
            # stdin running dry only means nobody offered any content.
            if not data and _is_session_stdin(ctx.stdin):
                return ctx.error(refusal)
        try:
            ctx.shell.vfs.write_bytes(ctx.shell.resolve_path(path), data)
        except OSError as exc:
            return ctx.error(f"{path}: {reason(exc)}")
        return 0


def _canonical(ctx: ToolContext, text: str, *, allow_missing_last: bool) -> str:
    """The absolute path with links resolved; raises OSError when it does not exist."""
    vfs = ctx.shell.vfs
    resolved = ctx.shell.resolve_path(text)
    real = host_path(vfs, resolved)
    if real is None:
        if not vfs.exists(resolved) and not (allow_missing_last and vfs.is_dir(posixpath.dirname(resolved))):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", text)
        return resolved
    if allow_missing_last:
        parent = os.path.realpath(os.path.dirname(real), strict=True)
        if not os.path.isdir(parent):
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", text)
        return os.path.realpath(real)
    return os.path.realpath(real, strict=True)


class Readlink(Tool):
    schema = Schema(
        name="readlink",
        summary="Print where a symbolic link points",
        params=(
            Param("canonicalize", short="f", help="Print the full resolved path instead (the last part may be missing)."),
            Param("paths", type="any", positional=True, variadic=True, help="Links to read."),
        ),
        examples=(("Link target", "readlink current"), ("Resolved path", "readlink -f ./bin/tool")),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = _path_operands(ctx)
        if texts is None:
            return 1

        def target(text: str) -> str:
            if ctx.args.flag("canonicalize"):
                return _canonical(ctx, text, allow_missing_last=True)
            return read_link(ctx.shell.vfs, ctx.shell.resolve_path(text))

        lines, failed = _each_operand(ctx, texts, target)
        await _emit_lines(ctx, lines)
        return 1 if failed else 0


class Realpath(Tool):
    schema = Schema(
        name="realpath",
        summary="Print the absolute path with every link resolved",
        params=(Param("paths", type="any", positional=True, variadic=True, help="Paths that must exist."),),
        examples=(("Absolute path", "realpath ../x"),),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = _path_operands(ctx)
        if texts is None:
            return 1
        lines, failed = _each_operand(
            ctx, texts, lambda text: _canonical(ctx, text, allow_missing_last=False)
        )
        await _emit_lines(ctx, lines)
        return 1 if failed else 0


_RANDOM_CHARS = string.ascii_letters + string.digits


def _fill_template(template: str) -> str:
    out, run = [], 0
    for ch in template + "\0":
        if ch == "X":
            run += 1
            continue
        if run:
            out.append("".join(secrets.choice(_RANDOM_CHARS) for _ in range(run)))
            run = 0
        if ch != "\0":
            out.append(ch)
    return "".join(out)


class Mktemp(Tool):
    schema = Schema(
        name="mktemp",
        summary="Create a new empty temporary file (or directory) and print its path",
        params=(
            Param("directory", short="d", help="Create a directory instead of a file."),
            Param("tmpdir", type="str", short="p", help="Create it in DIR (default: $TMPDIR, else /tmp).", metavar="DIR"),
            Param("t", type="str", short="t", help="Same as --template.", metavar="TEMPLATE"),
            Param("template", type="str", help="Name template; each run of X becomes random characters.", metavar="TEMPLATE"),
            Param("name", type="str", positional=True, help="The template, as an operand."),
        ),
        usage="mktemp [OPTIONS] [TEMPLATE]",
        examples=(("A scratch file", "f=$(mktemp)"), ("A scratch directory", "d=$(mktemp -d)"), ("Named", "mktemp job.XXXXXX")),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        parent = args.get("tmpdir")
        if not parent and ctx.shell.has_var("TMPDIR"):
            parent = display(ctx.shell.get_var("TMPDIR"))
        parent = parent or "/tmp"
        template = args.get("t") or args.get("template") or (args.positional[0] if args.positional else None)
        template = display(template) if template else "tmp.XXXXXXXXXX"
        vfs = ctx.shell.vfs
        for _ in range(100):
            name = _fill_template(template)
            path = ctx.shell.resolve_path(name if name.startswith("/") else f"{parent}/{name}")
            if vfs.exists(path) or _lexists(vfs, path):
                continue
            try:
                if args.flag("directory"):
                    vfs.mkdir(path)
                else:
                    real = host_path(vfs, path)
                    if real is not None:
                        os.close(os.open(real, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                    else:
                        vfs.write_bytes(path, b"")
            except FileExistsError:
                continue
            except OSError as exc:
                what = "directory" if args.flag("directory") else "file"
                return ctx.error(f"failed to create {what} via template '{template}': {reason(exc)}")
            await _emit_lines(ctx, [path])
            return 0
        return ctx.error(f"could not find an unused name for template '{template}'")


def _stat_format(fmt: str, name: str, size: int, kind: str, mtime: float, mode: int) -> str:
    fields = {
        "n": name,
        "s": str(size),
        "F": kind,
        "Y": str(int(mtime)),
        "a": format(mode & 0o7777, "o"),
        "%": "%",
    }
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt) and fmt[i + 1] in fields:
            out.append(fields[fmt[i + 1]])
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


class Stat(Tool):
    schema = Schema(
        name="stat",
        summary="Show a file's size and type",
        params=(
            Param("format", type="str", short="c", help="Print FMT per file: %n name, %s size, %F type, %Y mtime, %a mode.", metavar="FMT"),
            Param("paths", type="any", positional=True, variadic=True, help="Files to describe."),
        ),
        examples=(("Size and type", "stat data.csv"), ("Just the size", "stat -c %s data.csv")),
        json_output=True,
        category="files",
    )

    async def run(self, ctx: ToolContext) -> int:
        texts = _path_operands(ctx)
        if texts is None:
            return 1
        fmt = ctx.args.get("format")
        rows: list[dict[str, Value]] = []
        lines: list[str] = []
        found, failed = _each_operand(
            ctx, texts, lambda text: (text, ctx.shell.vfs.stat(ctx.shell.resolve_path(text)))
        )
        for text, info in found:
            kind = "directory" if info.is_dir else "regular file"
            if fmt is not None:
                lines.append(_stat_format(display(fmt), text, info.size, kind, info.mtime, info.mode).rstrip("\n"))
            else:
                rows.append({"FILE": text, "SIZE": str(info.size), "TYPE": kind})
                lines.append(f"{text}\t{info.size}\t{kind}")
        if ctx.args.json and fmt is None:
            await ctx.emit_value(rows)
        else:
            if fmt is None:
                ctx.stdout.set_data(rows)
            await write_lines(ctx, lines)
        return 1 if failed else 0


TOOLS = (Ls, Glob, Tree, Cp, Mv, Rm, Mkdir, Touch, Write, Ln, Readlink, Realpath, Mktemp, Stat)
