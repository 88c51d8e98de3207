"""The syntax tree of an awk program (frozen; every node keeps its source offset).

    Program
    ├── begin: Block...            BEGIN { ... }
    ├── rules: Rule(pattern, action)
    │          pattern: None | Expr | RangePattern(start, end)
    │          action:  Block | None (None = print $0)
    └── end:   Block...            END { ... }

Expressions and statements are small dataclasses; the interpreter
(`_awk_run`) turns them into closures once, before any input is read.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Assign",
    "Binary",
    "Block",
    "Break",
    "Call",
    "Compare",
    "Concat",
    "Conditional",
    "Continue",
    "Delete",
    "DoWhile",
    "Exit",
    "Expr",
    "ExprStmt",
    "Field",
    "For",
    "ForIn",
    "If",
    "InArray",
    "IncDec",
    "Index",
    "Logical",
    "Match",
    "Name",
    "Next",
    "Not",
    "Number",
    "Print",
    "Printf",
    "Program",
    "RangePattern",
    "Regex",
    "Rule",
    "Stmt",
    "String",
    "Unary",
    "While",
]


# ----------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    pos: int


@dataclass(frozen=True, slots=True)
class String:
    value: str
    pos: int


@dataclass(frozen=True, slots=True)
class Regex:
    """A `/re/` literal; as a value it means `$0 ~ /re/`."""

    source: str
    pos: int


@dataclass(frozen=True, slots=True)
class Name:
    """A scalar variable (or, where an array is expected, an array name)."""

    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Field:
    index: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Index:
    """`array[subscript]`."""

    array: str
    subscript: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class InArray:
    """`subscript in array`."""

    subscript: Expr
    array: str
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    """Unary `-` or `+` (both numeric)."""

    op: str
    operand: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic: `+ - * / % ^`."""

    op: str
    left: Expr
    right: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Concat:
    parts: tuple[Expr, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Compare:
    """`< <= == != > >=` under awk's number-or-string rules."""

    op: str
    left: Expr
    right: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Match:
    """`left ~ right` (or `!~` when `negated`); `right` may be a Regex literal."""

    negated: bool
    left: Expr
    right: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Logical:
    """`&&` / `||`, short-circuit."""

    op: str
    left: Expr
    right: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Conditional:
    test: Expr
    if_true: Expr
    if_false: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class Assign:
    """`target op= value`; `op` is "" for plain `=`, else the arithmetic operator."""

    target: Expr  # Name | Field | Index
    op: str
    value: Expr
    pos: int


@dataclass(frozen=True, slots=True)
class IncDec:
    target: Expr  # Name | Field | Index
    delta: int
    prefix: bool
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    """A built-in function call (user-defined functions are not supported)."""

    name: str
    args: tuple[Expr, ...]
    pos: int


Expr = (
    Number | String | Regex | Name | Field | Index | InArray | Unary | Not | Binary | Concat
    | Compare | Match | Logical | Conditional | Assign | IncDec | Call
)


# ----------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Block:
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Print:
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Printf:
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class ExprStmt:
    expr: Expr


@dataclass(frozen=True, slots=True)
class If:
    test: Expr
    then: Stmt
    otherwise: Stmt | None


@dataclass(frozen=True, slots=True)
class While:
    test: Expr
    body: Stmt


@dataclass(frozen=True, slots=True)
class DoWhile:
    body: Stmt
    test: Expr


@dataclass(frozen=True, slots=True)
class For:
    init: Stmt | None
    test: Expr | None
    update: Stmt | None
    body: Stmt


@dataclass(frozen=True, slots=True)
class ForIn:
    var: str
    array: str
    body: Stmt


@dataclass(frozen=True, slots=True)
class Break:
    pass


@dataclass(frozen=True, slots=True)
class Continue:
    pass


@dataclass(frozen=True, slots=True)
class Next:
    pass


@dataclass(frozen=True, slots=True)
class Exit:
    status: Expr | None


@dataclass(frozen=True, slots=True)
class Delete:
    """`delete array[subscript]`, or the whole array when `subscript` is None."""

    array: str
    subscript: Expr | None


Stmt = (
    Block | Print | Printf | ExprStmt | If | While | DoWhile | For | ForIn | Break | Continue
    | Next | Exit | Delete
)


# ----------------------------------------------------------------- program


@dataclass(frozen=True, slots=True)
class RangePattern:
    start: Expr
    end: Expr


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: Expr | RangePattern | None
    action: Block | None


@dataclass(frozen=True, slots=True)
class Program:
    begin: tuple[Block, ...]
    rules: tuple[Rule, ...]
    end: tuple[Block, ...]
    arrays: frozenset[str]  # names used as arrays anywhere in the program
