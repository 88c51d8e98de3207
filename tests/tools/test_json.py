"""fromjson, tojson, fromjsonl, tojsonl, keys, values, typeof, split."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaish_kernel.scheduler.stage import NO_DATA, BytesInput, FdInput, LazyData
from kaish_kernel.tools.builtins.json import (
    TOOLS,
    FromJson,
    FromJsonl,
    Keys,
    Split,
    ToJson,
    ToJsonl,
    TypeOf,
    Values,
    describe_kind,
    parse_document,
)
from kaish_kernel.tools.registry import ToolRegistry
from kaish_kernel.tools.schema import format_help
from kaish_kernel.values import ValueError_
from tests.tool_harness import ToolRun, arun_tool, run_tool


def typed(value: Any, text: bytes | None = None) -> BytesInput:
    """Stdin carrying a typed value beside its text, as a value builtin sends it."""
    return BytesInput(json.dumps(value).encode() if text is None else text, value)


def data_of(run: ToolRun) -> Any:
    return run.data.resolve() if isinstance(run.data, LazyData) else run.data


# -- the family ------------------------------------------------------------------


def test_every_tool_registers_with_help() -> None:
    registry = ToolRegistry()
    registry.load_modules(("json",))
    names = {"fromjson", "tojson", "fromjsonl", "tojsonl", "keys", "values", "typeof", "split"}
    assert names <= set(registry.names())
    for cls in TOOLS:
        text = format_help(cls.schema)
        assert cls.schema.name in text and "--json" in text


@pytest.mark.parametrize(
    ("value", "kind"),
    [(None, "null"), (True, "a bool"), (3, "a number"), (2.5, "a number"), ("s", "a string"),
     ([1], "a list"), ({"a": 1}, "a record"), (b"\xff", "binary data")],
)
def test_describe_kind(value: Any, kind: str) -> None:
    assert describe_kind(value) == kind


# -- fromjson --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "out", "value"),
    [
        ('{"name":"amy","age":40}', b'{"name":"amy","age":40}', {"name": "amy", "age": 40}),
        ('{ "b" : 1 , "a" : [ 1 , 2 ] }', b'{"b":1,"a":[1,2]}', {"b": 1, "a": [1, 2]}),
        ('"hi"', b'"hi"', "hi"),
        ("true", b"true", True),
        ("null", b"null", None),
        ("  42\n", b"42", 42),
        ("2.5", b"2.5", 2.5),
        ('"\\u00e9\\n"', '"é\\n"'.encode(), "é\n"),
    ],
)
def test_fromjson_prints_compact_json_and_sets_the_value(text: str, out: bytes, value: Any) -> None:
    run = run_tool(FromJson, text)
    assert (run.code, run.stdout, run.stderr) == (0, out, "")
    assert run.is_value and run.data == value


def test_fromjson_reads_stdin_text() -> None:
    run = run_tool(FromJson, stdin=b'{"a":1}\n')
    assert (run.code, run.stdout, run.data) == (0, b'{"a":1}', {"a": 1})


def test_fromjson_string_from_the_pipe_is_parsed_from_its_text() -> None:
    # the text of a typed string is its JSON form; that text is what fromjson reads
    run = run_tool(FromJson, stdin=typed("1"))
    assert run.data == "1"


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_fromjson_empty_input_fails(text: str) -> None:
    run = run_tool(FromJson, text)
    assert run.code == 1 and run.stdout == b""
    assert "empty input" in run.stderr


def test_fromjson_empty_stdin_fails() -> None:
    run = run_tool(FromJson, stdin=b"")
    assert run.code == 1 and "empty input" in run.stderr


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"a":1} extra', "trailing characters at line 1 column 9"),
        ("{not json}", "invalid JSON"),
        ('{"a":1}\n{"a":2}', "trailing characters at line 2"),
        ("[1,", "invalid JSON"),
        ("NaN", "invalid JSON: NaN is not valid JSON"),
        ("[Infinity]", "invalid JSON"),
    ],
)
def test_fromjson_rejects_what_is_not_one_document(text: str, needle: str) -> None:
    run = run_tool(FromJson, text)
    assert run.code == 1 and run.stdout == b""
    assert run.stderr.startswith("fromjson: ") and needle in run.stderr


def test_fromjson_keeps_a_bytes_envelope_a_record() -> None:
    envelope = {"_type": "bytes", "encoding": "base64", "data": "AQID", "len": 3}
    run = run_tool(FromJson, json.dumps(envelope))
    assert run.data == envelope


def test_fromjson_of_a_typed_value_is_that_value() -> None:
    assert run_tool(FromJson, [1, {"a": None}]).data == [1, {"a": None}]
    assert run_tool(FromJson, 42).data == 42


def test_fromjson_refuses_binary() -> None:
    run = run_tool(FromJson, b"\xff\xfe")
    assert run.code == 1 and "binary" in run.stderr


def test_fromjson_never_waits_on_a_terminal() -> None:
    leader, follower = os.openpty()
    try:
        run = run_tool(FromJson, stdin=FdInput(follower, owned=False))
    finally:
        os.close(leader)
        os.close(follower)
    assert run.code == 1 and "no input" in run.stderr


def test_parse_document_reports_position() -> None:
    with pytest.raises(ValueError_, match="line 2 column 1"):
        parse_document("[1,\n]")


# -- tojson ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "out"),
    [
        ({"name": "amy"}, b'{"name":"amy"}'),
        ({"n": 3, "tags": ["a", "b"]}, b'{"n":3,"tags":["a","b"]}'),
        ("hello", b'"hello"'),
        (42, b"42"),
        (None, b"null"),
        ("é", '"é"'.encode()),
        ({"_type": "bytes", "encoding": "base64", "data": "AQID", "len": 3},
         b'{"_type":"bytes","encoding":"base64","data":"AQID","len":3}'),
    ],
)
def test_tojson_prints_compact_text_without_a_value(value: Any, out: bytes) -> None:
    run = run_tool(ToJson, value)
    assert (run.code, run.stdout, run.stderr) == (0, out, "")
    assert not run.is_value and run.data is NO_DATA


def test_tojson_pretty_uses_two_spaces() -> None:
    run = run_tool(ToJson, "--pretty", {"a": 1, "b": [1, 2], "c": {}})
    assert run.stdout == b'{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ],\n  "c": {}\n}'


def test_tojson_without_a_value_fails() -> None:
    run = run_tool(ToJson)
    assert run.code == 1 and "no value" in run.stderr and run.stdout == b""


def test_tojson_serializes_the_piped_value_but_never_sniffs_text() -> None:
    assert run_tool(ToJson, stdin=typed({"a": [1]})).stdout == b'{"a":[1]}'
    run = run_tool(ToJson, stdin=b'{"a":1}\n')
    assert run.code == 1 and "no value" in run.stderr


def test_tojson_refuses_binary() -> None:
    run = run_tool(ToJson, b"\xff")
    assert run.code == 1 and "1 bytes of binary" in run.stderr and "base64" in run.stderr


def test_tojson_json_flag_wraps_the_text_as_a_string_value() -> None:
    run = run_tool(ToJson, "--json", {"a": 1})
    assert run.stdout == b'"{\\"a\\":1}"' and run.data == '{"a":1}' and run.is_value


def test_tojson_non_finite_floats_become_strings() -> None:
    assert run_tool(ToJson, [float("nan"), float("inf")]).stdout == b'["NaN","inf"]'


# -- fromjsonl -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b'{"a":1}\n{"a":2}\n', [{"a": 1}, {"a": 2}]),
        (b"1\n\n2\n\n\n3\n", [1, 2, 3]),
        (b'{"a":1}\r\n{"a":2}\r\n', [{"a": 1}, {"a": 2}]),
        (b'"x"\n  \t\n[1]', ["x", [1]]),
        (b"", []),
        (b"\n\n", []),
    ],
)
def test_fromjsonl_reads_one_document_per_line(text: bytes, value: Any) -> None:
    run = run_tool(FromJsonl, stdin=text)
    assert (run.code, run.data, run.is_value) == (0, value, True)
    assert run.stdout == json.dumps(value, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (b'{"a":1}\n{"a":2', ["fromjsonl: line 2: invalid JSON"]),
        (b"1\nnot json\n3\n", ["line 2", "invalid JSON"]),
        (b"1\n2 3\n", ["line 2", "trailing characters"]),
        (b'{\n  "a": 1\n}\n', ["line 1", "fromjson", "jq -s"]),
        (b'1\n[\n  2\n]\n', ["line 2", "fromjson", "jq -s"]),
        (b"NaN\n", ["line 1", "invalid JSON"]),
    ],
)
def test_fromjsonl_names_the_bad_line(text: bytes, needles: list[str]) -> None:
    run = run_tool(FromJsonl, stdin=text)
    assert run.code == 1 and run.stdout == b""
    for needle in needles:
        assert needle in run.stderr


def test_fromjsonl_positional_text_and_typed_value() -> None:
    assert run_tool(FromJsonl, '{"a":1}').data == [{"a": 1}]
    assert run_tool(FromJsonl, {"a": 1}).data == [{"a": 1}]


# -- tojsonl ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "out"),
    [
        ([1, "a", {"b": 2}], b'1\n"a"\n{"b":2}\n'),
        ([], b""),
        ([{"msg": "line1\nline2"}], b'{"msg":"line1\\nline2"}\n'),
        ([[1, 2], None], b"[1,2]\nnull\n"),
    ],
)
def test_tojsonl_prints_a_line_per_element(value: Any, out: bytes) -> None:
    run = run_tool(ToJsonl, value)
    assert (run.code, run.stdout, run.stderr, run.is_value) == (0, out, "", False)


def test_tojsonl_takes_the_piped_list() -> None:
    assert run_tool(ToJsonl, stdin=typed([1, 2])).stdout == b"1\n2\n"


@pytest.mark.parametrize(("value", "kind"), [({"a": 1}, "a record"), (5, "a number")])
def test_tojsonl_refuses_a_non_list_pointing_at_tojson(value: Any, kind: str) -> None:
    run = run_tool(ToJsonl, value)
    assert run.code == 1 and f"expected a list, got {kind}" in run.stderr
    assert "tojson" in run.stderr


def test_tojsonl_without_a_value_fails() -> None:
    run = run_tool(ToJsonl, stdin=b"[1,2]")
    assert run.code == 1 and "no value" in run.stderr


def test_tojsonl_large_list_streams_in_batches() -> None:
    items = [{"i": i, "pad": "x" * 50} for i in range(5000)]
    run = run_tool(ToJsonl, items)
    lines = run.stdout.decode().splitlines()
    assert len(lines) == 5000 and json.loads(lines[-1]) == items[-1]


def test_fromjsonl_and_tojsonl_round_trip() -> None:
    text = b'{"a":1}\n"two"\n[3]\n'
    parsed = run_tool(FromJsonl, stdin=text)
    assert run_tool(ToJsonl, stdin=typed(parsed.data, parsed.stdout)).stdout == text


# -- keys / values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "value", "out"),
    [
        (Keys, {"name": "amy", "role": "m", "age": 40}, b'["name","role","age"]'),
        (Values, {"name": "amy", "role": "m", "age": 40}, b'["amy","m",40]'),
        (Keys, ["a", "b", "c"], b"[0,1,2]"),
        (Values, ["a", "b", "c"], b'["a","b","c"]'),
        (Keys, {}, b"[]"),
        (Values, [], b"[]"),
    ],
)
def test_keys_and_values_follow_the_jq_model(tool: type, value: Any, out: bytes) -> None:
    run = run_tool(tool, value)
    assert (run.code, run.stdout, run.stderr) == (0, out, "")
    assert run.is_value and run.data == json.loads(out)


@pytest.mark.parametrize("tool", [Keys, Values])
def test_keys_and_values_need_an_argument(tool: type) -> None:
    run = run_tool(tool)
    assert run.code == 1 and "no argument" in run.stderr


@pytest.mark.parametrize(("value", "kind"), [(42, "a number"), ("s", "a string"), (None, "null")])
def test_values_of_a_scalar_names_its_kind(value: Any, kind: str) -> None:
    run = run_tool(Values, value)
    assert run.code == 1
    assert f"values: expected a record or list, got {kind}" in run.stderr


def test_keys_reads_the_piped_value_not_text() -> None:
    assert run_tool(Keys, stdin=typed({"x": 1, "y": 2})).data == ["x", "y"]
    assert run_tool(Keys, stdin=b'{"x":1}').code == 1


def test_keys_json_flag_prints_the_same_json() -> None:
    assert run_tool(Keys, "--json", {"a": 1}).stdout == b'["a"]'


# -- typeof ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [([1], "list"), ({"a": 1}, "record"), ("hi", "string"), (5, "number"), (3.14, "number"),
     (True, "bool"), (None, "null"), (b"\x00\xff", "bytes")],
)
def test_typeof_names_the_type(value: Any, name: str) -> None:
    run = run_tool(TypeOf, value)
    assert (run.code, run.stdout, run.data, run.is_value) == (0, name.encode(), name, True)


def test_typeof_without_an_argument_fails() -> None:
    run = run_tool(TypeOf)
    assert (run.code, run.stdout) == (1, b"")
    assert "typeof: no argument" in run.stderr


def test_typeof_json_flag_quotes_the_name() -> None:
    assert run_tool(TypeOf, "--json", [1]).stdout == b'"list"'


def test_typeof_of_the_piped_value() -> None:
    assert run_tool(TypeOf, stdin=typed("1")).stdout == b"string"


# -- split -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "out"),
    [
        (["hello world foo"], b"hello\nworld\nfoo\n"),
        (["  a   b\tc  "], b"a\nb\nc\n"),
        (["a:b:c", ":"], b"a\nb\nc\n"),
        (["a::b", ":"], b"a\n\nb\n"),
        (["a, b, c", ", "], b"a\nb\nc\n"),
        (["a1b2c3", "-r", "[0-9]"], b"a\nb\nc\n\n"),
        (["a1b22c", "-r", "([0-9])+"], b"a\nb\nc\n"),
        (["a:b:c:d", ":", "--limit=2"], b"a\nb:c:d\n"),
        (["a:b:c", ":", "--limit=1"], b"a:b:c\n"),
        (["a:b:c", ":", "--limit=0"], b"a\nb\nc\n"),
        (["a b c d", "--limit=2"], b"a\nb c d\n"),
        (["  a  b  c  ", "--limit=2"], b"a\nb  c  \n"),
        (["a1b2c3", "-r", "[0-9]", "--limit", 2], b"a\nb2c3\n"),
        (["abc", ""], b"\na\nb\nc\n\n"),
        ([""], b""),
        (["   "], b""),
    ],
)
def test_split_output_one_item_per_line(words: list[Any], out: bytes) -> None:
    run = run_tool(Split, *words)
    assert (run.code, run.stdout, run.stderr) == (0, out, "")
    expected = out.decode().split("\n")[:-1] if out else []
    assert run.is_value and run.data == expected


def test_split_reads_stdin_with_the_first_argument_as_delimiter() -> None:
    assert run_tool(Split, ",", stdin=b"a,b,c\n").data == ["a", "b", "c"]
    assert run_tool(Split, stdin=b"hello world foo").data == ["hello", "world", "foo"]
    assert run_tool(Split, ",", stdin=typed("x,y")).data == ["x", "y"]


def test_split_without_input_fails() -> None:
    run = run_tool(Split)
    assert run.code == 1 and "no input" in run.stderr


def test_split_invalid_regex_and_negative_limit() -> None:
    bad = run_tool(Split, "test", "-r", "[invalid")
    assert bad.code == 1 and "invalid regex" in bad.stderr
    negative = run_tool(Split, "a b", "--limit=-1")
    assert negative.code == 2 and "--limit" in negative.stderr


def test_split_json_flag() -> None:
    run = run_tool(Split, "a b", "--json")
    assert run.stdout == b'["a","b"]' and run.data == ["a", "b"]


def test_split_typed_number_argument_is_its_text() -> None:
    assert run_tool(Split, "1x2x3", "x").data == ["1", "2", "3"]


# -- the round-trip law ------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_fromjson_then_tojson_round_trips_any_document(value: Any, pretty: bool) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2 if pretty else None)

    async def both() -> tuple[ToolRun, ToolRun]:
        parsed = await arun_tool(FromJson, stdin=text.encode())
        # the value travels typed, as `fromjson ... | tojson` hands it over
        printed = await arun_tool(ToJson, stdin=BytesInput(parsed.stdout, parsed.data))
        return parsed, printed

    parsed, printed = asyncio.run(both())
    assert parsed.code == 0 and printed.code == 0
    assert printed.stdout.decode() == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(printed.stdout) == value


@settings(max_examples=100, deadline=None)
@given(st.lists(json_values, max_size=8))
def test_tojsonl_then_fromjsonl_round_trips_any_list(items: list[Any]) -> None:
    printed = run_tool(ToJsonl, items)
    assert run_tool(FromJsonl, stdin=printed.stdout).data == items
