"""Longest-prefix routing of paths to mounted filesystems.

    /            → LocalFs (the host, passed through)
    /v           → MemoryFs (scratch storage, in memory, private to the shell)
    /v/jobs      → JobFs  (background jobs: status, command, stdout, stderr)
    /v/bin       → BinFs  (the builtins, listed and runnable)

A path is normalized, the longest mount prefix that contains it wins, and
the mount sees the remainder as an absolute path.
"""

from __future__ import annotations

import posixpath

from kaish_kernel.scheduler.stage import InputStream, OutputStream
from kaish_kernel.vfs.base import EntryInfo, Filesystem
from kaish_kernel.vfs.local import LocalFs

__all__ = ["VfsRouter"]


class VfsRouter:
    def __init__(self) -> None:
        self._mounts: dict[str, Filesystem] = {"/": LocalFs()}

    def mount(self, prefix: str, fs: Filesystem) -> None:
        self._mounts[posixpath.normpath(prefix)] = fs

    def mounts(self) -> dict[str, Filesystem]:
        return dict(self._mounts)

    def route(self, path: str) -> tuple[Filesystem, str]:
        """The filesystem owning `path` (absolute) and the path within it."""
        path = posixpath.normpath(path)
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        best = "/"
        for prefix in self._mounts:
            if prefix != "/" and (path == prefix or path.startswith(prefix + "/")):
                if len(prefix) > len(best):
                    best = prefix
        fs = self._mounts[best]
        if best == "/":
            return fs, path
        return fs, "/" + path[len(best) :].lstrip("/")

    def is_virtual(self, path: str) -> bool:
        return not isinstance(self.route(path)[0], LocalFs)

    def _mount_parent(self, path: str) -> bool:
        """Is `path` a directory that exists only because a mount lies below it (`/v`)?"""
        norm = posixpath.normpath(path)
        return any(
            prefix != "/" and prefix.startswith(norm.rstrip("/") + "/") for prefix in self._mounts
        )

    # -- the Filesystem operations, routed --
    def stat(self, path: str) -> EntryInfo:
        fs, sub = self.route(path)
        try:
            return fs.stat(sub)
        except FileNotFoundError:
            if self._mount_parent(path):
                return EntryInfo(posixpath.basename(posixpath.normpath(path)), "dir")
            raise

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
        except OSError:
            return False
        return True

    def is_dir(self, path: str) -> bool:
        try:
            return self.stat(path).is_dir
        except OSError:
            return False

    def is_file(self, path: str) -> bool:
        try:
            return self.stat(path).is_file
        except OSError:
            return False

    def listdir(self, path: str) -> list[EntryInfo]:
        fs, sub = self.route(path)
        try:
            entries = fs.listdir(sub)
        except FileNotFoundError:
            if not self._mount_parent(path):
                raise
            entries = []
        # mount points show up inside their parent directory
        norm = posixpath.normpath(path)
        names = {e.name for e in entries}
        for prefix in self._mounts:
            if prefix != "/" and posixpath.dirname(prefix) == norm:
                base = posixpath.basename(prefix)
                if base not in names:
                    entries.append(EntryInfo(base, "dir"))
        return entries

    def read_bytes(self, path: str) -> bytes:
        fs, sub = self.route(path)
        return fs.read_bytes(sub)

    def open_input(self, path: str) -> InputStream:
        fs, sub = self.route(path)
        return fs.open_input(sub)

    def write_bytes(self, path: str, data: bytes, *, append: bool = False) -> None:
        fs, sub = self.route(path)
        fs.write_bytes(sub, data, append=append)

    def open_output(self, path: str, *, append: bool = False) -> OutputStream:
        fs, sub = self.route(path)
        return fs.open_output(sub, append=append)

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        fs, sub = self.route(path)
        fs.mkdir(sub, parents=parents)

    def remove(self, path: str, *, recursive: bool = False) -> None:
        fs, sub = self.route(path)
        fs.remove(sub, recursive=recursive)

    def rename(self, src: str, dst: str) -> None:
        fs_a, sub_a = self.route(src)
        fs_b, sub_b = self.route(dst)
        if fs_a is not fs_b:
            raise OSError(18, "Invalid cross-device link", src)
        fs_a.rename(sub_a, sub_b)

    def real_path(self, path: str) -> str | None:
        fs, sub = self.route(path)
        return fs.real_path(sub)
