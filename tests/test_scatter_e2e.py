"""scatter/gather through the Shell: typed items, rows, output modes, exit
codes, options, isolation, nesting, timeouts, cancellation, bounded
concurrency and the progress callback.

Spec: ../shared/spec/scheduler.md §5 (examples E53–E72).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path

import pytest

from kaish_kernel.scheduler.scatter import ScatterProgress
from tests.scheduler.helpers import run as run_async
from tests.shell_session import ShellSession, processes_with, wait_for_processes, wait_gone


def run(main, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return run_async(main, timeout=timeout)


def row(i: int, item: object, out: str, *, ok: bool = True, code: int = 0, err: str = "", **extra: object) -> str:
    fields: dict[str, object] = {"i": i, "item": item, "ok": ok, "code": code, "out": out, "err": err}
    fields.update(extra)
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


# (script, stdout, exit) — each runs in a fresh shell
EXAMPLES = [
    pytest.param(
        "seq 1 3 | scatter --as N | echo $N | gather",
        "\n".join(row(i, i + 1, str(i + 1)) for i in range(3)), 0, id="E53-typed-rows-in-order",
    ),
    pytest.param(
        "seq 1 3 | scatter --as N | echo $N | grep 2 | gather",
        "\n".join([row(0, 1, "", ok=False, code=1), row(1, 2, "2"), row(2, 3, "", ok=False, code=1)]),
        123, id="E54-failures-are-rows",
    ),
    pytest.param("seq 1 3 | scatter | echo $ITEM | gather --lines", "1\n2\n3", 0, id="E55-lines"),
    pytest.param("seq 1 2 | scatter --as N | echo $N | grep 2 | gather --lines", "", 123, id="E56-lines-refuses"),
    pytest.param(
        "seq 1 2 | scatter | echo $ITEM | gather --json",
        '[\n  {\n    "i": 0,\n    "item": 1,\n    "ok": true,\n    "code": 0,\n    "out": "1",\n    "err": ""\n  },\n'
        '  {\n    "i": 1,\n    "item": 2,\n    "ok": true,\n    "code": 0,\n    "out": "2",\n    "err": ""\n  }\n]',
        0, id="E57-json",
    ),
    pytest.param(
        "printf 'a\\n\\nb\\n' | scatter | echo $ITEM | gather",
        row(0, "a", "a") + "\n" + row(1, "b", "b"), 0, id="E58-text-items",
    ),
    pytest.param("printf '' | scatter | echo $ITEM | gather", "", 0, id="E59-empty"),
    pytest.param("printf '' | scatter | echo x | gather | wc -l", "", 0, id="empty-skips-post-gather"),
    pytest.param(
        "jobs=$(fromjson '[{\"id\":1,\"host\":\"web1\"},{\"id\":2,\"host\":\"db1\"}]')\n"
        'values $jobs | scatter | echo "${ITEM[host]}" | gather',
        row(0, {"id": 1, "host": "web1"}, "web1") + "\n" + row(1, {"id": 2, "host": "db1"}, "db1"),
        0, id="E63-record-items",
    ),
    pytest.param(
        "seq 1 3 | scatter | echo $ITEM | gather | jq -r '.[] | select(.ok) | .out'", "1\n2\n3\n", 0, id="E65-jq",
    ),
    pytest.param(
        "for r in $(seq 1 3 | scatter | echo $ITEM | gather); do\n"
        '  if [[ ${r[ok]} == true ]]; then echo "row-${r[i]}:${r[out]}"; fi\ndone',
        "row-0:1\nrow-1:2\nrow-2:3\n", 0, id="E66-iterate-rows",
    ),
    pytest.param("seq 1 2 | scatter | echo $ITEM | gather > audit.jsonl | wc -c", "0\n", 0, id="E67-redirect"),
    pytest.param(
        "seq 1 1 | scatter | fromjson '{\"k\": 7}' | gather",
        row(0, 1, '{"k":7}', data={"k": 7}), 0, id="E68-worker-data",
    ),
    pytest.param("seq 1 2 | scatter | gather", row(0, 1, "") + "\n" + row(1, 2, ""), 0, id="empty-segment"),
    pytest.param(
        "seq 1 2 | scatter | echo $ITEM | wc -c | gather", row(0, 1, "2") + "\n" + row(1, 2, "2"), 0,
        id="several-stages",
    ),
    pytest.param(
        "f() { echo \"f:$ITEM\"; }; seq 1 2 | scatter | f | gather --lines", "f:1\nf:2", 0, id="function-worker",
    ),
    pytest.param(
        "seq 1 2 | scatter --as X | sh -c 'echo ext-$0' $X | gather --lines", "ext-1\next-2", 0,
        id="external-worker",
    ),
    pytest.param(
        "seq 1 3 | scatter | echo $((ITEM * 2)) | gather --lines", "2\n4\n6", 0, id="arithmetic-on-typed-items",
    ),
    pytest.param(
        "seq 1 2 | scatter | echo $(echo \"in-$ITEM\") | gather --lines", "in-1\nin-2", 0, id="substitution-in-worker",
    ),
    pytest.param(
        "seq 1 2 | scatter | echo $ITEM | gather | fromjsonl | jq -c 'map(.out)'", "[\"1\",\"2\"]\n", 0,
        id="post-gather-gets-the-text",
    ),
    pytest.param("seq 1 3 | scatter --as $UNSET_XYZ | echo $ITEM | gather --lines", "1\n2\n3", 0, id="unset-as"),
    pytest.param("echo '[1,2]' | scatter | echo $ITEM | gather --lines", "[1,2]", 0, id="text-is-not-sniffed"),
    pytest.param("fromjson '[1,2]' | scatter | echo $ITEM | gather --lines", "1\n2", 0, id="typed-array"),
    pytest.param("fromjson '42' | scatter | echo $ITEM | gather --lines", "42", 0, id="scalar-is-one-item"),
]


@pytest.mark.parametrize(("script", "stdout", "code"), EXAMPLES)
def test_examples(tmp_path: Path, script: str, stdout: str, code: int) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh(script)
            assert (outcome.out, outcome.code) == (stdout, code), outcome

    run(main())


@pytest.mark.parametrize(
    ("script", "code", "needles"),
    [
        ("seq 1 3 | scatter --as N | echo $N | grep 2 | gather", 123, ["gather: 2 of 3 worker(s) failed: 1, 3\n"]),
        (
            "seq 1 2 | scatter --as N | echo $N | grep 2 | gather --lines", 123,
            ["gather: 1 of 2 worker(s) failed: 1 (drop --lines to get per-worker rows)\n"],
        ),
        ("fromjson '{\"jobs\":[1,2]}' | scatter | echo $ITEM | gather", 1, ["single object", "jq '.jobs'"]),
        ("fromjson '[1, null, 3]' | scatter | echo $ITEM | gather", 1, ["item 1 is null"]),
        ("fromjson 'null' | scatter | echo $ITEM | gather", 1, ["input is null"]),
        ("for f in a b; do echo $f; done | scatter | echo x | gather", 2, ["scatter/gather cannot share a pipeline"]),
        ("seq 1 3 | scatter --limit nope | echo $ITEM | gather", 2, ['expected a positive integer, got "nope"']),
        ("seq 1 3 | scatter --timeout banana | echo $ITEM | gather", 2, ['invalid duration "banana"']),
        ("seq 1 3 | scatter --as 9x | echo $ITEM | gather", 2, ["scatter --as:"]),
        ("seq 1 3 | scatter --limit $(echo 2) | echo $ITEM | gather", 1, ["assign it to a variable first"]),
        ("seq 1 3 | scatter --limit $((1/0)) | echo $ITEM | gather", 1, ["scatter:", "division by zero"]),
        ("seq 1 3 | scatter --as ${nope[key]} | echo $ITEM | gather", 1, ["scatter:"]),
        ("false | scatter | echo $ITEM | gather", 1, []),
        ("seq 1 3 | scatter", 1, ["E014", "scatter without gather"]),
    ],
)
def test_errors_and_exit_codes(tmp_path: Path, script: str, code: int, needles: list[str]) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh(script)
            assert outcome.code == code, outcome
            for needle in needles:
                assert needle in outcome.err, outcome

    run(main())


def test_option_errors_become_json_with_json_on_either_command(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            plain = await sh("seq 1 3 | scatter --limit nope | echo $ITEM | gather")
            assert (plain.out, plain.code) == ("", 2)
            expected = {"error": 'scatter: scatter --limit: expected a positive integer, got "nope"', "code": 2}
            on_gather = await sh("seq 1 3 | scatter --limit nope | echo $ITEM | gather --json")
            assert (json.loads(on_gather.out), on_gather.code) == (expected, 2)
            on_scatter = await sh("seq 1 3 | scatter --json --limit nope | echo $ITEM | gather")
            assert json.loads(on_scatter.out) == expected
            extract = await sh("fromjson '[null]' | scatter | echo $ITEM | gather --json")
            assert json.loads(extract.out)["code"] == 1

    run(main())


def test_gathers_own_redirect_holds_the_rows(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            assert (await sh("seq 1 2 | scatter | echo $ITEM | gather > audit.jsonl | wc -c")).out == "0\n"
            lines = (tmp_path / "audit.jsonl").read_text().splitlines()
            assert [json.loads(line)["out"] for line in lines] == ["1", "2"]
            back = await sh("cat audit.jsonl | fromjsonl | jq -c 'map(.item)'")
            assert back.out == "[1,2]\n"

    run(main())


def test_typed_items_one_and_the_string_one_stay_different(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh("mixed=$(fromjson '[1, \"1\"]')\nvalues $mixed | scatter | typeof $ITEM | gather")
            rows = [json.loads(line) for line in outcome.out.splitlines()]
            assert [(r["item"], r["out"]) for r in rows] == [(1, "number"), ("1", "string")]

    run(main())


def test_a_worker_times_out(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh("seq 1 1 | scatter --timeout 200ms | sleep 5 | gather")
            assert outcome.out == row(0, 1, "", ok=False, code=124, err="sleep: interrupted", timed_out=True)
            assert (outcome.err, outcome.code) == ("gather: 1 of 1 worker(s) failed: 1\n", 123)
            mixed = await sh("printf '0.01\\n5\\n' | scatter --timeout 300ms | sleep $ITEM | gather")
            rows = [json.loads(line) for line in mixed.out.splitlines()]
            assert [(r["code"], r.get("timed_out", False)) for r in rows] == [(0, False), (124, True)]

    run(main())


def test_a_worker_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path, kill_grace=0.5) as sh:
            started = time.monotonic()
            outcome = await sh(
                "seq 1 2 | scatter --timeout 200ms | sh -c 'trap \"\" TERM; /bin/sleep 1000.5301' | gather"
            )
            elapsed = time.monotonic() - started
            rows = [json.loads(line) for line in outcome.out.splitlines()]
            assert [(r["code"], r["timed_out"]) for r in rows] == [(124, True), (124, True)]
            assert outcome.code == 123
            assert 0.2 + 0.5 <= elapsed < 8, elapsed
            assert processes_with("1000.5301") == []

    run(main())


def test_workers_run_in_snapshots_that_never_leak(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("COUNT=0")
            bump = await sh("bump() { COUNT=$((COUNT + 1)); X=$ITEM; cd sub; echo $COUNT; }\n"
                            "seq 1 3 | scatter | bump | gather --lines")
            assert bump.out == "1\n1\n1"
            after = await sh("echo $COUNT; pwd; echo ${X:-unset}; echo ${ITEM:-unset}")
            assert after.out == f"0\n{tmp_path}\nunset\nunset\n"

    run(main())


def test_nested_fan_out_through_a_function(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh(
                'inner() { seq 1 2 | scatter --as J | echo "$ITEM.$J" | gather --lines; }\n'
                "seq 1 2 | scatter | inner | gather"
            )
            assert outcome.out == row(0, 1, "1.1\n1.2") + "\n" + row(1, 2, "2.1\n2.2")
            assert outcome.code == 0

    run(main())


def test_a_failing_worker_reports_its_stderr_in_its_row(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh('seq 1 2 | scatter | cat "/nope-$ITEM" | gather')
            rows = [json.loads(line) for line in outcome.out.splitlines()]
            assert [r["ok"] for r in rows] == [False, False]
            assert "/nope-1" in rows[0]["err"] and "/nope-2" in rows[1]["err"]
            assert outcome.err == "gather: 2 of 2 worker(s) failed: 1, 2\n"

    run(main())


def test_cancelling_the_pipeline_cancels_every_worker(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            task = asyncio.create_task(sh("seq 1 10 | scatter --limit 4 | /bin/sleep 1000.5302 | gather"))
            await wait_for_processes("1000.5302", 4)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert processes_with("1000.5302") == []
            assert (await sh("echo after")).out == "after\n"

    run(main())


def test_the_limit_bounds_external_workers(tmp_path: Path) -> None:
    """40 items of `/bin/sleep 0.1` with --limit 8: five waves, never more than 8 at once."""
    reports: list[ScatterProgress] = []
    seen: list[int] = []

    async def main() -> float:
        async with ShellSession(tmp_path) as sh:
            sh.shell.set_scatter_progress(reports.append)

            async def sample() -> None:
                while True:
                    seen.append(len(processes_with("0.1003")))
                    await asyncio.sleep(0.005)

            sampler = asyncio.create_task(sample())
            started = time.monotonic()
            outcome = await sh("seq 1 40 | scatter --limit 8 | /bin/sleep 0.1003 | gather")
            elapsed = time.monotonic() - started
            sampler.cancel()
            assert outcome.code == 0 and len(outcome.out.splitlines()) == 40
            return elapsed

    elapsed = run(main())
    assert elapsed >= 0.5
    assert elapsed < 10  # about 0.5 s when the machine is idle
    assert max(r.running for r in reports) == 8
    assert max(seen) <= 8
    assert reports[-1] == ScatterProgress(40, 40, 0, 0)


def test_progress_reaches_the_embedders_callback(tmp_path: Path) -> None:
    reports: list[ScatterProgress] = []

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            sh.shell.set_scatter_progress(reports.append)
            await sh("seq 1 5 | scatter --as N | test $N -ne 3 | gather")
            sh.shell.set_scatter_progress(None)
            await sh("seq 1 5 | scatter | true | gather")

    run(main())
    assert reports[0] == ScatterProgress(5, 0, 0, 0)
    assert reports[-1] == ScatterProgress(5, 5, 1, 0)
    assert len(reports) == 11
    assert all(a.done <= b.done for a, b in itertools.pairwise(reports))


def test_scatter_and_gather_alone_outside_a_fan_out(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            assert (await sh("echo hi | gather")).out == "hi\n"
            assert "scatter" in (await sh("help scatter")).out

    run(main())


def test_a_scatter_inside_a_background_job(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("fan() { seq 1 3 | scatter | echo $ITEM | gather --lines; }; fan &")
            await sh.until("cat /v/jobs/1/status", "done:0\n")
            assert (await sh("cat /v/jobs/1/stdout")).out == "1\n2\n3"

    run(main())


def test_many_items_complete_and_stay_in_order(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh('seq 1 3000 | scatter --limit 8 | echo "$ITEM" | gather --lines')
            assert outcome.out == "\n".join(str(i) for i in range(1, 3001))

    run(main())


def test_no_worker_process_outlives_the_run(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh("seq 1 3 | scatter --timeout 100ms | /bin/sleep 1000.5303 | gather")
            assert outcome.code == 123
        assert wait_gone("1000.5303") == []

    run(main())


@pytest.mark.parametrize(
    "worker",
    [
        'echo "$ITEM"',
        "echo $ITEM extra words",
        "echo",
        "printf '%s-%d\\n' x $ITEM",
        "printf '%d\\n' \"n$ITEM\"",
        'cat "/nope-$ITEM"',
        "seq $ITEM",
        "test $ITEM -gt 1",
        'fromjson "{bad$ITEM"',
        'basename "/a/b$ITEM"',
        "basename",
        "wc -l",
        "echo -n $ITEM",
        "true",
        "false",
    ],
)
def test_the_one_builtin_fast_path_matches_the_general_path(tmp_path: Path, worker: str) -> None:
    """A worker that is one plain builtin skips the dispatch chain and binds
    once per shape; an alias of the same command takes the general path. The
    rows must be the same."""

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            name = worker.split()[0]
            rest = worker[len(name):]
            fast = await sh(f"seq 1 3 | scatter | {worker} | gather")
            await sh(f"alias via_alias={name}")
            general = await sh(f"seq 1 3 | scatter | via_alias{rest} | gather")
            assert fast == general

    run(main())
