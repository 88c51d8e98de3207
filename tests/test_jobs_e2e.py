"""Background jobs through the Shell: `&`, jobs, wait, kill, fg/bg, timeout,
/v/jobs and /v/bin, isolation, retention, cancellation, and no orphans.

Spec: ../shared/spec/scheduler.md §4 and §6 (examples E27–E52, E73–E76).
External programs are given unusual arguments (`/bin/sleep 1000.4201`) so
/proc can tell whether exactly that process survived.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.scheduler.helpers import processes_in_group
from tests.scheduler.helpers import run as run_async
from tests.shell_session import ShellSession, processes_with, wait_for_processes, wait_gone

KAISH = str(Path(sys.executable).with_name("kaish"))


def run(main, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    return run_async(main, timeout=timeout)


# ----------------------------------------------------------------------
# `&`, wait, jobs (E27–E29, E39–E52)
# ----------------------------------------------------------------------
def test_the_announcement_goes_to_stderr_and_the_statement_returns_at_once(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            started = time.monotonic()
            first = await sh("sleep 0.5 &\necho ready")
            elapsed = time.monotonic() - started
            assert (first.out, first.err, first.code) == ("ready\n", "[1]\n", 0)
            assert elapsed < 0.45
            assert (await sh("cat /v/jobs/1/status")).out == "running\n"
            await sh.until("cat /v/jobs/1/status", "done:0\n")
            captured = await sh('x=$(echo hi &); echo "[$x]"')
            assert captured.out == "[]\n"

    run(main())


def test_wait_reports_done_failed_and_killed(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            done = await sh("sleep 0.05 & wait %1")
            assert (done.out, done.err, done.code) == ("[1] Done\n", "[1]\n", 0)
            failed = await sh("bgfail() { sleep 0.01; return 7; }; bgfail & wait %2")
            assert (failed.out, failed.code) == ("[2] Failed\n", 1)
            bare = await sh("sleep 0.01 &\nwait 3")
            assert (bare.out, bare.code) == ("[3] Done\n", 0)
            both = await sh("sleep 0.05 &\nsleep 0.02 &\nwait %5 %4")
            assert (both.out, both.code) == ("[5] Done\n[4] Done\n", 0)
            everything = await sh("wait")
            assert everything.out == "[1] Done\n[2] Failed\n[3] Done\n[4] Done\n[5] Done\n"
            assert everything.code == 1  # an old failure still in the table counts

    run(main())


def test_wait_errors(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            nothing = await sh("wait; jobs")
            assert (nothing.out, nothing.code) == ("(no jobs to wait for)\n(no jobs)\n", 0)
            unknown = await sh("wait %7")
            assert (unknown.out, unknown.err, unknown.code) == ("", "wait: job 7 not found\n", 1)
            invalid = await sh("wait x1")
            assert (invalid.err, invalid.code) == ("wait: invalid job id: x1\n", 1)
            # the first error drops the lines already collected
            partial = await sh("true &\nwait %1 %9")
            assert (partial.out, partial.code) == ("", 1)

    run(main())


def test_status_files_command_file_and_output(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("false &")
            await sh("echo test123 &")
            await sh("echo 'hello world' | wc -c &")
            await sh("for f in a b; do echo $f; done | wc -l &")
            await sh("echo $(cat /nope) &")
            await sh("wait")
            assert (await sh("cat /v/jobs/1/status")).out == "failed:1\n"
            assert (await sh("cat /v/jobs/2/command")).out == "echo test123\n"
            assert (await sh("cat /v/jobs/2/stdout")).out == "test123\n"
            assert (await sh("cat /v/jobs/3/command")).out == "echo 'hello world' | wc -c\n"
            assert (await sh("cat /v/jobs/4/stdout")).out == "2\n"
            assert (await sh("cat /v/jobs/5/status")).out == "done:0\n"
            assert "/nope" in (await sh("cat /v/jobs/5/stderr")).out

    run(main())


def test_jobs_listing_cleanup_and_ids_never_reused(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("echo background-test &")
            await sh.until("cat /v/jobs/1/status", "done:0\n")
            assert (await sh("jobs")).out == "[1] Done echo background-test  /v/jobs/1/\n"
            assert (await sh("jobs --cleanup")).out == "Cleaned up 1 completed job(s)\n"
            assert (await sh("jobs")).out == "(no jobs)\n"
            again = await sh("sleep 30 &")
            assert again.err == "[2]\n"
            assert (await sh("jobs")).out == "[2] Running sleep 30  /v/jobs/2/\n"
            assert (await sh("jobs --cleanup")).out == "Cleaned up 0 completed job(s)\n"
            await sh("kill %2")

    run(main())


def test_jobs_json_keeps_the_exit_code_and_the_key_order(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("bgfail() { return 42; }; bgfail & wait %1")
            listing = await sh("jobs --json")
            rows = json.loads(listing.out)
            assert len(rows) == 1
            assert list(rows[0]) == ["id", "command", "status", "exit_code", "started_at", "finished_at", "path"]
            assert (rows[0]["status"], rows[0]["exit_code"], rows[0]["path"]) == ("failed", 42, "/v/jobs/1/")
            assert rows[0]["started_at"].endswith("Z") and len(rows[0]["started_at"]) == 24
            await sh("/bin/sleep 1000.4201 &")
            await wait_for_processes("1000.4201")
            running = json.loads((await sh("jobs --json")).out)[1]
            assert list(running) == ["id", "command", "status", "started_at", "pgids", "path"]
            assert running["status"] == "running" and len(running["pgids"]) == 1
            typed = await sh("for j in $(jobs --json); do echo ${j[id]}; done")
            assert typed.out == "1\n2\n"

    run(main())


def test_retention_keeps_the_last_hundred_finished_jobs(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("for i in $(seq 1 105); do true & done; wait > /dev/null")
            ids = [row["id"] for row in json.loads((await sh("jobs --json")).out)]
            assert ids == list(range(6, 106))
            assert (await sh("ls /v/jobs | wc -l")).out.strip() == "100"
            assert (await sh("cat /v/jobs/5/status")).code == 1
            assert (await sh("true &")).err == "[106]\n"

    run(main())


def test_fg_and_bg_without_a_terminal(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            assert await sh("fg") == (await sh("fg %1"))
            fg = await sh("fg")
            assert (fg.err, fg.code) == ("fg: not an interactive terminal\n", 1)
            bg = await sh("bg")
            assert (bg.err, bg.code) == ("bg: no stopped jobs\n", 1)
            await sh("sleep 30 &")
            running = await sh("bg %1")
            assert (running.err, running.code) == ("bg: job 1 not found or not stopped\n", 1)
            await sh("kill %1")

    run(main())


# ----------------------------------------------------------------------
# isolation
# ----------------------------------------------------------------------
def test_a_job_works_in_a_snapshot_and_nothing_leaks_back(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("VAR=parent-value")
            leaked = await sh(
                "mutator() { VAR=set-in-bg; cd sub; alias ll=ls; newfn() { true; }; echo done; }\n"
                "mutator & wait %1; echo $VAR; pwd"
            )
            assert leaked.out == f"[1] Done\nparent-value\n{tmp_path}\n"
            assert (await sh("alias")).out.find("ll") == -1
            assert (await sh("newfn")).code == 127
            await sh("VAR=before\nsnap() { sleep 0.2; echo $VAR; }\nsnap &\nVAR=after\nwait %2")
            assert (await sh("cat /v/jobs/2/stdout")).out == "before\n"

    run(main())


def test_functions_scripts_and_substitutions_work_inside_a_job(tmp_path: Path) -> None:
    (tmp_path / "lib.kai").write_text("helper() { echo from-script; }\n")

    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("greet() { echo hi $1; }")
            await sh("job() { source lib.kai; helper; greet $(echo there); }; job &\nwait > /dev/null")
            assert (await sh("cat /v/jobs/1/stdout")).out == "from-script\nhi there\n"

    run(main())


# ----------------------------------------------------------------------
# kill (E30–E38, §4.10)
# ----------------------------------------------------------------------
def test_kill_confirms_the_death_and_the_job_stays_tracked(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            killed = await sh("sleep 30 & kill %1")
            assert (killed.out, killed.err, killed.code) == ("kill: job 1 exited (killed:130)", "[1]\n", 0)
            assert await sh("wait %1") == ("[1] Killed\n", "", 1)
            assert (await sh("cat /v/jobs/1/status")).out == "killed:130\n"
            again = await sh("kill %1")
            assert (again.out, again.code) == ("kill: job 1 already finished (killed:130)", 0)
            assert (await sh("jobs")).out == "[1] Killed sleep 30  /v/jobs/1/\n"

    run(main())


def test_kill_no_wait_returns_before_the_job_is_gone(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            sent = await sh("sleep 30 & kill --no-wait %1")
            assert sent.out == (
                "kill: job 1: termination dispatched; not awaited (--no-wait)"
                " — the job stays in jobs until it unwinds"
            )
            await sh.until("cat /v/jobs/1/status", "killed:130\n")

    run(main())


@pytest.mark.parametrize(
    "form",
    ["-9", "-15", "-2", "-1", "-3", "-kill", "-Kill", "-SIGKILL", "-sigterm", "-HUP", "-INT", "-QUIT",
     "--signal KILL", "--signal kill", "-s KILL", "-s TERM", "--signal=KILL", "-sKILL", "--signal SIGINT",
     "--signal 9"],
)
def test_every_terminating_form_kills_an_in_process_job(tmp_path: Path, form: str) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            killed = await sh(f"sleep 30 & kill {form} %1")
            assert (killed.out, killed.code) == ("kill: job 1 exited (killed:130)", 0), killed
            again = await sh("kill %1")
            assert "already finished (killed:" in again.out

    run(main())


@pytest.mark.parametrize(
    ("script", "code", "needles"),
    [
        ("sleep 30 & kill --signal USR1 %1", 1, ["in-process task", "USR1"]),
        ("sleep 30 & kill -STOP %1", 1, ["in-process task", "STOP"]),
        ("sleep 30 & kill -stop %1", 1, ["in-process task", "STOP"]),
        ("sleep 30 & kill -FOOBAR %1", 2, ["FOOBAR", "KILL", "TERM", "help kill"]),
        ("sleep 30 & kill --discard -9 %1", 2, ["--discard"]),
        ("sleep 30 & kill --signal ABRT %1", 1, ["kill: unknown signal: ABRT"]),
        ("sleep 30 & kill -99 %1", 1, ["kill: unknown signal: 99"]),
        ("sleep 30 & kill --signal TERM -9 %1", 2, ["signal specified twice"]),
        ("sleep 30 & kill -s", 2, ["--signal requires a value"]),
        ("kill --help", 2, ["help kill"]),
        ("kill -h", 2, ["help kill"]),
        ("kill", 1, ["usage: kill"]),
        ('kill "%999"', 1, ["kill: job 999 not found"]),
        ('kill "%x"', 1, ["kill: invalid job reference: %x"]),
        ("kill abc", 1, ["kill: invalid pid: abc"]),
        ("kill 0", 1, ["refusing pid 0"]),
        ("kill 99999999", 1, ["kill: (99999999): ESRCH: No such process"]),
        ("kill --signal BOGUS 1", 1, ["unknown signal: BOGUS"]),
    ],
)
def test_kill_usage_and_errors(tmp_path: Path, script: str, code: int, needles: list[str]) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            outcome = await sh(script)
            assert outcome.code == code, outcome
            assert outcome.out == ""
            for needle in needles:
                assert needle in outcome.err, outcome

    run(main())


def test_every_target_is_tried_and_one_failure_moves_all_output_to_stderr(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            mixed = await sh("sleep 30 & sleep 30 & kill %1 %99 %2")
            assert (mixed.out, mixed.code) == ("", 1)
            assert mixed.err == (
                "[1]\n[2]\nkill: job 1 exited (killed:130)\nkill: job 99 not found\n"
                "kill: job 2 exited (killed:130)\n"
            )
            both = await sh("sleep 30 & sleep 30 & kill %3 %4")
            assert (both.out, both.code) == ("kill: job 3 exited (killed:130)\nkill: job 4 exited (killed:130)", 0)
            dashdash = await sh("sleep 30 & kill -- -9 %5")
            assert dashdash.code == 1 and "-9" in dashdash.err
            assert "kill: job 5 exited (killed:130)" in dashdash.err  # %5 still got TERM
            assert (await sh("kill --signal ABRT %1")).out == "kill: job 1 already finished (killed:130)"

    run(main())


def test_kill_reaches_an_external_jobs_process_group(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("/bin/sleep 1000.4202 &")
            await sh("/bin/sleep 1000.4203 &")
            await sh("/bin/sleep 1000.4204 &")
            await wait_for_processes("1000.420", 3)
            pgids = [row["pgids"][0] for row in json.loads((await sh("jobs --json")).out)]
            stop = await sh("kill -STOP %1")
            assert (stop.out, stop.code) == (f"kill: job 1: delivered SIGSTOP to process group(s) {pgids[0]}", 0)
            assert (await sh("kill --signal CONT %1")).code == 0
            assert (await sh("kill %1")).out == "kill: job 1 exited (killed:143)"
            assert (await sh("kill -9 %2")).out == "kill: job 2 exited (killed:137)"
            no_wait = await sh("kill --no-wait %3")
            assert no_wait.out.startswith(f"kill: job 3: SIGTERM to process group(s) {pgids[2]} dispatched")
            await sh.until("cat /v/jobs/3/status", "killed:143\n")
            for pgid in pgids:
                assert processes_in_group(pgid) == []
            gone = await sh("kill -USR1 %1")
            assert (gone.out, gone.code) == ("kill: job 1 already finished (killed:143)", 0)

    run(main())


def test_kill_reaches_a_pid(tmp_path: Path) -> None:
    async def main() -> None:
        child = subprocess.Popen(["/bin/sleep", "1000.4205"])
        try:
            async with ShellSession(tmp_path) as sh:
                outcome = await sh(f"kill -9 {child.pid}")
                assert (outcome.out, outcome.err, outcome.code) == ("", "", 0)
            assert child.wait(5) == -9
        finally:
            child.kill()
            child.wait()

    run(main())


# ----------------------------------------------------------------------
# timeout (E73–E76)
# ----------------------------------------------------------------------
def test_timeout(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            assert await sh("timeout 5 echo works") == ("works\n", "", 0)
            fired = await sh("timeout 100ms sleep 10")
            assert (fired.out, fired.err, fired.code) == (
                "", "timeout: timed out after 100ms\nsleep: interrupted\n", 124
            )
            bad = await sh("timeout abc echo hi")
            assert (bad.err, bad.code) == ("timeout: invalid duration 'abc' (try: 30, 5s, 500ms, 2m, 1h)\n", 1)
            assert (await sh("timeout 5s not_a_command_xyz_123")).code == 127
            assert (await sh("timeout 1")).err == "timeout: usage: timeout DURATION COMMAND [ARGS...]\n"
            assert await sh("timeout 0 echo instant") == ("instant\n", "", 0)
            inner = await sh("timeout 5 false")
            assert inner.code == 1
            started = time.monotonic()
            external = await sh("timeout 0.3 /bin/sleep 1000.4206")
            assert (external.err, external.code) == ("timeout: timed out after 0.3\n", 124)
            assert time.monotonic() - started < 3
            assert processes_with("1000.4206") == []
            fn = await sh("slow() { sleep 5; echo never; }; timeout 200ms slow")
            assert (fn.out, fn.err, fn.code) == ("", "timeout: timed out after 200ms\n", 124)

    run(main())


def test_timeout_kills_a_program_that_ignores_sigterm_after_the_grace(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path, kill_grace=0.5) as sh:
            started = time.monotonic()
            outcome = await sh("timeout 0.2 sh -c 'trap \"\" TERM; /bin/sleep 1000.4207'")
            elapsed = time.monotonic() - started
            assert outcome.code == 124
            assert 0.6 <= elapsed < 5
            assert wait_gone("1000.4207") == []

    run(main())


def test_timeout_inside_a_job(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("timeout 100ms sleep 10 &")
            await sh.until("cat /v/jobs/1/status", "failed:124\n")
            assert "timed out after 100ms" in (await sh("cat /v/jobs/1/stderr")).out

    run(main())


# ----------------------------------------------------------------------
# /v/jobs while running, /v/bin
# ----------------------------------------------------------------------
def test_job_files_are_readable_while_the_job_runs(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            await sh("sh -c 'echo first; echo oops >&2; exec /bin/sleep 1000.4208' &")
            await sh.until("cat /v/jobs/1/stdout", "first\n")
            await sh.until("cat /v/jobs/1/stderr", "oops\n")
            assert (await sh("cat /v/jobs/1/status")).out == "running\n"
            assert (await sh("cat /v/jobs/1/command")).out == "sh -c 'echo first; echo oops >&2; exec /bin/sleep 1000.4208'\n"
            assert (await sh("ls /v/jobs")).out == "1\n"
            assert sorted((await sh("ls /v/jobs/1")).out.split()) == ["command", "status", "stderr", "stdout"]
            assert "not found" in (await sh("cat /v/jobs/2/status")).err
            assert "not found" in (await sh("cat /v/jobs/1/nope")).err
            assert (await sh("cat /v/jobs/1")).code == 1
            refused = await sh("echo x > /v/jobs/1/status")
            assert refused.code == 1
            assert (await sh("cat /v/jobs/1/status")).out == "running\n"
            await sh("kill %1")
            assert (await sh("cat /v/jobs/1/stdout")).out == "first\n"  # kept after the kill

    run(main())


def test_v_bin_lists_and_runs_the_builtins(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            names = (await sh("ls /v/bin")).out.split()
            for name in ("echo", "jobs", "kill", "wait", "scatter", "gather", "timeout"):
                assert name in names
            assert await sh("/v/bin/echo hi") == ("hi\n", "", 0)
            assert (await sh("seq 1 3 | /v/bin/wc -l")).out.strip() == "3"
            help_text = (await sh("cat /v/bin/echo")).out
            assert help_text.startswith("echo — ")
            assert (await sh("/v/bin/nope")).code == 127

    run(main())


# ----------------------------------------------------------------------
# output bounds
# ----------------------------------------------------------------------
YES_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, sys
    from kaish_kernel.scheduler.stage import CaptureOutput
    from kaish_kernel.scheduler.stderr_stream import CaptureErrorSink
    from kaish_kernel.shell import Shell

    def rss(field):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1]) // 1024

    async def main():
        shell = Shell(env={"PATH": os.environ["PATH"]})
        sink = lambda data: None
        await shell.execute("yes &", stdout=sink, stderr=sink)
        loop = asyncio.get_running_loop()
        start, peak = loop.time(), 0
        while loop.time() - start < float(sys.argv[1]):
            await asyncio.sleep(0.25)
            peak = max(peak, rss("VmRSS"))
        status = CaptureOutput()
        await shell.execute("cat /v/jobs/1/status", stdout=status, stderr=sink)
        out = CaptureOutput()
        await shell.execute("cat /v/jobs/1/stdout", stdout=out, stderr=sink)
        total = shell.jobs.get(1).stdout.total_written
        await shell.close()
        data = out.getvalue()
        print(json.dumps({"peak": peak, "hwm": rss("VmHWM"), "status": status.getvalue().decode(),
                          "size": len(data), "total": total,
                          "tail": data[-400:].decode("utf-8", "replace")}))

    asyncio.run(main())
    """
)


def test_a_job_printing_forever_stays_bounded_and_marks_the_loss() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", YES_SCRIPT, "10"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["status"] == "running\n"
    assert report["hwm"] < 150, report
    assert report["total"] > 10 * 1048576
    tail = report["tail"]
    last = tail.rstrip("\n").rsplit("\n", 1)[-1]
    assert last.startswith("[stdout truncated: output exceeded the 10MB capture buffer — first ")
    assert "bytes lost (" in last and "bytes total written); enable output-limit to spill to disk]" in last
    assert tail.endswith("]\n")
    assert tail.startswith("y\n") or "\ny\n" in tail


# ----------------------------------------------------------------------
# cancellation and shutdown: detached jobs, no orphans
# ----------------------------------------------------------------------
def test_a_cancelled_foreground_leaves_background_jobs_and_their_externals_running(tmp_path: Path) -> None:
    async def main() -> None:
        async with ShellSession(tmp_path) as sh:
            task = asyncio.create_task(sh("/bin/sleep 1000.4209 &\n/bin/sleep 1000.4219"))
            await wait_for_processes("1000.4209")
            await wait_for_processes("1000.4219")
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert wait_gone("1000.4219") == [], "the foreground external must be stopped"
            await asyncio.sleep(0.2)
            assert processes_with("1000.4209"), "the job's external must survive"
            assert (await sh("cat /v/jobs/1/status")).out == "running\n"
            after = await sh("echo still-here")
            assert after.out == "still-here\n"
            assert (await sh("kill %1")).out == "kill: job 1 exited (killed:143)"
            assert wait_gone("1000.4209") == []

    run(main())


def test_closing_the_shell_leaves_no_process_of_any_job(tmp_path: Path) -> None:
    async def main() -> list[int]:
        async with ShellSession(tmp_path, kill_grace=0.5) as sh:
            await sh("/bin/sleep 1000.4211 &")
            await sh("echo x | /bin/sleep 1000.4212 &")
            await sh("sh -c 'trap \"\" TERM; /bin/sleep 1000.4213' &")
            # exits at once; its grandchild lives on in the job's process group
            await sh("sh -c '/bin/sleep 1000.4214 >/dev/null 2>&1 &' &")
            await sh("sleep 3600 &")
            for marker in ("1000.4211", "1000.4212", "1000.4213", "1000.4214"):
                await wait_for_processes(marker)
            await sh.until("cat /v/jobs/4/status", "done:0\n")
            pgids = [pg for row in json.loads((await sh("jobs --json")).out) for pg in row.get("pgids", [])]
            shell = sh.shell
        assert shell.jobs.get(5).status_string == "killed:130"
        return pgids

    pgids = run(main())
    for marker in ("1000.4211", "1000.4212", "1000.4213", "1000.4214"):
        assert wait_gone(marker) == [], marker
    for pgid in pgids:
        assert processes_in_group(pgid) == []


def test_the_cli_exits_and_leaves_no_orphan(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [KAISH, "-c", "/bin/sleep 1000.4215 &\nsh -c '/bin/sleep 1000.4216 >/dev/null &' &\nsleep 0.3"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "[1]\n[2]\n"
    assert time.monotonic() - started < 30
    assert wait_gone("1000.4215") == []
    assert wait_gone("1000.4216") == []


def test_many_background_jobs_spawn_quickly(tmp_path: Path) -> None:
    async def main() -> float:
        async with ShellSession(tmp_path) as sh:
            started = time.monotonic()
            outcome = await sh("for i in $(seq 1 300); do true & done; wait > /dev/null; echo ok")
            assert outcome.out == "ok\n"
            return time.monotonic() - started

    assert run(main()) < 20
