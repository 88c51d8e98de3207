"""Session builtins: cd, pwd, export, unset, set, read, alias, env, push, which, help, ..."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kaish_kernel.interpreter.session import Session
from kaish_kernel.scheduler.stage import BytesInput, CaptureOutput
from kaish_kernel.tools.base import Tool, ToolContext
from kaish_kernel.tools.builtins.env import Env
from kaish_kernel.tools.builtins.session import (
    Alias,
    Cd,
    Export,
    Help,
    Push,
    Pwd,
    Read,
    Set,
    Source,
    Type,
    Unalias,
    Unset,
    Vars,
    Which,
    name_problem,
)
from kaish_kernel.tools.registry import ToolRegistry, default_registry
from kaish_kernel.tools.schema import RawArg, UsageError, bind, format_help
from kaish_kernel.values import Value
from kaish_kernel.vfs.router import VfsRouter
from tests.tool_harness import ErrorBuffer, FakeShell, ToolRun, run_tool


def make_session(cwd: Path, **vars: Value) -> Session:
    registry = ToolRegistry()
    for cls in (Cd, Pwd, Help, Which):
        registry.register(cls())
    session = Session(registry=registry, vfs=VfsRouter(), cwd=str(cwd), home=str(cwd))
    for name, value in vars.items():
        session.set_var(name, value)
    return session


def run_raw(
    tool_cls: type[Tool], *raw: RawArg, shell: Any = None, stdin: bytes = b""
) -> ToolRun:
    """Run a tool with arguments as the interpreter evaluates them (assign kinds included)."""

    async def go() -> ToolRun:
        tool = tool_cls()
        err = ErrorBuffer()
        out = CaptureOutput()
        try:
            args = bind(tool.schema, list(raw))
        except UsageError as exc:
            return ToolRun(2, b"", f"{tool.schema.name}: {exc}\n")
        ctx = ToolContext(tool.schema.name, args, BytesInput(stdin), out, err, shell or FakeShell())
        code = await tool.run(ctx)
        return ToolRun(code, out.getvalue(), err.text(), out.data, out.is_value)

    return asyncio.run(go())


def assign(name: str, value: Value) -> RawArg:
    return RawArg("assign", value, name)


def pos(value: Value) -> RawArg:
    return RawArg("pos", value)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["X", "_x1", "café", "名前", "😁"])
def test_valid_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["", "1abc", "a-b", "a b", "a\u200bb"])
def test_invalid_names(name: str) -> None:
    assert name_problem(name) is not None


def test_dotted_name_suggests_brackets() -> None:
    assert "a[b]" in (name_problem("a.b") or "")


# ---------------------------------------------------------------- cd / pwd


def test_cd_changes_directory_and_tracks_pwd_oldpwd(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    session = make_session(tmp_path)
    run = run_tool(Cd, "sub", shell=session)
    assert (run.code, run.out, run.stderr) == (0, "", "")
    assert session.cwd == str(tmp_path / "sub")
    assert session.get_var("PWD") == str(tmp_path / "sub")
    assert session.get_var("OLDPWD") == str(tmp_path)


def test_cd_without_argument_goes_to_home_variable(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    session = make_session(tmp_path, HOME=str(tmp_path / "home"))
    assert run_tool(Cd, shell=session).code == 0
    assert session.cwd == str(tmp_path / "home")


def test_cd_without_home_goes_to_root(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    assert run_tool(Cd, shell=session).code == 0
    assert session.cwd == "/"


def test_cd_dash_prints_and_toggles(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    session = make_session(tmp_path)
    run_tool(Cd, "a", shell=session)
    back = run_tool(Cd, "-", shell=session)
    assert (back.code, back.out) == (0, f"{tmp_path}\n")
    again = run_tool(Cd, "-", shell=session)
    assert again.out == f"{tmp_path / 'a'}\n"
    assert session.cwd == str(tmp_path / "a")


def test_cd_dash_without_previous_directory_fails(tmp_path: Path) -> None:
    run = run_tool(Cd, "-", shell=make_session(tmp_path))
    assert run.code == 1
    assert run.stderr == "cd: OLDPWD not set\n"


def test_cd_missing_directory_is_reported(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    run = run_tool(Cd, "nope", shell=session)
    assert run.code == 1
    assert run.stderr == "cd: nope: No such file or directory\n"
    assert session.cwd == str(tmp_path)
    assert not session.has_var("PWD")


def test_cd_into_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    run = run_tool(Cd, "f", shell=make_session(tmp_path))
    assert run.code == 1
    assert "cd: f: Not a directory" in run.stderr


def test_pwd_prints_cwd(tmp_path: Path) -> None:
    run = run_tool(Pwd, shell=make_session(tmp_path))
    assert (run.code, run.out) == (0, f"{tmp_path}\n")


# ---------------------------------------------------------------- export / unset


def test_export_assignment_sets_and_exports_typed_value(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    run = run_raw(Export, assign("N", 42), assign("S", "hello world"), shell=session)
    assert run.code == 0
    assert session.get_var("N") == 42
    assert session.exported_env() == {"N": "42", "S": "hello world"}


def test_export_marks_existing_variable(tmp_path: Path) -> None:
    session = make_session(tmp_path, X="1")
    assert run_tool(Export, "X", shell=session).code == 0
    assert session.exported_env() == {"X": "1"}


def test_export_quoted_word_is_split_at_first_equals(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    assert run_tool(Export, "MY_VAR=a=b", "EMPTY=", shell=session).code == 0
    assert session.get_var("MY_VAR") == "a=b"
    assert session.get_var("EMPTY") == ""


def test_export_after_double_dash_still_assigns(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    run = run_raw(Export, RawArg("dashdash"), pos("A=1"), shell=session)
    assert run.code == 0
    assert session.exported_env() == {"A": "1"}


def test_export_p_lists_declare_lines_sorted(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    run_raw(Export, assign("FOO", 'say "hi"'), assign("BAR", 3), assign("T", True), shell=session)
    run = run_tool(Export, "-p", shell=session)
    assert run.out == 'declare -x BAR=3\ndeclare -x FOO="say \\"hi\\""\ndeclare -x T=true\n'
    assert run_tool(Export, shell=session).out == run.out


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2]])
def test_export_of_a_collection_is_a_loud_error(tmp_path: Path, value: Value) -> None:
    session = make_session(tmp_path)
    run = run_raw(Export, assign("CFG", value), shell=session)
    assert run.code == 1
    assert "tojson" in run.stderr and run.stderr.startswith("export: CFG")
    assert not session.has_var("CFG")


def test_export_of_a_name_holding_a_collection_is_refused(tmp_path: Path) -> None:
    session = make_session(tmp_path, xs=[1])
    run = run_tool(Export, "xs", shell=session)
    assert run.code == 1 and "tojson" in run.stderr


@pytest.mark.parametrize("word", ["123invalid", "a-b"])
def test_export_invalid_identifier(word: str) -> None:
    run = run_tool(Export, word)
    assert run.code == 1
    assert "not a valid identifier" in run.stderr


def test_export_null_value_is_set_not_just_marked(tmp_path: Path) -> None:
    session = make_session(tmp_path, N="old")
    assert run_raw(Export, assign("N", None), shell=session).code == 0
    assert session.get_var("N") is None
    assert session.exported_env() == {"N": ""}


def test_export_dotted_name_hints_at_brackets() -> None:
    run = run_raw(Export, assign("a.b", "v"))
    assert run.code == 1 and "a[b]" in run.stderr


def test_unset_removes_and_is_silent(tmp_path: Path) -> None:
    session = make_session(tmp_path, A=1, B=2, C=3)
    run = run_tool(Unset, "A", "B", "MISSING", shell=session)
    assert (run.code, run.out, run.stderr) == (0, "", "")
    assert not session.has_var("A") and not session.has_var("B") and session.has_var("C")


def test_unset_drops_export(tmp_path: Path) -> None:
    session = make_session(tmp_path)
    run_raw(Export, assign("E", "x"), shell=session)
    run_tool(Unset, "E", shell=session)
    assert session.exported_env() == {}


def test_unset_needs_a_name() -> None:
    run = run_tool(Unset)
    assert run.code == 1 and "missing variable name" in run.stderr


def test_unset_refuses_a_bad_name() -> None:
    assert run_tool(Unset, "1x").code == 1


# ---------------------------------------------------------------- set


def test_set_e_and_plus_e() -> None:
    shell = FakeShell()
    assert run_tool(Set, "-e", shell=shell).code == 0
    assert shell.opts.errexit
    assert run_tool(Set, "+e", shell=shell).code == 0
    assert not shell.opts.errexit


@pytest.mark.parametrize("option", ["pipefail", "glob", "errexit"])
def test_set_o_and_plus_o(option: str) -> None:
    shell = FakeShell()
    assert run_tool(Set, "+o", option, shell=shell).code == 0
    assert getattr(shell.opts, option) is False
    assert run_tool(Set, "-o", option, shell=shell).code == 0
    assert getattr(shell.opts, option) is True


def test_set_cluster_with_o_takes_the_next_word() -> None:
    shell = FakeShell()
    run = run_tool(Set, "-euo", "pipefail", shell=shell)
    assert run.code == 0
    assert shell.opts.errexit and shell.opts.pipefail


def test_set_ignores_unknown_short_flags() -> None:
    shell = FakeShell()
    assert run_tool(Set, "-u", "-x", shell=shell).code == 0
    assert not shell.opts.errexit


@pytest.mark.parametrize("sign", ["-o", "+o"])
def test_set_unknown_option_names_the_valid_set(sign: str) -> None:
    run = run_tool(Set, sign, "bogusname")
    assert run.code == 1
    assert "bogusname" in run.stderr
    for name in ("errexit", "glob", "pipefail"):
        assert name in run.stderr


@pytest.mark.parametrize("option", ["trash", "output-limit", "output-limit=16K"])
def test_set_refuses_options_this_shell_does_not_have(option: str) -> None:
    run = run_tool(Set, "-o", option)
    assert run.code == 1
    assert "not supported" in run.stderr and option.partition("=")[0] in run.stderr


def test_set_stops_at_the_first_bad_option() -> None:
    shell = FakeShell()
    assert run_tool(Set, "-o", "nope", "-e", shell=shell).code == 1
    assert not shell.opts.errexit


def test_set_long_options_are_usage_errors() -> None:
    shell = FakeShell()
    run = run_tool(Set, "--help", shell=shell)
    assert run.code == 2 and "help set" in run.stderr
    assert not shell.opts.errexit


def test_set_stops_at_double_dash() -> None:
    shell = FakeShell()
    assert run_tool(Set, "--", "-e", shell=shell).code == 0
    assert not shell.opts.errexit


def test_bare_set_summarises_non_default_options() -> None:
    shell = FakeShell()
    assert run_tool(Set, shell=shell).out == ""
    run_tool(Set, "-e", shell=shell)
    run_tool(Set, "-o", "pipefail", shell=shell)
    run_tool(Set, "+o", "glob", shell=shell)
    assert run_tool(Set, shell=shell).out == "set -e\nset -o pipefail\nset +o glob\n"


def test_set_dash_o_lists_every_option() -> None:
    shell = FakeShell()
    assert run_tool(Set, "-o", shell=shell).out == "errexit\toff\nglob\ton\npipefail\toff\n"
    run_tool(Set, "-e", shell=shell)
    assert "errexit\ton\n" in run_tool(Set, "-o", shell=shell).out


def test_set_plus_o_prints_commands_that_restore_settings() -> None:
    out = run_tool(Set, "+o").out
    assert out == "set +o errexit\nset -o glob\nset +o pipefail\n"


def test_set_dash_o_json() -> None:
    run = run_tool(Set, "-o", "--json")
    assert run.data == [
        {"OPTION": "errexit", "STATE": "off"},
        {"OPTION": "glob", "STATE": "on"},
        {"OPTION": "pipefail", "STATE": "off"},
    ]


# ---------------------------------------------------------------- read


def test_read_single_variable_takes_whole_line() -> None:
    shell = FakeShell()
    run = run_tool(Read, "NAME", stdin=b"  hello world \nnext\n", shell=shell)
    assert run.code == 0
    assert shell.vars["NAME"] == "  hello world "


def test_read_splits_and_last_gets_the_rest() -> None:
    shell = FakeShell()
    assert run_tool(Read, "A", "B", "C", stdin=b"one  two three four\n", shell=shell).code == 0
    assert (shell.vars["A"], shell.vars["B"], shell.vars["C"]) == ("one", "two", "three four")


def test_read_missing_fields_are_empty() -> None:
    shell = FakeShell()
    run_tool(Read, "A", "B", "C", stdin=b"only\n", shell=shell)
    assert (shell.vars["A"], shell.vars["B"], shell.vars["C"]) == ("only", "", "")


def test_read_values_are_strings() -> None:
    shell = FakeShell()
    run_tool(Read, "N", stdin=b"42\n", shell=shell)
    assert shell.vars["N"] == "42"


def test_read_processes_escapes_unless_raw() -> None:
    shell = FakeShell()
    run_tool(Read, "X", stdin=b"a\\nb\\q\n", shell=shell)
    assert shell.vars["X"] == "a\nb\\q"
    run_tool(Read, "-r", "X", stdin=b"a\\nb\n", shell=shell)
    assert shell.vars["X"] == "a\\nb"


def test_read_at_end_of_input_fails_and_binds_nothing() -> None:
    shell = FakeShell()
    run = run_tool(Read, "X", stdin=b"", shell=shell)
    assert run.code == 1 and "no input" in run.stderr
    assert "X" not in shell.vars


def test_read_blank_line_binds_empty_string() -> None:
    shell = FakeShell()
    assert run_tool(Read, "X", stdin=b"\n", shell=shell).code == 0
    assert shell.vars["X"] == ""


def test_read_strips_crlf_and_accepts_a_last_line_without_newline() -> None:
    shell = FakeShell()
    run_tool(Read, "X", stdin=b"dos\r\n", shell=shell)
    assert shell.vars["X"] == "dos"
    run_tool(Read, "X", stdin=b"tail", shell=shell)
    assert shell.vars["X"] == "tail"


def test_two_reads_take_successive_lines_from_one_stream() -> None:
    shell = FakeShell()
    stream = BytesInput(b"first\nsecond\nrest\n")

    async def go() -> str:
        from tests.tool_harness import arun_tool

        await arun_tool(Read, "A", stdin=stream, shell=shell)
        await arun_tool(Read, "B", stdin=stream, shell=shell)
        return (await stream.read_all()).decode()

    assert asyncio.run(go()) == "rest\n"
    assert (shell.vars["A"], shell.vars["B"]) == ("first", "second")


def test_read_prompt_goes_to_stderr() -> None:
    run = run_tool(Read, "-p", "name? ", "X", stdin=b"x\n")
    assert run.stderr == "name? " and run.out == ""


def test_read_needs_a_valid_name() -> None:
    assert "missing variable name" in run_tool(Read, stdin=b"x\n").stderr
    assert run_tool(Read, "a-b", stdin=b"x\n").code == 1


def test_read_refuses_binary_input() -> None:
    run = run_tool(Read, "X", stdin=b"\xff\xfe\n")
    assert run.code == 1 and "binary" in run.stderr


# ---------------------------------------------------------------- alias / unalias


def test_alias_defines_from_assignments_and_words() -> None:
    shell = FakeShell()
    assert run_raw(Alias, assign("ll", "ls -la"), pos("g=grep -i"), shell=shell).code == 0
    assert shell.alias_table == {"ll": "ls -la", "g": "grep -i"}


def test_alias_after_double_dash_still_defines() -> None:
    shell = FakeShell()
    run_raw(Alias, RawArg("dashdash"), pos("ll=foo"), shell=shell)
    assert run_tool(Alias, "ll", shell=shell).out == "alias ll='foo'\n"


def test_alias_lists_sorted_and_quoted() -> None:
    shell = FakeShell(alias_table={"z": "echo it's", "a": "ls -la"})
    assert run_tool(Alias, shell=shell).out == "alias a='ls -la'\nalias z='echo it'\\''s'\n"


def test_alias_json_lists_records() -> None:
    shell = FakeShell(alias_table={"ll": "ls -la"})
    assert run_tool(Alias, "--json", shell=shell).data == [{"NAME": "ll", "VALUE": "ls -la"}]


def test_alias_unknown_name_fails() -> None:
    run = run_tool(Alias, "nope")
    assert run.code == 1 and run.stderr == "alias: nope: not found\n"


def test_alias_refuses_a_collection() -> None:
    assert run_raw(Alias, assign("x", [1, 2])).code == 1


def test_unalias_removes_and_ignores_unknown() -> None:
    shell = FakeShell(alias_table={"ll": "ls", "g": "grep"})
    assert run_tool(Unalias, "ll", "zz", shell=shell).code == 0
    assert shell.alias_table == {"g": "grep"}
    assert run_tool(Unalias, "-a", shell=shell).code == 0
    assert shell.alias_table == {}


def test_unalias_needs_a_name() -> None:
    assert run_tool(Unalias).code == 1


# ---------------------------------------------------------------- env


def env_shell() -> FakeShell:
    return FakeShell(vars={"SECRET": "hunter2", "KEEP": "visible", "LOCAL": "x"},
                     exported={"SECRET", "KEEP"})


def test_env_prints_exported_sorted() -> None:
    assert run_tool(Env, shell=env_shell()).out == "KEEP=visible\nSECRET=hunter2\n"


def test_env_u_removes_from_listing() -> None:
    assert run_tool(Env, "-u", "SECRET", shell=env_shell()).out == "KEEP=visible\n"
    assert run_tool(Env, "-u", "SECRET", "-u", "KEEP", shell=env_shell()).out == ""
    assert run_tool(Env, "--unset=KEEP", shell=env_shell()).out == "SECRET=hunter2\n"


def test_env_i_prints_only_given_assignments() -> None:
    assert run_tool(Env, "-i", shell=env_shell()).out == ""
    assert run_tool(Env, "-i", "ONLY=this", shell=env_shell()).out == "ONLY=this\n"
    assert run_raw(Env, RawArg("short", name="i"), assign("N", 5), shell=env_shell()).out == "N=5\n"


def test_env_null_separator() -> None:
    run = run_raw(Env, RawArg("short", name="0"), shell=env_shell())
    assert run.out == "KEEP=visible\0SECRET=hunter2\0"


def test_env_unknown_option_is_a_usage_error() -> None:
    run = run_tool(Env, "-z")
    assert run.code == 2 and "invalid option" in run.stderr


@dataclass
class DispatchShell(FakeShell):
    """A FakeShell whose dispatch records the command and the environment it saw."""

    calls: list[tuple[list[Value], dict[str, str]]] = field(default_factory=list)

    async def dispatch(self, argv: list[Value], ctx: ToolContext) -> int:
        self.calls.append((list(argv), self.exported_env()))
        await ctx.write_text("ran\n")
        return 3

    def unset_var(self, name: str) -> None:
        super().unset_var(name)
        self.exported.discard(name)


def test_env_runs_a_command_with_changes_then_restores() -> None:
    shell = DispatchShell(vars={"SECRET": "s", "KEEP": "k", "LOCAL": "l"},
                          exported={"SECRET", "KEEP"})
    run = run_tool(Env, "-u", "SECRET", "LOCAL=new", "X=1", "printenv", "-a", "X", shell=shell)
    assert (run.code, run.out) == (3, "ran\n")
    argv, env = shell.calls[0]
    assert argv == ["printenv", "-a", "X"]
    assert env == {"KEEP": "k", "LOCAL": "new", "X": "1"}
    assert shell.exported_env() == {"SECRET": "s", "KEEP": "k"}
    assert shell.vars == {"SECRET": "s", "KEEP": "k", "LOCAL": "l"}


def test_env_i_command_sees_only_overrides() -> None:
    shell = DispatchShell(vars={"A": "1"}, exported={"A"})
    run_tool(Env, "-i", "B=2", "cmd", shell=shell)
    assert shell.calls[0][1] == {"B": "2"}
    assert shell.exported_env() == {"A": "1"}


# ---------------------------------------------------------------- push


def test_push_appends_typed_values() -> None:
    shell = FakeShell(vars={"xs": ["a", "b"]})
    assert run_raw(Push, pos("xs"), pos("c"), pos({"k": "v"}), pos(3), shell=shell).code == 0
    assert shell.vars["xs"] == ["a", "b", "c", {"k": "v"}, 3]


def test_push_into_a_bracket_path_keeps_siblings() -> None:
    original = {"web": {"tags": ["a"], "port": 8080}}
    shell = FakeShell(vars={"services": original})
    assert run_tool(Push, "services[web][tags]", "b", shell=shell).code == 0
    assert shell.vars["services"] == {"web": {"tags": ["a", "b"], "port": 8080}}
    assert original["web"]["tags"] == ["a"], "values are immutable: push builds a new one"


def test_push_path_with_index_and_quoted_key() -> None:
    shell = FakeShell(vars={"m": [{"content-type": []}]})
    assert run_tool(Push, 'm[0]["content-type"]', "x", shell=shell).code == 0
    assert shell.vars["m"] == [{"content-type": ["x"]}]


def test_push_to_a_non_list_is_loud() -> None:
    run = run_tool(Push, "y", "z", shell=FakeShell(vars={"y": "hi"}))
    assert run.code == 1 and "not a list" in run.stderr


def test_push_path_non_list_leaf_is_loud() -> None:
    shell = FakeShell(vars={"services": {"web": {"port": 8080}}})
    run = run_tool(Push, "services[web][port]", "item", shell=shell)
    assert run.code == 1 and "not a list" in run.stderr and "services[web][port]" in run.stderr


def test_push_undefined_root_is_loud() -> None:
    run = run_tool(Push, "nope[web][tags]", "item")
    assert run.code == 1 and "nope is not defined" in run.stderr


def test_push_missing_intermediate_key_is_loud() -> None:
    run = run_tool(Push, "s[api][tags]", "x", shell=FakeShell(vars={"s": {"web": {}}}))
    assert run.code == 1 and "api" in run.stderr


def test_push_subscript_of_a_scalar_is_loud() -> None:
    run = run_tool(Push, "s[a]", "x", shell=FakeShell(vars={"s": "text"}))
    assert run.code == 1 and "not a collection" in run.stderr


@pytest.mark.parametrize("words", [(), ("xs",), ("a.b", "x"), ("xs[0", "x"), ("xs[1:2]", "x")])
def test_push_usage_errors(words: tuple[str, ...]) -> None:
    assert run_tool(Push, *words, shell=FakeShell(vars={"xs": []})).code == 2


# ---------------------------------------------------------------- kaish-vars


def test_vars_lists_rows_sorted() -> None:
    shell = FakeShell(vars={"b": "hi", "a": 1, "c": [1], "n": None})
    run = run_tool(Vars, shell=shell)
    assert run.out == 'a\t1\tnumber\nb\t"hi"\tstring\nc\t[1]\tlist\nn\tnull\tnull\n'


def test_vars_json_keeps_values_typed() -> None:
    run = run_tool(Vars, "--json", shell=FakeShell(vars={"r": {"k": 1}}))
    assert run.data == [{"NAME": "r", "VALUE": {"k": 1}, "TYPE": "record"}]


# ---------------------------------------------------------------- which / type


@dataclass
class NamesShell(FakeShell):
    funcs: list[str] = field(default_factory=list)

    def function_names(self) -> list[str]:
        return list(self.funcs)


def names_shell(tmp_path: Path) -> NamesShell:
    registry = ToolRegistry()
    registry.register(Pwd())
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("tool", "pwd"):
        exe = bindir / name
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    (bindir / "plain").write_text("not executable")
    return NamesShell(vars={"PATH": str(bindir)}, tool_registry=registry,
                      alias_table={"ll": "ls -la"}, funcs=["greet"], cwd_path=str(tmp_path))


def test_which_prints_builtin_function_alias_and_external(tmp_path: Path) -> None:
    shell = names_shell(tmp_path)
    run = run_tool(Which, "pwd", "tool", "greet", "ll", shell=shell)
    assert run.code == 0
    assert run.out == (
        f"/v/bin/pwd\n{tmp_path}/bin/tool\ngreet: shell function\nll: aliased to ls -la\n"
    )


def test_which_all_lists_every_match(tmp_path: Path) -> None:
    run = run_tool(Which, "-a", "pwd", shell=names_shell(tmp_path))
    assert run.out == f"/v/bin/pwd\n{tmp_path}/bin/pwd\n"


def test_which_missing_names(tmp_path: Path) -> None:
    shell = names_shell(tmp_path)
    none = run_tool(Which, "plain", shell=shell)
    assert none.code == 1 and f"which: no plain in ({tmp_path}/bin)" in none.stderr
    some = run_tool(Which, "tool", "nothing", shell=shell)
    assert some.code == 0 and "no nothing" in some.stderr


def test_which_needs_a_name() -> None:
    assert run_tool(Which).code == 2


def test_type_describes_names(tmp_path: Path) -> None:
    shell = names_shell(tmp_path)
    run = run_tool(Type, "pwd", "tool", "greet", "ll", "zz", shell=shell)
    assert run.code == 1
    assert run.out == (
        f"pwd is a shell builtin\ntool is {tmp_path}/bin/tool\n"
        "greet is a function\nll is aliased to `ls -la'\n"
    )
    assert run.stderr == "type: zz: not found\n"


# ---------------------------------------------------------------- help / source


def help_shell() -> FakeShell:
    return FakeShell(tool_registry=default_registry())


def test_help_overview_lists_topics_and_families() -> None:
    run = run_tool(Help, shell=help_shell())
    assert run.code == 0
    assert "help syntax" in run.out and "help scatter" in run.out
    assert "session" in run.out and "export" in run.out


def test_help_tool_is_generated_from_the_schema() -> None:
    run = run_tool(Help, "cd", shell=help_shell())
    assert run.out == format_help(Cd.schema)


@pytest.mark.parametrize("topic,needle", [
    ("syntax", "Collections"), ("SCATTER", "gather"), ("vfs", "/v/jobs"),
    ("collections", "push"), ("background", "wait"), ("builtins", "pwd"),
])
def test_help_topics(topic: str, needle: str) -> None:
    run = run_tool(Help, topic, shell=help_shell())
    assert run.code == 0 and needle in run.out


def test_help_unknown_topic_points_back_to_help() -> None:
    run = run_tool(Help, "no-such-thing", shell=help_shell())
    assert run.code == 0 and "no-such-thing" in run.out and "help builtins" in run.out


@dataclass
class SourceShell(FakeShell):
    sourced: list[tuple[str, list[Value]]] = field(default_factory=list)

    async def source(self, path: str, args: list[Value], ctx: ToolContext) -> int:
        self.sourced.append((path, args))
        return 7


def test_source_delegates_to_the_session() -> None:
    shell = SourceShell()
    assert run_tool(Source, "lib.kai", "a", 1, shell=shell).code == 7
    assert shell.sourced == [("lib.kai", ["a", 1])]
    assert run_tool(Source, shell=shell).code == 2


def test_registry_loads_the_session_family() -> None:
    names = set(default_registry().names())
    expected = {"cd", "pwd", "export", "unset", "set", "read", "alias", "unalias", "env",
                "push", "kaish-vars", "vars", "which", "type", "help", "source"}
    assert expected <= names


def test_every_schema_renders_help() -> None:
    for cls in (Cd, Pwd, Export, Unset, Set, Read, Alias, Unalias, Env, Push, Vars, Which,
                Type, Help, Source):
        text = format_help(cls.schema)
        assert text.startswith(f"{cls.schema.name} — ")


# ---------------------------------------------------------------- end to end (real Shell)


def shell_run(script: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    from kaish_kernel.shell import Shell

    async def go() -> tuple[int, str, str]:
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd)}
        shell = Shell(cwd=str(cwd), env=base if env is None else env)
        out: list[bytes] = []
        err: list[bytes] = []
        result = await asyncio.wait_for(
            shell.execute(script, stdout=out.append, stderr=err.append), 20
        )
        return result.code, b"".join(out).decode(), b"".join(err).decode()

    return asyncio.run(go())


E2E_CASES = [
    ("set -o pipefail; false | true", 1, ""),
    ("set -o pipefail; echo ALIVE", 0, "ALIVE\n"),
    ("set -o\nset -e\nset -o", 0,
     "errexit\toff\nglob\ton\npipefail\toff\nerrexit\ton\nglob\ton\npipefail\toff\n"),
    ("set -e; set", 0, "set -e\n"),
    ("set -e\nset +e\necho step1\nfalse\necho step2", 0, "step1\nstep2\n"),
    ("set -e; set -o bogusname; echo ran", 1, ""),
    ("export A=1; export B=2; echo \"$A $B\"", 0, "1 2\n"),
    ("export x=$(false); echo $?", 0, "0\n"),
    ("export x=$(false) || echo FIRED", 0, ""),
    ("cfg=$(fromjson '{\"a\":1}'); export CFG=$cfg", 1, ""),
    ("cfg=$(fromjson '{\"a\":1}'); export CFG=$(tojson $cfg); echo \"$CFG\"", 0, "{\"a\":1}\n"),
    ("greet() { export FOO=bar; }\ngreet\necho \"[$FOO]\"", 0, "[bar]\n"),
    ("greet() { export FOO=bar; }\ngreet\nexport -p | grep FOO", 0, "declare -x FOO=\"bar\"\n"),
    ("export -- A=1; export -p | grep A=", 0, "declare -x A=\"1\"\n"),
    ("X=1; unset X; echo \"[$X]\"", 0, "[]\n"),
    ("unset MISSING_VAR_XYZ; echo $?", 0, "0\n"),
    ("A=1; B=2; unset A B; echo \"[$A$B]\"", 0, "[]\n"),
    ("echo \"Alice\" | read NAME; echo \"Hello, ${NAME}\"", 0, "Hello, Alice\n"),
    ("echo \"John Doe 42\" | read FIRST LAST AGE; echo \"${FIRST} is ${AGE}\"", 0, "John is 42\n"),
    ("printf \"a\\nb\\n\" | while read l; do echo \"got $l\"; done", 0, "got a\ngot b\n"),
    ("seq 1 3 | while read l; do echo \"n=$l\"; done", 0, "n=1\nn=2\nn=3\n"),
    ("alias xyzgreet='echo hello'\nRESULT=$(xyzgreet)\necho \"$RESULT\"", 0, "hello\n"),
    ("alias -- ll=foo; alias ll", 0, "alias ll='foo'\n"),
    ("unalias -- foo=bar", 0, ""),
    ("xs=[a b]; push xs c; echo ${#xs} ${xs[-1]}", 0, "3 c\n"),
    ("xs=[]; rec={k: v}; push xs $rec; echo ${xs[-1][k]}", 0, "v\n"),
    ("services={web: {tags: []}}; push services[web][tags] canary; "
     "echo ${#services[web][tags]} ${services[web][tags][-1]}", 0, "1 canary\n"),
    ("services={web: {tags: [a], port: 8080}}; push services[web][tags] b; "
     "echo ${services[web][port]}", 0, "8080\n"),
    ("y=hi; push y z", 1, ""),
    ("push nope[web][tags] item", 1, ""),
    ("cd /; echo \"$PWD|$(pwd)\"", 0, "/|/\n"),
    ("cd /; cd /tmp; echo \"$PWD|$OLDPWD\"", 0, "/tmp|/\n"),
    ("cd /; cd /tmp; cd - > /dev/null; echo $PWD", 0, "/\n"),
    ("cd /; cd /definitely-not-a-directory-here; echo \"$PWD\"", 0, "/\n"),
    ("x=$(cd /; pwd); echo \"$x\"", 0, "/\n"),
    ("echo \"[${OLDPWD:-unset}]\"", 0, "[unset]\n"),
    ("env FOO=zz sh -c 'echo $FOO'; echo \"[$FOO]\"", 0, "zz\n[]\n"),
    ("env -i A=1", 0, "A=1\n"),
    ("which cd", 0, "/v/bin/cd\n"),
]


@pytest.mark.parametrize("script,code,out", E2E_CASES)
def test_end_to_end(tmp_path: Path, script: str, code: int, out: str) -> None:
    got = shell_run(script, tmp_path)
    assert (got[0], got[1]) == (code, out), got[2]


def test_end_to_end_error_messages(tmp_path: Path) -> None:
    assert "nosuchoption" in shell_run("set -o nosuchoption", tmp_path)[2]
    assert "not a list" in shell_run("y=hi; push y z", tmp_path)[2]
    assert "not defined" in shell_run("push nope[web][tags] item", tmp_path)[2]
    code, _out, err = shell_run("cd nope", tmp_path)
    assert (code, err) == (1, "cd: nope: No such file or directory\n")


def test_end_to_end_cd_in_a_substitution_stays_there(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    script = "cd sub\ngo_root() { cd /; pwd; }\nX=$(go_root)\necho \"captured: $X\"\npwd"
    assert shell_run(script, tmp_path)[1] == f"captured: /\n{tmp_path}/sub\n"


def test_end_to_end_env_lists_the_exported_environment(tmp_path: Path) -> None:
    code, out, _ = shell_run("export K=v; env -u PATH -u HOME -u PWD", tmp_path)
    assert (code, out) == (0, "K=v\n")


def test_end_to_end_source_through_v_bin(tmp_path: Path) -> None:
    (tmp_path / "s.kai").write_text("echo sourced $1\nS=1\n")
    assert shell_run("/v/bin/source s.kai arg; echo $S", tmp_path)[1] == "sourced arg\n1\n"
