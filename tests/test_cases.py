"""Data-driven shell semantics: every case in tests/cases/*.jsonl runs in a
fresh Shell (in-process) in an empty temporary directory.

A case is one JSON object per line:
  {"id": ..., "script": ..., "stdout": exact | "stdout_re": regex,
   "exit": N, "stderr_contains": [...]}
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pytest

from kaish_kernel.scheduler.stage import CaptureOutput
from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink
from kaish_kernel.shell import Shell

CASES_DIR = Path(__file__).parent / "cases"


def _load() -> list[dict]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip() and not line.startswith("//"):
                case = json.loads(line)
                case.setdefault("id", f"{path.stem}:{n}")
                cases.append(case)
    return cases


CASES = _load()


async def run_script(script: str, cwd: str) -> tuple[str, str, int]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    shell = Shell(cwd=cwd, env=env)
    out, err = CaptureOutput(), CaptureErrorSink()
    try:
        result = await shell.execute(script, stdout=out, stderr=err)
    finally:
        await shell.close()
    return out.getvalue().decode("utf-8", "replace"), err.text(), result.code


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict, tmp_path: Path) -> None:
    stdout, stderr, code = asyncio.run(run_script(case["script"], str(tmp_path)))
    context = f"script={case['script']!r}\nstdout={stdout!r}\nstderr={stderr!r}\ncode={code}"
    if "stdout" in case:
        assert stdout == case["stdout"], context
    if "stdout_re" in case:
        assert re.fullmatch(case["stdout_re"], stdout, re.S), context
    assert code == case.get("exit", 0), context
    for needle in case.get("stderr_contains", []):
        assert needle in stderr, context
