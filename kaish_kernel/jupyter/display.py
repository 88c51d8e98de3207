"""What the notebook shows for values, errors and job status lines.

A cell whose last command produced a typed value (`fromjson`, `jq`,
`ls --json`, `gather`) gets an `execute_result` bundle:

    application/json   the value itself (bytes as {"_type": "bytes", ...})
    text/plain         strings as they are, other values as pretty JSON
    text/html          a table, when the value is a list of records or a record

When there is a table, the JSON travels as VALUE_MIME
(`application/vnd.kaish.value+json`) instead of `application/json`:
JupyterLab ranks its JSON tree viewer above HTML, so a bundle holding both
would show a collapsed tree where the user should see the table. Front ends
and tools that want the data read VALUE_MIME (same JSON) or `text/plain`.

Errors follow one convention (the kernel's module docstring repeats it):

    non-zero exit status  ename "ExitStatus",       evalue "exit status N"
    syntax error          ename "KaishSyntaxError", traceback = line, caret, hint
    interrupt             ename "KeyboardInterrupt", evalue "interrupted (exit status 130)"

Everything here is pure: no kernel, no sockets, so it is tested directly.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from kaish_kernel.errors import KaishSyntaxError
from kaish_kernel.values import Value, display, to_json

__all__ = [
    "MAX_TABLE_ROWS",
    "VALUE_MIME",
    "error_content",
    "exit_status_error",
    "format_duration",
    "interrupt_error",
    "job_status_bundle",
    "progress_bundle",
    "syntax_error",
    "value_bundle",
]

VALUE_MIME = "application/vnd.kaish.value+json"
MAX_TABLE_ROWS = 500
MAX_TABLE_COLUMNS = 60
MAX_CELL_CHARS = 300


def _json_ready(value: Value) -> Any:
    """The value as plain JSON data (bytes and non-finite floats made representable)."""
    return json.loads(to_json(value))


def _plain(value: Value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return to_json(value, pretty=True)
    try:
        return display(value)
    except ValueError:
        return to_json(value)


def _cell_html(value: Value) -> str:
    if value is None:
        return '<td style="color:var(--jp-ui-font-color3,#999)">null</td>'
    text = to_json(value) if isinstance(value, list | dict | bytes) else display(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    align = ' style="text-align:right"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
    return f"<td{align}>{html.escape(text)}</td>"


def _records_table(rows: Sequence[dict[str, Value]]) -> str:
    columns: dict[str, None] = {}
    for row in rows[:MAX_TABLE_ROWS]:
        for key in row:
            columns.setdefault(key, None)
    names = list(columns)[:MAX_TABLE_COLUMNS]
    head = "".join(f"<th>{html.escape(name)}</th>" for name in names)
    body = []
    for row in rows[:MAX_TABLE_ROWS]:
        cells = "".join(_cell_html(row[n]) if n in row else "<td></td>" for n in names)
        body.append(f"<tr>{cells}</tr>")
    notes = []
    if len(rows) > MAX_TABLE_ROWS:
        notes.append(f"{len(rows) - MAX_TABLE_ROWS} more rows not shown")
    if len(columns) > len(names):
        notes.append(f"{len(columns) - len(names)} more columns not shown")
    size = f"{_count(len(rows), 'row')} × {_count(len(columns), 'column')}"
    caption = (
        '<caption style="caption-side:bottom;white-space:nowrap;text-align:left">'
        f"{size}</caption>"
    )
    footer = f"<p><em>{html.escape('; '.join(notes))} (full value in the JSON data)</em></p>" if notes else ""
    return (
        f'<table class="kaish-table">{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{footer}"
    )


def _record_table(record: dict[str, Value]) -> str:
    rows = "".join(
        f"<tr><th style=\"text-align:left\">{html.escape(k)}</th>{_cell_html(v)}</tr>"
        for k, v in list(record.items())[:MAX_TABLE_ROWS]
    )
    return f'<table class="kaish-record"><tbody>{rows}</tbody></table>'


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _is_records(value: Value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def value_bundle(value: Value) -> dict[str, Any]:
    """The mimebundle of an `execute_result` for a typed value."""
    table = None
    if _is_records(value):
        table = _records_table(value)
    elif isinstance(value, dict) and value:
        table = _record_table(value)
    if table is None:
        return {"application/json": _json_ready(value), "text/plain": _plain(value)}
    return {VALUE_MIME: _json_ready(value), "text/plain": _plain(value), "text/html": table}


# -- errors --------------------------------------------------------------------

_RED = "\x1b[0;31m"
_RESET = "\x1b[0m"


def error_content(ename: str, evalue: str, traceback: list[str]) -> dict[str, Any]:
    """The shared shape of an `error` message and an error execute_reply."""
    return {"ename": ename, "evalue": evalue, "traceback": traceback}


def exit_status_error(code: int) -> dict[str, Any]:
    return error_content("ExitStatus", f"exit status {code}", [f"{_RED}exit status {code}{_RESET}"])


def syntax_error(exc: KaishSyntaxError) -> dict[str, Any]:
    lines = exc.render().splitlines()
    lines[0] = f"{_RED}{lines[0]}{_RESET}"
    return error_content("KaishSyntaxError", exc.message, lines)


def interrupt_error() -> dict[str, Any]:
    text = "interrupted (exit status 130)"
    return error_content("KeyboardInterrupt", text, [f"{_RED}KeyboardInterrupt: {text}{_RESET}"])


# -- job status lines --------------------------------------------------------


def format_duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{rest:02d}s"


_STATUS_COLOURS = {"running": "#1a73e8", "done": "#188038", "stopped": "#b06000"}


def job_status_bundle(job_id: int, command: str, status: str, seconds: float | None) -> dict[str, Any]:
    """`[1] running  sleep 5` → `[1] done:0 (5.01s)  sleep 5`, as text and HTML."""
    took = f" ({format_duration(seconds)})" if seconds is not None else ""
    plain = f"[{job_id}] {status}{took}  {command}"
    colour = _STATUS_COLOURS.get(status.split(":")[0], "#c5221f")
    markup = (
        f'<code>[{job_id}] <b style="color:{colour}">{html.escape(status)}</b>'
        f"{html.escape(took)}&nbsp; {html.escape(command)}</code>"
        f' <span style="opacity:.6">/v/jobs/{job_id}/</span>'
    )
    return {"text/plain": plain, "text/html": markup}


def progress_bundle(title: str, done: int, failed: int, running: int, total: int, *, final: bool = False) -> dict[str, Any]:
    """`scatter: 12/40 done · 1 failed · 4 running`, with a bar in HTML."""
    parts = [f"{done}/{total} done"]
    if failed:
        parts.append(f"{failed} failed")
    if running and not final:
        parts.append(f"{running} running")
    plain = f"{title}: " + " · ".join(parts)
    fraction = (done + failed) / total if total else 1.0
    ok_width = 100 * done / total if total else 100
    bad_width = 100 * failed / total if total else 0
    bar = (
        '<span style="display:inline-block;width:12em;height:.8em;background:#e0e0e0;vertical-align:middle">'
        f'<span style="display:inline-block;height:100%;width:{ok_width:.1f}%;background:#188038"></span>'
        f'<span style="display:inline-block;height:100%;width:{bad_width:.1f}%;background:#c5221f"></span>'
        "</span>"
    )
    markup = f"<code>{html.escape(plain)}</code> {bar} <span>{fraction:.0%}</span>"
    return {"text/plain": plain, "text/html": markup}
