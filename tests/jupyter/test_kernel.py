"""The real kernel through jupyter_client: streaming, jobs across cells, interrupt,
results and errors, stdin, completion. One kernel serves the module; the
interrupt and shutdown checks that need their own kernel live in test_lifecycle.py.
"""

from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest

from tests.jupyter.harness import KernelHarness

pytestmark = pytest.mark.timeout(120)


def test_kernel_info_names_kaish_and_advertises_nothing_it_lacks(kernel: KernelHarness) -> None:
    info = kernel.request("kernel_info")
    lang = info["language_info"]
    assert lang["name"] == "kaish"
    assert lang["mimetype"] == "text/x-kaish"
    assert lang["file_extension"] == ".kai"
    assert lang["codemirror_mode"] == "shell"
    assert lang["pygments_lexer"] == "kaish"
    assert info["supported_features"] == []


def test_first_output_streams_while_the_command_runs(kernel: KernelHarness) -> None:
    kernel.run("true")  # warm up
    cell = kernel.run("echo a; sleep 1; echo b")
    assert cell.reply is not None and cell.reply["status"] == "ok"
    streams = cell.outputs("stream")
    assert [m["content"]["text"] for m in streams] == ["a\n", "b\n"]
    first = cell.first_stream_delay()
    assert first is not None and first < 0.1, f"first stream after {first:.3f}s"
    last = cell.arrival[cell.messages.index(streams[-1])]
    assert last >= 0.9


def test_external_output_streams_too(kernel: KernelHarness) -> None:
    cell = kernel.run("sh -c 'echo one; sleep 0.5; echo two >&2'")
    assert [(m["content"]["name"], m["content"]["text"]) for m in cell.outputs("stream")] == [
        ("stdout", "one\n"),
        ("stderr", "two\n"),
    ]
    first = cell.first_stream_delay()
    assert first is not None and first < 0.4


def test_a_character_split_across_writes_arrives_whole(kernel: KernelHarness) -> None:
    cell = kernel.run(r"""sh -c 'printf "\\303"; sleep 0.3; printf "\\251\\n"'""")
    assert cell.stream_text() == "é\n"


def test_nonzero_exit_is_an_error_reply_with_the_status(kernel: KernelHarness) -> None:
    cell = kernel.run("echo partial; sh -c 'exit 3'")
    assert cell.reply is not None
    assert cell.reply["status"] == "error"
    assert (cell.reply["ename"], cell.reply["evalue"]) == ("ExitStatus", "exit status 3")
    errors = cell.outputs("error")
    assert len(errors) == 1 and errors[0]["content"]["evalue"] == "exit status 3"
    assert cell.stream_text() == "partial\n"


def test_syntax_error_shows_line_caret_and_nothing_runs(kernel: KernelHarness) -> None:
    cell = kernel.run("echo first\necho )")
    assert cell.reply is not None and cell.reply["ename"] == "KaishSyntaxError"
    traceback = "\n".join(cell.reply["traceback"])
    assert "2:" in traceback and "echo )" in traceback and "^" in traceback
    assert cell.outputs("stream") == []  # shown once, as the error
    assert len(cell.outputs("error")) == 1


def test_typed_value_is_an_execute_result_shown_once(kernel: KernelHarness, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    (tmp_path / "b.txt").write_text("hi\n")
    cell = kernel.run(f"echo listing; ls -l --json {tmp_path}")
    assert cell.reply is not None and cell.reply["status"] == "ok"
    results = cell.outputs("execute_result")
    assert len(results) == 1
    data = results[0]["content"]["data"]
    assert [row["NAME"] for row in data["application/vnd.kaish.value+json"]] == ["a.txt", "b.txt"]
    assert "<table" in data["text/html"] and "a.txt" in data["text/html"]
    assert results[0]["content"]["execution_count"] == cell.reply["execution_count"]
    assert cell.stream_text() == "listing\n"  # the JSON text is not repeated as a stream


def test_background_job_streams_into_its_own_cell_while_another_runs(kernel: KernelHarness) -> None:
    job_cell = kernel.run("sh -c 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.25; done' &")
    assert job_cell.reply is not None and job_cell.reply["status"] == "ok"
    displays = job_cell.outputs("display_data")
    assert len(displays) == 1
    display_id = displays[0]["content"]["transient"]["display_id"]
    assert "running" in displays[0]["content"]["data"]["text/plain"]
    assert job_cell.stream_text("stderr") == ""  # the status line replaces the "[1]" notice

    other = kernel.submit("sleep 1; echo cell two")
    started = time.monotonic()
    kernel.wait(other)
    during = [
        m
        for m, at in zip(job_cell.messages, job_cell.arrival, strict=True)
        if m["msg_type"] == "stream" and job_cell.sent_at + at > started and job_cell.sent_at + at < started + 1
    ]
    assert during, "no job output reached the job's cell while cell two ran"
    assert all(m["parent_header"]["msg_id"] == job_cell.msg_id for m in during)
    assert other.stream_text() == "cell two\n"
    assert "tick" not in other.stream_text()

    waited = kernel.run("wait %1")
    assert waited.reply is not None and waited.reply["status"] == "ok"
    kernel.pump_for(0.2)
    updates = [m for m in job_cell.messages if m["msg_type"] == "update_display_data"]
    assert updates and updates[-1]["content"]["transient"]["display_id"] == display_id
    assert updates[-1]["content"]["data"]["text/plain"].startswith("[1] done:0 (")
    assert job_cell.stream_text() == "".join(f"tick {i}\n" for i in range(1, 7))

    saved = kernel.run("cat /v/jobs/1/stdout")
    assert saved.stream_text() == job_cell.stream_text()
    listing = kernel.run("jobs")
    assert "[1]" in listing.stream_text()


def test_output_past_the_cap_is_noted_and_kept_in_v_cells(kernel: KernelHarness) -> None:
    kernel.run("KAISH_OUTPUT_LIMIT=2K")
    cell = kernel.run("seq 1 20000")
    kernel.run("unset KAISH_OUTPUT_LIMIT")
    shown = cell.stream_text()
    assert len(shown.encode()) == 2048
    note = cell.stream_text("stderr")
    count = cell.reply["execution_count"] if cell.reply else 0
    assert f"cat /v/cells/{count}/stdout" in note and "KAISH_OUTPUT_LIMIT" in note
    full = kernel.run(f"wc -l /v/cells/{count}/stdout")
    assert full.stream_text().split()[0] == "20000"


def test_read_asks_the_front_end_for_a_line(kernel: KernelHarness) -> None:
    cell = kernel.submit("read -p 'Name: ' NAME; echo \"hi $NAME\"", allow_stdin=True)
    request = kernel.kc.get_stdin_msg(timeout=30)
    assert request["msg_type"] == "input_request"
    assert request["content"]["prompt"] == "Name: "
    kernel.kc.input("kaish")
    kernel.wait(cell)
    assert cell.reply is not None and cell.reply["status"] == "ok"
    assert cell.stream_text() == "hi kaish\n"


def test_read_without_stdin_fails_and_says_why(kernel: KernelHarness) -> None:
    cell = kernel.run("read NAME", allow_stdin=False)
    assert cell.reply is not None and cell.reply["status"] == "error"
    assert "allow_stdin" in cell.stream_text("stderr")
    with pytest.raises(queue.Empty):
        kernel.kc.get_stdin_msg(timeout=0.2)


def test_externals_never_wait_on_the_notebook_for_stdin(kernel: KernelHarness) -> None:
    cell = kernel.run("/bin/cat | wc -c", allow_stdin=True, timeout=20)
    assert cell.stream_text().strip() == "0"
    with pytest.raises(queue.Empty):
        kernel.kc.get_stdin_msg(timeout=0.1)


def test_a_builtin_reading_all_of_stdin_stops_at_an_empty_answer(kernel: KernelHarness) -> None:
    cell = kernel.submit("cat | wc -l", allow_stdin=True)
    for answer in ("first", "second", ""):
        assert kernel.kc.get_stdin_msg(timeout=30)["msg_type"] == "input_request"
        kernel.kc.input(answer)
    kernel.wait(cell)
    assert cell.stream_text().strip() == "2"


def test_completion_inspection_and_is_complete_through_the_kernel(kernel: KernelHarness) -> None:
    kernel.run("MY_SETTING=1")
    reply = kernel.request("complete", "echo $MY_SE")
    assert reply["matches"] == ["$MY_SETTING"] and reply["cursor_start"] == 5
    assert "--ignore-case" in kernel.request("complete", "grep --ig")["matches"]
    inspected = kernel.request("inspect", "head -n 1", 1)
    assert inspected["found"] and "head" in inspected["data"]["text/plain"]
    assert kernel.request("is_complete", "for x in 1 2; do") == {"status": "incomplete", "indent": "    "}
    assert kernel.request("is_complete", "echo hi")["status"] == "complete"
    assert kernel.request("is_complete", "echo )")["status"] == "invalid"


def test_silent_cells_send_no_output(kernel: KernelHarness) -> None:
    cell = kernel.run("echo quiet; false", silent=True)
    assert cell.reply is not None and cell.reply["status"] == "error"
    assert cell.outputs() == []


def test_scatter_shows_a_live_progress_line_finalised_in_place(kernel: KernelHarness) -> None:
    cell = kernel.run("seq 1 6 | scatter --limit 2 | sleep 0.3 | gather --json")
    assert cell.reply is not None and cell.reply["status"] == "ok"
    lines = cell.outputs("display_data", "update_display_data")
    assert lines and lines[0]["msg_type"] == "display_data"
    assert {m["content"]["transient"]["display_id"] for m in lines} == {
        lines[0]["content"]["transient"]["display_id"]
    }
    texts = [m["content"]["data"]["text/plain"] for m in lines]
    assert any("running" in t for t in texts[:-1]), texts
    assert texts[-1] == "scatter: 6/6 done"
    assert len(lines) <= 12  # throttled, not one message per worker event


def test_a_value_printed_by_jq_is_shown_once_as_the_result(kernel: KernelHarness) -> None:
    # jq prints before it knows its value; the cell's stdout holds that text
    # back, so the value appears once (the execute_result), never twice
    for _ in range(3):
        cell = kernel.run("echo '{\"a\":1}' | jq .")
        assert cell.reply is not None and cell.reply["status"] == "ok"
        assert len(cell.outputs("execute_result")) == 1
        assert cell.stream_text() == ""


def test_a_value_before_the_last_statement_is_ordinary_output(kernel: KernelHarness) -> None:
    cell = kernel.run("fromjson '[1,2]'; echo after")
    assert cell.reply is not None and cell.reply["status"] == "ok"
    assert cell.outputs("execute_result") == []
    assert cell.stream_text() == "[1,2]after\n"


def test_a_failing_cell_still_shows_a_held_value_text(kernel: KernelHarness) -> None:
    cell = kernel.run("fromjson '[1,2]'; false")
    assert cell.reply is not None and cell.reply["status"] == "error"
    assert cell.stream_text() == "[1,2]"
