"""`@record` makes the same class `@dataclass(frozen=True, slots=True)` makes."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import FrozenInstanceError

import pytest

from kaish_kernel.lang import ast
from kaish_kernel.lang.span import NO_SPAN, Span
from kaish_kernel.records import record


@record
class Pair:
    """A pair."""

    left: object
    right: object = None
    span: Span = NO_SPAN


@dataclasses.dataclass(frozen=True, slots=True)
class RefPair:
    """A pair."""

    left: object
    right: object = None
    span: Span = NO_SPAN


@record
class Undocumented:
    value: int
    span: Span = NO_SPAN


@dataclasses.dataclass(frozen=True, slots=True)
class RefUndocumented:
    value: int
    span: Span = NO_SPAN


@record
class Lone:
    """One field."""

    value: float


@record
class Empty:
    """No fields."""


# Same module-level names as the reference classes, for pickle.
SAMPLES = [((1,), {}), ((1, "x"), {}), ((), {"left": [1], "right": (2,), "span": Span(3, 4)})]


def test_it_is_a_dataclass_with_the_same_fields_and_slots() -> None:
    assert [f.name for f in dataclasses.fields(Pair)] == ["left", "right", "span"]
    assert getattr(Pair, "__slots__") == getattr(RefPair, "__slots__")  # noqa: B009
    assert Pair.__match_args__ == RefPair.__match_args__
    assert not hasattr(Pair(1), "__dict__")
    assert dataclasses.is_dataclass(Pair)


def test_constructor_signature_matches_dataclass() -> None:
    assert str(inspect.signature(Pair)) == str(inspect.signature(RefPair))
    assert Pair.__init__.__qualname__ == "Pair.__init__"
    with pytest.raises(TypeError):
        Pair()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Pair(1, 2, NO_SPAN, 4)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Pair(1, nope=2)  # type: ignore[call-arg]


@pytest.mark.parametrize("args,kwargs", SAMPLES)
def test_repr_eq_hash_match_dataclass(args: tuple, kwargs: dict) -> None:
    mine, ref = Pair(*args, **kwargs), RefPair(*args, **kwargs)
    assert repr(mine) == repr(ref).replace("RefPair", "Pair")
    assert mine == Pair(*args, **kwargs)
    assert mine != ref  # another class is never equal
    assert (mine == ref) is False and mine.__eq__(ref) is NotImplemented
    if not any(isinstance(v, list) for v in (*args, *kwargs.values())):
        assert hash(mine) == hash(ref) == hash(Pair(*args, **kwargs))


def test_inequality_by_field() -> None:
    assert Pair(1, 2) != Pair(1, 3)
    assert Pair(1, 2, Span(0, 1)) != Pair(1, 2, Span(0, 2))
    nan = float("nan")
    assert (Lone(nan) == Lone(nan)) == ((nan,) == (nan,))
    assert Empty() == Empty() and hash(Empty()) == hash(())


def test_frozen() -> None:
    item = Pair(1)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'left'"):
        item.left = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'other'"):
        item.other = 2  # type: ignore[attr-defined]
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'left'"):
        del item.left  # type: ignore[misc]


def test_replace_copy_and_pickle() -> None:
    item = Pair([1], (2,), Span(1, 2))
    assert dataclasses.replace(item, right=5) == Pair([1], 5, Span(1, 2))
    assert copy.copy(item) == item
    deep = copy.deepcopy(item)
    assert deep == item and deep.left is not item.left
    assert pickle.loads(pickle.dumps(item)) == item
    assert dataclasses.asdict(Pair(1, 2)) == {"left": 1, "right": 2, "span": {"start": 0, "end": 0}}


def test_doc_is_the_signature_when_the_class_has_none() -> None:
    assert Pair.__doc__ == "A pair."
    reference = RefUndocumented.__doc__ or ""
    assert Undocumented.__doc__ == reference.replace("RefUndocumented", "Undocumented")


def test_refuses_what_it_does_not_support() -> None:
    with pytest.raises(TypeError):

        @record
        class WithFactory:
            items: list = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError):

        @record
        class Child(Pair):  # type: ignore[misc]
            extra: int = 0


def test_pattern_matching_on_syntax_nodes() -> None:
    match ast.Literal("x"):
        case ast.Literal(value):
            assert value == "x"
        case _:
            pytest.fail("no match")


def test_refuses_hand_written_methods() -> None:
    with pytest.raises(TypeError, match="__repr__"):

        @record
        class OwnRepr:
            value: int

            def __repr__(self) -> str:
                return "mine"

    with pytest.raises(TypeError, match="__post_init__"):

        @record
        class PostInit:
            value: int

            def __post_init__(self) -> None:
                pass
