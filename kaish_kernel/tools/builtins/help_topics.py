"""Introspection builtins — help, which, type — and the texts `help` shows.

    help               overview: what kaish is, the topics, builtins by family
    help builtins      every builtin with its one-line summary
    help TOPIC         a short text from TOPICS (syntax, scatter, vfs, background)
    help TOOL          the tool's help, generated from its Schema
    anything else      a pointer back to `help` (exit 0, as in kaish)

    which NAME         what NAME runs: /v/bin/NAME for a builtin, a function or
                       alias note, else its path on $PATH
    type NAME          the same, as sentences

Tool help is never written here: it comes from each tool's Schema through
`format_help`, so a flag is documented exactly where it is declared. The
tools are registered through `session.TOOLS`.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable
from typing import ClassVar

from kaish_kernel.tools.base import ShellAccess, Tool, ToolContext
from kaish_kernel.tools.schema import Param, Schema, format_help
from kaish_kernel.values import display

__all__ = [
    "TOPICS",
    "TOPIC_ALIASES",
    "Help",
    "Type",
    "Which",
    "builtin_list",
    "overview",
    "resolve_topic",
    "unknown_topic",
    "word_text",
    "write_lines",
]


def word_text(value: object) -> str:
    """A word as text (numbers and the like as they display)."""
    return value if isinstance(value, str) else display(value)


async def write_lines(ctx: ToolContext, lines: list[str]) -> None:
    """Write each line with its newline, in one write."""
    if lines:
        await ctx.write_text("".join(line + "\n" for line in lines))


_SYNTAX = """\
kaish syntax, in brief

Variables hold JSON values: strings, numbers, true/false, null, lists, records.
  name=value            assign (no spaces around =); x=1 is the number 1
  local name=value      a variable local to the current function
  $name  ${name}        expand; a variable is always ONE value (no word splitting)
  ${name:-default}      the default when unset or empty
  ${#name}              length (characters, list elements or record keys)
  $? $$ $0 $1 $@ $#     status, session id, script name, arguments, count

Collections
  xs=[a b c]            a list literal (commas optional)
  r={name: amy, n: 3}   a record literal
  ${xs[0]} ${xs[-1]}    index; ${r[name]} key; ${r[tags][0]} nested paths
  ${xs[1:3]} ${s[0:5]}  slices (end-exclusive) of lists and strings
  xs[0]=z  r[k]=v       assign through a path (no autovivification)
  push xs d             append to a list in place (also push r[tags] d)
  for x in $(values $xs); do ...; done    iterate (keys / values)

Quoting
  'single'              literal text
  "double $x $(cmd)"    interpolation; a collection renders as compact JSON

Commands
  a | b | c             pipeline (builtins stream; values may flow between them)
  a && b   a || b       run b only if a succeeded / failed
  cmd &                 background job (see `jobs`, /v/jobs/N/)
  $(cmd)                command substitution (typed when cmd emits a value)
  cmd > f  >> f  < f  2>&1  &> f   redirects;  <<EOF here-docs;  <<< here-strings

Control flow
  if cond; then ...; elif cond; then ...; else ...; fi
  for x in a b c; do ...; done      while cond; do ...; done
  case $x in pat) ...;; esac        break, continue, return, exit
  name() { ...; }                   define a function; $1.. are its arguments
  [[ $a == b* ]]  [[ -f path ]]  [[ $x -lt 3 ]]  [[ k in $r ]]   tests
  $(( 1 + 2 * x ))                  arithmetic

Options: set -e (stop at the first failure), set -o pipefail, set +o glob.
"""

_SCATTER = """\
scatter / gather — run a pipeline segment once per item, in parallel

  input | scatter [--as VAR] [--limit N] [--timeout DUR] [--engine local|dask]
                [--scheduler ADDRESS] | worker ... | gather [--json|--lines]

scatter splits its input into items: the elements of a JSON list (typed — a
record stays a record), or one string per non-blank line of text. Each item
runs the segment between scatter and gather in its own copy of the session,
with the item bound to $ITEM (or the --as name). At most --limit workers run
at once (default 8); --timeout cancels a slow worker (its code becomes 124).

gather prints one JSON row per item, in item order, failures included:
  {"i":0,"item":"a","ok":true,"code":0,"out":"...","err":""}
--json prints the rows as one array; --lines prints only the outputs and fails
if any worker failed. gather exits 0 when every worker succeeded, 123 otherwise.

Examples
  seq 1 10 | scatter --limit 4 | sleep 1 | gather
  fromjson '[{"h":"a"},{"h":"b"}]' | scatter | echo ${ITEM[h]} | gather --lines
  ... | gather | jq '[.[] | select(.ok)] | length'

Workers do not change the parent session: their variables and cd stay theirs.

On a Dask cluster (the [dask] extra: pip install 'kaish-kernel[dask]'):
  ... | scatter --engine dask --scheduler tcp://HOST:8786 | worker ... | gather
or set KAISH_SCATTER_ENGINE=dask and KAISH_DASK_SCHEDULER=tcp://HOST:8786 (as
environment variables, or as variables in the session) and leave the script as
it is; --engine local overrides them. Each item's segment is sent to a Dask
worker with a snapshot of the session (variables, functions, aliases, cwd,
exported environment) and run there by kaish; the rows are the same as local
ones. --limit bounds the tasks in flight, --timeout is enforced on the worker
(TERM, grace, KILL), an interrupt cancels the outstanding tasks. Workers need
kaish-kernel installed and the same paths and commands. A scheduler that
cannot be reached is exit 2, at once when refused, else after a few seconds
(KAISH_DASK_CONNECT_TIMEOUT, default 3).
"""

_VFS = """\
The kaish filesystem view

Paths are the host's, routed through a small virtual filesystem:

  /              the host filesystem, as is
  /v/bin/NAME    every builtin, listed and runnable (/v/bin/echo hi)
  /v/jobs/N/     a background job: status, command, stdout, stderr
                 (stdout/stderr fill while the job runs; each keeps 10 MiB)

Relative paths and ~ resolve against the session's cwd and $HOME. External
commands run in the host directory behind the cwd, so a virtual cwd (under
/v) cannot start them.
"""

_JOBS = """\
Background jobs

  cmd &                 start a job; its number is printed as [N]
  jobs                  list jobs and their status
  wait [%N]             wait for one job or all of them
  kill %N               cancel a job (TERM, a grace period, then KILL)
  fg %N                 wait for a job in the foreground
  timeout DUR cmd       run cmd, cancelling it after DUR (exit 124)

A job's output is kept in bounded buffers and readable while it runs:
  cat /v/jobs/N/status   cat /v/jobs/N/stdout   cat /v/jobs/N/stderr
"""

TOPICS: dict[str, tuple[str, str]] = {
    "syntax": ("Variables, collections, quoting, pipes, control flow", _SYNTAX),
    "scatter": ("Parallel fan-out over items (scatter/gather)", _SCATTER),
    "vfs": ("The virtual filesystem: /v/bin, /v/jobs", _VFS),
    "background": ("Background jobs and their output", _JOBS),
}

TOPIC_ALIASES: dict[str, str] = {
    "language": "syntax",
    "lang": "syntax",
    "collections": "syntax",
    "gather": "scatter",
    "parallel": "scatter",
    "filesystem": "vfs",
    "fs": "vfs",
    "paths": "vfs",
    "job-control": "background",
}

_TOOL_LIST_WORDS = ("builtins", "tools", "commands")
_OVERVIEW_WORDS = ("", "overview", "topics")


def resolve_topic(word: str) -> str | None:
    """The canonical topic for `word`, "overview"/"builtins", or None."""
    key = word.lower()
    if key in _OVERVIEW_WORDS:
        return "overview"
    if key in _TOOL_LIST_WORDS:
        return "builtins"
    key = TOPIC_ALIASES.get(key, key)
    return key if key in TOPICS else None


def _by_family(schemas: Iterable[Schema]) -> dict[str, list[str]]:
    families: dict[str, list[str]] = {}
    for schema in schemas:
        families.setdefault(schema.category or "other", []).append(schema.name)
    return {family: sorted(names) for family, names in sorted(families.items())}


def overview(schemas: Iterable[Schema]) -> str:
    """The text of a bare `help`."""
    lines = [
        "kaish — a predictable, sh-shaped shell whose values are JSON.",
        "Builtins run in-process and stream; other commands are found on $PATH.",
        "",
        "Topics:",
    ]
    entries = [(name, summary) for name, (summary, _text) in TOPICS.items()]
    entries += [("builtins", "Every builtin with a one-line summary"),
                ("TOOL", "One tool's flags and examples (also TOOL --help)")]
    width = max(len(name) for name, _ in entries)
    lines += [f"  help {name:<{width}}  {summary}" for name, summary in entries]
    families = _by_family(schemas)
    if families:
        lines += ["", "Builtins by family:"]
        width = max(len(f) for f in families)
        for family, names in families.items():
            body = textwrap.wrap(" ".join(names), width=76 - width)
            lines.append(f"  {family:<{width}}  {body[0]}")
            lines.extend(f"  {'':<{width}}  {rest}" for rest in body[1:])
    return "\n".join(lines) + "\n"


def builtin_list(schemas: Iterable[Schema]) -> str:
    """The text of `help builtins`: one aligned line per builtin."""
    ordered = sorted(schemas, key=lambda s: s.name)
    width = max((len(s.name) for s in ordered), default=0)
    lines = [f"  {s.name:<{width}}  {s.summary}" for s in ordered]
    lines += ["", "Use 'help TOOL' for one tool, 'help syntax' for the language."]
    return "Builtins:\n\n" + "\n".join(lines) + "\n"


def unknown_topic(word: str) -> str:
    return (
        f"No help topic or builtin named '{word}'.\n"
        "Try 'help' for the topics or 'help builtins' for every builtin.\n"
    )


# ---------------------------------------------------------------- which / type


def _search_path(shell: ShellAccess, name: str) -> list[str]:
    """Every executable called `name` on $PATH, in order."""
    if shell.has_var("PATH"):
        path_var = word_text(shell.get_var("PATH"))
    else:
        path_var = os.environ.get("PATH", "")
    found: list[str] = []
    for directory in path_var.split(os.pathsep):
        if not directory:
            continue
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK) and candidate not in found:
            found.append(candidate)
    return found


def _path_text(shell: ShellAccess) -> str:
    if shell.has_var("PATH"):
        return word_text(shell.get_var("PATH"))
    return os.environ.get("PATH", "")


def _meanings(shell: ShellAccess, name: str) -> list[tuple[str, str]]:
    """What `name` runs, in dispatch order: (kind, detail) pairs."""
    out: list[tuple[str, str]] = []
    if name in shell.aliases:
        out.append(("alias", shell.aliases[name]))
    if name in shell.function_names():
        out.append(("function", name))
    if shell.registry.get(name) is not None:
        out.append(("builtin", f"/v/bin/{name}"))
    if "/" in name:
        resolved = shell.resolve_path(name)
        if os.path.isfile(resolved) and os.access(resolved, os.X_OK):
            out.append(("file", resolved))
    else:
        out.extend(("file", path) for path in _search_path(shell, name))
    return out


class Which(Tool):
    schema: ClassVar[Schema] = Schema(
        name="which",
        summary="Show what a command name runs",
        params=(
            Param("all", short="a", help="Show every match, not just the first"),
            Param("names", type="str", positional=True, variadic=True, metavar="command",
                  required=True, help="Command names to look up"),
        ),
        description=(
            "A builtin prints its runnable path /v/bin/NAME, a function or alias says\n"
            "so, and an external command prints its path on $PATH. Exits 1 when no\n"
            "name was found."
        ),
        examples=(("Find a command", "which git"), ("Every match", "which -a python3")),
        category="session",
    )

    async def run(self, ctx: ToolContext) -> int:
        lines: list[str] = []
        missing: list[str] = []
        for name in map(str, ctx.args.positional):
            meanings = _meanings(ctx.shell, name)
            if not meanings:
                missing.append(name)
                continue
            for kind, detail in meanings if ctx.args.flag("all") else meanings[:1]:
                if kind == "alias":
                    lines.append(f"{name}: aliased to {detail}")
                elif kind == "function":
                    lines.append(f"{name}: shell function")
                else:
                    lines.append(detail)
        await write_lines(ctx, lines)
        path_var = _path_text(ctx.shell)
        for name in missing:
            ctx.error(f"no {name} in ({path_var})")
        return 1 if missing and not lines else 0


class Type(Tool):
    schema: ClassVar[Schema] = Schema(
        name="type",
        summary="Describe how each name would be run",
        params=(
            Param("all", short="a", help="Describe every meaning, not just the first"),
            Param("names", type="str", positional=True, variadic=True, metavar="name",
                  required=True, help="Names to describe"),
        ),
        examples=(("Is ls a builtin?", "type ls"),),
        category="session",
    )

    async def run(self, ctx: ToolContext) -> int:
        status = 0
        lines: list[str] = []
        for name in map(str, ctx.args.positional):
            meanings = _meanings(ctx.shell, name)
            if not meanings:
                status = ctx.error(f"{name}: not found")
                continue
            for kind, detail in meanings if ctx.args.flag("all") else meanings[:1]:
                if kind == "alias":
                    lines.append(f"{name} is aliased to `{detail}'")
                elif kind == "function":
                    lines.append(f"{name} is a function")
                elif kind == "builtin":
                    lines.append(f"{name} is a shell builtin")
                else:
                    lines.append(f"{name} is {detail}")
        await write_lines(ctx, lines)
        return status


# ---------------------------------------------------------------- help


class Help(Tool):
    schema: ClassVar[Schema] = Schema(
        name="help",
        summary="Show help on kaish topics and builtins",
        params=(
            Param("topic", type="str", positional=True,
                  help="A topic (syntax, scatter, vfs, background, builtins) or a builtin's name"),
        ),
        examples=(("Overview", "help"), ("The language", "help syntax"),
                  ("One tool", "help grep")),
        category="session",
    )

    async def run(self, ctx: ToolContext) -> int:
        word = word_text(ctx.args.positional[0]) if ctx.args.positional else ""
        registry = ctx.shell.registry
        topic = resolve_topic(word)
        tool = registry.get(word) if word else None
        if topic == "overview":
            text = overview(registry.schemas())
        elif topic == "builtins":
            text = builtin_list(registry.schemas())
        elif topic is not None:
            text = TOPICS[topic][1]
        elif tool is not None:
            text = format_help(tool.schema)
        else:
            text = unknown_topic(word)
        await ctx.write_text(text)
        return 0
