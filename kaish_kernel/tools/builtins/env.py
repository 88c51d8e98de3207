"""`env`: print the exported environment, or run one command with changes to it.

    env [-0] [-i] [-u NAME]... [NAME=VALUE]... [COMMAND [ARG]...]

Arguments are read raw (options stop at the first word that is neither an
option nor, before the command, a `NAME=VALUE`). With a command, the changes
are applied to the session for the command's duration and then undone.
"""

from __future__ import annotations

from typing import ClassVar

from kaish_kernel.errors import KaishRuntimeError
from kaish_kernel.tools.base import ShellAccess, Tool, ToolContext
from kaish_kernel.tools.builtins.help_topics import word_text
from kaish_kernel.tools.builtins.session import collection_refusal, name_problem
from kaish_kernel.tools.schema import BoundArgs, RawArg, Schema, UsageError
from kaish_kernel.values import Value, display, is_collection

__all__ = ["TOOLS", "Env"]

_CATEGORY = "session"



class _EnvRequest:
    """`env [-0] [-i] [-u NAME]... [NAME=VALUE]... [COMMAND [ARG]...]`, read from raw args."""

    def __init__(self, raw: list[RawArg]) -> None:
        self.nul = False
        self.clear = False
        self.unset: list[str] = []
        self.overrides: dict[str, str] = {}
        self.command: list[Value] = []
        self._parse(raw)

    def _parse(self, raw: list[RawArg]) -> None:
        i = 0
        options = True
        while i < len(raw):
            arg = raw[i]
            i += 1
            if options and arg.kind == "dashdash":
                options = False
                continue
            if options and arg.kind == "short":
                i = self._short(arg.name, raw, i)
                continue
            if options and arg.kind in ("long", "named"):
                i = self._long(arg, raw, i)
                continue
            if options and arg.kind == "pos" and arg.value in ("-", "-0", "-i"):
                self.nul = self.nul or arg.value == "-0"
                self.clear = self.clear or arg.value in ("-", "-i")
                continue
            options = False
            if not self.command:
                pair = self._assignment(arg)
                if pair is not None:
                    self.overrides[pair[0]] = pair[1]
                    continue
            self.command.append(arg.as_word())

    def _short(self, letters: str, raw: list[RawArg], i: int) -> int:
        for pos, letter in enumerate(letters):
            if letter == "0":
                self.nul = True
            elif letter == "i":
                self.clear = True
            elif letter == "u":
                name = letters[pos + 1:]
                if not name:
                    if i >= len(raw):
                        raise UsageError("option requires an argument -- 'u'")
                    name, i = word_text(raw[i].as_word()), i + 1
                self.unset.append(name)
                return i
            else:
                raise UsageError(f"invalid option -- '{letter}'; see 'help env'")
        return i

    def _long(self, arg: RawArg, raw: list[RawArg], i: int) -> int:
        if arg.name in ("null",):
            self.nul = True
        elif arg.name in ("ignore-environment",):
            self.clear = True
        elif arg.name == "unset":
            if arg.kind == "named":
                self.unset.append(word_text(arg.value))
            elif i < len(raw):
                self.unset.append(word_text(raw[i].as_word()))
                i += 1
            else:
                raise UsageError("option '--unset' requires an argument")
        else:
            raise UsageError(f"unrecognized option '--{arg.name}'; see 'help env'")
        return i

    @staticmethod
    def _assignment(arg: RawArg) -> tuple[str, str] | None:
        if arg.kind == "assign":
            if is_collection(arg.value):
                raise KaishRuntimeError(collection_refusal(arg.name, arg.value))
            return arg.name, display(arg.value)
        if arg.kind == "pos" and isinstance(arg.value, str):
            name, eq, value = arg.value.partition("=")
            if eq and name_problem(name) is None:
                return name, value
        return None


class Env(Tool):
    schema: ClassVar[Schema] = Schema(
        name="env",
        summary="Print the exported environment, or run a command with changes to it",
        usage="env [-0] [-i] [-u NAME]... [NAME=VALUE]... [COMMAND [ARG]...]",
        description=(
            "Options: -0/--null ends each line with NUL instead of a newline;\n"
            "-i/--ignore-environment starts from an empty environment; -u/--unset NAME\n"
            "removes NAME (repeatable). Without a command the resulting environment is\n"
            "printed as NAME=VALUE lines, sorted. With one, the command runs with it."
        ),
        examples=(("Print the environment", "env"),
                  ("Run with a variable set", "env LANG=C sort names.txt"),
                  ("Hide a variable", "env -u SECRET printenv")),
        raw=True,
        category=_CATEGORY,
    )

    @staticmethod
    def bound_names(args: BoundArgs) -> list[str]:
        """The names env sets or hides, and (as kaish does) any unquoted
        `NAME=value` word after its command too."""
        try:
            request = _EnvRequest(args.raw)
        except UsageError:
            return []
        names = [*request.overrides, *request.unset]
        names += [a.name for a in args.raw if a.kind == "assign"]
        return list(dict.fromkeys(names))

    async def run(self, ctx: ToolContext) -> int:
        try:
            request = _EnvRequest(ctx.args.raw)
        except UsageError as exc:
            return ctx.error(str(exc), 2)
        if not request.command:
            env = {} if request.clear else dict(ctx.shell.exported_env())
            for name in request.unset:
                env.pop(name, None)
            env.update(request.overrides)
            end = "\0" if request.nul else "\n"
            text = "".join(f"{k}={env[k]}{end}" for k in sorted(env))
            if text:
                await ctx.write_text(text)
            return 0
        with _TemporaryEnvironment(ctx.shell, request):
            return await ctx.shell.dispatch(request.command, ctx)


class _TemporaryEnvironment:
    """Apply env's changes to the session for one command, then put everything back."""

    def __init__(self, shell: ShellAccess, request: _EnvRequest) -> None:
        self.shell = shell
        self.request = request
        self.saved: list[tuple[str, bool, Value, bool]] = []

    def __enter__(self) -> None:
        shell, request = self.shell, self.request
        exported = set(shell.exported_env())
        hidden = exported if request.clear else exported & set(request.unset)
        for name in hidden | set(request.overrides):
            found = shell.has_var(name)
            self.saved.append((name, found, shell.get_var(name) if found else None,
                               name in exported))
        for name in hidden - set(request.overrides):
            value = shell.get_var(name)
            shell.unset_var(name)  # drops the export mark
            shell.set_var(name, value)
        for name, value in request.overrides.items():
            shell.export_var(name, value)

    def __exit__(self, *exc_info: object) -> None:
        shell = self.shell
        for name, found, value, was_exported in reversed(self.saved):
            shell.unset_var(name)
            if found and was_exported:
                shell.export_var(name, value)
            elif found:
                shell.set_var(name, value)


TOOLS = (Env,)
