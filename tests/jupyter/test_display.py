"""Values, errors and job lines as the notebook shows them."""

from __future__ import annotations

from kaish_kernel.errors import KaishSyntaxError
from kaish_kernel.jupyter.display import (
    MAX_TABLE_ROWS,
    VALUE_MIME,
    exit_status_error,
    format_duration,
    interrupt_error,
    job_status_bundle,
    syntax_error,
    value_bundle,
)


def test_a_list_of_records_is_a_table_with_every_column() -> None:
    rows = [{"name": "a", "size": 1}, {"name": "<b>", "size": 2, "extra": None}]
    bundle = value_bundle(rows)
    # with a table, the JSON rides under kaish's own type so JupyterLab shows the table
    assert bundle[VALUE_MIME] == rows
    assert "application/json" not in bundle
    html = bundle["text/html"]
    assert html.count("<tr>") == 3  # header + 2 rows
    assert "<th>extra</th>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html.replace("<b style", "")
    assert 'style="text-align:right">2</td>' in html
    assert "null" in html


def test_a_record_is_a_key_value_table() -> None:
    bundle = value_bundle({"a": 1, "b": [1, 2]})
    assert "<th" in bundle["text/html"] and "[1,2]" in bundle["text/html"]
    assert bundle["text/plain"] == '{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}'


def test_scalars_and_plain_lists_have_no_html() -> None:
    assert value_bundle("hi") == {"application/json": "hi", "text/plain": "hi"}
    assert "text/html" not in value_bundle([1, 2])
    assert value_bundle(None)["text/plain"] == "null"


def test_bytes_and_non_finite_numbers_stay_valid_json() -> None:
    bundle = value_bundle({"raw": b"\x00\xff", "x": float("nan")})
    assert bundle[VALUE_MIME]["raw"]["_type"] == "bytes"
    assert bundle[VALUE_MIME]["x"] == "NaN"


def test_long_tables_are_cut_with_a_note() -> None:
    rows = [{"i": i} for i in range(MAX_TABLE_ROWS + 5)]
    html = value_bundle(rows)["text/html"]
    assert html.count("<tr>") == MAX_TABLE_ROWS + 1
    assert "5 more rows not shown" in html


def test_error_conventions() -> None:
    assert exit_status_error(3)["ename"] == "ExitStatus"
    assert exit_status_error(3)["evalue"] == "exit status 3"
    assert interrupt_error()["ename"] == "KeyboardInterrupt"
    exc = KaishSyntaxError("unexpected `)`", source="echo a\necho )", offset=12, hint="remove it")
    content = syntax_error(exc)
    assert content["ename"] == "KaishSyntaxError"
    assert content["evalue"] == "unexpected `)`"
    text = "\n".join(content["traceback"])
    assert "2:6" in text and "echo )" in text and "^" in text and "remove it" in text


def test_job_lines_and_durations() -> None:
    assert job_status_bundle(2, "sleep 5", "running", None)["text/plain"] == "[2] running  sleep 5"
    assert job_status_bundle(2, "x", "failed:1", 0.5)["text/plain"] == "[2] failed:1 (0.50s)  x"
    assert "/v/jobs/2/" in job_status_bundle(2, "x", "done:0", 1)["text/html"]
    assert format_duration(75) == "1m15s"
    assert format_duration(3725) == "1h02m05s"
    assert format_duration(12.25) == "12.2s"
