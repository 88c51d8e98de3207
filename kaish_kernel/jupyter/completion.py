"""Tab and Shift-Tab: answers from the Shell's live tables and the tool schemas.

    text before the cursor ──► the word being typed + the command it belongs to
        $na… / ${na…        variables
        %…                  job ids (%1, %2)
        -… after a builtin  that builtin's flags, from its schema
        first word          builtins, functions, aliases, keywords
        anything else       paths (through the VFS, so /v/jobs/… completes too)

The scan is deliberately shallow (separators, quotes, `$(`): it finds the
context of the word under the cursor without parsing the whole cell, so it
works on half-written code that the parser would reject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["CompletionSource", "Context", "complete", "context_at", "inspect", "word_at"]

KEYWORDS = (
    "if", "then", "elif", "else", "fi", "for", "while", "until", "in", "do", "done",
    "case", "esac", "function", "break", "continue", "return", "exit", "local",
)  # fmt: skip

# Words after which the next word is again a command name.
_COMMAND_PREFIX = frozenset({"if", "then", "elif", "else", "while", "until", "do", "!", "time"})
_SEPARATORS = re.compile(r"\$\(|&&|\|\||[;|&\n(){}`]")
_WORD_BREAK = " \t\n;|&(){}<>=\"'`,["
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*(\[[^\]]*\])?=")
_NAME_CHARS = re.compile(r"\w*")


class CompletionSource(Protocol):
    """What completion needs from the Shell (its read-only accessors)."""

    def builtin_names(self) -> list[str]: ...
    def function_names(self) -> list[str]: ...
    def alias_names(self) -> list[str]: ...
    def alias_value(self, name: str) -> str | None: ...
    def variable_names(self) -> list[str]: ...
    def has_var(self, name: str) -> bool: ...
    def get_var(self, name: str) -> Any: ...
    def job_ids(self) -> list[int]: ...
    def tool_help(self, name: str) -> str | None: ...
    def tool_flags(self, name: str) -> list[tuple[str, str]]: ...
    def list_dir(self, path: str) -> list[tuple[str, bool]]: ...


@dataclass(frozen=True, slots=True)
class Context:
    """The word under the cursor and where it stands."""

    word: str  # the text from the word's start to the cursor
    start: int  # where the word starts (a code-point offset)
    command: str | None  # the command this word is an argument of; None at command position


def _segment_words(segment: str) -> list[str]:
    """Whitespace-split words of one simple command, quotes kept together."""
    words: list[str] = []
    current = ""
    quote = ""
    for ch in segment:
        if quote:
            current += ch
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            current += ch
        elif ch in " \t":
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
    if current:
        words.append(current)
    return words


def _unquoted_tail(text: str) -> tuple[str, str] | None:
    """Split `text` at the last command separator outside quotes: (before, segment).

    None when `text` ends inside a comment."""
    quote = ""
    last_sep_end = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\n"):
            newline = text.find("\n", i)
            if newline < 0:
                return None
            i = newline
            continue
        else:
            match = _SEPARATORS.match(text, i)
            if match:
                last_sep_end = match.end()
                i = match.end()
                continue
        i += 1
    return text[:last_sep_end], text[last_sep_end:]


def context_at(code: str, cursor_pos: int) -> Context | None:
    """Find the word being completed; None inside a comment."""
    text = code[:cursor_pos]
    split = _unquoted_tail(text)
    if split is None:
        return None
    before = split[0]
    start = len(text)
    while start > len(before) and text[start - 1] not in _WORD_BREAK:
        start -= 1
    if text[max(0, start - 2) : start] == "${":
        start -= 2
    word = text[start:]
    dollar = word.rfind("$")
    if dollar > 0:  # `a$b`, `path/$HO`: complete the variable part
        start += dollar
        word = word[dollar:]
    words = _segment_words(text[len(before) : start])
    while words and (words[0] in _COMMAND_PREFIX or _ASSIGNMENT.match(words[0])):
        words.pop(0)
    command = words[0] if words else None
    return Context(word, start, command)


def word_at(code: str, cursor_pos: int) -> tuple[str, int, int]:
    """The whole word around the cursor (for inspection): (word, start, end)."""
    start = cursor_pos
    while start > 0 and code[start - 1] not in _WORD_BREAK:
        start -= 1
    end = cursor_pos
    while end < len(code) and code[end] not in _WORD_BREAK:
        end += 1
    return code[start:end], start, end


def _prefixed(names: Iterable[str], prefix: str) -> list[str]:
    return sorted({n for n in names if n.startswith(prefix)})


def _paths(shell: CompletionSource, word: str) -> list[tuple[str, str]]:
    directory, _, partial = word.rpartition("/")
    if "/" in word:
        listing_dir = directory + "/" if directory else "/"
    else:
        listing_dir = ""
    entries = shell.list_dir(listing_dir or ".")
    out = []
    for name, is_dir in sorted(entries):
        if not name.startswith(partial):
            continue
        if name.startswith(".") and not partial.startswith("."):
            continue
        text = (listing_dir if "/" in word else "") + name + ("/" if is_dir else "")
        out.append((text, "directory" if is_dir else "file"))
    return out


def _candidates(shell: CompletionSource, ctx: Context) -> list[tuple[str, str]]:
    word = ctx.word
    if word.startswith("${"):
        return [("${" + n + "}", "variable") for n in _prefixed(shell.variable_names(), word[2:])]
    if word.startswith("$"):
        return [("$" + n, "variable") for n in _prefixed(shell.variable_names(), word[1:])]
    if word.startswith("%"):
        return [(f"%{i}", "job") for i in shell.job_ids() if f"%{i}".startswith(word)]
    if ctx.command is None:
        if "/" in word or word.startswith(("~", ".")):
            return _paths(shell, word)
        found: dict[str, str] = {}
        for kind, names in (
            ("keyword", KEYWORDS),
            ("builtin", shell.builtin_names()),
            ("alias", shell.alias_names()),
            ("function", shell.function_names()),
        ):
            for name in _prefixed(names, word):
                found[name] = kind
        return sorted(found.items())
    if word.startswith("-"):
        flags = shell.tool_flags(ctx.command)
        return [(spelling, "flag") for spelling, _ in flags if spelling.startswith(word)]
    return _paths(shell, word)


def complete(shell: CompletionSource, code: str, cursor_pos: int) -> dict[str, Any]:
    """The content of a complete_reply."""
    ctx = context_at(code, cursor_pos)
    matches: list[tuple[str, str]] = []
    start = cursor_pos
    if ctx is not None:
        start = ctx.start
        try:
            matches = _candidates(shell, ctx)
        except Exception:  # completion must never fail the request
            matches = []
    return {
        "status": "ok",
        "matches": [text for text, _ in matches],
        "cursor_start": start,
        "cursor_end": cursor_pos,
        "metadata": {
            "_jupyter_types_experimental": [
                {"start": start, "end": cursor_pos, "text": text, "type": kind} for text, kind in matches
            ]
        },
    }


def _describe_variable(shell: CompletionSource, name: str) -> str | None:
    if not name or not shell.has_var(name):
        return None
    from kaish_kernel.values import to_json, type_name

    value = shell.get_var(name)
    try:
        kind = type_name(value)
    except TypeError:
        kind = type(value).__name__
    text = to_json(value, pretty=True)
    if len(text) > 4000:
        text = text[:4000] + "\n…"
    return f"${name}: {kind}\n{text}"


def inspect(shell: CompletionSource, code: str, cursor_pos: int) -> dict[str, Any]:
    """The content of an inspect_reply: a builtin's help, a variable's value, ..."""
    word, start, _ = word_at(code, cursor_pos)
    text: str | None = None
    if word.startswith("$"):
        name = word[2:-1] if word.startswith("${") and word.endswith("}") else word.lstrip("${")
        text = _describe_variable(shell, _NAME_CHARS.match(name).group(0) if name else "")  # type: ignore[union-attr]
    if text is None and word and not word.startswith("-"):
        text = _describe_name(shell, word)
    if text is None:
        ctx = context_at(code, start)
        if ctx is not None and ctx.command:
            text = _describe_name(shell, ctx.command)
    if text is None:
        return {"status": "ok", "found": False, "data": {}, "metadata": {}}
    return {"status": "ok", "found": True, "data": {"text/plain": text}, "metadata": {}}


def _describe_name(shell: CompletionSource, name: str) -> str | None:
    if name in shell.alias_names():
        return f"{name}: an alias for `{shell.alias_value(name)}`"
    if name in shell.function_names():
        return f"{name}: a function defined in this session"
    help_text = shell.tool_help(name)
    if help_text is not None:
        return help_text
    if name in KEYWORDS:
        return f"{name}: a kaish keyword (see `help syntax`)"
    return None
