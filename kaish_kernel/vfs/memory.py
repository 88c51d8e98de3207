"""/v: in-memory scratch storage, private to one shell and gone with it.

Everything under /v that is not a mount of its own (/v/jobs, /v/bin) lives
here: directories and files as a tree of dicts and bytearrays. Nothing
reaches the host filesystem, so an external command cannot see these files
(`real_path` is None) and the shell's working directory cannot be one.
"""

from __future__ import annotations

import errno
import posixpath
import time

from kaish_kernel.scheduler.stage import OutputStream
from kaish_kernel.vfs.base import EntryInfo, Filesystem, fs_error

__all__ = ["MemoryFs"]


class _Dir:
    __slots__ = ("entries", "mtime")

    def __init__(self) -> None:
        self.entries: dict[str, _Dir | _File] = {}
        self.mtime = time.time()


class _File:
    __slots__ = ("data", "mtime")

    def __init__(self) -> None:
        self.data = bytearray()
        self.mtime = time.time()


class _FileOutput(OutputStream):
    """Writes land in the file as they come (a reader sees them at once)."""

    def __init__(self, node: _File) -> None:
        self._node = node
        self._closed = False

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise BrokenPipeError("output closed")
        self._node.data += data
        self._node.mtime = time.time()

    async def close(self) -> None:
        self._closed = True


def _parts(path: str) -> list[str]:
    return [p for p in posixpath.normpath(path).split("/") if p and p != "."]


class MemoryFs(Filesystem):
    def __init__(self) -> None:
        self._root = _Dir()

    def __repr__(self) -> str:
        return f"<MemoryFs {len(self._root.entries)} top-level entries>"

    # -- lookup --
    def _node(self, path: str) -> _Dir | _File:
        node: _Dir | _File = self._root
        for part in _parts(path):
            if not isinstance(node, _Dir):
                raise fs_error(errno.ENOTDIR, path)
            try:
                node = node.entries[part]
            except KeyError:
                raise fs_error(errno.ENOENT, path) from None
        return node

    def _parent(self, path: str) -> tuple[_Dir, str]:
        parts = _parts(path)
        if not parts:
            raise fs_error(errno.EEXIST, path)
        parent = self._node("/" + "/".join(parts[:-1]))
        if not isinstance(parent, _Dir):
            raise fs_error(errno.ENOTDIR, path)
        return parent, parts[-1]

    def _file(self, path: str, *, create: bool) -> _File:
        parent, name = self._parent(path)
        node = parent.entries.get(name)
        if node is None:
            if not create:
                raise fs_error(errno.ENOENT, path)
            node = parent.entries[name] = _File()
            parent.mtime = time.time()
        if isinstance(node, _Dir):
            raise fs_error(errno.EISDIR, path)
        return node

    @staticmethod
    def _info(name: str, node: _Dir | _File) -> EntryInfo:
        if isinstance(node, _Dir):
            return EntryInfo(name, "dir", 0, node.mtime, 0o40755)
        return EntryInfo(name, "file", len(node.data), node.mtime, 0o100644)

    # -- Filesystem --
    def stat(self, path: str) -> EntryInfo:
        parts = _parts(path)
        return self._info(parts[-1] if parts else "v", self._node(path))

    def lstat(self, path: str) -> EntryInfo:
        return self.stat(path)

    def listdir(self, path: str) -> list[EntryInfo]:
        node = self._node(path)
        if not isinstance(node, _Dir):
            raise fs_error(errno.ENOTDIR, path)
        return [self._info(name, node.entries[name]) for name in sorted(node.entries)]

    def read_bytes(self, path: str) -> bytes:
        node = self._node(path)
        if isinstance(node, _Dir):
            raise fs_error(errno.EISDIR, path)
        return bytes(node.data)

    def write_bytes(self, path: str, data: bytes, *, append: bool = False) -> None:
        node = self._file(path, create=True)
        if not append:
            node.data = bytearray()
        node.data += data
        node.mtime = time.time()

    def open_output(self, path: str, *, append: bool = False) -> OutputStream:
        node = self._file(path, create=True)
        if not append:
            node.data = bytearray()
        return _FileOutput(node)

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        parts = _parts(path)
        node = self._root
        for i, part in enumerate(parts):
            child = node.entries.get(part)
            last = i == len(parts) - 1
            if child is None:
                if not (parents or last):
                    raise fs_error(errno.ENOENT, path)
                child = node.entries[part] = _Dir()
                node.mtime = time.time()
            elif not isinstance(child, _Dir):
                raise fs_error(errno.ENOTDIR if not last else errno.EEXIST, path)
            elif last and not parents:
                raise fs_error(errno.EEXIST, path)
            node = child

    def remove(self, path: str, *, recursive: bool = False) -> None:
        parent, name = self._parent(path)
        node = parent.entries.get(name)
        if node is None:
            raise fs_error(errno.ENOENT, path)
        if isinstance(node, _Dir) and node.entries and not recursive:
            raise fs_error(errno.ENOTEMPTY, path)
        del parent.entries[name]
        parent.mtime = time.time()

    def rename(self, src: str, dst: str) -> None:
        src_parent, src_name = self._parent(src)
        node = src_parent.entries.get(src_name)
        if node is None:
            raise fs_error(errno.ENOENT, src)
        dst_parent, dst_name = self._parent(dst)
        target = dst_parent.entries.get(dst_name)
        if isinstance(target, _Dir):
            if isinstance(node, _File):
                raise fs_error(errno.EISDIR, dst)
            if target.entries:
                raise fs_error(errno.ENOTEMPTY, dst)
        elif target is not None and isinstance(node, _Dir):
            raise fs_error(errno.ENOTDIR, dst)
        del src_parent.entries[src_name]
        dst_parent.entries[dst_name] = node
