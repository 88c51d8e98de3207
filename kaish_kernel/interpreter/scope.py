"""Variables: globals, function frames for `local`, exports, positional args.

    Scope
    ├── globals      name -> value (PIPESTATUS lives here)
    ├── frames       one dict per active function call, innermost last
    ├── exported     names whose values reach external commands
    └── positional   $0 and $1.. of the innermost call

Values are immutable (see values.py), so `snapshot()` — used for pipeline
stages, `$(...)`, jobs and scatter workers — copies only the dicts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from kaish_kernel.values import Value, ValueError_, display

__all__ = ["Frame", "Scope", "normalize_name", "positional_text"]


def normalize_name(name: str) -> str:
    """Variable names are NFC-normalized, so two spellings of `café` are one name."""
    return name if name.isascii() else unicodedata.normalize("NFC", name)


def positional_text(value: Value) -> Value:
    """A positional parameter is text, as in kaish: `f 5` gives `$1` the string
    "5" and a list its JSON. Bytes that are not UTF-8 stay bytes."""
    if isinstance(value, str | bytes):
        return value
    try:
        return display(value)
    except ValueError_:
        return value


@dataclass(slots=True)
class Frame:
    """One function call: its locals and its positional arguments."""

    locals: dict[str, Value] = field(default_factory=dict)
    args: list[Value] = field(default_factory=list)
    name: str = ""


class Scope:
    def __init__(self) -> None:
        self.globals: dict[str, Value] = {}
        self.frames: list[Frame] = []
        self.exported: set[str] = set()
        self.script_name = "kaish"
        self.script_args: list[Value] = []

    def __repr__(self) -> str:
        return f"<Scope {len(self.globals)} globals, depth {len(self.frames)}>"

    def snapshot(self) -> Scope:
        """An independent copy: later writes on either side do not cross."""
        other = Scope()
        other.globals = dict(self.globals)
        other.frames = [Frame(dict(f.locals), list(f.args), f.name) for f in self.frames]
        other.exported = set(self.exported)
        other.script_name = self.script_name
        other.script_args = list(self.script_args)
        return other

    def adopt(self, other: Scope) -> None:
        """Take over another scope's state (the last pipeline stage's changes)."""
        self.globals = other.globals
        self.frames = other.frames
        self.exported = other.exported

    # -- lookup --
    def lookup(self, name: str) -> tuple[bool, Value]:
        for frame in reversed(self.frames):
            if name in frame.locals:
                return True, frame.locals[name]
        if name in self.globals:
            return True, self.globals[name]
        return False, None

    def has(self, name: str) -> bool:
        return self.lookup(name)[0]

    def get(self, name: str) -> Value:
        found, value = self.lookup(name)
        if not found:
            raise KeyError(name)
        return value

    def visible(self) -> dict[str, Value]:
        out = dict(self.globals)
        for frame in self.frames:
            out.update(frame.locals)
        return out

    # -- writes --
    def set(self, name: str, value: Value) -> None:
        """Update the innermost binding that exists, else create a global."""
        for frame in reversed(self.frames):
            if name in frame.locals:
                frame.locals[name] = value
                return
        self.globals[name] = value

    def set_local(self, name: str, value: Value) -> None:
        if self.frames:
            self.frames[-1].locals[name] = value
        else:
            self.globals[name] = value

    def unset(self, name: str) -> None:
        for frame in reversed(self.frames):
            if name in frame.locals:
                del frame.locals[name]
                return
        self.globals.pop(name, None)
        self.exported.discard(name)

    # -- positional parameters --
    @property
    def args(self) -> list[Value]:
        return self.frames[-1].args if self.frames else self.script_args

    @property
    def arg0(self) -> str:
        return self.frames[-1].name if self.frames else self.script_name

    def push_frame(self, name: str, args: list[Value]) -> None:
        self.frames.append(Frame(args=[positional_text(a) for a in args], name=name))

    def pop_frame(self) -> None:
        self.frames.pop()
