"""Running the stages of one pipeline concurrently.

`PipelineRunner.run` wires N stages with N-1 edges and runs them all at once:

    stdin ─► [stage 0] ─edge 0─► [stage 1] ─edge 1─► … ─► [stage N-1] ─► stdout

    edge between two externals:   os.pipe()  (FdOutput ► FdInput; the children
                                  share a kernel pipe, no byte passes through Python)
    any other edge:               pipe_stream_default()  (PipeWriter ► PipeReader)

Each stage is one task in a TaskGroup. When a stage ends, for whatever
reason, the runner closes the ends of the edges it used: its writer, so the
next stage sees EOF even if nothing was written, and its reader, so the
previous stage sees a broken pipe and stops. The pipeline's own stdin and
stdout belong to the caller and are never closed here.

Invariants:

- A stage that raises is reported on stderr ("pipeline stage crashed: …")
  and counts as exit code 1; the other stages go on. A stage that lets a
  BrokenPipeError escape was cut off by its reader: code 0, no message.
- Cancelling `run` cancels every stage task; each unwinds (externals get
  TERM, grace, KILL), every edge is closed, and CancelledError propagates.
- No fd of an OS-pipe edge outlives `run`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable, Sequence

from kaish_kernel.records import record
from kaish_kernel.scheduler.pipe_stream import pipe_stream_default
from kaish_kernel.scheduler.stage import FdInput, FdOutput, InputStream, OutputStream
from kaish_kernel.scheduler.stderr_stream import ErrorSink

__all__ = ["CODE_STAGE_CRASHED", "PipelineRunner", "StageFn", "StageSpec"]

CODE_STAGE_CRASHED = 1

StageFn = Callable[[InputStream, OutputStream], Awaitable[int]]


@record
class StageSpec:
    """One stage: how to run it, and whether it is an external program.

    `run(stdin, stdout)` returns the stage's exit code. `external` tells the
    runner that the stage would rather have real fds (so two adjacent
    externals can be joined by an OS pipe).
    """

    run: StageFn
    external: bool = False
    label: str = ""


def _make_edge(left: StageSpec, right: StageSpec) -> tuple[OutputStream, InputStream]:
    if left.external and right.external:
        read_fd, write_fd = os.pipe()  # non-inheritable: only dup2 hands them on
        try:
            return FdOutput(write_fd), FdInput(read_fd)
        except BaseException:
            os.close(read_fd)
            os.close(write_fd)
            raise
    return pipe_stream_default()


async def _close_output(stream: OutputStream) -> None:
    try:
        await stream.close()
    except OSError:
        pass


def _close_input(stream: InputStream) -> None:
    try:
        stream.close()
    except OSError:
        pass


class PipelineRunner:
    """Runs a list of stages as one pipeline and reports every stage's code.

    The runner holds no state between runs; one instance can serve a whole
    session.
    """

    def __repr__(self) -> str:
        return "<PipelineRunner>"

    async def run(
        self,
        stages: Sequence[StageSpec],
        *,
        stdin: InputStream,
        stdout: OutputStream,
        stderr: ErrorSink,
    ) -> list[int]:
        """Run `stages` concurrently, joined by pipes.

        Input: the first stage reads `stdin`, the last writes `stdout`;
        neither is closed. `stderr` receives crash reports.
        Output: the exit codes in stage order (PIPESTATUS); the pipeline's
        own code is the last one. No stages: `[]`.
        Cancellation: every stage is cancelled and unwinds, then
        CancelledError propagates.
        """
        count = len(stages)
        if count == 0:
            return []
        outputs: list[OutputStream] = []
        inputs: list[InputStream] = [stdin]
        edges: list[tuple[OutputStream, InputStream]] = []
        try:
            for left, right in itertools.pairwise(stages):
                writer, reader = _make_edge(left, right)
                reader.pipeline_edge = True
                edges.append((writer, reader))
                outputs.append(writer)
                inputs.append(reader)
            outputs.append(stdout)

            codes = [CODE_STAGE_CRASHED] * count
            async with asyncio.TaskGroup() as group:
                for index, spec in enumerate(stages):
                    group.create_task(
                        self._run_stage(
                            index, count, spec, inputs[index], outputs[index], stderr, codes
                        ),
                        name=f"pipeline stage {index}: {spec.label or spec.run!r}",
                    )
            return codes
        finally:
            # Stages close their own edges as they end; this catches stages
            # that never started (cancelled early) and setup failures.
            for writer, reader in edges:
                await _close_output(writer)
                _close_input(reader)

    async def _run_stage(
        self,
        index: int,
        count: int,
        spec: StageSpec,
        stdin: InputStream,
        stdout: OutputStream,
        stderr: ErrorSink,
        codes: list[int],
    ) -> None:
        try:
            codes[index] = await spec.run(stdin, stdout)
        except BrokenPipeError:
            codes[index] = 0  # cut off by an early-closing reader: not a failure
        except Exception as exc:
            what = spec.label or f"stage {index + 1}"
            detail = str(exc) or type(exc).__name__
            stderr.write(f"pipeline stage crashed: {what}: {detail}\n")
            codes[index] = CODE_STAGE_CRASHED
        finally:
            if index < count - 1:
                await _close_output(stdout)
            if index > 0:
                _close_input(stdin)
