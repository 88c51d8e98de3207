"""Builtins: their declared schemas, the binder, the registry."""

from kaish_kernel.tools.base import ShellAccess, ShellOptions, Tool, ToolContext
from kaish_kernel.tools.schema import (
    BoundArgs,
    Param,
    RawArg,
    Schema,
    UsageError,
    bind,
    build_tool_args,
    is_bool_type,
    schema_param_lookup,
)

__all__ = [
    "BoundArgs",
    "Param",
    "RawArg",
    "Schema",
    "ShellAccess",
    "ShellOptions",
    "Tool",
    "ToolContext",
    "UsageError",
    "bind",
    "build_tool_args",
    "is_bool_type",
    "schema_param_lookup",
]
