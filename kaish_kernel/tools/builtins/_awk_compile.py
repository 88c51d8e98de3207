"""The awk compiler: syntax nodes turned into closures over a Machine.

Every expression becomes a `Thunk` (a no-argument function returning a
value) and every statement an `Action`, built once before any input is
read; the hot shapes (`$N`, `x OP number`, `n++`, `s += x`, `print $1`) get
specialised closures. Control flow travels as exceptions:

    next  ─► NextRecord     exit [n] ─► ExitProgram(n)
    break ─► _BreakLoop     continue ─► _ContinueLoop

`Machine.stop` is polled in every loop iteration so a cancelled run ends.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from kaish_kernel.tools.builtins._awk_ast import (
    Assign,
    Binary,
    Block,
    Break,
    Call,
    Compare,
    Concat,
    Conditional,
    Continue,
    Delete,
    DoWhile,
    Exit,
    Expr,
    ExprStmt,
    Field,
    For,
    ForIn,
    If,
    InArray,
    IncDec,
    Index,
    Logical,
    Match,
    Name,
    Next,
    Not,
    Number,
    Print,
    Printf,
    RangePattern,
    Regex,
    Rule,
    Stmt,
    String,
    Unary,
    While,
)
from kaish_kernel.tools.builtins._awk_builtins import (
    AwkError,
    awk_regex,
    compile_call,
)
from kaish_kernel.tools.builtins._awk_value import (
    UNINIT,
    Str,
    Value,
    compare,
    numeric_operand,
    sprintf,
    to_num,
    to_str,
    truthy,
)

if TYPE_CHECKING:
    from kaish_kernel.tools.builtins._awk_run import Machine

__all__ = ["Action", "Compiler", "ExitProgram", "NextRecord", "Stopped", "Thunk"]

Thunk = Callable[[], Value]
Action = Callable[[], None]


class Stopped(Exception):
    """The run was cancelled from outside."""


class NextRecord(Exception):
    pass


class ExitProgram(Exception):
    def __init__(self, status: int | None) -> None:
        self.status = status


class _BreakLoop(Exception):
    pass


class _ContinueLoop(Exception):
    pass


class Compiler:
    """Turns syntax nodes into closures over one Machine."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine
        self.program = machine.program

    # -- rules and statements --
    def rule(self, rule: Rule) -> Action:
        action = self.block(rule.action) if rule.action is not None else self._print_record()
        pattern = rule.pattern
        if pattern is None:
            return action
        if isinstance(pattern, RangePattern):
            start, end = self.condition(pattern.start), self.condition(pattern.end)
            active = [False]

            def ranged() -> None:
                if active[0]:
                    if end():
                        active[0] = False
                    action()
                elif start():
                    active[0] = not end()
                    action()

            return ranged
        test = self.condition(pattern)

        def guarded() -> None:
            if test():
                action()

        return guarded

    def _print_record(self) -> Action:
        m = self.machine
        return lambda: m.emit(m.record + m.ors_text)

    def block(self, block: Block) -> Action:
        actions = [self.stmt(s) for s in block.body]
        if not actions:
            return lambda: None
        if len(actions) == 1:
            return actions[0]

        def run() -> None:
            for action in actions:
                action()

        return run

    def stmt(self, node: Stmt) -> Action:
        m = self.machine
        kind = type(node)
        if kind is Block:
            assert isinstance(node, Block)
            return self.block(node)
        if kind is ExprStmt:
            assert isinstance(node, ExprStmt)
            thunk = self.expr(node.expr)

            def evaluate() -> None:
                thunk()

            return evaluate
        if kind is Print:
            assert isinstance(node, Print)
            return self._print(node)
        if kind is Printf:
            assert isinstance(node, Printf)
            fmt, *rest = [self.expr(a) for a in node.args]
            return lambda: m.emit(sprintf(to_str(fmt(), m.convfmt), [t() for t in rest], m.convfmt))
        if kind is If:
            assert isinstance(node, If)
            test, then = self.condition(node.test), self.stmt(node.then)
            otherwise = self.stmt(node.otherwise) if node.otherwise is not None else None
            if otherwise is None:
                return lambda: then() if test() else None
            return lambda: then() if test() else otherwise()
        if kind in (While, DoWhile, For, ForIn):
            return self._loop(node)
        if kind is Break:
            return _raiser(_BreakLoop)
        if kind is Continue:
            return _raiser(_ContinueLoop)
        if kind is Next:
            return _raiser(NextRecord)
        if kind is Exit:
            assert isinstance(node, Exit)
            status = self.expr(node.status) if node.status is not None else None

            def leave() -> None:
                raise ExitProgram(int(to_num(status())) if status is not None else None)

            return leave
        if kind is Delete:
            assert isinstance(node, Delete)
            array = m.arrays[node.array]
            if node.subscript is None:
                return array.clear
            key = self.expr(node.subscript)

            def delete() -> None:
                array.pop(to_str(key(), m.convfmt), None)

            return delete
        raise AwkError(f"unsupported statement {kind.__name__}")

    def _print(self, node: Print) -> Action:
        m = self.machine
        args = [self.expr(a) for a in node.args]
        if not args:
            return self._print_record()
        if len(args) == 1:
            only = args[0]

            def print_one() -> None:
                value = only()
                kind = type(value)
                text = value if kind is str or kind is Str else m.output_text(value)
                m.emit(text + m.ors_text)  # type: ignore[operator, arg-type]

            return print_one

        def run() -> None:
            text = m.ofs_text.join([m.output_text(a()) for a in args])
            m.emit(text + m.ors_text)

        return run

    def _loop(self, node: Stmt) -> Action:
        m = self.machine
        if isinstance(node, While | DoWhile):
            test, body = self.condition(node.test), self.stmt(node.body)
            first_unconditional = isinstance(node, DoWhile)

            def run_while() -> None:
                skip_test = first_unconditional
                while skip_test or test():
                    skip_test = False
                    if m.stop:
                        raise Stopped
                    try:
                        body()
                    except _BreakLoop:
                        return
                    except _ContinueLoop:
                        pass

            return run_while
        if isinstance(node, For):
            init = self.stmt(node.init) if node.init is not None else None
            cond = self.condition(node.test) if node.test is not None else (lambda: True)
            update = self.stmt(node.update) if node.update is not None else None
            body = self.stmt(node.body)

            def run_for() -> None:
                if init is not None:
                    init()
                while cond():
                    if m.stop:
                        raise Stopped
                    try:
                        body()
                    except _BreakLoop:
                        return
                    except _ContinueLoop:
                        pass
                    if update is not None:
                        update()

            return run_for
        assert isinstance(node, ForIn)
        array = m.arrays[node.array]
        set_var = self._setter(node.var)
        body = self.stmt(node.body)

        def run_for_in() -> None:
            for key in list(array):
                if m.stop:
                    raise Stopped
                set_var(key)
                try:
                    body()
                except _BreakLoop:
                    return
                except _ContinueLoop:
                    pass

        return run_for_in

    # -- expressions --
    def condition(self, node: Expr) -> Callable[[], bool]:
        """An expression used for its truth (patterns, if, while)."""
        m = self.machine
        if isinstance(node, Regex):
            search = awk_regex(node.source).search
            return lambda: search(m.record) is not None
        if isinstance(node, Compare):
            left, right = self.expr(node.left), self.expr(node.right)
            test = _COMPARISONS[node.op]
            if isinstance(node.right, Number):
                return self._compare_to_number(left, node.right.value, node.op)
            return lambda: test(compare(left(), right(), m.convfmt))
        thunk = self.expr(node)
        return lambda: truthy(thunk())

    def _compare_to_number(self, left: Thunk, number: float, op: str) -> Callable[[], bool]:
        """`x OP 42`: compare numbers directly when `x` is numeric (the usual case)."""
        m = self.machine
        numeric = _NUMERIC_TESTS[op]
        textual = _COMPARISONS[op]

        def test() -> bool:
            value = left()
            operand = numeric_operand(value)
            if operand is not None:
                return numeric(operand, number)
            return textual(compare(value, number, m.convfmt))

        return test

    def expr(self, node: Expr) -> Thunk:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)  # type: ignore[no-any-return]

    def _number(self, node: Number) -> Thunk:
        value = node.value
        return lambda: value

    def _string(self, node: String) -> Thunk:
        value = Str(node.value)
        return lambda: value

    def _regex(self, node: Regex) -> Thunk:
        test = self.condition(node)
        return lambda: 1.0 if test() else 0.0

    def _name(self, node: Name) -> Thunk:
        m = self.machine
        name = node.name
        if name in self.program.arrays:
            raise AwkError(f"can't use array {name} in a scalar context")
        if name == "NF":
            return lambda: float(m.get_nf())
        if name == "NR":
            return lambda: float(m.nr)
        if name == "FNR":
            return lambda: float(m.fnr)
        get = m.vars.get
        return lambda: get(name, UNINIT)

    def _field(self, node: Field) -> Thunk:
        m = self.machine
        if isinstance(node.index, Number) and node.index.value >= 1 and node.index.value.is_integer():
            index = int(node.index.value)
            position = index - 1

            def constant_field() -> Value:
                fields = m.fields
                if fields is None:
                    fields = m.split()
                return fields[position] if index <= len(fields) else ""

            return constant_field
        if isinstance(node.index, Number) and node.index.value == 0:
            return lambda: m.record
        computed = self.expr(node.index)
        return lambda: m.get_field(int(to_num(computed())))

    def _index(self, node: Index) -> Thunk:
        m = self.machine
        array = self.machine.arrays[node.array]
        key = self.expr(node.subscript)

        def get() -> Value:
            k = to_str(key(), m.convfmt)
            try:
                return array[k]
            except KeyError:
                array[k] = UNINIT  # referencing an element creates it, as in awk
                return UNINIT

        return get

    def _inarray(self, node: InArray) -> Thunk:
        m = self.machine
        array = m.arrays[node.array]
        key = self.expr(node.subscript)
        return lambda: 1.0 if to_str(key(), m.convfmt) in array else 0.0

    def _unary(self, node: Unary) -> Thunk:
        operand = self.expr(node.operand)
        if node.op == "-":
            return lambda: -to_num(operand())
        return lambda: to_num(operand())

    def _not(self, node: Not) -> Thunk:
        test = self.condition(node.operand)
        return lambda: 0.0 if test() else 1.0

    def _binary(self, node: Binary) -> Thunk:
        left, right = self.expr(node.left), self.expr(node.right)
        return _ARITHMETIC[node.op](left, right)

    def _concat(self, node: Concat) -> Thunk:
        m = self.machine
        parts = [self.expr(p) for p in node.parts]
        if len(parts) == 2:
            a, b = parts
            return lambda: Str(to_str(a(), m.convfmt) + to_str(b(), m.convfmt))
        return lambda: Str("".join([to_str(p(), m.convfmt) for p in parts]))

    def _compare(self, node: Compare) -> Thunk:
        test = self.condition(node)
        return lambda: 1.0 if test() else 0.0

    def _match(self, node: Match) -> Thunk:
        m = self.machine
        subject = self.expr(node.left)
        negated = node.negated
        if isinstance(node.right, Regex):
            search = awk_regex(node.right.source).search
            return lambda: 1.0 if (search(to_str(subject(), m.convfmt)) is None) == negated else 0.0
        pattern = self.expr(node.right)

        def dynamic() -> Value:
            text = to_str(subject(), m.convfmt)
            found = awk_regex(to_str(pattern(), m.convfmt)).search(text) is not None
            return 1.0 if found != negated else 0.0

        return dynamic

    def _logical(self, node: Logical) -> Thunk:
        left, right = self.condition(node.left), self.condition(node.right)
        if node.op == "&&":
            return lambda: 1.0 if left() and right() else 0.0
        return lambda: 1.0 if left() or right() else 0.0

    def _conditional(self, node: Conditional) -> Thunk:
        test = self.condition(node.test)
        if_true, if_false = self.expr(node.if_true), self.expr(node.if_false)
        return lambda: if_true() if test() else if_false()

    def _assign(self, node: Assign) -> Thunk:
        value = self.expr(node.value)
        if not node.op and isinstance(node.target, Name):
            store = self._setter(node.target.name)

            def assign_name() -> Value:
                result = value()
                store(result)
                return result

            return assign_name
        target = node.target
        if not node.op and isinstance(target, Field) and isinstance(target.index, Number):
            m, index = self.machine, int(target.index.value)

            def assign_field() -> Value:
                result = value()
                m.set_field(index, result)
                return result

            return assign_field
        read, write = self.lvalue(node.target)
        if not node.op:

            def assign() -> Value:
                result = value()
                key, _ = read()
                write(key, result)
                return result

            return assign
        operate = _OPERATORS[node.op]
        if isinstance(node.target, Name) and node.target.name not in _SPECIAL_NAMES:
            variables, name = self.machine.vars, node.target.name
            if node.op == "+":

                def add_to_name() -> Value:
                    right = to_num(value())
                    result = to_num(variables.get(name, UNINIT)) + right
                    variables[name] = result
                    return result

                return add_to_name

            def update_name() -> Value:
                right = to_num(value())
                result = operate(to_num(variables.get(name, UNINIT)), right)
                variables[name] = result
                return result

            return update_name

        def update() -> Value:
            right = to_num(value())
            key, current = read()
            result = operate(to_num(current), right)
            write(key, result)
            return result

        return update

    def _incdec(self, node: IncDec) -> Thunk:
        delta, prefix = float(node.delta), node.prefix
        target = node.target
        if isinstance(target, Name) and target.name not in _SPECIAL_NAMES:
            self._setter(target.name)  # refuses array names
            variables, name = self.machine.vars, target.name

            def step_name() -> Value:
                old = to_num(variables.get(name, UNINIT))
                variables[name] = old + delta
                return old + delta if prefix else old

            return step_name
        if isinstance(target, Index):
            m = self.machine
            array, key = m.arrays[target.array], self.expr(target.subscript)

            def step_element() -> Value:
                k = to_str(key(), m.convfmt)
                old = to_num(array.get(k, UNINIT))
                array[k] = old + delta
                return old + delta if prefix else old

            return step_element
        read, write = self.lvalue(target)

        def step() -> Value:
            key, current = read()
            old = to_num(current)
            write(key, old + delta)
            return old + delta if prefix else old

        return step

    def _call(self, node: Call) -> Thunk:
        return compile_call(self, node)

    # -- assignable places --
    def _setter(self, name: str) -> Callable[[Value], None]:
        m = self.machine
        if name in self.program.arrays:
            raise AwkError(f"can't assign to {name}: it is an array")
        if name in _SPECIAL_NAMES:
            return lambda value: m.assign(name, value)
        variables = m.vars
        return lambda value: variables.__setitem__(name, value)

    def lvalue(
        self, node: Expr
    ) -> tuple[Callable[[], tuple[object, Value]], Callable[[object, Value], None]]:
        """(read, write) for a variable, field or element: `read()` evaluates the
        place once and returns (key, current value); `write(key, value)` stores."""
        m = self.machine
        if isinstance(node, Name):
            get, store = self._name(node), self._setter(node.name)
            return (lambda: (None, get())), (lambda _key, value: store(value))
        if isinstance(node, Field):
            position = self.expr(node.index)

            def read_field() -> tuple[object, Value]:
                index = int(to_num(position()))
                return index, m.get_field(index)

            return read_field, lambda key, value: m.set_field(key, value)  # type: ignore[arg-type]
        assert isinstance(node, Index)
        array = m.arrays[node.array]
        subscript = self.expr(node.subscript)

        def read_element() -> tuple[object, Value]:
            key = to_str(subscript(), m.convfmt)
            return key, array.get(key, UNINIT)

        return read_element, array.__setitem__  # type: ignore[return-value]


def _raiser(exc: type[Exception]) -> Action:
    def raise_it() -> None:
        raise exc

    return raise_it


def _divide(a: float, b: float) -> float:
    if b == 0.0:
        raise AwkError("division by zero")
    return a / b


def _modulo(a: float, b: float) -> float:
    if b == 0.0:
        raise AwkError("division by zero in %")
    return math.fmod(a, b)


def _power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf if a > 0 or b % 2 == 0 else -math.inf
    except ValueError:
        return math.nan


_OPERATORS: Final[dict[str, Callable[[float, float], float]]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": _modulo,
    "^": _power,
}


def _arithmetic(op: str) -> Callable[[Thunk, Thunk], Thunk]:
    operate = _OPERATORS[op]

    def build(left: Thunk, right: Thunk) -> Thunk:
        if op == "+":
            return lambda: to_num(left()) + to_num(right())
        if op == "-":
            return lambda: to_num(left()) - to_num(right())
        if op == "*":
            return lambda: to_num(left()) * to_num(right())
        return lambda: operate(to_num(left()), to_num(right()))

    return build


_ARITHMETIC: Final = {op: _arithmetic(op) for op in _OPERATORS}

_SPECIAL_NAMES: Final = frozenset(("NF", "NR", "FNR", "FS", "OFS", "ORS", "CONVFMT", "OFMT"))

_NUMERIC_TESTS: Final[dict[str, Callable[[float, float], bool]]] = {
    "<": operator.lt, "<=": operator.le, "==": operator.eq,
    "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
}

_COMPARISONS: Final[dict[str, Callable[[int], bool]]] = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    "==": lambda c: c == 0,
    "!=": lambda c: c != 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}
