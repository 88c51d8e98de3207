"""Builtins that act on the session itself, only through `ctx.shell`.

    cd pwd                      the working directory (and $PWD / $OLDPWD)
    export unset read push      variables
    set                         options: -e, -o pipefail, +o glob, ...
    alias unalias               aliases
    kaish-vars (vars)           every visible variable with its type
    source                      run a script in this session (`.` is the interpreter's)
    which type help             (help_topics.py) what a name means, help texts

Invariants: a name that `$name` could not read back is refused before anything
is written; a list or record never crosses into the environment; a runtime
failure is exit 1 with `tool: message`, a usage error exit 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.lang.names import name_error
from kaish_kernel.tools.base import Tool, ToolContext, text_or_error
from kaish_kernel.tools.builtins.help_topics import Help, Type, Which, word_text, write_lines
from kaish_kernel.tools.schema import BoundArgs, Param, RawArg, Schema, UsageError
from kaish_kernel.values import (
    PathError,
    PathSegment,
    Value,
    display,
    get_path,
    is_collection,
    path_text,
    set_path,
    to_json,
    type_name,
)

__all__ = [
    "TOOLS",
    "Alias",
    "Cd",
    "Export",
    "Help",
    "Push",
    "Pwd",
    "Read",
    "Set",
    "Source",
    "Type",
    "Unalias",
    "Unset",
    "Vars",
    "Which",
    "collection_refusal",
    "name_problem",
]

_CATEGORY = "session"
_NAMES = Param("names", type="any", positional=True, variadic=True, metavar="name")


# ---------------------------------------------------------------- helpers


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a variable name, or None when it can.

    The rule is the parser's (lang.names), so a runtime binder refuses what an
    assignment refuses, naming the character; a dot gets a hint, because kaish
    reads `a.b` as an attempt at record access."""
    problem = name_error(name)
    if problem is None:
        return None
    root, _, rest = name.partition(".")
    if problem[0] == "." and root and rest:
        return (
            f"`{name}': not a valid name — kaish uses bracket access, not dots:"
            f" name[key], here {root}[{rest}]"
        )
    return f"`{name}': not a valid identifier: {problem[1]}"


def _assignments(raw: list[RawArg]) -> Iterator[tuple[str, bool, Value]]:
    """Operands of export/alias: (name, whether a value was given, the value).

    `NAME=value` arrives as an "assign" argument carrying the typed value; a
    quoted "NAME=value" (or one after `--`) is a plain word cut at its first
    `=` into a string value. Flags are skipped (the binder has read them)."""
    dashdash = False
    for arg in raw:
        if arg.kind == "dashdash" and not dashdash:
            dashdash = True
            continue
        if arg.kind == "assign" and not dashdash:
            yield arg.name, True, arg.value
            continue
        if arg.kind in ("short", "long", "named") and not dashdash:
            continue
        word = word_text(arg.as_word())
        name, eq, value = word.partition("=")
        yield (name, True, value) if eq else (word, False, None)


def _names_refusal(names: list[str]) -> str | None:
    """Why unset/read cannot take these names (none, or a bad one), or None:
    both check every name before writing any."""
    if not names:
        return "missing variable name"
    return next((p for p in map(name_problem, names) if p is not None), None)


def _quote_single(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# ---------------------------------------------------------------- cd / pwd


class Cd(Tool):
    schema: ClassVar[Schema] = Schema(
        name="cd",
        summary="Change the working directory",
        params=(
            Param("path", type="str", positional=True, metavar="dir",
                  help="Where to go: $HOME when omitted, `-` for the previous directory"),
        ),
        examples=(("Go home", "cd"), ("Change directory", "cd /tmp"),
                  ("Back to the previous directory", "cd -")),
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        shell = ctx.shell
        args = ctx.args.positional
        dash = bool(args) and args[0] == "-"
        if not args:
            home = shell.get_var("HOME") if shell.has_var("HOME") else None
            target = home if isinstance(home, str) and home else "/"
        elif dash:
            previous = shell.get_var("OLDPWD") if shell.has_var("OLDPWD") else None
            if not isinstance(previous, str) or not previous:
                return ctx.error("OLDPWD not set")
            target = previous
        else:
            target = word_text(args[0])
        try:
            shell.chdir(target)
        except KaishRuntimeError as exc:
            return ctx.error(exc.message)
        except OSError as exc:
            return ctx.error(f"{target}: {exc.strerror or exc}")
        if dash:
            await ctx.write_text(shell.cwd + "\n")
        return 0


class Pwd(Tool):
    schema: ClassVar[Schema] = Schema(
        name="pwd",
        summary="Print the working directory",
        examples=(("Show the current directory", "pwd"),),
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        await ctx.write_text(ctx.shell.cwd + "\n")
        return 0


# ---------------------------------------------------------------- variables


def _declare_value(value: Value) -> str:
    """How `export -p` spells a value: strings double-quoted, the rest bare."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes | bytearray):
        return f"[binary: {len(value)} bytes]"
    if is_collection(value):
        return _quote_single(to_json(value))
    return display(value)


def collection_refusal(name: str, value: Value) -> str:
    return (
        f"{name}: cannot export a {type_name(value)}; the environment holds text only —"
        f" serialize it first: export {name}=$(tojson ...)"
    )


class Export(Tool):
    schema: ClassVar[Schema] = Schema(
        name="export",
        summary="Mark variables for export to external commands",
        params=(
            Param("print", short="p", aliases=("p",), help="List the exported variables"),
            Param("names", type="any", positional=True, variadic=True, metavar="name[=value]",
                  help="NAME=VALUE to set and export, or NAME to export an existing variable"),
        ),
        description=(
            "Exported variables reach external commands as environment variables.\n"
            "Only text, numbers, booleans and null can be exported: serialize a list\n"
            "or record with tojson first. With no operands, lists like -p."
        ),
        examples=(("Set and export", "export MY_VAR=value"),
                  ("Export an existing variable", "export PATH"),
                  ("List the exports", "export -p")),
        category=_CATEGORY,
    )

    @staticmethod
    def bound_names(args: BoundArgs) -> list[str]:
        """The names export marks (W007 judges their spelling before the run)."""
        return [name for name, _, _ in _assignments(args.raw)]

    async def run(self, ctx: ToolContext) -> int:
        operands = list(_assignments(ctx.args.raw))
        if ctx.args.flag("print") or not operands:
            return await self._print(ctx)
        shell = ctx.shell
        for name, given, value in operands:
            problem = name_problem(name)
            if problem is not None:
                return ctx.error(problem)
            current = value if given else shell.get_var(name) if shell.has_var(name) else None
            if is_collection(current):
                return ctx.error(collection_refusal(name, current))
            if given and value is None:
                shell.set_var(name, None)  # export_var(name, None) only marks
            shell.export_var(name, value if given else None)
        return 0

    @staticmethod
    async def _print(ctx: ToolContext) -> int:
        shell = ctx.shell
        lines = []
        for name in sorted(shell.exported_env()):
            value = shell.get_var(name) if shell.has_var(name) else ""
            lines.append(f"declare -x {name}={_declare_value(value)}")
        await write_lines(ctx, lines)
        return 0


class Unset(Tool):
    schema: ClassVar[Schema] = Schema(
        name="unset",
        summary="Remove variables",
        params=(_NAMES,),
        description="Unsetting a name that is not set is not an error.",
        examples=(("Remove a variable", "unset MY_VAR"), ("Remove several", "unset A B C")),
        category=_CATEGORY,
    )

    @staticmethod
    def bound_names(args: BoundArgs) -> list[str]:
        return [word_text(v) for v in args.positional]

    async def run(self, ctx: ToolContext) -> int:
        names = self.bound_names(ctx.args)
        refusal = _names_refusal(names)
        if refusal is not None:
            return ctx.error(refusal)
        for name in names:
            ctx.shell.unset_var(name)
        return 0


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def _unescape(text: str) -> str:
    """`read` without -r: \\n \\t \\r \\\\ become characters; other pairs stay as written."""
    return re.sub(r"\\(.?)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text, flags=re.S)


class Read(Tool):
    schema: ClassVar[Schema] = Schema(
        name="read",
        summary="Read one line of stdin into variables",
        params=(
            Param("raw", short="r", help="Keep backslashes as they are (no \\n, \\t escapes)"),
            Param("prompt", type="str", short="p", help="Show this prompt (on stderr) first"),
            Param("names", type="str", positional=True, variadic=True, metavar="name",
                  help="Variables to fill; the last one takes the rest of the line"),
        ),
        description=(
            "With one name the whole line is stored; with several the line is split on\n"
            "whitespace and the last name receives the remaining words. Values are\n"
            "strings. Exits 1 when stdin has nothing left."
        ),
        examples=(("Read a line", "read NAME"),
                  ("Split into fields", "echo 'a b c' | read X REST"),
                  ("Loop over lines", "cat f | while read line; do echo $line; done")),
        category=_CATEGORY,
    )

    @staticmethod
    def bound_names(args: BoundArgs) -> list[str]:
        return [str(n) for n in args.positional]

    async def run(self, ctx: ToolContext) -> int:
        names = self.bound_names(ctx.args)
        refusal = _names_refusal(names)
        if refusal is not None:
            return ctx.error(refusal)
        prompt = ctx.args.get("prompt")
        if prompt:
            ctx.stderr.write(str(prompt))
        data = await ctx.stdin.readline()
        if not data:
            return ctx.error("no input available")
        line = text_or_error(ctx, data)
        if line is None:
            return 1
        line = line[:-1] if line.endswith("\n") else line
        line = line[:-1] if line.endswith("\r") else line
        if not ctx.args.flag("raw"):
            line = _unescape(line)
        if len(names) == 1:
            ctx.shell.set_var(names[0], line)
            return 0
        words = line.split()
        for i, name in enumerate(names):
            last = i == len(names) - 1
            value = " ".join(words[i:]) if last else (words[i] if i < len(words) else "")
            ctx.shell.set_var(name, value)
        return 0


_SEGMENT = re.compile(r"\[(\"[^\"]*\"|'[^']*'|[^\]\[]*)\]")


def _parse_target(text: str) -> tuple[str, list[PathSegment]]:
    """`services[web][tags]` -> ("services", ["web", "tags"]); `xs[0]` -> ("xs", [0])."""
    root = text.partition("[")[0]
    segments: list[PathSegment] = []
    rest = text[len(root):]
    while rest:
        match = _SEGMENT.match(rest)
        if match is None:
            raise UsageError(f"`{text}' is not a variable name or bracket path")
        inner = match.group(1)
        if inner[:1] in ("'", '"') and len(inner) >= 2:
            segments.append(inner[1:-1])
        elif re.fullmatch(r"-?[0-9]+", inner):
            segments.append(int(inner))
        elif ":" in inner:
            raise UsageError(f"`{text}': cannot push into a slice")
        else:
            segments.append(inner)
        rest = rest[match.end():]
    return root, segments


class Push(Tool):
    schema: ClassVar[Schema] = Schema(
        name="push",
        summary="Append values to a list variable, in place",
        usage="push NAME|NAME[key]... VALUE...",
        description=(
            "The target is a variable NAME (not $NAME), or a bracket path into it.\n"
            "Values are appended as they are: a record stays a record. The target\n"
            "must already exist and be a list; nothing is created on the way.\n"
            "Words are not glob-expanded: the target's brackets are a path, not a pattern."
        ),
        examples=(("Append one element", "push xs date"),
                  ("Append a record", "push xs $rec"),
                  ("Append to a nested list", "push services[web][tags] canary")),
        raw=True,
        patterns_as_data=True,
        category=_CATEGORY,
    )

    @staticmethod
    def bound_names(args: BoundArgs) -> list[str]:
        target = args.positional[0] if args.positional else None
        return [_parse_target(target)[0]] if isinstance(target, str) else []

    async def run(self, ctx: ToolContext) -> int:
        words = ctx.args.positional
        if len(words) < 2:
            return ctx.error("usage: push NAME VALUE...", 2)
        target, values = words[0], list(words[1:])
        if not isinstance(target, str):
            return ctx.error(
                f"the target must be a variable name (push xs value), not a {type_name(target)}", 2
            )
        try:
            root, segments = _parse_target(target)
        except UsageError as exc:
            return ctx.error(str(exc), 2)
        problem = name_problem(root)
        if problem is not None:
            return ctx.error(problem, 2)
        shell = ctx.shell
        if not shell.has_var(root):
            return ctx.error(f"{root} is not defined")
        current = shell.get_var(root)
        if segments and not is_collection(current):
            return ctx.error(f"{target}: {root} is a {type_name(current)}, not a collection")
        try:
            leaf = get_path(current, segments, root)
            if not isinstance(leaf, list):
                return ctx.error(f"{path_text(root, segments)} is not a list ({type_name(leaf)})")
            shell.set_var(root, set_path(current, segments, leaf + values, root))
        except PathError as exc:
            return ctx.error(str(exc))
        return 0


def _vars_value(value: Value) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bytes | bytearray):
        return f"[binary: {len(value)} bytes]"
    return display(value)


class Vars(Tool):
    aliases: ClassVar[tuple[str, ...]] = ("vars",)
    schema: ClassVar[Schema] = Schema(
        name="kaish-vars",
        summary="List every visible variable with its value and type",
        description="One row per variable: NAME, VALUE (strings quoted), TYPE.",
        examples=(("List variables", "kaish-vars"), ("As JSON", "kaish-vars --json")),
        json_output=True,
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        variables = ctx.shell.variables()
        names = sorted(variables)
        if ctx.args.json:
            rows = [{"NAME": n, "VALUE": variables[n], "TYPE": type_name(variables[n])}
                    for n in names]
            await ctx.emit_value(rows)
            return 0
        await write_lines(ctx, [
            f"{n}\t{_vars_value(variables[n])}\t{type_name(variables[n])}" for n in names
        ])
        return 0


# ---------------------------------------------------------------- set


_SET_O = ("errexit", "glob", "pipefail")
_NOT_HERE = {
    "trash": "rm deletes directly in this shell",
    "output-limit": "job output is always kept in bounded 10 MiB buffers",
}


def _set_option(ctx: ToolContext, name: str, enable: bool) -> str | None:
    """Turn an option on or off; an error message when `name` is not one."""
    sign = "-" if enable else "+"
    base = name.partition("=")[0]
    if name in _SET_O:
        setattr(ctx.shell.options, name, enable)
        return None
    if base in _NOT_HERE:
        if not enable and name == base:
            return None  # `set +o trash`: off is the only state this shell has
        return f"{sign}o {name}: not supported here ({_NOT_HERE[base]})"
    return f"{sign}o {name}: unknown option; valid names are {', '.join(_SET_O)}"


class Set(Tool):
    schema: ClassVar[Schema] = Schema(
        name="set",
        summary="Show or change shell options",
        usage="set [-e|+e] [-o NAME|+o NAME]...",
        description=(
            "Options: errexit (-e: stop at the first failing command), pipefail\n"
            "(a pipeline fails when any stage fails), glob (expand *, ?, [..] in words).\n"
            "`set` alone prints the settings that differ from the defaults; `set -o`\n"
            "prints every option as NAME<TAB>on|off. Other single-letter flags are\n"
            "accepted and ignored."
        ),
        examples=(("Exit on error", "set -e"), ("Stop exiting on error", "set +e"),
                  ("Fail a pipeline on any stage", "set -o pipefail"),
                  ("Turn off glob expansion", "set +o glob"), ("Show options", "set -o")),
        raw=True,
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        words = [word_text(w) for w in ctx.args.positional]
        as_json = "--json" in words
        words = [w for w in words if w != "--json"]
        if not words:
            return await self._summary(ctx)
        opts = ctx.shell.options
        i = 0
        while i < len(words):
            word = words[i]
            i += 1
            if word == "--":
                break  # what follows would be positional parameters: not settable here
            if word.startswith("--"):
                return ctx.error(f"unrecognized option '{word}'; see 'help set'", 2)
            if len(word) < 2 or word[0] not in "-+":
                continue
            enable = word[0] == "-"
            for letter in word[1:]:
                if letter == "e":
                    opts.errexit = enable
                elif letter == "o":
                    if i >= len(words):
                        return await self._listing(ctx, enable, as_json)
                    problem = _set_option(ctx, words[i], enable)
                    i += 1
                    if problem is not None:
                        return ctx.error(problem)
                # any other letter (-u, -x, ...) is accepted and ignored
        return 0

    @staticmethod
    async def _summary(ctx: ToolContext) -> int:
        opts = ctx.shell.options
        lines = []
        if opts.errexit:
            lines.append("set -e")
        if opts.pipefail:
            lines.append("set -o pipefail")
        if not opts.glob:
            lines.append("set +o glob")
        await write_lines(ctx, lines)
        return 0

    @staticmethod
    async def _listing(ctx: ToolContext, enable: bool, as_json: bool) -> int:
        opts = ctx.shell.options
        states = [(name, bool(getattr(opts, name))) for name in _SET_O]
        if as_json:
            await ctx.emit_value([{"OPTION": n, "STATE": "on" if on else "off"}
                                  for n, on in states])
        elif enable:
            await write_lines(ctx, [f"{n}\t{'on' if on else 'off'}" for n, on in states])
        else:  # `set +o`: the commands that recreate the settings
            await write_lines(ctx, [f"set {'-' if on else '+'}o {n}" for n, on in states])
        return 0


# ---------------------------------------------------------------- aliases


class Alias(Tool):
    schema: ClassVar[Schema] = Schema(
        name="alias",
        summary="Define or show command aliases",
        params=(
            Param("names", type="any", positional=True, variadic=True, metavar="name[=value]",
                  help="NAME=VALUE defines an alias; NAME alone shows it"),
        ),
        description="With no operands, lists every alias as alias NAME='VALUE'.",
        examples=(("List aliases", "alias"), ("Define an alias", "alias ll='ls -la'"),
                  ("Show one alias", "alias ll")),
        json_output=True,
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        table = ctx.shell.aliases
        operands = list(_assignments(ctx.args.raw))
        if not operands:
            if ctx.args.json:
                await ctx.emit_value([{"NAME": n, "VALUE": table[n]} for n in sorted(table)])
                return 0
            await write_lines(ctx, [f"alias {n}={_quote_single(table[n])}" for n in sorted(table)])
            return 0
        status = 0
        shown: list[str] = []
        for name, given, value in operands:
            if given:
                if not name:
                    return ctx.error(f"`={display(value)}': an alias needs a name")
                if is_collection(value):
                    return ctx.error(f"{name}: an alias is text, not a {type_name(value)}")
                table[name] = display(value)
            elif name in table:
                shown.append(f"alias {name}={_quote_single(table[name])}")
            else:
                status = ctx.error(f"{name}: not found")
        await write_lines(ctx, shown)
        return status


class Unalias(Tool):
    schema: ClassVar[Schema] = Schema(
        name="unalias",
        summary="Remove command aliases",
        params=(
            Param("all", short="a", help="Remove every alias"),
            Param("names", type="str", positional=True, variadic=True, metavar="name",
                  help="Aliases to remove (a name that is not an alias is ignored)"),
        ),
        examples=(("Remove an alias", "unalias ll"), ("Remove all", "unalias -a")),
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        table = ctx.shell.aliases
        if ctx.args.flag("all"):
            table.clear()
            return 0
        if not ctx.args.positional:
            return ctx.error("missing alias name")
        for name in ctx.args.positional:
            table.pop(str(name), None)
        return 0


# ---------------------------------------------------------------- source


class Source(Tool):
    # `.` is not registered as a name: it would appear as /v/bin/. in the VFS.
    schema: ClassVar[Schema] = Schema(
        name="source",
        summary="Run a kaish script in the current session",
        usage="source FILE [ARG]...",
        description=(
            "The script's variables, functions, aliases and cd stay in this session.\n"
            "ARGs become $1.. while it runs. `.` is the same command."
        ),
        examples=(("Load definitions", "source ./lib.kai"), ("Short form", ". ./env.kai")),
        raw=True,
        category=_CATEGORY,
    )

    async def run(self, ctx: ToolContext) -> int:
        words = ctx.args.positional
        if not words:
            return ctx.error("usage: source FILE [ARG]...", 2)
        return await ctx.shell.source(word_text(words[0]), list(words[1:]), ctx)


TOOLS = (Cd, Pwd, Export, Unset, Set, Read, Alias, Unalias, Push, Vars, Which, Type,
         Help, Source)
