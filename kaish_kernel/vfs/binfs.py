"""/v/bin: the builtins as a read-only directory. `/v/bin/NAME args` runs
builtin NAME (the dispatcher handles that); reading the file gives its help."""

from __future__ import annotations

import errno

from kaish_kernel.tools.registry import ToolRegistry
from kaish_kernel.tools.schema import format_help
from kaish_kernel.vfs.base import EntryInfo, Filesystem, fs_error

__all__ = ["BinFs"]


class BinFs(Filesystem):
    read_only = True

    def __init__(self, registry: ToolRegistry) -> None:
        self._registry = registry

    def _name(self, path: str) -> str | None:
        parts = [p for p in path.split("/") if p]
        if not parts:
            return None
        if len(parts) > 1 or parts[0] not in self._registry:
            raise fs_error(errno.ENOENT, path)
        return parts[0]

    def stat(self, path: str) -> EntryInfo:
        name = self._name(path)
        if name is None:
            return EntryInfo("bin", "dir")
        return EntryInfo(name, "file", 0, 0.0, 0o555)

    def listdir(self, path: str) -> list[EntryInfo]:
        if self._name(path) is not None:
            raise fs_error(errno.ENOTDIR, path)
        return [EntryInfo(n, "file", 0, 0.0, 0o555) for n in self._registry.names()]

    def read_bytes(self, path: str) -> bytes:
        name = self._name(path)
        if name is None:
            raise fs_error(errno.EISDIR, path)
        tool = self._registry.get(name)
        assert tool is not None
        return format_help(tool.schema).encode()
