"""Property: whatever the script, `Shell.execute` answers with an exit code.

No Python exception escapes `execute`, and nothing on stderr looks like a
Python failure: no traceback, no "internal error", no "pipeline stage
crashed". Scripts are random compositions of kaish constructs and mutations
of the data-driven cases in tests/cases.

The environment is harmless: each script runs in a fresh Shell in its own
temporary directory, with PATH="" and process spawning refused (so no host
program ever runs), the builtins that change or walk the filesystem or signal
processes replaced by a refusing stub, and every VFS write outside the
temporary directory refused. Each script gets a short deadline; a script that
runs into it is cancelled, and the cancellation itself must not fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaish_kernel.scheduler.stage import CaptureOutput
from kaish_kernel.shell import Shell
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.registry import ToolRegistry, default_registry
from kaish_kernel.tools.schema import Schema

sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # as Shell() sets it

CASES = Path(__file__).resolve().parent.parent / "cases"
DEADLINE = float(os.environ.get("KAISH_FUZZ_DEADLINE", "2.0"))
FUZZ = settings(
    max_examples=int(os.environ.get("KAISH_FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# a deadline per example, not per test: many examples may run into it
SLOW = pytest.mark.timeout(int(os.environ.get("KAISH_FUZZ_TIMEOUT", "900")))

# builtins a random script must not run against the host
REFUSED = (
    "rm mv cp ln mkdir touch write tee sed mktemp kill spawn find tree glob"
    " stat readlink realpath"
).split()
# seeds mentioning these could grow into something unbounded or host-touching
UNSAFE_SEED_WORDS = ("/bin", "/usr", "/dev/z", "/dev/u", "/dev/r", "yes", "sleep 30", "sleep 5")
FAILURE_MARKS = ("Traceback", "internal error", "pipeline stage crashed")


class Refused(Tool):
    schema: ClassVar[Schema] = Schema(name="refused", summary="not in the fuzz sandbox", raw=True)

    async def run(self, ctx: ToolContext) -> int:
        return ctx.error("refused in the fuzz sandbox", 126)


def _registry() -> ToolRegistry:
    registry = default_registry()
    stub = Refused()
    for name in REFUSED:
        registry.register(stub, name)
    return registry


class WatchedErrors:
    """stderr: keeps a bounded copy, remembers any Python-failure marker."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.marks: list[str] = []

    def write(self, data: bytes | str) -> None:
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        self.marks.extend(m for m in FAILURE_MARKS if m in text)
        if len(self.head) < 65536:
            self.head += text.encode()


def _confine(shell: Shell, root: str) -> None:
    """Refuse VFS writes outside `root` (the router is this shell's own)."""
    vfs = shell.vfs

    def inside(path: str) -> bool:
        norm = posixpath.normpath(path)
        return norm == "/dev/null" or norm == root or norm.startswith(root + "/")

    def guard(method: Callable[..., Any], path_args: int) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            for path in args[:path_args]:
                if not inside(str(path)):
                    raise PermissionError(13, "outside the fuzz sandbox", str(path))
            return method(*args, **kwargs)

        return guarded

    for name, count in (("open_output", 1), ("write_bytes", 1), ("mkdir", 1), ("remove", 1),
                        ("rename", 2)):
        setattr(vfs, name, guard(getattr(vfs, name), count))


@pytest.fixture(autouse=True)
def _no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a fuzzed script does may start a host process."""
    from kaish_kernel.scheduler import processes

    async def refuse(argv: list[str], **kwargs: Any) -> int:
        kwargs["stderr"].write(f"{argv[0]}: not run in the fuzz sandbox\n")
        return 126

    monkeypatch.setattr(processes, "run_external", refuse)


async def _execute(script: str, root: str) -> tuple[int, WatchedErrors]:
    shell = Shell(cwd=root, env={"PATH": "", "HOME": root}, registry=_registry())
    _confine(shell, root)
    out, err = CaptureOutput(limit=1 << 20), WatchedErrors()
    code = -1
    try:
        result = await asyncio.wait_for(shell.execute(script, stdout=out, stderr=err), DEADLINE)
        code = result.code
    except TimeoutError:
        code = 124  # ran into the deadline and was cancelled: fine, if nothing broke
    finally:
        await asyncio.wait_for(shell.close(), 30)
    return code, err


def check(script: str) -> None:
    with tempfile.TemporaryDirectory() as root:
        real = os.path.realpath(root)
        code, err = asyncio.run(_execute(script, real))
    assert isinstance(code, int)
    assert not err.marks, f"{script!r} wrote {err.marks} on stderr:\n{err.head.decode()}"


# -- random scripts ------------------------------------------------------------

WORDS = [
    "a", "b c", "'q r'", '"$x"', "$x", "${x:-d}", "${#x}", "$((1 + 2))", "$((x * 2))",
    "$(echo s)", '"$(printf %s t)"', "$?", "$#", "$1", '"$@"', "${xs[0]}", "${r[k]}",
    "${xs[-1]}", "${xs[0:1]}", "42", "-1", "3.5", "true", "null", '""', "'*.txt'", "~",
    '"a b\\tc"', "$(seq 1 3)", "${nope:-${x:-z}}", '"${r[k]:-none}"',
]
SIMPLE = [
    "echo {w}", "echo -n {w}", "printf '%s\\n' {w} {w}", "true", "false", ":", "seq 1 {n}",
    "cat", "wc -l", "sort", "head -n 2", "tail -n 1", "tr a-z A-Z", "grep -c a", "uniq",
    "cut -d ' ' -f 1", "jq -c .", "fromjson '[1, {{\"k\": 2}}]'", "typeof {w}", "keys $r",
    "values $xs", 'split "a b c"', "test {w} = {w}", "read v", "tojson {w}", "pwd", "cd .",
    "set -e", "set +e", "set -o pipefail", "set +o pipefail", "export E={w}", "unset x",
    "alias h='echo h'", "h {w}", "push xs {w}", "x={w}", "xs=[{w} {w}]", "r={{k: {w}}}",
    "r[k]={w}", "xs[0]={w}", "local y={w}", "f {w}", "g", "awk '{{print $1}}'", "ls",
    "echo {w} > out.txt", "cat out.txt", "echo {w} >> out.txt", "wc -c < out.txt",
    "cat <<< {w}", "echo {w} 2>&1", "echo {w} 1>&2", "cat nope.txt 2>/dev/null",
    "[[ {w} == {w} ]]", "[[ -n {w} ]]", "[[ {w} -lt {n} ]]", "[[ {w} =~ a ]]",
    "[[ a in $xs ]]", "[[ -f out.txt ]]", "echo $(({w} + {n}))", "timeout 1 echo {w}",
    "exit {n}", "sleep 0.01", "wait",
    "echo {w} &", "jobs", "source out.txt", "help echo", "type echo", "which echo",
]


COMMANDS = [t for t in SIMPLE if not re.match(r"(local |[\w\[\]]+=)", t)]  # no assignments


@st.composite
def simple(draw: st.DrawFn, templates: list[str] = SIMPLE) -> str:
    template = draw(st.sampled_from(templates))
    return template.format_map(_Fill(draw))


class _Fill(dict):  # type: ignore[type-arg]
    def __init__(self, draw: st.DrawFn) -> None:
        super().__init__()
        self._draw = draw

    def __missing__(self, key: str) -> str:
        if key == "n":
            return str(self._draw(st.integers(0, 5)))
        return self._draw(st.sampled_from(WORDS))


LOOP_EXIT = st.sampled_from(["break", "continue", "break 2", "continue 1", ":",
                             "if [[ $i == 2 ]]; then break; fi"])
RETURN = st.sampled_from(["return", "return 3", "return $?", ":", "return false"])


def statements(depth: int) -> st.SearchStrategy[str]:
    if depth <= 0:
        return simple()
    inner = statements(depth - 1)
    stage = st.one_of(simple(COMMANDS), loops(depth - 1))
    block = st.lists(inner, min_size=1, max_size=3).map("; ".join)
    return st.one_of(
        simple(),
        st.tuples(stage, st.sampled_from([" | ", " && ", " || "]), stage).map("".join),
        st.tuples(inner, inner).map("; ".join),
        st.tuples(stage, stage, stage).map(lambda t: f"{t[0]} | {t[1]} | {t[2]}"),
        st.tuples(inner, block, block).map(lambda t: f"if {t[0]}; then {t[1]}; else {t[2]}; fi"),
        st.tuples(st.sampled_from(WORDS), block).map(lambda t: f"for i in {t[0]} z; do {t[1]}; done"),
        st.tuples(block, LOOP_EXIT).map(lambda t: f"for i in $(seq 1 3); do {t[0]}; {t[1]}; done"),
        st.tuples(block, LOOP_EXIT).map(
            lambda t: f"n=0; while [[ $n -lt 3 ]]; do n=$((n + 1)); {t[1]}; {t[0]}; done"
        ),
        st.tuples(st.sampled_from(WORDS), block).map(
            lambda t: f"case {t[0]} in a*) {t[1]};; *) :;; esac"
        ),
        block.map(lambda b: f"f() {{ {b}; }}"),
        st.tuples(block, RETURN).map(lambda t: f"g() {{ {t[0]}; {t[1]}; }}; g x y"),
        block.map(lambda b: f"x=$({b})"),
        block.map(lambda b: f'echo "[$({b})]"'),
        block.map(lambda b: f"cat <<EOF\n$({b})\nline $x\nEOF"),
        inner.map(lambda s: f"{s} &\nwait"),
        stage.map(lambda s: f"seq 1 3 | scatter --as N | {s} | gather"),
        loops(depth - 1),
    )


def loops(depth: int) -> st.SearchStrategy[str]:
    """Compound commands that may stand as a pipeline stage."""
    body = st.lists(simple(), min_size=1, max_size=3).map("; ".join)
    if depth > 0:
        body = st.one_of(body, statements(depth - 1))
    return st.one_of(
        st.tuples(body, LOOP_EXIT).map(lambda t: f"for i in $(seq 1 3); do {t[0]}; {t[1]}; done"),
        st.tuples(st.sampled_from(WORDS), body).map(lambda t: f"for i in {t[0]}; do {t[1]}; done"),
        st.tuples(simple(COMMANDS), body).map(lambda t: f"if {t[0]}; then {t[1]}; fi"),
        body.map(lambda b: f"while read line; do {b}; done"),
    )


PRELUDE = "x=1; xs=[p q]; r={k: v}; f() { echo \"f:$1\"; return 0; }; "


@SLOW
@FUZZ
@given(statements(3))
def test_random_scripts_never_crash_the_shell(script: str) -> None:
    check(PRELUDE + script)


@SLOW
@FUZZ
@given(statements(2))
def test_random_scripts_without_prelude_never_crash_the_shell(script: str) -> None:
    check(script)


# -- mutations of the data-driven cases ------------------------------------------


def _seeds() -> list[str]:
    seeds = []
    for path in sorted(CASES.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                script = json.loads(line)["script"]
                if not any(word in script for word in UNSAFE_SEED_WORDS):
                    seeds.append(script)
    return seeds


SEEDS = _seeds()
PIECES = [
    "$(", ")", "${", "}", "[", "]", "{", '"', "'", "\\", "$", "|", "&&", "||", ";", "\n", "&",
    ">", "<", "<<", "<<<", "2>&1", "((", "))", "[[", "]]", "!", "#", "*", "?", "-", "--",
    "if ", "then ", "fi", "for ", "do ", "done", "while ", "case ", "esac", " in ", ";;",
    "x", "1", "0", "-1", " ", "é", "...", ":", "=", "[]", "{}", "null", "break", "return",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    source = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        n = len(source)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 10)))
        how = draw(st.sampled_from(["delete", "insert", "duplicate", "truncate", "replace"]))
        if how == "delete":
            source = source[:i] + source[j:]
        elif how == "insert":
            source = source[:i] + draw(st.sampled_from(PIECES)) + source[i:]
        elif how == "duplicate":
            source = source[:j] + source[i:j] + source[j:]
        elif how == "truncate":
            source = source[:i]
        else:
            source = source[:i] + draw(st.sampled_from(PIECES)) + source[j:]
    return source


@SLOW
@FUZZ
@given(mutated())
def test_mutated_cases_never_crash_the_shell(script: str) -> None:
    check(script)


# -- scripts that once crashed -----------------------------------------------------

REGRESSIONS: list[str] = []


@pytest.mark.parametrize("script", REGRESSIONS or ["true"])
def test_known_crashers_stay_fixed(script: str) -> None:
    check(script)
