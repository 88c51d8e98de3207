"""`%kaish` and `%%kaish`: kaish inside an ordinary Python (IPython) session.

    cell (main thread)                          kaish loop thread (magic_session.py)
    ──────────────────                          ────────────────────────────────────
    %%kaish --in xs --data d
      split_options: options, then the source
        verbatim (kaish owns quoting and `$`)
      --in values checked and converted
      CellStreams.current(): sys.stdout/err
        + ipykernel's parent header
      KaishSession.run ──────────────────────►  set_var(xs); Shell.execute(source)
        waits; Ctrl-C cancels the kaish work      output ─► the cell, as it comes
                                                  `cmd &` ─► the job's output ─► this
                                                             cell, also after it ends
      ◄──────────────── KaishResult ──────────┘
      store --out/--err/--data/--code; a non-zero exit raises KaishCommandError
      (unless --no-raise/--code); `x = %kaish CMD` gets the KaishResult

This module is the IPython face: option syntax, help (declared once with
magic_arguments, shown by `%kaish?`), user-namespace access, the extension
entry points. Everything that runs kaish is in magic_session.py; the loop
thread itself in loop_thread.py.
"""

from __future__ import annotations

import ast
import atexit
import keyword
import os
import re
import threading
import weakref
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from kaish_kernel.errors import KaishError
from kaish_kernel.jupyter.magic_session import (
    CellStreams,
    KaishCommandError,
    KaishResult,
    KaishSession,
    MagicCall,
    to_kaish_value,
)

__all__ = [
    "KaishCommandError",
    "KaishError",
    "KaishInterrupted",
    "KaishMagics",
    "KaishResult",
    "KaishSession",
    "load_ipython_extension",
    "split_options",
    "to_kaish_value",
    "unload_ipython_extension",
]

BACKGROUND_FUNCTION = "_kaish_bg"  # kaish has no `{ ...; } &`: a --bg cell runs as this function


class KaishInterrupted(KeyboardInterrupt):
    """An interrupt cancelled the kaish work of a %kaish call.

    Shown as one line: a traceback through the loop-thread plumbing says
    nothing, and formatting one takes IPython a noticeable while."""

    def _render_traceback_(self) -> list[str]:
        return [
            "\x1b[0;31mKeyboardInterrupt\x1b[0m: the kaish work was cancelled"
            " (background jobs keep running)"
        ]


# -- option parsing -------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\S+)")


def split_options(parser: Any, line: str) -> tuple[list[str], str]:
    """Leading options of a magic line as argv, and the rest verbatim.

    The rest is kaish source, so it must not go through shlex: kaish owns its
    quoting. A kaish command never starts with `-`, so the first word that is
    not an option (or `--`) starts the source.
    """
    takes_value: dict[str, bool] = {}
    for action in parser._actions:
        for spelling in action.option_strings:
            takes_value[spelling] = action.nargs != 0
    argv: list[str] = []
    pos = 0
    want_value = False
    while (match := _TOKEN.match(line, pos)) is not None:
        token = match.group(1)
        if want_value:
            argv.append(token)
            want_value = False
        elif token == "--":
            return argv, line[match.end() :].strip()
        elif not token.startswith("-") or token == "-":
            return argv, line[match.start(1) :].strip()
        else:
            name = token.split("=", 1)[0]
            if name not in takes_value and token[:2] in takes_value and not token.startswith("--"):
                name = token[:2]  # -ixs: a short option with its value attached
            if name not in takes_value:
                raise UsageError(f"%kaish: unknown option {name!r}; see %kaish? for the options")
            argv.append(token)
            want_value = takes_value[name] and name == token
        pos = match.end()
    return argv, ""


def _identifier(option: str, name: str | None) -> str | None:
    if name is not None and (not name.isidentifier() or keyword.iskeyword(name)):
        raise UsageError(f"{option} {name}: not a Python variable name")
    return name


# -- the magics -----------------------------------------------------------------------


class _QuietBareCall(ast.NodeTransformer):
    """`%kaish CMD` alone as a statement: its output has already streamed, so
    the result object is not echoed as Out[n]. `x = %kaish CMD` is untouched."""

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for index, statement in enumerate(node.body):
            if isinstance(statement, ast.Expr) and _is_kaish_line_call(statement.value):
                # (call, None)[1]: the call runs, the statement's value is None
                quiet = ast.Subscript(
                    value=ast.Tuple(elts=[statement.value, ast.Constant(None)], ctx=ast.Load()),
                    slice=ast.Constant(1),
                    ctx=ast.Load(),
                )
                node.body[index] = ast.copy_location(ast.Expr(quiet), statement)
        return ast.fix_missing_locations(node)


def _is_kaish_line_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "run_line_magic"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == "kaish"
    )


@magics_class
class KaishMagics(Magics):
    """%kaish, %%kaish and %kaish_jobs, over one KaishSession per IPython shell."""

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._session: KaishSession | None = None
        self._session_lock = threading.Lock()

    @property
    def session(self) -> KaishSession:
        """The session, started on first use (loading the extension stays cheap)."""
        with self._session_lock:
            if self._session is None or self._session.closed:
                self._session = KaishSession(env=dict(os.environ), cwd=os.getcwd())
                atexit.register(_close_at_exit, weakref.ref(self._session))
            return self._session

    @property
    def _namespace(self) -> dict[str, Any]:
        """The user's Python namespace (where --in reads and --out/... store)."""
        assert self.shell is not None
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    def close(self) -> None:
        with self._session_lock:
            if self._session is not None:
                self._session.close()

    @no_var_expand
    @line_cell_magic
    @magic_arguments()
    @argument(
        "-i",
        "--in",
        dest="inputs",
        action="append",
        default=[],
        metavar="NAMES",
        help="Python variables to bind in kaish, comma-separated (a,b); repeatable. "
        "JSON-able values (None, bool, int, float, str, bytes, list/tuple, dict "
        "with str keys) become typed kaish values; anything else is an error.",
    )
    @argument(
        "--out", metavar="VAR", help="Store stdout text in Python variable VAR (it is not shown)."
    )
    @argument(
        "--err", metavar="VAR", help="Store stderr text in Python variable VAR (it is not shown)."
    )
    @argument(
        "--data",
        metavar="VAR",
        help="Store the typed value of the last command in VAR: lists and dicts as "
        "Python objects; None when the command made no value.",
    )
    @argument(
        "--code",
        metavar="VAR",
        help="Store the exit status in VAR; a non-zero status then does not raise.",
    )
    @argument(
        "--bg",
        action="store_true",
        help="Run the whole cell as one kaish background job; its output and its end "
        "are shown in this cell while later cells run.",
    )
    @argument(
        "--no-raise", action="store_true", help="Do not raise KaishCommandError on a non-zero exit."
    )
    @argument(
        "command", nargs="*", help="Line magic: the kaish source (the rest of the line, verbatim)."
    )
    def kaish(self, line: str, cell: str | None = None) -> KaishResult | None:
        """Run kaish in this Python session.

        %kaish CMD runs one line, %%kaish runs the cell. One kaish session lives
        as long as this Python session: variables, cwd, functions, aliases and
        background jobs persist across cells, and jobs keep running between
        cells. Output streams into the cell as it is produced; a background
        job's output goes to the cell that started it. `$` belongs to kaish:
        IPython does not expand $var or {expr} in these lines.

        `x = %kaish CMD` returns a KaishResult: .out, .err, .data (the typed
        value of the last command, if it made one), .code; iterating yields
        the lines of .out. Options come before the command.

        A non-zero exit raises KaishCommandError (a kaish_kernel.errors.KaishError,
        with .code, .stderr, .stdout, .cmd like subprocess.CalledProcessError)
        unless --no-raise or --code is given. Ctrl-C (interrupt) cancels the
        running kaish work; background jobs keep running. Closing Python kills
        every job's process group. %kaish_jobs lists the jobs.

        Examples (one cell each)::

            %kaish ls -l

            files = %kaish glob '*.py'
            for name in files: print(name)

            %%kaish --in names --data rows
            tojson $names | jq 'map({name: .})'

            %%kaish --bg
            sleep 60; echo done
        """
        __tracebackhide__ = True
        parser = self.kaish.parser  # type: ignore[union-attr]  # set by @magic_arguments
        argv, rest = split_options(parser, line)
        args = parser.parse_args(argv)
        if cell is not None and rest:
            raise UsageError(
                f"%%kaish takes only options on its first line (got {rest!r}); put kaish code in the cell"
            )
        source = rest if cell is None else cell
        for option in ("out", "err", "data", "code"):
            _identifier(f"--{option}", getattr(args, option))
        if args.bg and any(getattr(args, o) for o in ("out", "err", "data", "code")):
            raise UsageError(
                "--bg runs in the background: --out/--err/--data/--code have nothing to store"
            )
        bindings = self._bindings(args.inputs)
        if not source.strip():
            if cell is None:
                raise UsageError("%kaish needs a command; see %kaish? for the options")
            return None
        call = MagicCall(CellStreams.current(), origin=getattr(self.shell, "execution_count", None))
        if args.bg:
            self._start_background(source, call, bindings, no_raise=args.no_raise)
            return None
        result = self._run(
            source, call, bindings=bindings, show_out=args.out is None, show_err=args.err is None
        )
        stores = {"out": result.out, "err": result.err, "data": result.data, "code": result.code}
        for option, value in stores.items():
            if getattr(args, option) is not None:
                self._namespace[getattr(args, option)] = value
        if result.code != 0 and not (args.no_raise or args.code is not None):
            raise KaishCommandError(result)
        return result if cell is None else None

    def _run(self, source: str, call: MagicCall, **options: Any) -> KaishResult:
        try:
            return self.session.run(source, call, **options)
        except KeyboardInterrupt:
            raise KaishInterrupted() from None

    def _bindings(self, groups: list[str]) -> dict[str, Any]:
        """--in names, checked here (before anything runs) and converted."""
        bindings: dict[str, Any] = {}
        for group in groups:
            for name in filter(None, (part.strip() for part in group.split(","))):
                _identifier("--in", name)
                if name not in self._namespace:
                    raise UsageError(f"--in {name}: no Python variable named {name!r}")
                try:
                    bindings[name] = to_kaish_value(self._namespace[name], name)
                except TypeError as exc:
                    raise UsageError(f"--in {name}: {exc}") from None
        return bindings

    def _start_background(
        self, source: str, call: MagicCall, bindings: dict[str, Any], *, no_raise: bool
    ) -> None:
        """The cell becomes a function run with `&` (a job in a snapshot of the
        session); its syntax errors are reported against the cell's own lines."""
        __tracebackhide__ = True
        header = f"{BACKGROUND_FUNCTION}() {{\n"
        wrapped = f"{header}{source.rstrip()}\n}}\n{BACKGROUND_FUNCTION} &\n"
        first = next((text.strip() for text in source.splitlines() if text.strip()), "")
        call.background_label = first if len(first) <= 60 else first[:59] + "…"
        if self.session.shell.is_complete(source)[0] != "complete":
            # it does not parse, so execute() runs nothing: the error, against the cell's lines
            result = self._run(source, call, bindings=bindings, show_out=False, show_err=False)
        else:
            result = self._run(wrapped, call, bindings=bindings, show_out=False, show_err=False)
        error = result.syntax_error
        if error is not None and error.source != source:
            error.source = source
            error.offset = min(max(error.offset - len(header), 0), len(source))
            result = KaishResult(
                source, result.code, result.out, error.render() + "\n", syntax_error=error
            )
        if result.code != 0:
            call.streams.write("stderr", result.err)
            if not no_raise:
                raise KaishCommandError(result)

    @line_magic
    def kaish_jobs(self, line: str = "") -> None:
        """List the kaish background jobs: id, status, command, the cell (In[n])
        that started it and its process groups. Output of a job stays readable
        with `%kaish cat /v/jobs/N/stdout`."""
        rows = self.session.job_rows()
        if not rows:
            print("no kaish jobs")
            return
        for row in rows:
            where = f"  In[{row.origin}]" if row.origin is not None else ""
            groups = f"  pgid {','.join(map(str, row.pgids))}" if row.pgids else ""
            print(f"[{row.id}] {row.status:<10} {row.label}{where}{groups}")


def _close_at_exit(session_ref: weakref.ref[KaishSession]) -> None:
    session = session_ref()
    if session is not None:
        session.close()


# -- extension entry points -------------------------------------------------------------

_LOADED: weakref.WeakKeyDictionary[Any, KaishMagics] = weakref.WeakKeyDictionary()


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext kaish_kernel`: register the magics (the session starts on first use)."""
    if ipython in _LOADED:
        return
    magics = KaishMagics(ipython)
    ipython.register_magics(magics)
    transformer = _QuietBareCall()
    ipython.ast_transformers.append(transformer)
    _LOADED[ipython] = magics
    magics._transformer = transformer  # type: ignore[attr-defined]


def unload_ipython_extension(ipython: Any) -> None:
    """Kill the session's jobs and remove the magics (`%reload_ext` loads afresh)."""
    magics = _LOADED.pop(ipython, None)
    if magics is None:
        return
    magics.close()
    transformer = getattr(magics, "_transformer", None)
    if transformer in ipython.ast_transformers:
        ipython.ast_transformers.remove(transformer)
    registry = ipython.magics_manager.magics
    for kind, name in (("line", "kaish"), ("cell", "kaish"), ("line", "kaish_jobs")):
        registry[kind].pop(name, None)
