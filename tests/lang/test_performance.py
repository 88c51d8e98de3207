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
    assert large < 8 * small * 2


def test_long_lines_and_long_words_are_linear() -> None:
    long_word = "echo " + "a" * 200_000
    long_line = "echo " + " a" * 50_000
    many_strings = "echo " + ' "x$y"' * 10_000
    for source in (long_word, long_line, many_strings):
        assert _best_parse_seconds(source, rounds=1) < 2.0


def test_importing_the_parser_pulls_in_nothing_heavy() -> None:
    code = "import sys, kaish_kernel.lang.parser; print('\\n'.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    for heavy in ("asyncio", "kaish_kernel.interpreter", "kaish_kernel.scheduler",
                  "kaish_kernel.tools", "hypothesis"):
        assert heavy not in loaded, heavy


def test_many_escapes_in_one_string_stay_linear() -> None:
    source = 'echo "' + "\\n" * 100_000 + '"'
    assert _best_parse_seconds(source, rounds=1) < 2.0
