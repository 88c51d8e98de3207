"""The filesystem interface every mount implements.

Paths handed to a filesystem are absolute and normalized, relative to the
mount point (`/v/jobs/1/status` reaches the jobs mount as `/1/status`).
Errors are OSError subclasses with an errno, like the os module's, so a
builtin reports a missing virtual file exactly as it reports a missing real
one.
"""

from __future__ import annotations

import abc
import errno
import os

from kaish_kernel.records import record
from kaish_kernel.scheduler.stage import BytesInput, InputStream, OutputStream

__all__ = ["EntryInfo", "Filesystem", "fs_error"]


def fs_error(code: int, path: str, message: str | None = None) -> OSError:
    return OSError(code, message or os.strerror(code), path)


@record
class EntryInfo:
    """What `stat` says about a path."""

    name: str
    kind: str  # "file" | "dir" | "symlink" | "other"
    size: int = 0
    mtime: float = 0.0
    mode: int = 0

    @property
    def is_dir(self) -> bool:
        return self.kind == "dir"

    @property
    def is_file(self) -> bool:
        return self.kind == "file"


class Filesystem(abc.ABC):
    """A mounted filesystem. Read-only ones refuse writes with EROFS."""

    read_only: bool = False

    @abc.abstractmethod
    def stat(self, path: str) -> EntryInfo:
        """Raise FileNotFoundError when missing."""

    @abc.abstractmethod
    def listdir(self, path: str) -> list[EntryInfo]:
        """Entries in directory order (sorted for virtual mounts)."""

    @abc.abstractmethod
    def read_bytes(self, path: str) -> bytes: ...

    def open_input(self, path: str) -> InputStream:
        """A stream over the file's bytes (real mounts hand back an fd)."""
        return BytesInput(self.read_bytes(path))

    def write_bytes(self, path: str, data: bytes, *, append: bool = False) -> None:
        raise fs_error(errno.EROFS, path)

    def open_output(self, path: str, *, append: bool = False) -> OutputStream:
        raise fs_error(errno.EROFS, path)

    def mkdir(self, path: str, *, parents: bool = False) -> None:
        raise fs_error(errno.EROFS, path)

    def remove(self, path: str, *, recursive: bool = False) -> None:
        raise fs_error(errno.EROFS, path)

    def rename(self, src: str, dst: str) -> None:
        raise fs_error(errno.EROFS, src)

    def real_path(self, path: str) -> str | None:
        """The host path backing `path`, if any (externals and globbing need it)."""
        return None
