"""Background jobs (`cmd &`): the bridge from the interpreter to the JobManager."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.lang import ast

if TYPE_CHECKING:
    from kaish_kernel.interpreter.executor import IO, Executor

__all__ = ["start_job"]


async def start_job(ex: Executor, stmt: ast.Pipeline, io: IO) -> int:
    raise KaishRuntimeError("background jobs (&) are not implemented yet")
