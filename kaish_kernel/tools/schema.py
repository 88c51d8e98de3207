"""Tool parameters, declared once, and the binder that reads them.

Every builtin declares a `Schema`: its name, a summary, and its `Param`s.
Argument binding, `--help` / `help TOOL`, validation, notebook completion and
inspection all read that one declaration — nothing parses a tool's words
twice.

    words as written            RawArg list               BoundArgs
    grep -ic --max-count 2 x f  ─ evaluate (interpreter) ─► bind(schema) ─► positional ["x","f"]
                                                                            named {"max-count": 2}
                                                                            flags {"ignore-case","count"}

Binding follows kaish's rules (spec §3.9): `--` ends options; `-abc`
clusters; a value flag may glue its value (`-f1`, `-C3`) or take the next
operand; `--k=v`; repeatable flags collect lists; `consumes=2` flags
(`--arg NAME VALUE`) collect pairs. Unknown flags are a usage error (exit 2),
as clap makes them in kaish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from kaish_kernel.records import record
from kaish_kernel.values import Value, display, truthy

__all__ = [
    "JSON_FLAG",
    "BoundArgs",
    "Param",
    "RawArg",
    "Schema",
    "UsageError",
    "bind",
    "build_tool_args",
    "format_help",
    "is_bool_type",
    "schema_param_lookup",
    "word_to_raw",
    "words_to_raw",
]


class UsageError(Exception):
    """Bad flags or operands: the tool exits 2 with this message."""


@record
class Param:
    """One parameter.

    `name` is the canonical long name (`max-count`); `short` a single letter;
    `aliases` extra long spellings. A `positional` param receives operands in
    declaration order; `variadic` takes all that remain.
    Types: bool, int, float, str, any (the value as given), list (collects).
    """

    name: str
    type: str = "bool"
    short: str = ""
    aliases: tuple[str, ...] = ()
    help: str = ""
    default: Value = None
    positional: bool = False
    variadic: bool = False
    required: bool = False
    repeatable: bool = False
    consumes: int = 1
    metavar: str = ""

    @property
    def is_flag(self) -> bool:
        return not self.positional

    @property
    def takes_value(self) -> bool:
        return not self.positional and not is_bool_type(self.type)

    def spellings(self) -> list[str]:
        out = [f"-{self.short}"] if self.short else []
        out.append(f"--{self.name}")
        out.extend(f"-{a}" if len(a.lstrip("-")) == 1 else f"--{a.lstrip('-')}" for a in self.aliases)
        return out


@record
class Schema:
    """A tool's whole interface.

    `json_output`: the tool has a structured form and accepts the global
    `--json` flag. `patterns_as_data`: operands are glob patterns the tool
    reads itself (not expanded). `numeric_shorthand`: `-5` means
    `--<that param> 5` (head, tail). `raw`: the tool reads its words itself
    (kill, test, printf); binding only collects them.
    """

    name: str
    summary: str
    params: tuple[Param, ...] = ()
    usage: str = ""
    description: str = ""
    examples: tuple[tuple[str, str], ...] = ()
    json_output: bool = False
    patterns_as_data: bool = False
    numeric_shorthand: str = ""
    raw: bool = False
    category: str = ""

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    @property
    def flags(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.is_flag)

    @property
    def positionals(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.positional)


JSON_FLAG: Final = Param("json", help="Emit the structured (JSON) form of the output.")


@record
class RawArg:
    """An evaluated argument, before binding.

    kind: "pos" (value), "short" (name = letters), "long" (name), "named"
    (`--name=value`), "assign" (`name=value`), "dashdash".
    `after_dashdash` is set by the binder's caller for words after `--`.
    """

    kind: str
    value: Value = None
    name: str = ""

    def as_word(self) -> Value:
        """The argument as the user wrote it, for raw tools and `--`."""
        if self.kind == "pos":
            return self.value
        if self.kind == "short":
            return f"-{self.name}"
        if self.kind == "long":
            return f"--{self.name}"
        if self.kind == "named":
            return f"--{self.name}={display(self.value)}"
        if self.kind == "assign":
            return f"{self.name}={display(self.value)}"
        return "--"


@dataclass(slots=True)
class BoundArgs:
    """The result of binding: operands, named values and set bool flags."""

    positional: list[Value] = field(default_factory=list)
    named: dict[str, Value] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    schema: Schema | None = None
    raw: list[RawArg] = field(default_factory=list)  # the arguments as evaluated, in order

    def flag(self, name: str) -> bool:
        return name in self.flags

    def get(self, name: str, default: Value = None) -> Value:
        """A value param's value, else the declared default, else `default`."""
        if name in self.named:
            return self.named[name]
        if self.schema is not None:
            p = self.schema.param(name)
            if p is not None and p.default is not None:
                return p.default
        return default

    def has(self, name: str) -> bool:
        return name in self.named or name in self.flags

    @property
    def json(self) -> bool:
        return "json" in self.flags


def word_to_raw(word: Value) -> RawArg:
    """Re-read a word as the lexer would have: `--k=v`, `--k`, `-abc`, `--`, else an operand.

    Used when a command arrives as a list of values (`timeout 5 grep -c x`)."""
    if not isinstance(word, str) or len(word) < 2 or not word.startswith("-"):
        return RawArg("pos", word)
    if word == "--":
        return RawArg("dashdash")
    if word.startswith("--"):
        name, eq, value = word[2:].partition("=")
        return RawArg("named", value, name) if eq else RawArg("long", name=name)
    if word[1:].lstrip("0123456789.") == "":
        return RawArg("pos", word)  # a negative number
    return RawArg("short", name=word[1:])


def words_to_raw(words: list[Value]) -> list[RawArg]:
    return [word_to_raw(w) for w in words]


def is_bool_type(type_name: str) -> bool:
    return type_name.lower() in ("bool", "boolean")


def schema_param_lookup(schema: Schema) -> dict[str, tuple[str, str, int, bool]]:
    """Every flag spelling (dashes removed) -> (canonical, type, consumes, repeatable)."""
    table: dict[str, tuple[str, str, int, bool]] = {}
    for p in schema.flags:
        entry = (p.name, p.type, p.consumes, p.repeatable)
        table[p.name] = entry
        if p.short:
            table[p.short] = entry
        for alias in p.aliases:
            table[alias.lstrip("-")] = entry
    return table


def _coerce(tool: str, p: Param, value: Value, spelled: str) -> Value:
    """Convert a flag or operand value to the param's declared type."""
    t = p.type.lower()
    if t in ("any", "list", "path"):
        return value
    if t in ("str", "string"):
        if isinstance(value, list | dict):
            kind = "list" if isinstance(value, list) else "record"
            raise UsageError(f"'{spelled}' must be a string, not a {kind}")
        return display(value) if not isinstance(value, str) else value
    if t in ("int", "integer"):
        if isinstance(value, bool):
            raise UsageError(f"invalid value '{display(value)}' for '{spelled}': expected an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise UsageError(
                f"invalid value '{display(value)}' for '{spelled}': expected an integer"
            ) from None
    if t in ("float", "number"):
        if isinstance(value, bool):
            raise UsageError(f"invalid value '{display(value)}' for '{spelled}': expected a number")
        if isinstance(value, int | float):
            return value
        try:
            return float(str(value).strip())
        except ValueError:
            raise UsageError(
                f"invalid value '{display(value)}' for '{spelled}': expected a number"
            ) from None
    if is_bool_type(t):
        return truthy(value)
    return value


# Each schema's spelling table (flag spelling -> Param), built on its first
# binding rather than on every command: id -> (schema, table). Schemas are
# class-level constants; the cap only guards against schemas made per call.
_SPELLINGS: dict[int, tuple[Schema, dict[str, Param]]] = {}


def _spelling_table(schema: Schema) -> dict[str, Param]:
    """`name`, `short` and alias spellings of the schema's flags (read-only)."""
    hit = _SPELLINGS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    table: dict[str, Param] = {}
    for p in schema.flags:
        table[p.name] = p
        if p.short:
            table[p.short] = p
        for alias in p.aliases:
            table[alias.lstrip("-")] = p
    if schema.json_output:
        table.setdefault("json", JSON_FLAG)
    if len(_SPELLINGS) >= 4096:
        _SPELLINGS.clear()
    _SPELLINGS[id(schema)] = (schema, table)
    return table


class _Binder:
    def __init__(self, schema: Schema, tool_name: str, *, lenient: bool = False) -> None:
        self.schema = schema
        self.tool = tool_name
        self.lenient = lenient
        self.by_spelling = _spelling_table(schema)
        self.out = BoundArgs(schema=schema)

    def unknown(self, spelled: str) -> UsageError:
        return UsageError(
            f"unexpected argument '{spelled}' found; see 'help {self.schema.name}'"
        )

    def set_value(self, p: Param, value: Value, spelled: str) -> None:
        if p.consumes > 1:
            if not isinstance(value, list):
                raise UsageError(
                    f"{spelled} takes {p.consumes} values; write {spelled.split('=')[0]} "
                    + " ".join(["VALUE"] * p.consumes)
                )
            self.out.named.setdefault(p.name, []).append(
                [_coerce(self.tool, p, v, spelled) for v in value]
            )
            return
        coerced = _coerce(self.tool, p, value, spelled)
        if p.repeatable:
            self.out.named.setdefault(p.name, []).append(coerced)
        else:
            self.out.named[p.name] = coerced

    def bind(self, raw: list[RawArg]) -> BoundArgs:
        operands: list[Value] = []
        consumed: set[int] = set()
        dashdash = False
        # a value flag waiting for operands: (param, spelled, needed, collected)
        pending: list[tuple[Param, str, int, list[Value]]] = []

        def want_values(p: Param, spelled: str) -> None:
            pending.append((p, spelled, p.consumes, []))

        for i, arg in enumerate(raw):
            if dashdash:
                operands.append(arg.as_word())
                continue
            kind = arg.kind
            if kind == "dashdash":
                dashdash = True
                continue
            if kind in ("pos", "assign"):
                value = arg.value if kind == "pos" else arg.as_word()
                if pending:
                    p, spelled, needed, got = pending[0]
                    got.append(value)
                    if len(got) == needed:
                        pending.pop(0)
                        self.set_value(p, got if needed > 1 else got[0], spelled)
                    consumed.add(i)
                    continue
                operands.append(value)
                continue
            if kind == "named":
                param = self.by_spelling.get(arg.name)
                if param is None and self.lenient:
                    if truthy(arg.value):
                        self.out.flags.add(arg.name)
                    continue
                if param is None:
                    raise self.unknown(f"--{arg.name}")
                if param is JSON_FLAG or (param.name == "json" and is_bool_type(param.type)):
                    if truthy(arg.value):
                        self.out.flags.add(param.name)
                    else:
                        self.out.flags.discard(param.name)
                    continue
                if is_bool_type(param.type):
                    if truthy(arg.value):
                        self.out.flags.add(param.name)
                    continue
                self.set_value(param, arg.value, f"--{arg.name}")
                continue
            if kind == "long":
                param = self.by_spelling.get(arg.name)
                if param is None and self.lenient:
                    self.out.flags.add(arg.name)
                    continue
                if param is None:
                    raise self.unknown(f"--{arg.name}")
                if is_bool_type(param.type):
                    self.out.flags.add(param.name)
                else:
                    want_values(param, f"--{arg.name}")
                continue
            if kind == "short":
                self.bind_short(arg.name, want_values, operands)
                continue
            raise UsageError(f"unsupported argument kind {kind!r}")

        for p, spelled, needed, got in pending:
            if needed <= 1 and not got:
                raise UsageError(f"a value is required for '{spelled} <{(p.metavar or p.name).upper()}>' but none was supplied")
            if got and len(got) < needed:
                raise UsageError(f"{spelled} requires {needed} arguments, got {len(got)}")
        self.bind_operands(operands)
        return self.out

    def bind_short(self, letters: str, want_values, operands: list[Value]) -> None:  # type: ignore[no-untyped-def]
        schema = self.schema
        whole = self.by_spelling.get(letters) if len(letters) > 1 else None
        if whole is not None:
            if is_bool_type(whole.type):
                self.out.flags.add(whole.name)
            else:
                want_values(whole, f"-{letters}")
            return
        if letters.lstrip("-").isdigit() and letters.isdigit():
            if schema.numeric_shorthand:
                p = schema.param(schema.numeric_shorthand)
                assert p is not None
                self.set_value(p, int(letters), f"-{letters}")
                return
            # `-5` where no flag is declared: a negative number operand
            if "".join(letters) not in self.by_spelling:
                operands.append(-int(letters))
                return
        for pos, letter in enumerate(letters):
            p = self.by_spelling.get(letter)
            if p is None and self.lenient:
                self.out.flags.add(letter)
                continue
            if p is None:
                raise self.unknown(f"-{letter}")
            if is_bool_type(p.type):
                self.out.flags.add(p.name)
                continue
            rest = letters[pos + 1 :]
            if rest:
                self.set_value(p, rest, f"-{letter}")
            else:
                want_values(p, f"-{letter}")
            return

    def bind_operands(self, operands: list[Value]) -> None:
        """Operands go to `positional`; declared positionals are checked and typed."""
        declared = self.schema.positionals
        out: list[Value] = []
        idx = 0
        for p in declared:
            if p.variadic:
                rest = operands[idx:]
                out.extend(_coerce(self.tool, p, v, p.name) for v in rest)
                idx = len(operands)
                if p.required and not rest:
                    raise UsageError(f"the required argument '<{(p.metavar or p.name).upper()}>...' was not provided")
                continue
            if idx < len(operands):
                out.append(_coerce(self.tool, p, operands[idx], p.name))
                idx += 1
            elif p.required:
                raise UsageError(f"the required argument '<{(p.metavar or p.name).upper()}>' was not provided")
        if idx < len(operands):
            if declared and not any(p.variadic for p in declared):
                raise UsageError(f"unexpected argument '{display(operands[idx])}' found")
            out.extend(operands[idx:])
        self.out.positional = out


def bind(schema: Schema, raw: list[RawArg], tool_name: str | None = None) -> BoundArgs:
    """Bind evaluated arguments against a schema. Raises UsageError (exit 2)."""
    if schema.raw:
        return BoundArgs(positional=[a.as_word() for a in raw], schema=schema, raw=list(raw))
    bound = _Binder(schema, tool_name or schema.name).bind(raw)
    bound.raw = list(raw)
    return bound


def build_tool_args(raw: list[RawArg], schema: Schema) -> BoundArgs:
    """The reduced binder (scatter/gather options): undeclared flags become bools."""
    return _Binder(schema, schema.name, lenient=True).bind(raw)


def format_help(schema: Schema) -> str:
    """The text of `help TOOL` / `TOOL --help`, built from the schema alone."""
    lines = [f"{schema.name} — {schema.summary}", ""]
    usage = schema.usage or _default_usage(schema)
    lines.append(f"Usage: {usage}")
    if schema.description:
        lines += ["", schema.description.strip()]
    if schema.positionals:
        lines += ["", "Arguments:"]
        for p in schema.positionals:
            label = f"<{(p.metavar or p.name).upper()}>" + ("..." if p.variadic else "")
            lines.append(f"  {label:<24} {p.help}")
    flags = list(schema.flags)
    if schema.json_output:
        flags.append(JSON_FLAG)
    if flags:
        lines += ["", "Options:"]
        for p in flags:
            spell = ", ".join(p.spellings())
            if p.takes_value:
                spell += f" <{(p.metavar or p.type).upper()}>"
            extra = f" (default: {display(p.default)})" if p.default not in (None, False) else ""
            lines.append(f"  {spell:<24} {p.help}{extra}")
    if schema.examples:
        lines += ["", "Examples:"]
        for title, example in schema.examples:
            lines.append(f"  # {title}")
            lines.append(f"  {example}")
    return "\n".join(lines) + "\n"


def _default_usage(schema: Schema) -> str:
    parts = [schema.name]
    if schema.flags or schema.json_output:
        parts.append("[OPTIONS]")
    for p in schema.positionals:
        label = (p.metavar or p.name).upper()
        label += "..." if p.variadic else ""
        parts.append(label if p.required else f"[{label}]")
    return " ".join(parts)
