"""The sed script language kaish accepts, parsed into a flat list of commands.

kaish's sed is the "muscle-memory" slice of GNU sed: `s///` (flags g, i/I,
p, m/M, N, Ng), `y///`, `d`, `p`, `=`, `q [CODE]`, `a`/`i`/`c` TEXT, addresses
`N`, `$`, `/re/` (and `\\%re%`, optional `I`), ranges `A,B`, negation `!`,
and `;`/newline chaining. Every `-e` string and every `;`-separated piece
lands in one ordered `SedProgram`.

    scripts (-e ... or the first operand)
        └─► _Parser.program()  one pass over each script, commands appended in order
              ├─ address:  NUMBER | $ | /re/ | \\Dre  [, address]  [!]
              └─ command:  s y d p = q a i c  (anything else is a SedScriptError)

Anything outside the subset — hold space, branching, file I/O, multi-line
commands, GNU address extensions (`1~2`, `0,/re/`, `addr,+N`) — is a
`SedScriptError` at parse time, so a program never half-runs. Regexes are
compiled here through the shared dialect (`_regex_dialect`), so a bad
pattern is a parse error too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from kaish_kernel.tools.builtins._regex_dialect import (
    RegexDialectError,
    can_match_empty,
    compile_regex,
)

__all__ = [
    "Address",
    "Append",
    "CaseSwitch",
    "Change",
    "Command",
    "Delete",
    "Insert",
    "LastLine",
    "LineNumber",
    "LineNumberPrint",
    "Print",
    "Quit",
    "RegexMatch",
    "Replacement",
    "SedProgram",
    "SedScriptError",
    "Substitute",
    "Transliterate",
    "parse_program",
    "python_template",
]

STRICT_FLAG: Final = "-E/-r"

_SEPARATORS: Final = ";\n \t"

_OUT_OF_SCOPE: Final[dict[str, str]] = {
    **dict.fromkeys("hHgGx", "hold space commands (h H g G x) are out of scope"),
    **dict.fromkeys("btT:", "labels and branching (b t T :) are out of scope"),
    **dict.fromkeys("rRwW", "file commands (r R w W) are out of scope"),
    **dict.fromkeys("nNDP", "multi-line commands (n N D P) are out of scope"),
    **dict.fromkeys("{}", "command grouping with { } is out of scope"),
}


class SedScriptError(ValueError):
    """The script is not in kaish's sed subset (reported as E006)."""


# ----------------------------------------------------------------- addresses


@dataclass(frozen=True, slots=True)
class LineNumber:
    number: int


@dataclass(frozen=True, slots=True)
class LastLine:
    pass


@dataclass(frozen=True, slots=True)
class RegexMatch:
    """`/re/`. An empty `//` is resolved at parse time to the regex before it."""

    regex: re.Pattern[str]


Address = LineNumber | LastLine | RegexMatch


# ----------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class CaseSwitch:
    """A GNU case operator in a replacement: U, L (until E), u, l (next char), E."""

    op: str


@dataclass(frozen=True, slots=True)
class Replacement:
    """The right side of `s///`, pre-split into literal text and references.

    `parts` holds str (literal), int (group, 0 = whole match) or CaseSwitch.
    `literal` is set when there are no references at all, so the common case
    needs no expansion.
    """

    parts: tuple[str | int | CaseSwitch, ...]
    literal: str | None


@dataclass(frozen=True, slots=True)
class Substitute:
    """`s///`. `template` is the replacement as an `re.sub` template when it
    has no case operators; `c_loop` says `regex.subn` alone gives the right
    answer (first match only, or `g` with a regex that cannot match empty)."""

    regex: re.Pattern[str]
    replacement: Replacement
    replace_all: bool
    occurrence: int  # 1-based first match to replace
    print_: bool
    template: str | None = None
    c_loop: bool = False


@dataclass(frozen=True, slots=True)
class Transliterate:
    table: dict[int, str]


@dataclass(frozen=True, slots=True)
class Delete:
    pass


@dataclass(frozen=True, slots=True)
class Print:
    pass


@dataclass(frozen=True, slots=True)
class Quit:
    exit_code: int


@dataclass(frozen=True, slots=True)
class LineNumberPrint:
    """`=`: print the current line number (`sed -n '$='` counts lines)."""


@dataclass(frozen=True, slots=True)
class Append:
    text: str


@dataclass(frozen=True, slots=True)
class Insert:
    text: str


@dataclass(frozen=True, slots=True)
class Change:
    text: str


Action = (
    Substitute | Transliterate | Delete | Print | Quit | Append | Insert | Change
    | LineNumberPrint
)


@dataclass(frozen=True, slots=True)
class Command:
    """One addressed command; `end` set means a range `start,end`."""

    start: Address | None
    end: Address | None
    negated: bool
    action: Action


@dataclass(frozen=True, slots=True)
class SedProgram:
    commands: tuple[Command, ...]

    @property
    def needs_last_line(self) -> bool:
        """Whether the runner must look one line ahead: a `$` address, or a
        ranged `c`, whose text is due at EOF when the range never closes."""
        return any(
            isinstance(c.start, LastLine)
            or isinstance(c.end, LastLine)
            or (c.end is not None and isinstance(c.action, Change))
            for c in self.commands
        )


def parse_program(scripts: list[str], *, extended: bool) -> SedProgram:
    """Parse every script (in order) into one program. Raises SedScriptError."""
    commands: list[Command] = []
    previous: re.Pattern[str] | None = None
    for script in scripts:
        parser = _Parser(script, extended, previous)
        commands.extend(parser.program())
        previous = parser.previous
    if not commands:
        raise SedScriptError("empty expression")
    return SedProgram(tuple(commands))


class _Parser:
    def __init__(self, script: str, extended: bool, previous: re.Pattern[str] | None) -> None:
        self.src = script
        self.pos = 0
        self.extended = extended
        self.previous = previous  # the regex an empty `//` stands for

    # -- helpers --
    def peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.src[i] if i < len(self.src) else ""

    def skip_blanks(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def compile(
        self, pattern: str, *, ignore_case: bool = False, multiline: bool = False
    ) -> re.Pattern[str]:
        """A regex through the shared dialect; `//` reuses the previous one."""
        if pattern == "":
            if self.previous is None:
                raise SedScriptError("no previous regular expression")
            return self.previous
        try:
            regex = compile_regex(
                pattern,
                extended=self.extended,
                ignore_case=ignore_case,
                multiline=multiline,
                strict_flag=STRICT_FLAG,
            )
        except RegexDialectError as exc:
            raise SedScriptError(str(exc)) from None
        self.previous = regex
        return regex

    # -- grammar --
    def program(self) -> list[Command]:
        """program := (SEPARATOR | '#' comment | command)*"""
        commands: list[Command] = []
        while True:
            while self.peek() and self.peek() in _SEPARATORS:
                self.pos += 1
            if not self.peek():
                return commands
            if self.peek() == "#":
                end = self.src.find("\n", self.pos)
                self.pos = len(self.src) if end < 0 else end
                continue
            commands.append(self.command())

    def command(self) -> Command:
        """command := [address [',' address]] '!'* letter arguments"""
        start = self.address(first=True)
        end: Address | None = None
        self.skip_blanks()
        if start is not None and self.peek() == ",":
            self.pos += 1
            self.skip_blanks()
            end = self.address(first=False)
            if end is None:
                raise SedScriptError("unexpected `,': missing range end address")
        self.skip_blanks()
        negated = False
        while self.peek() == "!":
            negated = True
            self.pos += 1
            self.skip_blanks()
        if negated and start is None:
            raise SedScriptError("`!' needs an address before it")
        return Command(start, end, negated, self.action())

    def address(self, *, first: bool) -> Address | None:
        """address := NUMBER | '$' | '/' re '/' ['I'] | '\\' D re D ['I']"""
        c = self.peek()
        if c.isdigit():
            begin = self.pos
            while self.peek().isdigit():
                self.pos += 1
            number = int(self.src[begin : self.pos])
            if self.peek() == "~":
                raise SedScriptError("GNU step addresses (first~step) are out of scope")
            if number == 0:
                raise SedScriptError(
                    "line address 0 is invalid (the GNU 0,/re/ form is out of scope)"
                )
            return LineNumber(number)
        if c == "$":
            self.pos += 1
            return LastLine()
        if c == "/" or (c == "\\" and self.peek(1) not in ("", "\n")):
            if c == "\\":
                self.pos += 1
            delimiter = self.peek()
            self.pos += 1
            pattern = self.delimited(delimiter, what="address regex")
            ignore_case = False
            if self.peek() == "I":
                ignore_case = True
                self.pos += 1
            return RegexMatch(self.compile(pattern, ignore_case=ignore_case))
        if not first and c and c in "+~":
            raise SedScriptError(f"GNU range form `addr,{c}N' is out of scope")
        return None

    def delimited(self, delimiter: str, *, what: str) -> str:
        """Text up to an unescaped `delimiter`; `\\D` becomes D, other escapes stay."""
        out: list[str] = []
        src = self.src
        while self.pos < len(src):
            c = src[self.pos]
            if c == "\\" and self.pos + 1 < len(src):
                nxt = src[self.pos + 1]
                out.append(nxt if nxt == delimiter else "\\" + nxt)
                self.pos += 2
            elif c == delimiter:
                self.pos += 1
                return "".join(out)
            else:
                out.append(c)
                self.pos += 1
        raise SedScriptError(f"unterminated {what}")

    def action(self) -> Action:
        letter = self.peek()
        if not letter:
            raise SedScriptError("missing command")
        self.pos += 1
        if letter == "s":
            return self.substitute()
        if letter == "y":
            return self.transliterate()
        if letter == "d":
            return Delete()
        if letter == "p":
            return Print()
        if letter == "q":
            return self.quit()
        if letter == "=":
            return LineNumberPrint()
        if letter in "aic":
            text = self.text_argument()
            return Append(text) if letter == "a" else Insert(text) if letter == "i" else Change(text)
        if letter in _OUT_OF_SCOPE:
            raise SedScriptError(f"{_OUT_OF_SCOPE[letter]}; run an external sed for them")
        raise SedScriptError(f"unknown command: `{letter}'")

    def quit(self) -> Quit:
        """q [EXIT-CODE]"""
        self.skip_blanks()
        begin = self.pos
        while self.peek().isdigit():
            self.pos += 1
        return Quit(int(self.src[begin : self.pos]) if self.pos > begin else 0)

    def text_argument(self) -> str:
        """The text of a/i/c: `a\\` NEWLINE text, `a\\text`, `a text` or `atext`.

        The text runs to the end of the line; a line ending in a backslash
        continues onto the next one.
        """
        if self.peek() == "\\":
            self.pos += 1
            if self.peek() in ("\n", " "):
                self.pos += 1
        elif self.peek() == " ":
            self.pos += 1
        out: list[str] = []
        src = self.src
        while self.pos < len(src):
            c = src[self.pos]
            if c == "\\" and self.pos + 1 < len(src):
                nxt = src[self.pos + 1]
                out.append(nxt if nxt in "\n\\" else "\\" + nxt)
                self.pos += 2
                continue
            if c == "\n":
                break
            out.append(c)
            self.pos += 1
        return "".join(out)

    def substitute(self) -> Substitute:
        """s D pattern D replacement D flags"""
        delimiter = self.peek()
        if delimiter in ("", "\n", "\\"):
            raise SedScriptError("s command requires a delimiter")
        self.pos += 1
        pattern = self.delimited(delimiter, what="`s' command")
        replacement = self.delimited(delimiter, what="`s' command")
        replace_all = print_ = ignore_case = multiline = False
        digits = ""
        while (c := self.peek()) and c not in _SEPARATORS and c not in "}#":
            if c == "g":
                replace_all = True
            elif c in "iI":
                ignore_case = True
            elif c in "mM":
                multiline = True
            elif c == "p":
                print_ = True
            elif c.isdigit():
                digits += c
            elif c in "we":
                raise SedScriptError(f"the `{c}' flag of `s' is out of scope")
            else:
                raise SedScriptError(f"unknown option to `s': `{c}'")
            self.pos += 1
        occurrence = int(digits) if digits else 1
        if digits and occurrence == 0:
            raise SedScriptError("number option to `s' command may not be zero")
        regex = self.compile(pattern, ignore_case=ignore_case, multiline=multiline)
        parsed = parse_replacement(replacement)
        for part in parsed.parts:
            if type(part) is int and part > regex.groups:
                raise SedScriptError(f"invalid reference \\{part} on `s' command's RHS")
        template = python_template(parsed)
        c_loop = template is not None and occurrence == 1 and (
            not replace_all or not can_match_empty(regex)
        )
        return Substitute(regex, parsed, replace_all, occurrence, print_, template, c_loop)

    def transliterate(self) -> Transliterate:
        """y D source D target D — equal lengths, `\\n` `\\\\` `\\D` escapes."""
        delimiter = self.peek()
        if delimiter in ("", "\n", "\\"):
            raise SedScriptError("y command requires a delimiter")
        self.pos += 1
        source = _unescape_y(self.delimited(delimiter, what="`y' command"))
        target = _unescape_y(self.delimited(delimiter, what="`y' command"))
        if len(source) != len(target):
            raise SedScriptError("y command strings have different lengths")
        return Transliterate({ord(a): b for a, b in zip(source, target, strict=True)})


def _unescape_y(text: str) -> str:
    escapes = {"n": "\n", "t": "\t", "\\": "\\"}
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in escapes:
            out.append(escapes[text[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


_REPLACEMENT_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "&": "&", "\n": "\n"}


def parse_replacement(text: str) -> Replacement:
    """Split `s///` replacement text: `&`, `\\0`-`\\9`, `\\n` `\\t` `\\&` `\\\\`,
    GNU case operators `\\U \\L \\u \\l \\E`; any other `\\x` stays as written."""
    parts: list[str | int | CaseSwitch] = []
    literal: list[str] = []
    dynamic = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == "&":
            item: int | CaseSwitch | None = 0
        elif c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            i += 1
            if nxt.isdigit():
                item = int(nxt)
            elif nxt in "ULulE":
                item = CaseSwitch(nxt)
            elif nxt in _REPLACEMENT_ESCAPES:
                literal.append(_REPLACEMENT_ESCAPES[nxt])
                item = None
            else:
                literal.append("\\" + nxt)
                item = None
        else:
            literal.append(c)
            item = None
        if item is not None:
            dynamic = True
            if literal:
                parts.append("".join(literal))
                literal.clear()
            parts.append(item)
        i += 1
    if literal:
        parts.append("".join(literal))
    if not dynamic:
        return Replacement(tuple(parts), "".join(p for p in parts if isinstance(p, str)))
    return Replacement(tuple(parts), None)


def python_template(replacement: Replacement) -> str | None:
    """The replacement as an `re.sub` template, or None if it uses case operators."""
    out: list[str] = []
    for part in replacement.parts:
        if type(part) is CaseSwitch:
            return None
        if type(part) is int:
            out.append(f"\\g<{part}>")
        else:
            out.append(str(part).replace("\\", "\\\\"))
    return "".join(out)
