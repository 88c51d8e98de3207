"""The JSON value model: display, typing, equality, truthiness, JSON, bytes, paths."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kaish_kernel.values import (
    PathError,
    ValueError_,
    coerce_text,
    display,
    from_json,
    get_path,
    parse_number,
    path_text,
    render_float,
    set_path,
    to_json,
    truthy,
    type_name,
    values_equal,
)

# JSON documents as Python values (finite floats; keys are strings)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        ("", ""),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (-7, "-7"),
        (3.14, "3.14"),
        (1.0, "1"),
        (1e21, "1000000000000000000000"),
        (0.1 + 0.2, "0.30000000000000004"),
        ([1, "a", None], '[1,"a",null]'),
        ({"b": 1, "a": [True]}, '{"b":1,"a":[true]}'),
        ({"é": "ü"}, '{"é":"ü"}'),
        (b"text", "text"),
    ],
)
def test_display(value: object, text: str) -> None:
    assert display(value) == text


def test_non_finite_floats_print_by_name() -> None:
    assert render_float(math.nan) == "NaN"
    assert render_float(math.inf) == "inf"
    assert render_float(-math.inf) == "-inf"
    # and survive JSON as strings instead of becoming null
    assert to_json([math.inf]) == '["inf"]'


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "bool"),
        (0, "number"),
        (2.5, "number"),
        ("1", "string"),
        ([], "list"),
        ({}, "record"),
        (b"\x00", "bytes"),
    ],
)
def test_type_names(value: object, name: str) -> None:
    assert type_name(value) == name


def test_type_name_refuses_foreign_objects() -> None:
    with pytest.raises(TypeError):
        type_name(object())


def test_booleans_never_equal_numbers() -> None:
    assert not values_equal(True, 1)
    assert not values_equal(0, False)
    assert values_equal(True, True)
    assert values_equal(1, 1.0)
    assert not values_equal("1", 1)
    assert values_equal([1, {"a": [2.0]}], [1.0, {"a": [2]}])
    assert not values_equal([1, 2], [1, 2, 3])
    assert not values_equal({"a": 1}, {"b": 1})
    assert not values_equal({"a": True}, {"a": 1})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), (False, False), (0, False), (0.0, False), ("", False), ("false", False),
     ("0", False), (True, True), (1, True), ("no", True), ("FALSE", True), ([], True), ({}, True)],
)
def test_truthiness(value: object, expected: bool) -> None:
    assert truthy(value) is expected


def test_barewords_typed_as_the_lexer_types_them() -> None:
    assert parse_number("42") == 42 and isinstance(parse_number("42"), int)
    assert parse_number("-3.5") == -3.5
    assert parse_number("1e5") is None  # not a kaish numeric bareword
    assert parse_number("3.") is None
    assert parse_number("v1") is None


def test_json_is_compact_and_ordered_and_pretty_on_request() -> None:
    value = {"z": 1, "a": [1, 2], "s": "x y"}
    assert to_json(value) == '{"z":1,"a":[1,2],"s":"x y"}'
    assert to_json(value, pretty=True) == '{\n  "z": 1,\n  "a": [\n    1,\n    2\n  ],\n  "s": "x y"\n}'


def test_from_json_takes_exactly_one_document() -> None:
    assert from_json(' {"a": [1, 2.5, null, true]} ') == {"a": [1, 2.5, None, True]}
    for bad in ("", "{", '{"a":1} extra', "not json", "[1,]"):
        with pytest.raises(ValueError_, match="invalid JSON"):
            from_json(bad)


@given(json_values)
def test_every_json_value_round_trips(value: object) -> None:
    assert values_equal(from_json(to_json(value)), value)
    assert values_equal(from_json(to_json(value, pretty=True)), value)


def test_bytes_are_text_only_when_valid_utf8() -> None:
    assert coerce_text("héllo".encode()) == "héllo"
    with pytest.raises(ValueError_, match="binary"):
        coerce_text(b"\xff\xfe")
    with pytest.raises(ValueError_):
        display(b"\xff")


def test_bytes_serialize_as_an_envelope() -> None:
    doc = from_json(to_json({"raw": b"\x01\x02\x03"}))
    assert doc == {"raw": {"_type": "bytes", "encoding": "base64", "data": "AQID", "len": 3}}


def test_paths_read_typed_values() -> None:
    doc = {"web": {"ports": [80, 443]}, "name": "amy"}
    assert get_path(doc, ["web", "ports", -1], "s") == 443
    assert get_path(doc, ["web", "ports", slice(0, 1)], "s") == [80]
    assert get_path("abcdef", [slice(-2, None)], "s") == "ef"
    assert path_text("s", ["web", 9, slice(1, None)]) == "s[web][9][1:]"


@pytest.mark.parametrize(
    ("segments", "message", "absent"),
    [
        (["nope"], "no such key", True),
        (["web", "ports", 9], "out of bounds", True),
        ([0], "record keys are strings", False),
        (["name", 0], "not a collection", False),
        (["web", "ports", "x"], "indexed by integers", False),
    ],
)
def test_every_bad_access_is_loud(segments: list[object], message: str, absent: bool) -> None:
    doc = {"web": {"ports": [80, 443]}, "name": "amy"}
    with pytest.raises(PathError, match=message) as info:
        get_path(doc, segments, "s")  # type: ignore[arg-type]
    assert info.value.absent is absent


def test_writes_copy_along_the_path_and_never_autovivify() -> None:
    doc = {"web": {"port": 80}, "xs": [1, 2]}
    new = set_path(doc, ["web", "port"], 8080, "s")
    assert new == {"web": {"port": 8080}, "xs": [1, 2]}
    assert doc["web"]["port"] == 80  # the original is untouched (snapshots share values)
    assert set_path(doc, ["web", "host"], "h", "s")["web"] == {"port": 80, "host": "h"}
    assert set_path(doc, ["xs", -1], 9, "s")["xs"] == [1, 9]
    with pytest.raises(PathError, match="no autovivification"):
        set_path(doc, ["api", "port"], 1, "s")
    with pytest.raises(PathError, match="out of bounds"):
        set_path(doc, ["xs", 5], 1, "s")
    with pytest.raises(PathError, match="slice"):
        set_path(doc, ["xs", slice(0, 1)], 1, "s")
    with pytest.raises(PathError, match="not a collection"):
        set_path("text", [0], 1, "s")
