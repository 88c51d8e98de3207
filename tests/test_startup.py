"""What `kaish` does at start-up: its own bytecode cached, no TLS, few modules."""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = (
    "import sys\n"
    "sys.argv = ['kaish', '-c', 'true']\n"
    "from kaish_kernel import cli\n"
    "cli._prepare_program_imports()\n"
    "code = cli._main()\n"
    "print(code, sys.dont_write_bytecode, 'ssl' in sys.modules)\n"
)


def _probe(**env: str) -> list[str]:
    environ = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, env=environ
    )
    return out.stdout.split()


def test_the_program_caches_its_bytecode_and_skips_tls() -> None:
    assert _probe() == ["0", "False", "False"]


def test_kaish_no_bytecode_keeps_the_interpreter_setting() -> None:
    assert _probe(KAISH_NO_BYTECODE="1") == ["0", "True", "False"]


def test_ssl_still_imports_afterwards() -> None:
    code = (
        "from kaish_kernel import cli\n"
        "cli._prepare_program_imports()\n"
        "import asyncio, ssl\n"
        "print(ssl.PROTOCOL_TLS_CLIENT is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
