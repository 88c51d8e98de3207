"""The kaish syntax tree: frozen dataclasses, every node with a source span.

The parser builds these; the interpreter walks them. Nothing here evaluates.

    Program ── body: Block (a tuple of Stmt)
    Stmt    ── Pipeline | AndOr | Assignment | If | For | While | Case
               | FunctionDef | TestStmt | Break | Continue | Return | Exit
    Pipeline ─ stages: Command | compound Stmt (If/For/While/Case/TestStmt)
    Command ── name, args (Arg), redirects (Redirect), env (prefix Assignment)
    Expr    ── Literal | Interpolated | VarRef | VarDefault | VarLength
               | Special | CommandSubst | Arithmetic | GlobWord
               | ListLiteral | RecordLiteral
    Arith   ── the tree inside `$(( ))`
    TestExpr ─ the tree inside `[[ ]]`

Each node class is made by `@record` (kaish_kernel/records.py): a frozen,
slotted dataclass, built without compiling six methods per class at start-up.

Words are never pasted: an unquoted argument is exactly one Expr (a bareword,
a `$VAR`, a `$(...)`, a glob, ...); text plus interpolation only exists
inside double quotes (`Interpolated`).
"""

from __future__ import annotations

from typing import TypeAlias

from kaish_kernel.lang.span import NO_SPAN, Span
from kaish_kernel.records import record
from kaish_kernel.values import Value

# ---------------------------------------------------------------------------
# Variable paths: ${name[seg][seg]}
# ---------------------------------------------------------------------------


@record
class KeySeg:
    """`[name]` or `["a key"]`: a literal record key."""

    key: str
    span: Span = NO_SPAN


@record
class IndexSeg:
    """`[0]`, `[-1]`: a list index (negative counts from the end)."""

    index: int
    span: Span = NO_SPAN


@record
class DynamicSeg:
    """`[$k]`: the key or index is the value of an expression."""

    expr: Expr
    span: Span = NO_SPAN


@record
class SliceSeg:
    """`[a:b]`: end-exclusive slice of a list or (by characters) a string."""

    start: int | None
    end: int | None
    span: Span = NO_SPAN


Segment: TypeAlias = KeySeg | IndexSeg | DynamicSeg | SliceSeg


@record
class VarPath:
    """A variable name (NFC-normalized) and its bracket subscripts."""

    name: str
    segments: tuple[Segment, ...] = ()
    span: Span = NO_SPAN


# ---------------------------------------------------------------------------
# Expressions (words)
# ---------------------------------------------------------------------------


@record
class Literal:
    """A bareword or a single-quoted string.

    Barewords are typed by the lexer (`42` is an int, `3.14` a float, `true`
    a bool); quoted text is always a str. `quoted` is False only for
    barewords, which the interpreter may tilde-expand (`~/x`).
    """

    value: Value
    quoted: bool = False
    span: Span = NO_SPAN


@record
class Interpolated:
    """A double-quoted string: literal text (`Literal` str parts) and expansions."""

    parts: tuple[Expr, ...]
    span: Span = NO_SPAN


@record
class VarRef:
    """`$X`, `${X}`, `${X[k][0]}`."""

    path: VarPath
    span: Span = NO_SPAN


@record
class VarDefault:
    """`${X:-default}`: the default is used when X is absent or empty.

    `default` is the parsed default word: a Literal, an Interpolated, or a
    nested expansion (defaults nest: `${A:-${B:-c}}`).
    """

    path: VarPath
    default: Expr
    span: Span = NO_SPAN


@record
class VarLength:
    """`${#X}`, `${#x[k]}`: characters of a string, elements of a collection."""

    path: VarPath
    span: Span = NO_SPAN


SPECIAL_NAMES = ("?", "$", "#", "@", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


@record
class Special:
    """A special parameter: `$?`, `$$`, `$#`, `$@`, `$0`..`$9` (also braced)."""

    name: str  # one of SPECIAL_NAMES
    span: Span = NO_SPAN


@record
class CommandSubst:
    """`$(...)`: a full statement block whose stdout (or typed value) is the word."""

    body: Block
    span: Span = NO_SPAN


@record
class Arithmetic:
    """`$(( expr ))`: integer arithmetic."""

    expr: Arith
    source: str  # the text between the parentheses, for messages
    span: Span = NO_SPAN


@record
class GlobWord:
    """An unquoted word holding `*`, `?` or `[...]`: expands to matching paths."""

    pattern: str
    span: Span = NO_SPAN


@record
class ListItem:
    value: Expr
    spread: bool = False  # `...$xs` flattens a list into the new one
    span: Span = NO_SPAN


@record
class ListLiteral:
    """`[a b c]`, `[1, 2, 3]`, `[...$xs x]` (value position only)."""

    items: tuple[ListItem, ...]
    span: Span = NO_SPAN


@record
class RecordEntry:
    key: Expr  # Literal (bare or quoted) or Interpolated ("$k")
    value: Expr
    span: Span = NO_SPAN


@record
class RecordLiteral:
    """`{name: amy, tags: [a b]}` (value position only)."""

    entries: tuple[RecordEntry, ...]
    span: Span = NO_SPAN


Expr: TypeAlias = (
    Literal
    | Interpolated
    | VarRef
    | VarDefault
    | VarLength
    | Special
    | CommandSubst
    | Arithmetic
    | GlobWord
    | ListLiteral
    | RecordLiteral
)

# ---------------------------------------------------------------------------
# Arithmetic: the tree inside $(( ))
# ---------------------------------------------------------------------------


@record
class ArithNumber:
    value: int
    span: Span = NO_SPAN


@record
class ArithName:
    """A bare name (`X`): the variable's value as an integer."""

    name: str
    span: Span = NO_SPAN


@record
class ArithSubscript:
    """`xs[i]`: a bare subscript, whose index is itself arithmetic (reads variable i)."""

    name: str
    index: Arith
    span: Span = NO_SPAN


@record
class ArithExpand:
    """An expansion inside arithmetic: `$X`, `${c[port]}`, `$1`, `$?`, `$(cmd)`."""

    expr: Expr
    span: Span = NO_SPAN


@record
class ArithUnary:
    op: str  # "-", "+", "!"
    operand: Arith
    span: Span = NO_SPAN


@record
class ArithBinary:
    op: str  # + - * / % == != < <= > >= && ||
    left: Arith
    right: Arith
    span: Span = NO_SPAN


Arith: TypeAlias = ArithNumber | ArithName | ArithSubscript | ArithExpand | ArithUnary | ArithBinary

# ---------------------------------------------------------------------------
# [[ ]] test expressions
# ---------------------------------------------------------------------------


@record
class FileTest:
    op: str  # "-e" "-f" "-d" "-r" "-w" "-x"
    operand: Expr
    span: Span = NO_SPAN


@record
class UnaryTest:
    op: str  # "-z" "-n" "-list" "-record"
    operand: Expr
    span: Span = NO_SPAN


@record
class CompareTest:
    op: str  # "==" "=" "!=" "=~" "!~" "-eq" "-ne" "-gt" "-lt" "-ge" "-le" ">" "<"
    left: Expr
    right: Expr
    span: Span = NO_SPAN


@record
class MembershipTest:
    """`x in $coll`, `x not in $coll`."""

    left: Expr
    right: Expr
    negated: bool = False
    span: Span = NO_SPAN


@record
class WordTest:
    """`[[ word ]]`: true when the word is non-empty."""

    operand: Expr
    span: Span = NO_SPAN


@record
class TestNot:
    operand: TestExpr
    span: Span = NO_SPAN


@record
class TestAnd:
    left: TestExpr
    right: TestExpr
    span: Span = NO_SPAN


@record
class TestOr:
    left: TestExpr
    right: TestExpr
    span: Span = NO_SPAN


TestExpr: TypeAlias = (
    FileTest | UnaryTest | CompareTest | MembershipTest | WordTest | TestNot | TestAnd | TestOr
)

# ---------------------------------------------------------------------------
# Commands, arguments, redirects
# ---------------------------------------------------------------------------


@record
class Positional:
    value: Expr
    span: Span = NO_SPAN


@record
class ShortFlag:
    """`-n`, or a cluster `-la` (name "la"); the binder splits clusters."""

    name: str
    span: Span = NO_SPAN


@record
class LongFlag:
    """`--force`."""

    name: str
    span: Span = NO_SPAN


@record
class NamedArg:
    """`--name=value`."""

    name: str
    value: Expr
    span: Span = NO_SPAN


@record
class WordAssign:
    """`key=value` as an argument (export/alias take it; others get the text)."""

    name: str
    value: Expr
    span: Span = NO_SPAN


@record
class DoubleDash:
    """`--`: everything after it is an operand."""

    span: Span = NO_SPAN


Arg: TypeAlias = Positional | ShortFlag | LongFlag | NamedArg | WordAssign | DoubleDash

REDIRECT_KINDS = (">", ">>", "<", "2>", "&>", "2>&1", "1>&2", "<<", "<<<")


@record
class HereDoc:
    """A here-document body. `body` is a Literal (quoted delimiter) or Interpolated."""

    delimiter: str
    body: Expr
    strip_tabs: bool = False  # <<-EOF
    literal: bool = False  # <<'EOF'
    span: Span = NO_SPAN


@record
class Redirect:
    """`kind` is one of REDIRECT_KINDS.

    `>`, `>>`, `<`, `2>`, `&>`, `<<<` have a `target` word; `<<` has a
    `heredoc`; `2>&1` and `1>&2` (also spelled `>&2`) have neither.
    """

    kind: str
    target: Expr | None = None
    heredoc: HereDoc | None = None
    span: Span = NO_SPAN


@record
class Command:
    """A simple command: `NAME=v name arg... redirect...`."""

    name: str
    args: tuple[Arg, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    env: tuple[Assignment, ...] = ()  # `A=1 cmd`: scoped to this command
    span: Span = NO_SPAN


# ---------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------


@record
class Assignment:
    """`X=v`, `local X=v` (also `local X = v`), `xs[0]=v`, `u[k][j]=v`."""

    name: str
    value: Expr
    path: tuple[Segment, ...] = ()
    local: bool = False
    span: Span = NO_SPAN


@record
class Pipeline:
    """`a | b | c`, optionally `! a | b` (negated) or `a | b &` (background).

    A lone command is a pipeline of one. A stage is a Command or a compound
    statement (If, For, While, Case, TestStmt).
    """

    stages: tuple[Stage, ...]
    negated: bool = False
    background: bool = False
    span: Span = NO_SPAN


@record
class AndOr:
    """`left && right` or `left || right` (left-associative, equal precedence)."""

    op: str  # "&&" or "||"
    left: Stmt
    right: Stmt
    span: Span = NO_SPAN


@record
class IfBranch:
    condition: Block
    body: Block
    span: Span = NO_SPAN


@record
class If:
    """`if c; then b; elif c; then b; else b; fi`."""

    branches: tuple[IfBranch, ...]
    else_body: Block | None = None
    span: Span = NO_SPAN


@record
class For:
    """`for x in items; do body; done`."""

    var: str
    items: tuple[Expr, ...]
    body: Block
    span: Span = NO_SPAN


@record
class While:
    """`while cond; do body; done` (kaish has no `until`; use `while !`)."""

    condition: Block
    body: Block
    span: Span = NO_SPAN


@record
class CaseBranch:
    patterns: tuple[Expr, ...]  # glob patterns, alternatives joined by `|`
    body: Block
    span: Span = NO_SPAN


@record
class Case:
    subject: Expr
    branches: tuple[CaseBranch, ...]
    span: Span = NO_SPAN


@record
class FunctionDef:
    """`name() { body }` or `function name { body }`."""

    name: str
    body: Block
    source: str = ""  # the definition's source text (for job command strings)
    span: Span = NO_SPAN


@record
class TestStmt:
    """`[[ expr ]]` as a statement: status 0 when true, 1 when false."""

    expr: TestExpr
    span: Span = NO_SPAN


@record
class Break:
    levels: Expr | None = None
    span: Span = NO_SPAN


@record
class Continue:
    levels: Expr | None = None
    span: Span = NO_SPAN


@record
class Return:
    value: Expr | None = None
    span: Span = NO_SPAN


@record
class Exit:
    value: Expr | None = None
    span: Span = NO_SPAN


Compound: TypeAlias = "If | For | While | Case | TestStmt"
Stage: TypeAlias = "Command | If | For | While | Case | TestStmt"
Stmt: TypeAlias = (
    Pipeline
    | AndOr
    | Assignment
    | If
    | For
    | While
    | Case
    | FunctionDef
    | TestStmt
    | Break
    | Continue
    | Return
    | Exit
)
Block: TypeAlias = tuple[Stmt, ...]


@record
class Program:
    body: Block
    source: str = ""
    span: Span = NO_SPAN
