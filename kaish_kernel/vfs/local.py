"""The host filesystem, passed through unchanged."""

from __future__ import annotations

import os
import stat as stat_mod

from kaish_kernel.scheduler.stage import FdInput, FdOutput, InputStream, OutputStream
from kaish_kernel.vfs.base import EntryInfo, Filesystem

__all__ = ["LocalFs"]


def _kind(mode: int) -> str:
    if stat_mod.S_ISDIR(mode):
        return "dir"
    if stat_mod.S_ISREG(mode):
        return "file"
    if stat_mod.S_ISLNK(mode):
        return "symlink"
    return "other"


class LocalFs(Filesystem):
    """Mounted at `/`: every path is the host path."""

    def stat(self, path: str) -> EntryInfo:
        st = os.stat(path)
        return EntryInfo(os.path.basename(path) or path, _kind(st.st_mode), st.st_size, st.st_mtime, st.st_mode)

    def lstat(self, path: str) -> EntryInfo:
        st = os.lstat(path)
        return EntryInfo(os.path.basename(path) or path, _kind(st.st_mode), st.st_size, st.st_mtime, st.st_mode)

    def listdir(self, path: str) -> list[EntryInfo]:
        out = []
        with os.scandir(path) as it:
            for entry in it:
                try:
                    st = entry.stat(follow_symlinks=True)
                    out.append(EntryInfo(entry.name, _kind(st.st_mode), st.st_size, st.st_mtime, st.st_mode))
                except OSError:
                    out.append(EntryInfo(entry.name, "symlink"))
        return out

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    def open_input(self, path: str) -> InputStream:
        if os.path.isdir(path):
            raise IsADirectoryError(21, "Is a directory", path)
        return FdInput(os.open(path, os.O_RDONLY | os.O_CLOEXEC))

    def write_bytes(self, path: str, data: bytes, *, append: bool = False) -> None:
        with open(path, "ab" if append else "wb") as fh:
            fh.write(data)

    def open_output(self, path: str, *, append: bool = False) -> OutputStream:
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_APPEND if append else os.O_TRUNC)
        return FdOutput(os.open(path, flags, 0o666))

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        if parents:
            os.makedirs(path, exist_ok=True)
        else:
            os.mkdir(path)

    def remove(self, path: str, *, recursive: bool = False) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            if recursive:
                import shutil  # bz2, lzma, ...: only when a tree is removed

                shutil.rmtree(path)
            else:
                os.rmdir(path)
        else:
            os.unlink(path)

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def real_path(self, path: str) -> str | None:
        return path
