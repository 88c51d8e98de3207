"""`is_complete`: what a Jupyter front end asks before running a cell."""

from __future__ import annotations

import pytest

from kaish_kernel.lang.parser import is_complete

CASES = [
    ("echo hi", "complete", ""),
    ("", "complete", ""),
    ("   \n\n", "complete", ""),
    ("x=[1, 2]\necho $x", "complete", ""),
    ('echo "abc', "incomplete", ""),
    ("echo 'abc", "incomplete", ""),
    ("echo $(ls", "incomplete", ""),
    ('echo "$(echo "hi")', "incomplete", ""),
    ("echo ${x", "incomplete", ""),
    ("echo $((1 +", "incomplete", ""),
    ("if true; then", "incomplete", "    "),
    ("if true; then\n  echo a", "incomplete", "  "),
    ("for x in a b; do", "incomplete", "    "),
    ("while true\n", "incomplete", "    "),
    ("case $x in", "incomplete", "    "),
    ("f() {", "incomplete", "    "),
    ("echo a |", "incomplete", "    "),
    ("echo a &&", "incomplete", "    "),
    ("echo a ||", "incomplete", "    "),
    ("echo a \\", "incomplete", "    "),
    ("cat <<EOF\nhello", "incomplete", ""),
    ("x=[1,", "incomplete", ""),
    ("x={a: 1,\n", "incomplete", ""),
    ("[[ -f x", "incomplete", ""),
    ("echo )", "invalid", ""),
    ("fi", "invalid", ""),
    ("echo `ls`", "invalid", ""),
    ("echo $dir/x", "invalid", ""),
    ("x={msg: hello world}", "invalid", ""),
]


@pytest.mark.parametrize(("source", "status", "indent"), CASES, ids=[repr(c[0]) for c in CASES])
def test_is_complete(source: str, status: str, indent: str) -> None:
    assert is_complete(source) == (status, indent)
