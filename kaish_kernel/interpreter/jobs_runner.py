"""`cmd &`: start a pipeline as a background job in a snapshot of the session.

    statement ──► fork (snapshot now) ──► JobManager.spawn(command, work) ──► "[N]" on stderr
                                               │ detached task: no stdin, stdout/stderr
                                               ▼ into the job's ring buffers (+ notebook tee)
                                          fork.run_pipeline(...)

The statement returns at once with status 0. Nothing the job changes comes
back; the job does not see later changes of the parent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.interpreter.control import BreakLoop, ContinueLoop, ExitShell, ReturnFromFunction
from kaish_kernel.lang import ast
from kaish_kernel.lang.render import render_pipeline
from kaish_kernel.scheduler.job import Job, JobErrors, JobOutput
from kaish_kernel.scheduler.stage import EMPTY_INPUT

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import IO, Executor

__all__ = ["start_job"]


async def start_job(ex: Executor, stmt: ast.Pipeline, io: IO) -> int:
    from kaish_kernel.interpreter.executor import IO as _IO

    jobs = ex.session.job_manager
    if jobs is None:
        raise KaishRuntimeError("background jobs are not available in this session")
    command = render_pipeline(stmt, ex.source)
    fork = ex.fork()
    fork.source = ex.source
    foreground = ast.Pipeline(stmt.stages, negated=stmt.negated, background=False, span=stmt.span)

    async def work(job: Job) -> int:
        fork.session.job_id = job.id
        errors = JobErrors(job)
        job_io = _IO(EMPTY_INPUT, JobOutput(job), errors)
        try:
            return await fork.run_pipeline(foreground, job_io)
        except (ExitShell, ReturnFromFunction) as exc:
            return exc.code
        except (BreakLoop, ContinueLoop):
            return fork.session.last_status
        except KaishRuntimeError as exc:
            errors.write(exc.message.rstrip("\n") + "\n")
            return exc.code

    job = jobs.spawn(command, work)
    job.parent = ex.session.job_id  # set before the job's first step runs
    io.stderr.write(f"[{job.id}]\n")
    return 0
