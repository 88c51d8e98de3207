"""StreamCoalescer and JobView without a kernel: what reaches `send`, and when."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from kaish_kernel.jupyter.cellfs import CellOutputStore
from kaish_kernel.jupyter.output import JobView, ProgressView, StreamCoalescer, human_size

PARENT = {"msg_id": "cell-1"}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def __call__(self, msg_type: str, content: dict[str, Any], parent: dict[str, Any]) -> None:
        self.sent.append((msg_type, content, parent))

    def streams(self) -> list[tuple[str, str]]:
        return [(c["name"], c["text"]) for t, c, _ in self.sent if t == "stream"]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class FakeTime:
    """An injected clock and timer queue: tests advance time instead of sleeping."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[list[Any]] = []  # [due, callback, cancelled]

    def clock(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Any) -> Any:
        timer = [self.now + delay, callback, False]
        self.timers.append(timer)

        class Handle:
            def cancel(self) -> None:
                timer[2] = True

        return Handle()

    def advance(self, seconds: float) -> None:
        target = self.now + seconds
        while True:
            due = [t for t in self.timers if not t[2] and t[0] <= target]
            if not due:
                break
            timer = min(due, key=lambda t: t[0])
            self.timers.remove(timer)
            self.now = timer[0]
            timer[1]()
        self.now = target


def coalescer(rec: Recorder, fake: FakeTime, **kwargs: Any) -> StreamCoalescer:
    return StreamCoalescer(rec, PARENT, clock=fake.clock, call_later=fake.call_later, **kwargs)


def test_writes_close_together_become_one_message() -> None:
    rec, fake = Recorder(), FakeTime()
    out = coalescer(rec, fake, first_delay=0.02)
    for i in range(100):
        out.write_stdout(f"line {i}\n".encode())
    assert rec.sent == []  # nothing before the first delay
    fake.advance(0.019)
    assert rec.sent == []
    fake.advance(0.002)
    assert len(rec.sent) == 1
    assert rec.sent[0][2] is PARENT
    assert rec.streams()[0][1].count("\n") == 100


def test_after_the_first_message_flushes_come_at_most_every_interval() -> None:
    rec, fake = Recorder(), FakeTime()
    sends: list[float] = []

    def send(msg_type: str, content: dict[str, Any], parent: dict[str, Any]) -> None:
        sends.append(fake.now)
        rec(msg_type, content, parent)

    out = StreamCoalescer(
        send,
        PARENT,
        first_delay=0.02,
        interval=0.05,
        clock=fake.clock,
        call_later=fake.call_later,
    )
    for _ in range(30):
        out.write_stdout(b"x")
        fake.advance(0.01)
    out.close()
    assert sends[0] == pytest.approx(0.02)
    gaps = [b - a for a, b in itertools.pairwise(sends[:-1])]
    assert gaps and all(g == pytest.approx(0.05) for g in gaps), gaps
    assert "".join(text for _, text in rec.streams()) == "x" * 30


def test_output_after_a_quiet_spell_goes_out_promptly() -> None:
    rec, fake = Recorder(), FakeTime()
    out = coalescer(rec, fake, first_delay=0.02, interval=0.05)
    out.write_stdout(b"a\n")
    fake.advance(1.0)
    out.write_stdout(b"b\n")
    fake.advance(0.0)
    assert rec.streams() == [("stdout", "a\n"), ("stdout", "b\n")]


def test_large_output_flushes_at_once() -> None:
    rec, fake = Recorder(), FakeTime()
    out = coalescer(rec, fake, max_pending=1000, limit=0)
    out.write_stdout(b"a" * 999)
    assert rec.sent == []
    out.write_stdout(b"b")
    assert len(rec.sent) == 1


def test_order_of_stdout_and_stderr_is_kept() -> None:
    async def main() -> Recorder:
        rec = Recorder()
        out = StreamCoalescer(rec, PARENT)
        out.write_stdout(b"1\n")
        out.write_stderr(b"2\n")
        out.write_stdout(b"3\n")
        out.write_stdout(b"4\n")
        out.close()
        return rec

    assert run(main()).streams() == [("stdout", "1\n"), ("stderr", "2\n"), ("stdout", "3\n4\n")]


def test_a_character_split_across_writes_is_never_broken() -> None:
    rec, fake = Recorder(), FakeTime()
    out = coalescer(rec, fake, first_delay=0.0, interval=0.0)
    for byte in "é€😀\n".encode():
        out.write_stdout(bytes([byte]))
        fake.advance(0.01)
    out.close()
    text = "".join(t for _, t in rec.streams())
    assert text == "é€😀\n"
    assert "\ufffd" not in text


def test_the_cap_shows_a_note_and_keeps_everything_readable(tmp_path: Any) -> None:
    store = CellOutputStore()

    async def main() -> tuple[Recorder, StreamCoalescer]:
        rec = Recorder()
        out = StreamCoalescer(rec, PARENT, limit=100, spill=store.spill_for(7), cap_hint="(hint)")
        for i in range(1000):
            out.write_stdout(f"{i}\n".encode())
        out.write_stderr(b"late error\n")
        out.close()
        return rec, out

    try:
        rec, out = run(main())
        shown = "".join(t for n, t in rec.streams() if n == "stdout")
        assert len(shown.encode()) == 100
        note = "".join(t for n, t in rec.streams() if n == "stderr")
        assert "output beyond 100 bytes is not shown" in note
        assert "cat /v/cells/7/stdout" in note and "(hint)" in note
        full = store.read_bytes("/7/stdout").decode()
        assert full == "".join(f"{i}\n" for i in range(1000))
        assert store.read_bytes("/7/stderr") == b"late error\n"
        assert [e.name for e in store.listdir("/")] == ["7"]
        assert out.capped and out.received == len(full) + len(b"late error\n")
    finally:
        store.cleanup()
    assert store.listdir("/") == []


def test_a_value_printed_last_is_dropped_once() -> None:
    async def main() -> Recorder:
        rec = Recorder()
        out = StreamCoalescer(rec, PARENT)
        out.write_stdout(b"before\n")
        out.write_stdout(b'[1,2,3]\n')
        assert out.drop_trailing("stdout", ["[1,2,3]"])
        assert not out.drop_trailing("stdout", ["[1,2,3]"])
        out.close()
        return rec

    assert run(main()).streams() == [("stdout", "before\n")]


def test_a_prompt_is_taken_from_the_unfinished_line() -> None:
    async def main() -> tuple[str, Recorder]:
        rec = Recorder()
        out = StreamCoalescer(rec, PARENT)
        out.write_stderr(b"earlier\nName: ")
        prompt = out.take_partial_line()
        out.close()
        return prompt, rec

    prompt, rec = run(main())
    assert prompt == "Name: "
    assert rec.streams() == [("stderr", "earlier\n")]


def test_job_view_updates_its_status_line_in_place() -> None:
    async def main() -> Recorder:
        rec = Recorder()
        view = JobView(rec, PARENT, job_id=3, command="sleep 1", display_id="d-3")
        view.show()
        view.tee("stdout", b"tick\n")
        view.finish("done:0", 1.234)
        return rec

    rec = run(main())
    kinds = [t for t, _, _ in rec.sent]
    assert kinds == ["display_data", "stream", "update_display_data"]
    first, last = rec.sent[0][1], rec.sent[-1][1]
    assert first["transient"]["display_id"] == last["transient"]["display_id"] == "d-3"
    assert first["data"]["text/plain"] == "[3] running  sleep 1"
    assert last["data"]["text/plain"] == "[3] done:0 (1.23s)  sleep 1"
    assert all(p is PARENT for _, _, p in rec.sent)


@pytest.mark.parametrize(("n", "text"), [(100, "100 bytes"), (2048, "2.0 KiB"), (3 << 20, "3.0 MiB")])
def test_human_size(n: int, text: str) -> None:
    assert human_size(n) == text


def test_progress_line_is_throttled_and_finalised_in_place() -> None:
    rec, fake = Recorder(), FakeTime()
    view = ProgressView(rec, PARENT, display_id="p-1", interval=0.1, clock=fake.clock)
    view.update(0, 0, 4, 10)
    for done in range(1, 9):
        fake.advance(0.03)
        view.update(done, 0, 2, 10)
    view.finish(9, 1, 10)
    view.update(10, 0, 0, 10)  # ignored after the end
    kinds = [t for t, _, _ in rec.sent]
    assert kinds[0] == "display_data" and set(kinds[1:]) == {"update_display_data"}
    assert len(rec.sent) < 6
    assert {c["transient"]["display_id"] for _, c, _ in rec.sent} == {"p-1"}
    assert rec.sent[0][1]["data"]["text/plain"] == "scatter: 0/10 done · 4 running"
    assert rec.sent[-1][1]["data"]["text/plain"] == "scatter: 9/10 done · 1 failed"


def test_many_small_writes_cost_linear_time() -> None:
    import time

    rec, fake = Recorder(), FakeTime()
    out = coalescer(rec, fake, max_pending=1 << 30, limit=0)
    start = time.process_time()
    for _ in range(200_000):
        out.write_stdout(b"0123456789")  # 2 MB pending before one flush
    out.close()
    assert time.process_time() - start < 5
    assert sum(len(text) for _, text in rec.streams()) == 2_000_000


def test_an_interrupted_progress_line_is_frozen_at_its_last_counts() -> None:
    rec, fake = Recorder(), FakeTime()
    view = ProgressView(rec, PARENT, display_id="p-2", clock=fake.clock)
    view.update(3, 1, 2, 10)
    view.stop()
    view.stop()
    assert [t for t, _, _ in rec.sent] == ["display_data", "update_display_data"]
    assert rec.sent[-1][1]["data"]["text/plain"] == "scatter: 3/10 done · 1 failed"
    assert view.finished
