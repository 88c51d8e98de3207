"""/v/bin: the builtins as a read-only directory; reading one gives its help."""

from __future__ import annotations

import errno

import pytest

from kaish_kernel.tools.registry import default_registry
from kaish_kernel.tools.schema import format_help
from kaish_kernel.vfs.binfs import BinFs
from kaish_kernel.vfs.router import VfsRouter


def _mounted() -> tuple[VfsRouter, object]:
    registry = default_registry()
    router = VfsRouter()
    router.mount("/v/bin", BinFs(registry))
    return router, registry


def test_the_listing_is_every_builtin_as_an_executable_file() -> None:
    fs, registry = _mounted()
    entries = fs.listdir("/v/bin")
    assert [e.name for e in entries] == registry.names()  # type: ignore[attr-defined]
    assert {"echo", "jobs", "kill", "wait", "timeout", "scatter", "gather"} <= {e.name for e in entries}
    assert {(e.kind, e.mode) for e in entries} == {("file", 0o555)}
    assert fs.is_dir("/v/bin") and fs.is_file("/v/bin/echo")


def test_reading_a_builtin_gives_its_help() -> None:
    fs, registry = _mounted()
    tool = registry.get("kill")  # type: ignore[attr-defined]
    assert fs.read_bytes("/v/bin/kill") == format_help(tool.schema).encode()


def test_unknown_names_and_deeper_paths_are_not_found() -> None:
    fs, _ = _mounted()
    for path in ("/v/bin/no-such-tool", "/v/bin/echo/x"):
        with pytest.raises(OSError) as caught:
            fs.read_bytes(path)
        assert caught.value.errno == errno.ENOENT
    assert not fs.exists("/v/bin/no-such-tool")


def test_it_is_read_only() -> None:
    fs, _ = _mounted()
    with pytest.raises(OSError) as caught:
        fs.write_bytes("/v/bin/echo", b"#!/bin/sh\n")
    assert caught.value.errno == errno.EROFS
    with pytest.raises(OSError):
        fs.remove("/v/bin/echo")
    with pytest.raises(OSError):
        fs.read_bytes("/v/bin")
    with pytest.raises(OSError):
        fs.listdir("/v/bin/echo")
