"""jq: libjq behind jq's command line, the text boundary, typed values in and out."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kaish_kernel.scheduler.stage import NO_DATA, BytesInput, CaptureOutput, LazyData
from kaish_kernel.shell import Shell
from kaish_kernel.tools.base import ToolContext
from kaish_kernel.tools.builtins import _jq_engine as engine
from kaish_kernel.tools.builtins import _jq_lib as clib
from kaish_kernel.tools.builtins.jq import Jq, check_filter
from kaish_kernel.tools.schema import bind
from tests.tool_harness import ErrorBuffer, FakeShell, ToolRun, run_tool, word_to_raw
from tests.tools.text_pipeline import LeavingOutput


def jq(*words: Any, stdin: bytes | BytesInput = b"", shell: FakeShell | None = None) -> ToolRun:
    return run_tool(Jq, *words, stdin=stdin, shell=shell)


def typed(value: Any) -> BytesInput:
    return BytesInput(json.dumps(value, separators=(",", ":")).encode(), value)


def data_of(run: ToolRun) -> Any:
    return run.data.resolve() if isinstance(run.data, LazyData) else run.data


@pytest.fixture(params=["memstream", "per-result"])
def printing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of printing JSON results: into a C memory stream, or one by one."""
    if request.param == "per-result":
        monkeypatch.setattr(clib.load(), "libc", None)
    return str(request.param)


# -- output formatting -------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "stdin", "out"),
    [
        ((".",), b'{"a":1}\n', b'{\n  "a": 1\n}\n'),
        (("-c", "."), b'{"a":1,"b":[2,3]}\n', b'{"a":1,"b":[2,3]}\n'),
        (("--compact-output", "."), b"[1, 2]", b"[1,2]\n"),
        ((".name", "-r"), b'{"name": "Alice"}', b"Alice\n"),
        (("--raw-output", ".[]"), b'["a",1,null]', b"a\n1\nnull\n"),
        (("-j", ".[]"), b'["a",1]', b"a1"),
        (("-c", "."), b'{"b":1,"a":2}', b'{"b":1,"a":2}\n'),
        (("-c", "keys"), b'{"b":1,"a":2}', b'["a","b"]\n'),
        (("-c", "keys_unsorted"), b'{"b":1,"a":2}', b'["b","a"]\n'),
        (("-S", "-c", "."), b'{"b":1,"a":{"d":1,"c":2}}', b'{"a":{"c":2,"d":1},"b":1}\n'),
        (("--tab", "."), b'{"b":[1]}', b'{\n\t"b": [\n\t\t1\n\t]\n}\n'),
        (("--indent", 1, "."), b'{"b":[1]}', b'{\n "b": [\n  1\n ]\n}\n'),
        (("--indent", 0, "."), b'{"b":[1]}', b'{"b":[1]}\n'),
        (("-a", "-c", "."), '["é"]'.encode(), b'["\\u00e9"]\n'),
        (("-c", "."), '["é\\u0001"]'.encode(), '["é\\u0001"]\n'.encode()),
        ((".", ), b"[]", b"[]\n"),
        (("-c", ".a"), b"null", b"null\n"),
        ((".[]",), b"[]", b""),
    ],
)
def test_output_is_formatted_like_jq(
    words: tuple[Any, ...], stdin: bytes, out: bytes, printing: str
) -> None:
    run = jq(*words, stdin=stdin)
    assert (run.code, run.stdout, run.stderr) == (0, out, "")


@pytest.mark.parametrize(
    ("source", "out"),
    [
        ("1e10", b"10000000000"),
        ("6/2", b"3"),
        ("[6/2, 5/2]", b"[3,2.5]"),
        ("3.0", b"3"),
        ("[1.50, 0.1, 100]", b"[1.5,0.1,100]"),
        ("1e1000", b"1.7976931348623157e+308"),
        ("1e17", b"1e+17"),
        ("0.00001", b"1e-05"),
        ("0.0001", b"0.0001"),
        ("0.1 + 0.2", b"0.30000000000000004"),
        ("[nan, infinite]", b"[null,1.7976931348623157e+308]"),
        ('"1.50E+3 stays text"', b'"1.50E+3 stays text"'),
        ('{"x1.0": 2.0}', b'{"x1.0":2}'),
    ],
)
def test_numbers_print_as_jq_prints_computed_numbers(
    source: str, out: bytes, printing: str
) -> None:
    run = jq("-cn", source)
    assert (run.code, run.stdout) == (0, out + b"\n")


def test_large_integers_from_the_input_keep_every_digit() -> None:
    assert jq("-c", ".", stdin=b"[12345678901234567890, 3.0]").stdout == (
        b"[12345678901234567890,3]\n"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (-0.0, "-0"), (1e17, "1e+17"), (1e16, "1e+16"), (1e15, "1000000000000000"),
     (1e-5, "1e-05"), (1.5e-7, "1.5e-07"), (0.0001, "0.0001"), (123.45, "123.45"),
     (1e300, "1e+300"), (-2.5, "-2.5"), (12345678901234567890.0, "12345678901234567000"),
     (float("inf"), "1.7976931348623157e+308"), (float("nan"), "null")],
)
def test_format_number_matches_jq_dtoa(value: float, text: str) -> None:
    assert engine.format_number(value) == text


def test_canonical_numbers_leaves_strings_alone() -> None:
    text = b'{"v":"3.0 and 1E+5","n":1E+5,"f":2.50,"i":10000000000000000000}'
    assert engine.canonical_numbers(text) == (
        b'{"v":"3.0 and 1E+5","n":100000,"f":2.5,"i":10000000000000000000}'
    )


# -- input: the text boundary -------------------------------------------------------


def test_jsonl_input_is_refused_naming_the_doors() -> None:
    run = jq(".a", stdin=b'{"a":1}\n{"a":2}\n{"a":3}\n')
    assert run.code == 1 and run.stdout == b""
    for needle in ("JSONL", "3 documents", "fromjsonl", "jq -s"):
        assert needle in run.stderr


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        (b"not json", "invalid JSON input: Invalid numeric literal at line 1, column 4"),
        (b'{"a":1} extra', "invalid JSON input"),
        (b'{"a":1', "invalid JSON input: Unfinished JSON term"),
        (b"", "no input provided"),
        (b"  \n", "no input provided"),
        (b"\xff\xfe", "binary"),
    ],
)
def test_bad_input_is_a_loud_error(stdin: bytes, needle: str) -> None:
    run = jq(".", stdin=stdin)
    assert run.code == 1 and run.stdout == b"" and needle in run.stderr


@pytest.mark.parametrize(
    ("words", "stdin", "out"),
    [
        (("-s", "length"), b'{"a":1}', b"1\n"),
        (("-s", "length"), b"1\n2\n3\n", b"3\n"),
        (("-sc", "."), b"1\n2\n3\n", b"[1,2,3]\n"),
        (("-sc", "."), b'"hello"', b'["hello"]\n'),
        (("-sc", "[.[] | .a]"), b'{\n  "a": 1\n}\n{\n  "a": 2\n}\n', b"[1,2]\n"),
        (("-s", "-c", "."), b"", b"[]\n"),
        (("--slurp", "-c", "."), b"1 2", b"[1,2]\n"),
    ],
)
def test_slurp_reads_a_document_stream(words: tuple[str, ...], stdin: bytes, out: bytes) -> None:
    run = jq(*words, stdin=stdin)
    assert (run.code, run.stdout, run.stderr) == (0, out, "")


def test_slurp_reports_bad_json_in_the_stream() -> None:
    run = jq("-s", ".", stdin=b"1 2 x")
    assert run.code == 1 and "invalid JSON input" in run.stderr


@pytest.mark.parametrize(
    ("words", "out"),
    [
        (("-n", "1 + 2"), b"3\n"),
        (("--null-input", "1 + 2"), b"3\n"),
        (("-n", "-s", "-c", "."), b"[null]\n"),
        (("--null-input", "--slurp", "--compact", "."), b"[null]\n"),
        (("-n", "-c", "."), b"null\n"),
        (("-n", "-s", "length"), b"1\n"),
    ],
)
def test_null_input(words: tuple[str, ...], out: bytes) -> None:
    assert jq(*words, stdin=b"ignored").stdout == out


def test_raw_input_lines_and_slurped() -> None:
    assert jq("-R", ".", stdin=b"a\nb\n").stdout == b'"a"\n"b"\n'
    assert jq("-R", "-c", ".", stdin=b"a\n\nb").stdout == b'"a"\n""\n"b"\n'
    assert jq("-Rs", ".", stdin=b"a\nb\n").stdout == b'"a\\nb\\n"\n'


# -- input: typed values win over text -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "words", "out"),
    [
        ([1, 2, 3], ("-c", "."), b"[1,2,3]\n"),
        ([1, 2, 3], ("length",), b"3\n"),
        ("1", ("type",), b'"string"\n'),
        ("true", ("type",), b'"string"\n'),
        ("null", ("type",), b'"string"\n'),
        ("[1,2]", ("type",), b'"string"\n'),
        ("1", (".",), b'"1"\n'),
        ({"a": 1}, ("-s", "length"), b"1\n"),
        (42, ("-s", "length"), b"1\n"),
        (42, ("-sc", ".[0]"), b"42\n"),
        ([1, 2, 3], ("-sc", ".[0]"), b"[1,2,3]\n"),
        ([1, 2, 3], ("-sc", "length"), b"1\n"),
        (None, ("-c", "."), b"null\n"),
    ],
)
def test_typed_value_from_the_pipe_is_the_document(
    value: Any, words: tuple[str, ...], out: bytes
) -> None:
    run = jq(*words, stdin=typed(value))
    assert (run.code, run.stdout, run.stderr) == (0, out, "")


def test_typed_value_beats_text_that_would_be_jsonl() -> None:
    # seq's text is "1\n2\n3\n" (three documents); its typed list is one
    run = jq("-c", ".", stdin=BytesInput(b"1\n2\n3\n", [1, 2, 3]))
    assert run.stdout == b"[1,2,3]\n"


def test_bytes_value_arrives_as_its_envelope() -> None:
    run = jq("-c", "._type, .len", stdin=BytesInput(b"", b"\x01\x02\x03"))
    assert run.stdout == b'"bytes"\n3\n'


# -- files ---------------------------------------------------------------------------


def test_file_operands(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"v": 1}')
    (tmp_path / "b.json").write_text('{"v": 2}\n')
    (tmp_path / "many.jsonl").write_text("1\n2\n")
    shell = FakeShell(cwd_path=str(tmp_path))
    assert jq(".v", "a.json", shell=shell).stdout == b"1\n"
    assert jq(".v", "a.json", "b.json", shell=shell).stdout == b"1\n2\n"
    assert jq("-c", "-s", "map(.v)", "a.json", "b.json", shell=shell).stdout == b"[1,2]\n"
    assert jq("--path", "b.json", ".v", shell=shell).stdout == b"2\n"
    assert jq(".v", "-", stdin=b'{"v": 3}', shell=shell).stdout == b"3\n"
    many = jq(".", "many.jsonl", shell=shell)
    assert many.code == 1 and "many.jsonl" in many.stderr and "2 documents" in many.stderr
    missing = jq(".", "nope.json", shell=shell)
    assert missing.code == 1 and "jq: nope.json: not found" in missing.stderr


# -- variables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "out"),
    [
        (("--arg", "name", "kaish", "-n", "$name"), b'"kaish"\n'),
        (("-n", "--arg", "name", "amy", "-r", "$name"), b"amy\n"),
        (("-n", "--argjson", "x", 42, "$x + 1"), b"43\n"),
        (("-n", "--argjson", "x", "42", "$x + 1"), b"43\n"),
        (("-n", "--arg", "a", "one", "--arg", "b", "two", "-r", '$a + "-" + $b'), b"one-two\n"),
        (("-n", "--argjson", "r", '{"name":"amy","id":1}', "-r", "$r.name"), b"amy\n"),
        (("-n", "--argjson", "r", {"name": "amy"}, "-r", "$r.name"), b"amy\n"),
        (("-n", "--arg", "n", 5, "$n | type"), b'"string"\n'),
        (("-n", "-c", "--arg", "a", "x", "--argjson", "b", "[1]", "$ARGS"),
         b'{"positional":[],"named":{"a":"x","b":[1]}}\n'),
        (("-n", "-c", "$ARGS"), b'{"positional":[],"named":{}}\n'),
    ],
)
def test_arg_and_argjson_bind_variables(words: tuple[Any, ...], out: bytes) -> None:
    run = jq(*words)
    assert (run.code, run.stdout, run.stderr) == (0, out, "")


def test_env_is_the_exported_environment_and_files_bind(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("hello\n")
    (tmp_path / "s.json").write_text('1 {"a":2}\n[3]')
    shell = FakeShell(cwd_path=str(tmp_path), vars={"FOO": "bar", "X": "x"}, exported={"FOO"})
    assert jq("-n", "-c", "$ENV", shell=shell).stdout == b'{"FOO":"bar"}\n'
    assert jq("-n", "env.FOO, env.X", shell=shell).stdout == b'"bar"\nnull\n'
    assert jq("-n", "--rawfile", "t", "r.txt", "$t", shell=shell).stdout == b'"hello\\n"\n'
    slurped = jq("-n", "-c", "--slurpfile", "s", "s.json", "$s", shell=shell)
    assert slurped.stdout == b'[1,{"a":2},[3]]\n'
    missing = jq("-n", "--rawfile", "t", "nope", "$t", shell=shell)
    assert missing.code == 1 and "--rawfile t: nope: not found" in missing.stderr


def test_variables_work_with_piped_input() -> None:
    run = jq("--arg", "x", "!", ".foo | tostring + $x", stdin=b'{"foo":1}')
    assert run.stdout == b'"1!"\n'


def test_malformed_argjson_is_loud() -> None:
    run = jq("-n", "--argjson", "x", "{bad", "$x")
    assert run.code == 1 and "--argjson x: invalid JSON" in run.stderr


def test_a_filter_is_compiled_once_for_many_argument_values() -> None:
    first = engine.compile_program("$v | . + 1", ("v",), '{"v":1}')
    again = engine.compile_program("$v | . + 1", ("v",), '{"v":2}')
    assert first is again
    assert jq("-n", "--argjson", "v", 9, "$v | . + 1").stdout == b"10\n"


def test_undefined_variable_is_a_compile_error() -> None:
    run = jq("-n", "$nope")
    assert run.code == 1 and "E007" in run.stderr and "$nope is not defined" in run.stderr


# -- errors and exit status ----------------------------------------------------------


def test_invalid_filter_reports_e007() -> None:
    run = jq(".[", stdin=b"{}")
    assert (run.code, run.stdout) == (1, b"")
    assert run.stderr.startswith("error [E007]: jq: syntax error")
    assert "line 1, column 2" in run.stderr and "jqlang.org/manual" in run.stderr


def test_check_filter_for_validators() -> None:
    assert check_filter(".a | length") is None
    assert check_filter(".foo + $x", ("x",)) is None
    report = check_filter(".[")
    assert report is not None and "E007" in report


def test_check_refuses_before_the_script_runs() -> None:
    tool = Jq()

    def check(*words: Any) -> str | None:
        return tool.check(bind(Jq.schema, [word_to_raw(w) for w in words]))

    assert check(".a") is None
    assert check("--arg", "x", "1", "--rawfile", "t", "f", "$x + $t") is None
    report = check("$x")
    assert report is not None and report.startswith("error [E007]: jq: $x is not defined")
    assert check(".[") is not None


def test_an_invalid_filter_stops_the_whole_script(tmp_path: Path) -> None:
    out, code = asyncio.run(_shell("echo before; echo '{}' | jq '.['", str(tmp_path)))
    assert (out, code) == ("", 1)


def test_indexing_an_array_with_a_string_hints_at_iteration() -> None:
    run = jq(".foo", stdin=b"[1,2,3]")
    assert run.code == 1 and run.stdout == b""
    assert "cannot index" in run.stderr and "'.[] | .foo'" in run.stderr


@pytest.mark.parametrize(
    ("source", "needle"),
    [('error("boom")', "jq: error: boom"), ('error({"a":1})', '{"a":1} (not a string)')],
)
def test_runtime_errors(source: str, needle: str) -> None:
    run = jq("-n", source)
    assert run.code == 1 and needle in run.stderr


def test_results_before_an_error_are_printed() -> None:
    run = jq("-n", '1, 2, error("x")')
    assert run.stdout == b"1\n2\n" and run.code == 1


@pytest.mark.parametrize(
    ("source", "code"),
    [("true", 0), ("1", 0), ("false", 1), ("null", 1), ("empty", 4), ("1, null", 1)],
)
def test_exit_status_flag(source: str, code: int) -> None:
    assert jq("-e", "-n", source).code == code
    assert jq("-n", source).code == 0


def test_halt_and_halt_error() -> None:
    assert jq("-n", "1, halt, 2").stdout == b"1\n"
    assert jq("-n", "1, halt, 2").code == 0
    plain = jq("-n", '"bye\\n" | halt_error')
    assert (plain.code, plain.stderr) == (5, "bye\n")
    coded = jq("-n", '{"a":1} | halt_error(3)')
    assert (coded.code, coded.stderr) == (3, '{"a":1}\n')


def test_debug_and_stderr_go_to_stderr() -> None:
    run = jq("-n", "-c", '1 | debug | stderr | ("x" | stderr) | 2')
    assert run.stdout == b"2\n"
    assert run.stderr == '["DEBUG:",1]\n1x'


def test_filter_is_required() -> None:
    assert jq().code == 2


# -- the typed value out --------------------------------------------------------------


def test_one_result_is_the_value() -> None:
    run = jq(".name", stdin=b'{"name":"Alice"}')
    assert run.is_value and data_of(run) == "Alice"
    assert data_of(jq("-r", ".name", stdin=b'{"name":"Alice"}')) == "Alice"


def test_several_results_are_a_list(printing: str) -> None:
    assert data_of(jq("-r", ".[]", stdin=b'["a","b","c"]')) == ["a", "b", "c"]
    assert data_of(jq("-c", ".[]", stdin=b"[1,[2],{}]")) == [1, [2], {}]


def test_no_result_sets_no_value() -> None:
    run = jq(".[]", stdin=b"[]")
    assert run.data is NO_DATA and not run.is_value


def test_value_numbers_follow_the_printed_text() -> None:
    assert data_of(jq("-n", "[1e10, 3.0, 2.5, 1e17]")) == [10000000000, 3, 2.5, 1e17]


def test_json_flag_prints_the_value_compactly() -> None:
    run = jq("--json", ".[]", stdin=b"[1,2]")
    assert (run.stdout, data_of(run)) == (b"[1,2]", [1, 2])
    assert jq("--json", "-r", ".a", stdin=b'{"a":"x"}').stdout == b'"x"'


# -- streaming and stopping -----------------------------------------------------------


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kaish-jq"]


def _wait_for_workers(deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while _workers() and time.monotonic() < end:
        time.sleep(0.01)
    assert not _workers()


async def _run_with(words: list[Any], stdout: Any) -> tuple[int, str]:
    tool = Jq()
    err = ErrorBuffer()
    args = bind(tool.schema, [word_to_raw(w) for w in words])
    ctx = ToolContext("jq", args, BytesInput(b""), stdout, err, FakeShell())
    return await tool.run(ctx), err.text()


def test_a_reader_that_leaves_stops_an_endless_filter() -> None:
    out = LeavingOutput(10)
    code, err = asyncio.run(_run_with(["-n", "repeat(1)"], out))
    assert (code, err) == (0, "")
    assert bytes(out.got) == b"1\n" * 5
    _wait_for_workers()


def test_cancelling_halts_a_filter_that_computes_without_output() -> None:
    async def scenario() -> None:
        task = asyncio.create_task(_run_with(["-n", "[repeat(1)] | length"], CaptureOutput()))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    _wait_for_workers()


class _Chunks:
    def __init__(self) -> None:
        self.chunks: list[engine.Chunk] = []

    def output(self, chunk: engine.Chunk) -> bool:
        self.chunks.append(chunk)
        return True

    def error(self, data: bytes) -> None:
        raise AssertionError(data)


def test_the_first_result_is_not_held_back(printing: str) -> None:
    program = engine.compile_program("1, ([range(200000)] | length | empty), 2")
    sink = _Chunks()
    outcome = program.run(
        [engine.Feed("null")], b'{"ARGS":{}}', engine.DumpStyle(), sink, engine.RunControl()
    )
    assert outcome.results == 2
    assert [c.data for c in sink.chunks] == [b"1\n", b"2\n"]


def test_chunks_end_on_result_boundaries(printing: str) -> None:
    program = engine.compile_program(".[]")
    sink = _Chunks()
    data = json.dumps([{"k": "v" * 100, "n": 1.50}] * 3000).encode()
    engine_style = engine.DumpStyle(compact=True)
    program.run([engine.Feed("json", data)], b'{"ARGS":{}}', engine_style, sink, engine.RunControl())
    assert len(sink.chunks) > 2
    for chunk in sink.chunks:
        assert chunk.data.endswith(b"}\n") and b"1.50" not in chunk.data


def test_large_output_streams_in_order(printing: str) -> None:
    run = jq("-c", ".[]", stdin=json.dumps(list(range(100_000))).encode())
    assert run.stdout == "".join(f"{i}\n" for i in range(100_000)).encode()
    assert data_of(run) == list(range(100_000))


def test_runs_concurrently() -> None:
    async def many() -> list[int]:
        runs = [_run_with(["-n", f"[range({n})] | length"], CaptureOutput()) for n in range(20)]
        return [code for code, _ in await asyncio.gather(*runs)]

    assert asyncio.run(many()) == [0] * 20


# -- end to end through the shell ------------------------------------------------------


async def _shell(script: str, cwd: str) -> tuple[str, int]:
    shell = Shell(cwd=cwd, env={})
    out = CaptureOutput()
    try:
        result = await shell.execute(script, stdout=out, stderr=ErrorBuffer())
    finally:
        await shell.close()
    return out.getvalue().decode(), result.code


@pytest.mark.parametrize(
    ("script", "out"),
    [
        ("seq 1 3 | jq -c .", "[1,2,3]\n"),
        ("seq 1 3 | jq -c $(echo .)", "[1,2,3]\n"),
        ("f() { jq -c .; }; seq 1 3 | f", "[1,2,3]\n"),
        ("for f in $(echo '[\"a\",\"b\"]' | jq -r '.[]'); do echo \"iter:$f\"; done",
         "iter:a\niter:b\n"),
        ("for n in $(echo '{\"name\":\"Al Bo\"}' | jq '.name'); do echo \"[$n]\"; done",
         "[Al Bo]\n"),
        ("x=$(jq -n '{a: [1, 2]}'); echo ${x[a][1]}", "2\n"),
        ("x=$(jq -n '1, 2, 3'); echo ${#x}", "3\n"),
        ("fromjson '\"1\"' | jq type", '"string"\n'),
        ("R='{\"name\":\"amy\"}'\njq -r '.name' <<< \"$R\"", "amy\n"),
        ("u=$(fromjson '{\"a\":1,\"b\":2}'); for k in $(keys $u); do echo $k; done", "a\nb\n"),
        ("echo '[\"a\",\"b\",\"c\"]' | jq -r '.[]' | wc -l", "3\n"),
    ],
)
def test_through_the_shell(script: str, out: str, tmp_path: Path) -> None:
    assert asyncio.run(_shell(script, str(tmp_path))) == (out, 0)


def test_importing_the_builtin_leaves_libjq_for_first_use() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kaish_kernel.tools.builtins.jq\n"
        "print('kaish_kernel.tools.builtins._jq_engine' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
