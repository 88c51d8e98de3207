"""`@record`: a frozen, slotted dataclass, made cheaply.

`@dataclass(frozen=True, slots=True)` compiles six methods per class from
generated source (`__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__`, `__delattr__`): about a millisecond a class, which for the
syntax tree's node types and the other frozen records loaded at start-up
was the largest single cost of `kaish -c true`. `@record` makes the same
class for less:

    @dataclass(slots=True, init=False, repr=False, eq=False)   fields, slots,
        │                                                      __match_args__
        ├── __init__        compiled once per class (the signature is the class's own)
        └── __repr__, __eq__, __hash__, __setattr__, __delattr__,
            __getstate__, __setstate__    shared functions driven by the field names

It is a real dataclass (`fields`, `replace`, `asdict`, `is_dataclass` work)
and behaves as `@dataclass(frozen=True, slots=True)` does: the same
constructor signature and defaults, `Name(field=value, ...)` reprs, equality
between instances of the same class by their fields, hashing by the fields,
`FrozenInstanceError` on assignment, copy and pickle. It supports plain
fields with or without an immutable default — no `field(...)` options, no
inheritance, no `__post_init__` or hand-written dunder methods — and refuses
anything else loudly.

This module imports nothing from the package, so every layer may use it.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import MISSING, FrozenInstanceError
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform

__all__ = ["record"]

T = TypeVar("T")

_set = object.__setattr__
_GENERATED = frozenset(
    "__init__ __repr__ __eq__ __hash__ __setattr__ __delattr__ __getstate__ __setstate__"
    " __post_init__".split()
)


def _field_getter(names: tuple[str, ...]) -> Any:
    """A function from an instance to the tuple of its `names` values."""
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    if not names:
        return lambda obj: ()
    return attrgetter(*names)


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _init_source(names: tuple[str, ...], has_default: tuple[bool, ...]) -> str:
    params = ", ".join(
        f"{name}=__default_{name}" if default else name
        for name, default in zip(names, has_default, strict=True)
    )
    body = "".join(f"\n    __set(self, {name!r}, {name})" for name in names) or "\n    pass"
    return (
        f"def __init__(self, {params}) -> None:{body}\n"
        if names
        else f"def __init__(self) -> None:{body}\n"
    )


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """Make `cls` a frozen, slotted dataclass (see the module docstring)."""
    if cls.__bases__ != (object,):
        raise TypeError(f"@record {cls.__name__}: record classes do not inherit")
    own = _GENERATED.intersection(cls.__dict__)
    if own:
        raise TypeError(f"@record {cls.__name__}: defines {', '.join(sorted(own))} itself")
    had_doc = cls.__dict__.get("__doc__") is not None
    if not had_doc:  # else dataclass asks inspect for a signature (slow); ours follows
        cls.__doc__ = cls.__name__
    made: Any = dataclasses.dataclass(cls, slots=True, init=False, repr=False, eq=False)
    fields = dataclasses.fields(made)
    for f in fields:
        if (
            f.default_factory is not MISSING
            or not (f.init and f.repr and f.compare)
            or f.hash is not None
            or f.kw_only
        ):
            raise TypeError(f"@record {cls.__name__}.{f.name}: field options are not supported")
    names = tuple(f.name for f in fields)
    values = _field_getter(names)
    qualname = made.__qualname__

    namespace: dict[str, Any] = {"__set": _set}
    for f in fields:
        if f.default is not MISSING:
            namespace[f"__default_{f.name}"] = f.default
    exec(_init_source(names, tuple(f.default is not MISSING for f in fields)), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{qualname}.__init__"
    init.__annotations__ = {f.name: f.type for f in fields} | {"return": None}

    def __repr__(self: Any) -> str:
        inner = ", ".join(
            f"{name}={value!r}" for name, value in zip(names, values(self), strict=True)
        )
        return f"{self.__class__.__qualname__}({inner})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return values(self) == values(other)  # type: ignore[no-any-return]
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __getstate__(self: Any) -> list[Any]:
        return list(values(self))

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            _set(self, name, value)

    for method in (__repr__, __eq__, __hash__, __getstate__, __setstate__):
        method.__qualname__ = f"{qualname}.{method.__name__}"
        setattr(made, method.__name__, method)
    made.__init__ = init
    made.__setattr__ = _frozen_setattr
    made.__delattr__ = _frozen_delattr
    if not had_doc:  # what dataclass writes: the constructor's signature
        params = ", ".join(
            f"{f.name}: {inspect.formatannotation(f.type)}"
            + ("" if f.default is MISSING else f" = {f.default!r}")
            for f in fields
        )
        made.__doc__ = f"{made.__name__}({params})"
    result: type[T] = made
    return result
