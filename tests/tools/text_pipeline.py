"""Run builtins as a pipeline over real in-process pipes, without the interpreter.

`run_pipeline([(Cat, ["f"]), (Wc, ["-l"])], stdin=...)` wires each stage's
stdout to the next stage's stdin with `pipe_stream`, runs all stages
concurrently, closes each writer when its stage returns (as the pipeline
runner does) and returns every stage's code plus the last stage's output.
Also home to the odd streams the streaming tests need: an endless stdin and
a stdout whose reader leaves.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from kaish_kernel.scheduler.pipe_stream import pipe_stream
from kaish_kernel.scheduler.stage import (
    READ_CHUNK,
    BytesInput,
    CaptureOutput,
    InputStream,
    OutputStream,
)
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import bind
from tests.tool_harness import ErrorBuffer, FakeShell, word_to_raw


class EndlessInput(InputStream):
    """`yes`-like stdin: the same line forever, until closed."""

    def __init__(self, line: bytes = b"y\n") -> None:
        self.unit = line * max(1, READ_CHUNK // len(line))
        self.closed = False
        self.reads = 0

    async def read(self, n: int = READ_CHUNK) -> bytes:
        if self.closed:
            return b""
        self.reads += 1
        await asyncio.sleep(0)
        return self.unit[:n]

    def close(self) -> None:
        self.closed = True


class ChunkedInput(InputStream):
    """Hands out given chunks one read at a time (to split input anywhere)."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = list(parts)
        self.closed = False

    async def read(self, n: int = READ_CHUNK) -> bytes:
        while self.parts:
            part = self.parts.pop(0)
            if len(part) > n:
                self.parts.insert(0, part[n:])
                part = part[:n]
            if part:
                return part
        return b""

    def close(self) -> None:
        self.closed = True


class LeavingOutput(OutputStream):
    """A stdout whose reader goes away after `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.got = bytearray()

    async def write(self, data: bytes) -> None:
        if len(self.got) >= self.limit:
            raise BrokenPipeError("reader left")
        self.got += data[: self.limit - len(self.got)]


@dataclass
class StageRun:
    code: int
    stderr: str


@dataclass
class PipelineRun:
    stages: list[StageRun]
    stdout: bytes
    data: Any
    is_value: bool

    @property
    def code(self) -> int:
        return self.stages[-1].code


async def arun_stage(
    tool_cls: type[Tool],
    words: list[Any],
    stdin: InputStream,
    stdout: OutputStream,
    shell: FakeShell | None = None,
) -> StageRun:
    tool = tool_cls()
    err = ErrorBuffer()
    args = bind(tool.schema, [word_to_raw(w) for w in words])
    ctx = ToolContext(tool.schema.name, args, stdin, stdout, err, shell or FakeShell())
    code = await tool.run(ctx)
    return StageRun(code, err.text())


async def arun_pipeline(
    stages: list[tuple[type[Tool], list[Any]]],
    stdin: bytes | InputStream = b"",
    shell: FakeShell | None = None,
    capacity: int = 65536,
) -> PipelineRun:
    shell = shell or FakeShell()
    first: InputStream = BytesInput(stdin) if isinstance(stdin, bytes) else stdin
    final = CaptureOutput()
    inputs: list[InputStream] = [first]
    outputs: list[OutputStream] = []
    for _ in stages[:-1]:
        writer, reader = pipe_stream(capacity)
        outputs.append(writer)
        inputs.append(reader)
    outputs.append(final)

    async def one(i: int) -> StageRun:
        tool_cls, words = stages[i]
        try:
            return await arun_stage(tool_cls, words, inputs[i], outputs[i], shell)
        finally:
            await outputs[i].close()
            inputs[i].close()

    results = await asyncio.gather(*(one(i) for i in range(len(stages))))
    return PipelineRun(list(results), final.getvalue(), final.data, final.is_value)


def run_pipeline(
    stages: list[tuple[type[Tool], list[Any]]], stdin: bytes | InputStream = b"", **kw: Any
) -> PipelineRun:
    return asyncio.run(arun_pipeline(stages, stdin, **kw))
