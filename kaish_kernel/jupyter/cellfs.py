"""/v/cells: the full output of cells whose output went past the cap.

    /v/cells/
    └── <execution count>/
        ├── stdout     every byte the cell wrote to stdout
        └── stderr     (only when the cell wrote to stderr)

Only capped cells appear. The bytes live in files under a private temporary
directory (removed at kernel shutdown), so `real_path` hands externals the
host file: `less /v/cells/3/stdout` and `grep x /v/cells/3/stdout` both work.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from kaish_kernel.scheduler.stage import FdInput, InputStream
from kaish_kernel.vfs.base import EntryInfo, Filesystem, fs_error

__all__ = ["MOUNT", "CellOutputStore", "CellSpill"]

MOUNT = "/v/cells"
_NAMES = ("stdout", "stderr")


class CellOutputStore(Filesystem):
    """Owns the spill directory and serves it read-only at /v/cells."""

    read_only = True

    def __init__(self, mount: str = MOUNT) -> None:
        self.mount = mount
        self._root: str | None = None

    def __repr__(self) -> str:
        return f"<CellOutputStore {self.mount} -> {self._root}>"

    def spill_for(self, cell: int) -> CellSpill:
        return CellSpill(self, cell)

    def _host_dir(self, cell: int) -> str:
        if self._root is None:
            self._root = tempfile.mkdtemp(prefix=f"kaish-cells-{os.getpid()}-")
        path = os.path.join(self._root, str(cell))
        os.makedirs(path, exist_ok=True)
        return path

    def cleanup(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    # -- Filesystem ------------------------------------------------------------
    def _host(self, path: str) -> str:
        parts = [p for p in path.split("/") if p]
        if self._root is None or len(parts) > 2 or (len(parts) == 2 and parts[1] not in _NAMES):
            if parts:
                raise fs_error(errno.ENOENT, path)
            return ""
        host = os.path.join(self._root, *parts)
        if not os.path.exists(host):
            raise fs_error(errno.ENOENT, path)
        return host

    def stat(self, path: str) -> EntryInfo:
        host = self._host(path)
        if not host:
            return EntryInfo("cells", "dir")
        st = os.stat(host)
        kind = "dir" if os.path.isdir(host) else "file"
        return EntryInfo(os.path.basename(host), kind, st.st_size, st.st_mtime, 0o444 if kind == "file" else 0o555)

    def listdir(self, path: str) -> list[EntryInfo]:
        host = self._host(path)
        if not host:
            if self._root is None:
                return []
            host = self._root
        if not os.path.isdir(host):
            raise fs_error(errno.ENOTDIR, path)
        names = sorted(os.listdir(host), key=lambda n: (len(n), n))
        return [self.stat(f"{path.rstrip('/')}/{n}") for n in names]

    def read_bytes(self, path: str) -> bytes:
        host = self._host(path)
        if not host or os.path.isdir(host):
            raise fs_error(errno.EISDIR, path)
        with open(host, "rb") as fh:
            return fh.read()

    def open_input(self, path: str) -> InputStream:
        host = self._host(path)
        if not host or os.path.isdir(host):
            raise fs_error(errno.EISDIR, path)
        return FdInput(os.open(host, os.O_RDONLY | os.O_CLOEXEC))

    def real_path(self, path: str) -> str | None:
        try:
            return self._host(path) or self._root
        except OSError:
            return None


class CellSpill:
    """The SpillTarget of one cell: creates /v/cells/N/<stream> files."""

    def __init__(self, store: CellOutputStore, cell: int) -> None:
        self._store = store
        self._cell = cell
        self._files: list[BinaryIO] = []

    def open(self, name: str) -> tuple[str, Callable[[bytes], None]]:
        host = os.path.join(self._store._host_dir(self._cell), name)
        fh = open(host, "wb")  # closed by close(), when the cell ends
        self._files.append(fh)

        def write(data: bytes) -> None:
            fh.write(data)

        return f"{self._store.mount}/{self._cell}/{name}", write

    def close(self) -> None:
        for fh in self._files:
            with contextlib.suppress(OSError):
                fh.close()
        self._files.clear()
