"""The kaish error tree, stable error codes and caret rendering.

Errors are values the user reads, so each one carries enough to point at the
source: a line, a column, the text, a stable code and a one-line hint.
This module imports nothing from the package.

    KaishError
    ├── KaishSyntaxError      lexer/parser: line:col [parse]: message
    ├── KaishValidationError  pre-run checks (E0xx codes)
    └── KaishRuntimeError     a failure while running; carries an exit code

    KaishWarning              a pre-run finding that does not stop the script
                              (W0xx): line:col [warning W007]: message
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ErrorCode",
    "KaishError",
    "KaishRuntimeError",
    "KaishSyntaxError",
    "KaishValidationError",
    "KaishWarning",
    "SourcePosition",
    "position_of",
    "render_caret",
]


class ErrorCode:
    """Stable codes. Parse errors use `P0xx`; validation uses kaish's `E0xx`."""

    # --- parse / lex ---
    UNEXPECTED_TOKEN = "P001"
    UNTERMINATED_STRING = "P002"
    UNTERMINATED_SUBST = "P003"
    UNTERMINATED_HEREDOC = "P004"
    UNCLOSED_BLOCK = "P005"
    ADJACENT_TOKENS = "P006"  # the "quote to join" rule
    BACKTICK = "P007"
    BAD_HASH = "P008"  # '#' glued to something that is not a word
    INVALID_CHARACTER = "P009"
    MULTIPLE_STDIN = "P010"
    BAD_VARIABLE = "P011"
    BAD_ARITHMETIC = "P012"
    BAD_LITERAL = "P013"
    BAD_NAME = "P014"
    TRAILING_OPERATOR = "P015"
    # --- validation (kaish's own numbering) ---
    SEQ_ZERO_INCREMENT = "E004"
    REGEX_INVALID = "E005"
    SED_INVALID = "E006"
    JQ_INVALID = "E007"
    BREAK_OUTSIDE_LOOP = "E008"  # break / continue with no loop around it
    RETURN_OUTSIDE_FUNCTION = "E009"
    DIFF_OPERANDS = "E011"  # diff with literal operands that are not two files
    FOR_BARE_VAR = "E012"
    SCATTER_NO_GATHER = "E014"
    DOTTED_TARGET = "E017"
    HASH_NAME = "E018"
    TEST_COMPOUND = "E020"
    # --- warnings: reported on stderr, the script still runs ---
    MIXED_SCRIPT_NAME = "W007"


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """1-based line and column of an offset, with the text of that line."""

    line: int
    column: int
    line_text: str


def position_of(source: str, offset: int) -> SourcePosition:
    """Where `offset` (a str index into `source`) falls: line, column, line text."""
    offset = max(0, min(offset, len(source)))
    line_start = source.rfind("\n", 0, offset) + 1
    line_end = source.find("\n", offset)
    if line_end == -1:
        line_end = len(source)
    line = source.count("\n", 0, offset) + 1
    return SourcePosition(line, offset - line_start + 1, source[line_start:line_end].rstrip("\r"))


def _render(label: str, source: str, offset: int, message: str, hint: str) -> str:
    """`line:col [label]: message`, the source line with a caret, the hint."""
    pos = position_of(source, offset)
    out = f"{pos.line}:{pos.column} [{label}]: {message}"
    caret = render_caret(pos)
    if caret:
        out += "\n" + caret
    if hint:
        out += f"\n  = hint: {hint}"
    return out


def render_caret(pos: SourcePosition) -> str:
    """Two lines: `  | <source line>` and a caret under the column."""
    if not pos.line_text:
        return ""
    pad = "".join("\t" if ch == "\t" else " " for ch in pos.line_text[: pos.column - 1])
    return f"  | {pos.line_text}\n  | {pad}^"


class KaishError(Exception):
    """Base of every error kaish raises on purpose."""


class KaishSyntaxError(KaishError):
    """A lexer or parser failure.

    `incomplete` is true when more input could still make the source valid
    (an open quote, `if` without `fi`, a trailing `|`); a notebook front end
    uses it to ask for another line instead of reporting an error.
    """

    label = "parse"

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        offset: int = 0,
        code: str = ErrorCode.UNEXPECTED_TOKEN,
        hint: str = "",
        incomplete: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.offset = offset
        self.code = code
        self.hint = hint
        self.incomplete = incomplete

    @property
    def position(self) -> SourcePosition:
        return position_of(self.source, self.offset)

    @property
    def line(self) -> int:
        return self.position.line

    @property
    def column(self) -> int:
        return self.position.column

    def render(self) -> str:
        """`line:col [parse]: message`, the source line with a caret, the hint."""
        return _render(self.label, self.source, self.offset, self.message, self.hint)

    def __str__(self) -> str:
        return self.render()


class KaishValidationError(KaishSyntaxError):
    """A script that parses but is refused before anything runs (E0xx)."""

    def __init__(self, message: str, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.label = self.code


class KaishRuntimeError(KaishError):
    """A failure while running: the message goes to stderr, `code` is the status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class KaishWarning:
    """Something the user should see before the script runs, which still runs."""

    message: str
    source: str
    offset: int
    code: str
    hint: str = ""

    def render(self) -> str:
        """`line:col [warning W007]: message`, the source line with a caret, the hint."""
        return _render(f"warning {self.code}", self.source, self.offset, self.message, self.hint)
