"""The value builtins: the doors between JSON text and kaish values, and
the small tools that look inside a value.

    text ──fromjson──► one value           value ──tojson──► one document (text)
    text ──fromjsonl─► list (a line each)  list  ──tojsonl─► one line per element
    value ──keys / values / typeof──► a value      string ──split──► list of strings

Conventions shared by every tool here:
- Input is the positional value when one is given (it arrives typed:
  `keys $u` gets the record itself), else stdin: the typed value a kaish
  builtin piped in, or — for the text doors and split — the text.
- A typed string from the pipe is never re-read as JSON ("no sniffing").
- Value builtins print the compact JSON of their result with no trailing
  newline and set it as the stage's typed value, so `x=$(keys $u)` binds a
  list. tojson and tojsonl print text only: their point is the text form.
- A terminal on stdin counts as no input (these tools never wait on a tty).
- `--json` asks for the JSON form of the result (for typeof, `"list"`).
"""

from __future__ import annotations

import json
import os
import re
from typing import Final

from kaish_kernel.scheduler.stage import NO_DATA
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.schema import Param, Schema
from kaish_kernel.values import Value, ValueError_, coerce_text, display, to_json, type_name

__all__ = [
    "TOOLS",
    "FromJson",
    "FromJsonl",
    "Keys",
    "Split",
    "ToJson",
    "ToJsonl",
    "TypeOf",
    "Values",
    "describe_kind",
    "parse_document",
]

_BATCH: Final = 64 * 1024


# ---------------------------------------------------------------------------
# shared helpers


def _reject_constant(name: str) -> Value:
    raise ValueError(f"{name} is not valid JSON")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


def parse_document(text: str) -> Value:
    """Exactly one JSON document (RFC 8259: no NaN/Infinity, nothing after it).

    Raises ValueError_ with `invalid JSON: <why> at line L column C`.
    """
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        why = "trailing characters" if exc.msg == "Extra data" else exc.msg
        raise ValueError_(f"invalid JSON: {why} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:
        raise ValueError_(f"invalid JSON: {exc}") from None


def describe_kind(value: Value) -> str:
    """`a record`, `a number`, `null` ... for "expected X, got Y" messages."""
    if isinstance(value, bytes | bytearray):
        return "binary data"
    name = type_name(value)
    return name if name == "null" else f"a {name}"


def _stdin_is_terminal(ctx: ToolContext) -> bool:
    fd = ctx.stdin.fileno()
    if fd is None:
        return False
    try:
        return os.isatty(fd)
    except OSError:
        return False


async def _piped(ctx: ToolContext) -> tuple[bytes | None, object]:
    """Stdin drained: (its bytes, its typed value or NO_DATA); (None, NO_DATA) for a tty."""
    if _stdin_is_terminal(ctx):
        return None, NO_DATA
    data = await ctx.stdin.read_all()
    return data, await ctx.stdin.data()


async def _input_value(ctx: ToolContext) -> object:
    """The positional value, else the typed value piped in, else NO_DATA."""
    if ctx.args.positional:
        return ctx.args.positional[0]
    _, value = await _piped(ctx)
    return value


def _as_text(ctx: ToolContext, value: Value) -> str | None:
    """A positional value as the text to parse (collections re-serialized)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            ctx.error("input is binary, not text")
            return None
    return to_json(value)


async def _input_text(ctx: ToolContext, hint: str) -> str | None:
    """Text to parse: the positional, else stdin's text. Reports and returns None."""
    if ctx.args.positional:
        return _as_text(ctx, ctx.args.positional[0])
    data, _ = await _piped(ctx)
    if data is None:
        ctx.error(f"no input ({hint})")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        ctx.error("input is binary, not text")
        return None


async def _emit_text(ctx: ToolContext, text: str) -> None:
    """Text-only output; under --json, the text as one JSON string value."""
    if ctx.args.json:
        await ctx.emit_value(text)
    else:
        await ctx.write_text(text)


def _value_param(help_text: str) -> Param:
    return Param("value", type="any", positional=True, help=help_text)


# ---------------------------------------------------------------------------
# fromjson / tojson


class FromJson(Tool):
    schema = Schema(
        name="fromjson",
        summary="Parse one JSON document into a value",
        usage="fromjson [TEXT]",
        description=(
            "Turns JSON text (the argument, else stdin) into a kaish value: a record,\n"
            "a list, a string, a number, a bool or null. The text must hold exactly\n"
            "one document: empty input and anything after the document are errors.\n"
            "A record shaped like a bytes envelope stays a record."
        ),
        params=(_value_param("JSON text to parse (stdin when absent)"),),
        examples=(
            ("Parse a string", "cfg=$(fromjson '{\"port\": 8080}'); echo ${cfg[port]}"),
            ("Parse a pipe", "curl -s api/config | fromjson"),
        ),
        json_output=True,
        category="json",
    )

    async def run(self, ctx: ToolContext) -> int:
        text = await _input_text(ctx, "pass a JSON string or pipe stdin")
        if text is None:
            return 1
        if not text.strip():
            return ctx.error("empty input (expected one JSON document)")
        try:
            value = parse_document(text)
        except ValueError_ as exc:
            return ctx.error(str(exc))
        await ctx.emit_value(value)
        return 0


class ToJson(Tool):
    schema = Schema(
        name="tojson",
        summary="Serialize a value to one JSON document (text)",
        usage="tojson [--pretty] VALUE",
        description=(
            "Prints the JSON text of a value: compact by default, two-space indented\n"
            "with --pretty. The output is text, not a value, so `$(tojson $x)` is a\n"
            "string — the way to put a record into an environment variable.\n"
            "Without an argument it serializes the typed value piped in.\n"
            "Binary data is refused: encode it first (base64)."
        ),
        params=(
            Param("pretty", help="Indent with two spaces"),
            _value_param("The value to serialize (the piped value when absent)"),
        ),
        examples=(
            ("Serialize a record", "tojson $cfg"),
            ("Export a record", "export CFG_JSON=$(tojson $cfg)"),
            ("Pretty-print to a file", "tojson --pretty $cfg > config.json"),
        ),
        json_output=True,
        category="json",
    )

    async def run(self, ctx: ToolContext) -> int:
        value = await _input_value(ctx)
        if value is NO_DATA:
            return ctx.error("no value (pass a value to serialize)")
        if isinstance(value, bytes | bytearray):
            return ctx.error(f"cannot serialize {len(value)} bytes of binary data — use base64")
        await _emit_text(ctx, to_json(value, pretty=ctx.args.flag("pretty")))
        return 0


# ---------------------------------------------------------------------------
# fromjsonl / tojsonl


def _jsonl_error(text: str, start: int, line: str, line_no: int, exc: ValueError_) -> str:
    """Name the line; say so when it starts a pretty-printed multi-line document."""
    offset = len(text[start:]) - len(text[start:].lstrip())
    try:
        _, end = _DECODER.raw_decode(text, start + offset)
    except ValueError:
        end = -1
    if end > start + len(line):
        return (
            f"line {line_no}: looks like a pretty-printed JSON document spread over several"
            " lines — fromjsonl reads one document per line; use `fromjson` for a single"
            " document, or `jq -s` to slurp several"
        )
    return f"line {line_no}: {exc}"


class FromJsonl(Tool):
    schema = Schema(
        name="fromjsonl",
        summary="Parse JSONL (one JSON document per line) into a list",
        usage="fromjsonl [TEXT]",
        description=(
            "Strictly line-oriented: each non-blank line is one JSON document and\n"
            "becomes one element of the list; blank lines are skipped and CRLF line\n"
            "ends are accepted. A bad line, a truncated last line included, is an\n"
            "error naming its line number. A pretty-printed document is refused with\n"
            "a pointer to fromjson (one document) or jq -s (several)."
        ),
        params=(_value_param("JSONL text to parse (stdin when absent)"),),
        examples=(
            ("Read a JSONL file", "cat events.jsonl | fromjsonl"),
            ("Round-trip", "cat rows.jsonl | fromjsonl | tojsonl"),
        ),
        json_output=True,
        category="json",
    )

    async def run(self, ctx: ToolContext) -> int:
        text = await _input_text(ctx, "pass JSONL text or pipe stdin")
        if text is None:
            return 1
        decode = _DECODER.decode
        items: list[Value] = []
        start = 0
        line_no = 0
        size = len(text)
        while start < size:
            line_no += 1
            newline = text.find("\n", start)
            end = size if newline < 0 else newline
            line = text[start:end]
            if line.endswith("\r"):
                line = line[:-1]
            if line.strip():
                try:
                    items.append(decode(line))
                except ValueError:
                    try:
                        parse_document(line)
                    except ValueError_ as exc:
                        return ctx.error(_jsonl_error(text, start, line, line_no, exc))
            start = end + 1
        await ctx.emit_value(items)
        return 0


class ToJsonl(Tool):
    schema = Schema(
        name="tojsonl",
        summary="Serialize a list as JSONL: one compact document per line (text)",
        usage="tojsonl LIST",
        description=(
            "Prints each element of a list as compact JSON on its own line. A record\n"
            "or a scalar is one document: use tojson, or wrap it in a list. The\n"
            "output is text; an empty list prints nothing. Without an argument it\n"
            "serializes the typed list piped in."
        ),
        params=(_value_param("The list to serialize (the piped value when absent)"),),
        examples=(
            ("Serialize a list", "tojsonl $rows > rows.jsonl"),
            ("Round-trip", "cat rows.jsonl | fromjsonl | tojsonl"),
        ),
        json_output=True,
        category="json",
    )

    async def run(self, ctx: ToolContext) -> int:
        value = await _input_value(ctx)
        if value is NO_DATA:
            return ctx.error(
                "no value (pass a list, or pipe a typed value from a builtin such as fromjson)"
            )
        if isinstance(value, bytes | bytearray):
            return ctx.error(f"cannot serialize {len(value)} bytes of binary data — use base64")
        if not isinstance(value, list):
            return ctx.error(
                f"expected a list, got {describe_kind(value)} — a record or scalar is one"
                " document: use `tojson`, or wrap it in a list first"
            )
        if ctx.args.json:
            await ctx.emit_value("".join(to_json(item) + "\n" for item in value))
            return 0
        batch: list[str] = []
        size = 0
        for item in value:
            line = to_json(item) + "\n"
            batch.append(line)
            size += len(line)
            if size >= _BATCH:
                await ctx.write_text("".join(batch))
                batch.clear()
                size = 0
        if batch:
            await ctx.write_text("".join(batch))
        return 0


# ---------------------------------------------------------------------------
# keys / values / typeof


class _CollectionTool(Tool):
    """keys and values: a record or a list in, a list out (the jq model)."""

    async def run(self, ctx: ToolContext) -> int:
        value = await _input_value(ctx)
        if value is NO_DATA:
            return ctx.error("no argument (expected a record or list)")
        if not isinstance(value, dict | list):
            return ctx.error(f"expected a record or list, got {describe_kind(value)}")
        await ctx.emit_value(self.pick(value))
        return 0

    def pick(self, collection: dict[str, Value] | list[Value]) -> list[Value]:
        raise NotImplementedError


class Keys(_CollectionTool):
    schema = Schema(
        name="keys",
        summary="The keys of a record (in order) or the indices of a list",
        usage="keys COLLECTION",
        description=(
            "A record gives its keys in insertion order; a list gives its indices\n"
            "0..N-1. The result is a list value, so `for k in $(keys $r)` iterates it."
        ),
        params=(_value_param("The record or list (the piped value when absent)"),),
        examples=(
            ("Record keys", "for k in $(keys $user); do echo \"$k=${user[$k]}\"; done"),
            ("List indices", "for i in $(keys $xs); do echo $i; done"),
        ),
        json_output=True,
        category="json",
    )

    def pick(self, collection: dict[str, Value] | list[Value]) -> list[Value]:
        if isinstance(collection, dict):
            return list(collection)
        return list(range(len(collection)))


class Values(_CollectionTool):
    schema = Schema(
        name="values",
        summary="The values of a record (in key order) or the elements of a list",
        usage="values COLLECTION",
        description=(
            "A record gives its values in insertion order (aligned with keys); a list\n"
            "gives its elements. The result is a list value, so\n"
            "`for x in $(values $xs)` iterates it."
        ),
        params=(_value_param("The record or list (the piped value when absent)"),),
        examples=(
            ("List elements", "for x in $(values $xs); do echo $x; done"),
            ("Record values", "vs=$(values $user)"),
        ),
        json_output=True,
        category="json",
    )

    def pick(self, collection: dict[str, Value] | list[Value]) -> list[Value]:
        if isinstance(collection, dict):
            return list(collection.values())
        return list(collection)


class TypeOf(Tool):
    schema = Schema(
        name="typeof",
        summary="The type of a value: list, record, string, number, bool, null or bytes",
        usage="typeof VALUE",
        description=(
            "Names a value's shape before you commit to keys, values or a loop.\n"
            "Integers and floats are both `number`. Pairs with [[ -list $x ]] and\n"
            "[[ -record $x ]]."
        ),
        params=(_value_param("The value (the piped value when absent)"),),
        examples=(
            ("Branch on the shape", "case $(typeof $x) in list) ...;; record) ...;; esac"),
        ),
        json_output=True,
        category="json",
    )

    async def run(self, ctx: ToolContext) -> int:
        value = await _input_value(ctx)
        if value is NO_DATA:
            return ctx.error("no argument (expected a value)")
        name = type_name(value)
        await ctx.emit_value(name, None if ctx.args.json else name)
        return 0


# ---------------------------------------------------------------------------
# split


def _split_pattern(text: str, pattern: re.Pattern[str], limit: int) -> list[str]:
    """Split on each match (groups are not kept); `limit` > 0 caps the field count."""
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        if limit and len(parts) == limit - 1:
            break
        parts.append(text[last : match.start()])
        last = match.end()
    parts.append(text[last:])
    return parts


def _split_whitespace(text: str, limit: int) -> list[str]:
    if not limit:
        return text.split()
    parts: list[str] = []
    rest = text
    for _ in range(limit - 1):
        rest = rest.lstrip()
        cut = next((i for i, ch in enumerate(rest) if ch.isspace()), -1)
        if cut < 0:
            break
        parts.append(rest[:cut])
        rest = rest[cut:]
    rest = rest.lstrip()
    if rest:
        parts.append(rest)
    return parts


class Split(Tool):
    schema = Schema(
        name="split",
        summary="Split a string into a list: on whitespace, a delimiter or a regex",
        usage="split [STRING] [DELIMITER] [-r REGEX] [--limit N]",
        description=(
            "kaish never word-splits on its own; split does it when asked. With no\n"
            "delimiter it splits on runs of whitespace (empty fields dropped); with a\n"
            "delimiter or -r REGEX every occurrence separates two fields. --limit N\n"
            "caps the result at N fields, the last keeping the rest of the string.\n"
            "When stdin has text, that text (without its final newlines) is split\n"
            "and the first argument is the delimiter. Prints one field per line; the\n"
            "typed value is the list, so `for x in $(split ...)` iterates it."
        ),
        params=(
            Param("regex", type="str", short="r", metavar="pattern",
                  help="Split on matches of this regular expression"),
            Param("limit", type="int", metavar="n",
                  help="At most n fields; the last keeps the remainder (0: no limit)"),
            Param("args", type="any", positional=True, variadic=True, metavar="arg",
                  help="The string, then the delimiter (just the delimiter with stdin)"),
        ),
        examples=(
            ("On whitespace", "for w in $(split \"a b  c\"); do echo $w; done"),
            ("On a delimiter", "split \"a:b:c\" \":\""),
            ("On a regex", "split \"a1b2c3\" -r \"[0-9]\""),
            ("At most two fields", "split \"a:b:c:d\" \":\" --limit=2"),
            ("From stdin", "echo \"x,y,z\" | split \",\""),
        ),
        json_output=True,
        category="json",
    )

    async def run(self, ctx: ToolContext) -> int:
        args = ctx.args
        limit = args.get("limit") or 0
        if limit < 0:
            return ctx.error(f"invalid --limit {limit}: must be >= 0", 2)
        words = [v if isinstance(v, str) else display(v) for v in args.positional]
        try:
            text = await self._stdin_text(ctx)
        except ValueError_ as exc:
            return ctx.error(str(exc))
        if text:
            subject, rest = text.rstrip("\n"), words
        elif words:
            subject, rest = words[0], words[1:]
        else:
            return ctx.error("no input (provide a string argument or pipe stdin)")
        regex = args.get("regex")
        if regex is not None:
            try:
                pattern = re.compile(regex)
            except re.error as exc:
                return ctx.error(f"invalid regex: {exc}")
            parts = _split_pattern(subject, pattern, limit)
        elif rest:
            parts = _split_pattern(subject, re.compile(re.escape(rest[0])), limit)
        else:
            parts = _split_whitespace(subject, limit)
        text_out = None if args.json else ("\n".join(parts) + "\n" if parts else "")
        await ctx.emit_value(parts, text_out)
        return 0

    @staticmethod
    async def _stdin_text(ctx: ToolContext) -> str | None:
        data, value = await _piped(ctx)
        if isinstance(value, str):
            return value
        if not data:
            return None
        return coerce_text(data)


TOOLS = (FromJson, ToJson, FromJsonl, ToJsonl, Keys, Values, TypeOf, Split)
