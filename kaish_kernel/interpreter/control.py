"""Control flow as exceptions: break, continue, return, exit.

They unwind the Python stack from the statement that issued them to the
construct that owns them (the loop, the function call, the shell). A
pipeline stage is a boundary: `exit` inside a stage ends only that stage.
"""

from __future__ import annotations

__all__ = ["BreakLoop", "ContinueLoop", "ControlFlow", "ExitShell", "ReturnFromFunction"]


class ControlFlow(Exception):
    """Base of the control-flow signals."""


class BreakLoop(ControlFlow):
    def __init__(self, levels: int = 1) -> None:
        super().__init__(levels)
        self.levels = levels


class ContinueLoop(ControlFlow):
    def __init__(self, levels: int = 1) -> None:
        super().__init__(levels)
        self.levels = levels


class ReturnFromFunction(ControlFlow):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class ExitShell(ControlFlow):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code
