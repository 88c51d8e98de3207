"""Error sinks: the drained channel, callback, fd and capture sinks."""

from __future__ import annotations

import os

from kaish_kernel.scheduler.stderr_stream import (
    CallbackErrorSink,
    CaptureErrorSink,
    ErrorSink,
    FdErrorSink,
    StderrStream,
    sink_fileno,
    stderr_stream,
)


def test_drain_joins_chunks_before_decoding() -> None:
    sender, receiver = stderr_stream()
    euro = "€".encode()
    sender.write(b"price: " + euro[:1])
    sender.write(euro[1:] + b"\n")
    assert receiver.drain_lossy() == "price: €\n"
    assert receiver.drain_lossy() == ""


def test_drain_is_lossy_for_invalid_utf8() -> None:
    sender, receiver = stderr_stream()
    sender.write(b"bad \xff\n")
    assert receiver.drain_lossy() == "bad \ufffd\n"


def test_text_and_bytes_and_copies_share_the_channel() -> None:
    sender, receiver = stderr_stream()
    copy = sender.clone()
    sender.write("one\n")
    copy.write_str("two\n")
    sender.write(b"")
    sender.write("")
    assert receiver.has_pending()
    assert receiver.drain_lossy() == "one\ntwo\n"
    assert not receiver.has_pending()


def test_writes_after_the_receiver_closed_are_dropped() -> None:
    sender, receiver = stderr_stream()
    sender.write(b"kept?\n")
    receiver.close()
    sender.write(b"dropped\n")
    assert receiver.drain_lossy() == ""


def test_callback_sink_forwards_each_write_as_bytes() -> None:
    seen: list[bytes] = []
    sink = CallbackErrorSink(seen.append)
    sink.write("a\n")
    sink.write(b"b\n")
    sink.write("")
    assert seen == [b"a\n", b"b\n"]
    assert sink.fileno() is None


def test_fd_sink_writes_straight_to_the_fd_and_exposes_it() -> None:
    read_fd, write_fd = os.pipe()
    try:
        sink = FdErrorSink(write_fd)
        assert sink.fileno() == write_fd
        assert sink_fileno(sink) == write_fd
        sink.write("to fd\n")
        sink.write(b"more\n")
        assert os.read(read_fd, 100) == b"to fd\nmore\n"
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_fd_sink_ignores_a_reader_that_left() -> None:
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    try:
        FdErrorSink(write_fd).write("nobody reads this\n")
    finally:
        os.close(write_fd)


def test_capture_sink_collects_text() -> None:
    sink = CaptureErrorSink()
    sink.write("x: ")
    sink.write(b"\xc3")
    sink.write(b"\xa9\n")
    assert sink.text() == "x: é\n"
    assert sink.getvalue() == b"x: \xc3\xa9\n"


def test_every_sink_satisfies_the_protocol() -> None:
    sender, _ = stderr_stream()
    for sink in (sender, CallbackErrorSink(print), FdErrorSink(2), CaptureErrorSink()):
        assert isinstance(sink, ErrorSink)
    assert isinstance(sender, StderrStream)
    assert sink_fileno(sender) is None
    assert sink_fileno(object()) is None
