"""The front end stays cheap: linear in the script, and light to import.

`kaish -c true` must start fast and notebook cells re-parse on every
is_complete request, so a regression here is user-visible. Bounds are loose
(shared CI machines are slow); the scaling check catches accidental
quadratic behaviour, which is the failure that matters.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from kaish_kernel.lang.parser import parse
from tests.lang.parse_cases import ALL

_SOURCES = [src for src, _ in ALL if "<<" not in src]


def _script(lines: int) -> str:
    """About `lines` lines of real kaish, whole cases only."""
    out: list[str] = []
    count = 0
    while count < lines:
        for src in _SOURCES:
            out.append(src)
            count += src.count("\n") + 1
            if count >= lines:
                break
    return "\n".join(out) + "\n"


def _best_parse_seconds(source: str, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        parse(source)
        best = min(best, time.process_time() - start)
    return best


def test_a_thousand_lines_parse_quickly() -> None:
    assert _best_parse_seconds(_script(1000)) < 1.0


def test_parse_time_grows_linearly() -> None:
    small = _best_parse_seconds(_script(500))
    large = _best_parse_seconds(_script(4000))
    assert large < 8 * small * 3 + 0.1  # quadratic growth would be 64x


def _grows_linearly(make: Callable[[int], str], n: int) -> bool:
    """Four times the input takes about four times as long (noise allowed)."""
    small = _best_parse_seconds(make(n))
    large = _best_parse_seconds(make(4 * n))
    return large < 4 * small * 3 + 0.1  # quadratic growth would be 16x


@pytest.mark.parametrize(
    "make",
    [
        lambda n: "echo " + "a" * (20 * n),
        lambda n: "echo" + " a" * n,
        lambda n: "echo" + ' "x$y"' * n,
        lambda n: 'echo "' + "\\n" * n + '"',
        lambda n: "x=[" + " 1," * n + "]",
        lambda n: "true" + " && true" * n,
        lambda n: "cat <<E\n" + "line $x\n" * n + "E\n",
    ],
    ids=["long-word", "many-args", "many-strings", "many-escapes", "long-list", "and-chain",
         "long-heredoc"],
)
def test_shapes_of_input_stay_linear(make: Callable[[int], str]) -> None:
    assert _grows_linearly(make, 1000)


def test_importing_the_parser_pulls_in_nothing_heavy() -> None:
    code = "import sys, kaish_kernel.lang.parser; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    for heavy in ("asyncio", "kaish_kernel.interpreter", "kaish_kernel.scheduler",
                  "kaish_kernel.tools", "hypothesis"):
        assert heavy not in loaded, heavy

