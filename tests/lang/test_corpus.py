"""Every script in the conformance corpus parses, or fails the way its case expects.

The corpus (kaish behaviour pinned from the reference project) lives outside
the repository; point KAISH_CONFORMANCE at a cases.jsonl to use another copy.
A parse or validation failure must be what the case expects: exit 1, nothing
on stdout, every expected stderr fragment in the rendered error. A script
the case expects to be refused *at parse time* must not parse.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from kaish_kernel.errors import KaishSyntaxError
from kaish_kernel.lang.parser import parse, validate

CORPUS = Path(os.environ.get("KAISH_CONFORMANCE", "/work/shared/conformance/cases.jsonl"))
# Fragments only a front-end refusal prints (E006/E007 come from sed/jq's own checks).
FRONT_END_MARKERS = (
    "[parse]",
    "E012",
    "E014",
    "E017",
    "E018",
    "E020",
    "backticks are not supported",
    "unterminated",
    "multiple stdin redirects",
)


def _cases() -> list[dict[str, Any]]:
    if not CORPUS.exists():
        return []
    return [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]


CASES = _cases()
pytestmark = pytest.mark.skipif(not CASES, reason=f"no conformance corpus at {CORPUS}")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_script_parses_as_its_case_expects(case: dict[str, Any]) -> None:
    try:
        validate(parse(case["script"]))
    except KaishSyntaxError as err:
        rendered = err.render()
        assert case["exit"] == 1, f"refused but the case exits {case['exit']}: {rendered}"
        assert case.get("stdout", "") == "", rendered
        for fragment in case.get("stderr_contains", []):
            assert fragment in rendered
        return
    expected = " ".join(case.get("stderr_contains", []))
    assert not any(marker in expected for marker in FRONT_END_MARKERS), (
        f"parsed, but the case expects a front-end refusal: {expected}"
    )
