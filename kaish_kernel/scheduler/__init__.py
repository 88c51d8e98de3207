"""The scheduler: pipes, capture streams, external processes and pipelines.

    stage.py          the stream contract every stage reads and writes
    pipe_stream.py    in-process pipes (64 KiB, backpressure, one typed value)
    stream.py         bounded ring buffers for captured and job output
    stderr_stream.py  error sinks: channel, callback, fd, capture
    processes.py      one external program as a stage (own process group)
    pipeline.py       PipelineRunner: N stages, N-1 edges, PIPESTATUS
    job.py            background jobs and the JobManager

This package never imports `lang/` or `tools/`.
"""

from kaish_kernel.scheduler.job import Job, JobId, JobInfo, JobManager, JobStatus
from kaish_kernel.scheduler.pipe_stream import (
    PIPE_BUFFER_SIZE,
    PipeReader,
    PipeStats,
    PipeWriter,
    pipe_stream,
    pipe_stream_default,
)
from kaish_kernel.scheduler.pipeline import PipelineRunner, StageFn, StageSpec
from kaish_kernel.scheduler.processes import find_executable, run_external
from kaish_kernel.scheduler.stage import (
    EMPTY_INPUT,
    NO_DATA,
    BytesInput,
    CallbackOutput,
    CaptureOutput,
    EmptyInput,
    FdInput,
    FdOutput,
    InputStream,
    LazyData,
    NullOutput,
    OutputStream,
)
from kaish_kernel.scheduler.stderr_stream import (
    CallbackErrorSink,
    CaptureErrorSink,
    ErrorSink,
    FdErrorSink,
    StderrReceiver,
    StderrStream,
    stderr_stream,
)
from kaish_kernel.scheduler.stream import (
    DEFAULT_STREAM_MAX_SIZE,
    BoundedStream,
    BoundedStreamOutput,
    StreamStats,
    drain_to_stream,
    drain_to_stream_teed,
)

__all__ = [
    "DEFAULT_STREAM_MAX_SIZE",
    "EMPTY_INPUT",
    "NO_DATA",
    "PIPE_BUFFER_SIZE",
    "BoundedStream",
    "BoundedStreamOutput",
    "BytesInput",
    "CallbackErrorSink",
    "CallbackOutput",
    "CaptureErrorSink",
    "CaptureOutput",
    "EmptyInput",
    "ErrorSink",
    "FdErrorSink",
    "FdInput",
    "FdOutput",
    "InputStream",
    "Job",
    "JobId",
    "JobInfo",
    "JobManager",
    "JobStatus",
    "LazyData",
    "NullOutput",
    "OutputStream",
    "PipeReader",
    "PipeStats",
    "PipeWriter",
    "PipelineRunner",
    "StageFn",
    "StageSpec",
    "StderrReceiver",
    "StderrStream",
    "StreamStats",
    "drain_to_stream",
    "drain_to_stream_teed",
    "find_executable",
    "pipe_stream",
    "pipe_stream_default",
    "run_external",
    "stderr_stream",
]
