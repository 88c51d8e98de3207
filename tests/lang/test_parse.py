"""The parser against data: each source must render to its expected tree."""

from __future__ import annotations

import pytest

from kaish_kernel.lang import ast
from kaish_kernel.lang.parser import parse
from tests.lang import sexpr
from tests.lang.parse_cases import ALL


@pytest.mark.parametrize(("source", "expected"), ALL, ids=[repr(s)[:60] for s, _ in ALL])
def test_source_parses_to_expected_tree(source: str, expected: str) -> None:
    assert sexpr.program(parse(source)) == expected


def test_program_keeps_its_source() -> None:
    src = "echo hi\n"
    program = parse(src)
    assert program.source == src
    assert program.span.end == len(src)


def test_function_definition_keeps_its_source_text() -> None:
    src = "x=1\ngreet() {\n  echo hi\n}\necho after"
    (_, fn, _) = parse(src).body
    assert isinstance(fn, ast.FunctionDef)
    assert fn.source == "greet() {\n  echo hi\n}"
    assert src[fn.span.start : fn.span.end] == fn.source


def test_keyword_function_source_includes_the_keyword() -> None:
    (fn,) = parse("function f { echo $1; }").body
    assert isinstance(fn, ast.FunctionDef)
    assert fn.source == "function f { echo $1; }"


def test_spans_point_at_their_source_text() -> None:
    src = 'echo "a $b" ${c[0]} $(d) $((1+2))'
    (pipe,) = parse(src).body
    assert isinstance(pipe, ast.Pipeline)
    (cmd,) = pipe.stages
    assert isinstance(cmd, ast.Command)
    texts = [src[a.span.start : a.span.end] for a in cmd.args]
    assert texts == ['"a $b"', "${c[0]}", "$(d)", "$((1+2))"]
    assert src[cmd.span.start : cmd.span.end] == src


def test_arithmetic_keeps_the_text_between_its_parentheses() -> None:
    (pipe,) = parse("echo $(( a + 1 ))").body
    assert isinstance(pipe, ast.Pipeline)
    (cmd,) = pipe.stages
    assert isinstance(cmd, ast.Command)
    (arg,) = cmd.args
    assert isinstance(arg, ast.Positional) and isinstance(arg.value, ast.Arithmetic)
    assert arg.value.source == " a + 1 "


def test_variable_names_are_nfc_normalized() -> None:
    decomposed = "cafe\u0301"
    program = parse(f"{decomposed}=1; echo ${decomposed}")
    assign, pipe = program.body
    assert isinstance(assign, ast.Assignment)
    assert assign.name == "caf\u00e9"
    assert isinstance(pipe, ast.Pipeline)
    (cmd,) = pipe.stages
    assert isinstance(cmd, ast.Command)
    (arg,) = cmd.args
    assert isinstance(arg, ast.Positional) and isinstance(arg.value, ast.VarRef)
    assert arg.value.path.name == "caf\u00e9"


def test_subscript_keys_are_not_normalized() -> None:
    decomposed = "cafe\u0301"
    (pipe,) = parse(f'echo ${{x["{decomposed}"]}}').body
    assert isinstance(pipe, ast.Pipeline)
    (cmd,) = pipe.stages
    assert isinstance(cmd, ast.Command)
    (arg,) = cmd.args
    assert isinstance(arg, ast.Positional) and isinstance(arg.value, ast.VarRef)
    (seg,) = arg.value.path.segments
    assert isinstance(seg, ast.KeySeg) and seg.key == decomposed


def test_dash_heredoc_strips_source_tabs_not_expanded_ones() -> None:
    (_, pipe) = parse('X="\tval"\ncat <<-EOF\n\t$X\n\tafter\nEOF').body
    assert isinstance(pipe, ast.Pipeline)
    (cmd,) = pipe.stages
    assert isinstance(cmd, ast.Command)
    (redirect,) = cmd.redirects
    assert redirect.heredoc is not None
    assert redirect.heredoc.strip_tabs
    body = redirect.heredoc.body
    assert isinstance(body, ast.Interpolated)
    assert [type(p).__name__ for p in body.parts] == ["VarRef", "Literal"]
    last = body.parts[1]
    assert isinstance(last, ast.Literal) and last.value == "\nafter\n"


def test_heredoc_body_spans_point_into_the_source() -> None:
    src = "cat <<EOF\nhi $x\nEOF\necho done"
    cat, echo = parse(src).body
    assert isinstance(cat, ast.Pipeline)
    (cmd,) = cat.stages
    assert isinstance(cmd, ast.Command)
    (redirect,) = cmd.redirects
    assert redirect.heredoc is not None
    body = redirect.heredoc.body
    assert isinstance(body, ast.Interpolated)
    var = body.parts[1]
    assert src[var.span.start : var.span.end] == "$x"
    assert isinstance(echo, ast.Pipeline)
    assert src[echo.span.start : echo.span.end] == "echo done"
