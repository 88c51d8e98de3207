"""`@record`: a frozen, slotted dataclass, made cheaply.

`@dataclass(frozen=True, slots=True)` compiles six methods per class from
generated source (`__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__`, `__delattr__`): about a millisecond a class, which for the
syntax tree's node types and the other frozen records loaded at start-up
was the largest single cost of `kaish -c true`. `@record` makes the same
class for less:

    the class, rebuilt once with __slots__ and __match_args__
        ├── __dataclass_fields__ / __dataclass_params__   what `dataclasses` reads
        ├── __init__        compiled once per class (the signature is the class's own)
        └── __repr__, __eq__, __hash__, __setattr__, __delattr__,
            __getstate__, __setstate__    shared functions driven by the field names

`dataclasses.dataclass` itself is not called: its class processing (type
checks on every annotation, a second class for the slots) cost as much as
compiling the methods. The `Field` objects are made the way `dataclass`
makes them, so it is a real dataclass (`fields`, `replace`, `asdict`, `is_dataclass` work)
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
from dataclasses import MISSING, Field, FrozenInstanceError
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


@dataclasses.dataclass(frozen=True, slots=True)
class _Params:
    """Lends its `__dataclass_params__` (frozen, slotted, eq) to every record."""


_PARAMS = _Params.__dataclass_params__  # type: ignore[attr-defined]
_FIELD_KIND = dataclasses._FIELD  # type: ignore[attr-defined]
_UNSUPPORTED_ANNOTATIONS = ("ClassVar", "InitVar", "KW_ONLY", "typing.", "dataclasses.")
_DROPPED = ("__dict__", "__weakref__", "__annotations__")


def _make_field(name: str, annotation: Any, default: Any) -> Field[Any]:
    """The `Field` `dataclass` would make for a plain `name: annotation = default`."""
    made = dataclasses.field(default=default)
    made.name = name
    made.type = annotation
    made._field_type = _FIELD_KIND  # type: ignore[attr-defined]
    return made


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """Make `cls` a frozen, slotted dataclass (see the module docstring)."""
    name = cls.__name__
    if cls.__bases__ != (object,):
        raise TypeError(f"@record {name}: record classes do not inherit")
    body = dict(cls.__dict__)
    own = _GENERATED.intersection(body)
    if own:
        raise TypeError(f"@record {name}: defines {', '.join(sorted(own))} itself")
    annotations: dict[str, Any] = body.get("__annotations__", {})
    fields: dict[str, Field[Any]] = {}
    defaults: dict[str, Any] = {}
    for field_name, annotation in annotations.items():
        if isinstance(annotation, str) and annotation.startswith(_UNSUPPORTED_ANNOTATIONS):
            raise TypeError(f"@record {name}.{field_name}: {annotation} fields are not supported")
        default = body.pop(field_name, MISSING)
        if isinstance(default, Field):
            raise TypeError(f"@record {name}.{field_name}: field options are not supported")
        if default is MISSING and defaults:
            raise TypeError(
                f"@record {name}: non-default argument {field_name!r} follows default argument"
            )
        if default is not MISSING:
            if default.__class__.__hash__ is None:  # as dataclass: a list/dict/set default
                raise ValueError(
                    f"@record {name}.{field_name}: mutable default {type(default).__name__} is not allowed"
                )
            defaults[field_name] = default
        fields[field_name] = _make_field(field_name, annotation, default)
    names = tuple(fields)
    for key in _DROPPED:
        body.pop(key, None)
    body["__slots__"] = names
    body["__match_args__"] = names
    body["__annotations__"] = annotations
    body["__dataclass_fields__"] = fields
    body["__dataclass_params__"] = _PARAMS
    metaclass: Any = type(cls)
    made: Any = metaclass(name, (), body)
    made.__qualname__ = qualname = cls.__qualname__
    values = _field_getter(names)

    namespace: dict[str, Any] = {"__set": _set}
    for field_name, default in defaults.items():
        namespace[f"__default_{field_name}"] = default
    exec(_init_source(names, tuple(n in defaults for n in names)), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{qualname}.__init__"
    init.__annotations__ = annotations | {"return": None}

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
    if body.get("__doc__") is None:  # what dataclass writes: the constructor's signature
        params = ", ".join(
            f"{f.name}: {inspect.formatannotation(f.type)}"
            + ("" if f.default is MISSING else f" = {f.default!r}")
            for f in fields.values()
        )
        made.__doc__ = f"{name}({params})"
    result: type[T] = made
    return result
