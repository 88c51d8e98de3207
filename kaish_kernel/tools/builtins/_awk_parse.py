"""Recursive-descent parser for kaish's awk subset.

Each method's docstring is its grammar rule. Precedence, loosest first:

    assignment (right)  ?: (right)  ||  &&  in  ~ !~  relational (< <= == != > >=)
    concatenation  + -  * / %  unary ! - +  ^ (right)  ++ -- (postfix/prefix)  $  grouping

Constructs outside the subset fail here, before anything runs, with a hint
naming the kaish way to do it: getline, output redirection, user functions,
multi-dimensional subscripts, the math functions beyond int/sqrt, ENVIRON
and friends. Inside `print`/`printf` an unparenthesized `>` is redirection
(refused), never a comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

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
    Program,
    RangePattern,
    Regex,
    Rule,
    Stmt,
    String,
    Unary,
    While,
)
from kaish_kernel.tools.builtins._awk_lex import AwkSyntaxError, Token, tokenize

__all__ = ["parse_program"]

_NO_FUNCTIONS: Final = "user-defined functions are not supported (kaish awk is a one-liner subset)"
_NO_REDIRECT: Final = (
    "output redirection (> >> |) is not supported; pipe kaish's output downstream instead"
)
_NO_GETLINE: Final = (
    "getline is not supported; pipe input into awk instead (e.g. cat f | awk '...')"
)
_NO_MULTI_SUBSCRIPT: Final = (
    "multi-dimensional array subscripts (a[i,j]) are not supported;"
    ' build a string key like a[i "," j]'
)
_UNSUPPORTED_CALLS: Final = {
    **dict.fromkeys(
        ("sin", "cos", "atan2", "exp", "log", "rand", "srand"),
        "{}() is not supported (kaish awk is a text-processing subset;"
        " only int and sqrt are provided)",
    ),
    **dict.fromkeys(
        ("system", "close"),
        "{}() is not supported; kaish awk has no side channels — pipe its output"
        " through kaish instead",
    ),
}
_HERMETIC_NAMES: Final = {
    "ENVIRON": "ENVIRON is not supported (kaish awk is hermetic); pass values with -v NAME=VALUE",
    "ARGV": "ARGV is not supported (kaish awk is hermetic); pass values with -v NAME=VALUE",
    "ARGC": "ARGC is not supported (kaish awk is hermetic); pass values with -v NAME=VALUE",
    "PROCINFO": "PROCINFO is not supported (kaish awk is hermetic)",
    "SUBSEP": _NO_MULTI_SUBSCRIPT,
}
_ASSIGN_OPS: Final = {"=": "", "+=": "+", "-=": "-", "*=": "*", "/=": "/", "%=": "%",
                      "^=": "^", "**=": "^"}
_RELATIONAL: Final = frozenset(("<", "<=", "==", "!=", ">", ">="))
_TERMINATORS: Final = frozenset((";", "newline", "}", "eof"))
# Tokens that can start a concatenated operand (`+`/`-` would be ambiguous).
_CONCAT_START: Final = frozenset(
    ("number", "string", "regex", "name", "builtin", "$", "(", "!", "++", "--")
)


def parse_program(source: str) -> Program:
    """Parse awk source text. Raises AwkSyntaxError."""
    return _Parser(source).program()


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self.no_gt = False  # inside print arguments: `>` is redirection
        self.loop_depth = 0
        self.in_begin_end = False
        self.arrays: set[str] = set()

    # -- token helpers --
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "eof":
            self.pos += 1
        return token

    def error(self, message: str, token: Token | None = None) -> AwkSyntaxError:
        return AwkSyntaxError(message, (token or self.tok).pos, self.source)

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"syntax error: expected {kind!r}, found {self.tok.describe()}")
        return self.advance()

    def skip_newlines(self) -> None:
        while self.tok.kind == "newline":
            self.pos += 1

    def skip_terminators(self) -> None:
        while self.tok.kind in ("newline", ";"):
            self.pos += 1

    # -- program --
    def program(self) -> Program:
        """program := (item (';' | NEWLINE)*)* EOF"""
        begin: list[Block] = []
        rules: list[Rule] = []
        end: list[Block] = []
        self.skip_terminators()
        while self.tok.kind != "eof":
            kind = self.tok.kind
            if kind in ("BEGIN", "END"):
                self.advance()
                if self.tok.kind == ",":
                    raise self.error("BEGIN and END may not be used as range pattern endpoints")
                self.skip_newlines()
                if self.tok.kind != "{":
                    raise self.error(f"{kind} requires an action block {{ ... }}")
                self.in_begin_end = True
                (begin if kind == "BEGIN" else end).append(self.block())
                self.in_begin_end = False
            elif kind == "function":
                raise self.error(_NO_FUNCTIONS)
            else:
                rules.append(self.rule())
            self.skip_terminators()
        return Program(tuple(begin), tuple(rules), tuple(end), frozenset(self.arrays))

    def rule(self) -> Rule:
        """rule := pattern [',' pattern] [block] | block"""
        if self.tok.kind == "{":
            return Rule(None, self.block())
        start = self.expr()
        pattern: Expr | RangePattern = start
        if self.tok.kind == ",":
            self.advance()
            self.skip_newlines()
            if self.tok.kind in ("BEGIN", "END"):
                raise self.error("BEGIN and END may not be used as range pattern endpoints")
            if self.tok.kind in ("{", "newline", "eof", ";"):
                raise self.error("expected a pattern after ',' in a range pattern")
            pattern = RangePattern(start, self.expr())
        if self.tok.kind == "{":
            return Rule(pattern, self.block())
        if self.tok.kind not in ("newline", ";", "eof"):
            raise self.error(f"syntax error: unexpected {self.tok.describe()} after a pattern")
        return Rule(pattern, None)

    # -- statements --
    def block(self) -> Block:
        """block := '{' statement* '}'"""
        self.expect("{")
        body: list[Stmt] = []
        self.skip_terminators()
        while self.tok.kind != "}":
            if self.tok.kind == "eof":
                raise self.error("syntax error: missing '}' at end of program")
            body.append(self.statement())
            self.skip_terminators()
        self.advance()
        return Block(tuple(body))

    def body(self) -> Stmt:
        """The statement governed by if/while/for/do (an empty `;` allowed)."""
        self.skip_newlines()
        if self.tok.kind == ";":
            self.advance()
            return Block(())
        return self.statement()

    def loop_body(self) -> Stmt:
        self.loop_depth += 1
        try:
            return self.body()
        finally:
            self.loop_depth -= 1

    def statement(self) -> Stmt:
        """statement := block | if | while | do | for | simple_statement terminator"""
        kind = self.tok.kind
        if kind == "{":
            return self.block()
        if kind == "if":
            return self.if_statement()
        if kind == "while":
            self.advance()
            test = self.paren_expr()
            if self.tok.kind == ";":
                self.advance()
                return While(test, Block(()))
            return While(test, self.loop_body())
        if kind == "do":
            self.advance()
            body = self.loop_body()
            self.skip_terminators()
            self.expect("while")
            test = self.paren_expr()
            self.end_simple()
            return DoWhile(body, test)
        if kind == "for":
            return self.for_statement()
        stmt = self.simple_statement()
        self.end_simple()
        return stmt

    def end_simple(self) -> None:
        """A simple statement ends at `;`, a newline, `}` or the end of the program."""
        if self.tok.kind in (";", "newline"):
            self.advance()
        elif self.tok.kind not in ("}", "eof"):
            if self.tok.kind == "|" and self.peek().kind == "getline":
                raise self.error(_NO_GETLINE)
            if self.tok.kind in (">", ">>", "|"):
                raise self.error(_NO_REDIRECT)
            raise self.error(f"syntax error: unexpected {self.tok.describe()}")

    def paren_expr(self) -> Expr:
        self.expect("(")
        test = self.grouped(self.expr)
        self.expect(")")
        return test

    def if_statement(self) -> If:
        """if := 'if' '(' expr ')' statement [terminators 'else' statement]"""
        self.advance()
        test = self.paren_expr()
        then = self.body()
        mark = self.pos
        self.skip_terminators()
        if self.tok.kind == "else":
            self.advance()
            return If(test, then, self.body())
        self.pos = mark
        return If(test, then, None)

    def for_statement(self) -> Stmt:
        """for := 'for' '(' NAME 'in' NAME ')' statement
                | 'for' '(' [simple] ';' [expr] ';' [simple] ')' statement"""
        self.advance()
        self.expect("(")
        if (
            self.tok.kind == "name"
            and self.peek().kind == "in"
            and self.peek(2).kind == "name"
            and self.peek(3).kind == ")"
        ):
            var = str(self.advance().value)
            self.advance()
            array = self.array_name(self.advance())
            self.advance()
            return ForIn(var, array, self.loop_body())
        init = None if self.tok.kind == ";" else self.simple_statement()
        self.expect(";")
        self.skip_newlines()
        test = None if self.tok.kind == ";" else self.grouped(self.expr)
        self.expect(";")
        self.skip_newlines()
        update = None if self.tok.kind == ")" else self.simple_statement()
        self.expect(")")
        if self.tok.kind == ";":
            self.advance()
            return For(init, test, update, Block(()))
        return For(init, test, update, self.loop_body())

    def simple_statement(self) -> Stmt:
        """simple := print | printf | next | exit [expr] | break | continue
                   | delete NAME ['[' expr ']'] | expr"""
        token = self.tok
        kind = token.kind
        if kind in ("print", "printf"):
            return self.print_statement()
        if kind in ("next", "nextfile"):
            self.advance()
            if kind == "nextfile":
                raise self.error("nextfile is not supported", token)
            if self.in_begin_end:
                raise self.error("next is not allowed in BEGIN or END", token)
            return Next()
        if kind == "exit":
            self.advance()
            status = None if self.tok.kind in _TERMINATORS else self.expr()
            return Exit(status)
        if kind in ("break", "continue"):
            self.advance()
            if not self.loop_depth:
                raise self.error(f"{kind} is not inside a loop", token)
            return Break() if kind == "break" else Continue()
        if kind == "delete":
            self.advance()
            name = self.array_name(self.expect("name"))
            if self.tok.kind != "[":
                return Delete(name, None)
            self.advance()
            subscript = self.subscript()
            return Delete(name, subscript)
        if kind in ("function", "return"):
            raise self.error(_NO_FUNCTIONS)
        return ExprStmt(self.expr())

    def print_statement(self) -> Stmt:
        """print := ('print' | 'printf') [expr_list | '(' expr_list ')']"""
        is_printf = self.advance().kind == "printf"
        args: list[Expr] = []
        if self.tok.kind in (">", ">>", "|"):
            raise self.error(_NO_REDIRECT)
        if self.tok.kind == "(":
            args = self.parenthesized_list()
        if not args and self.tok.kind not in _TERMINATORS:
            self.no_gt = True
            try:
                args.append(self.expr())
                while self.tok.kind == ",":
                    self.advance()
                    self.skip_newlines()
                    args.append(self.expr())
            finally:
                self.no_gt = False
        if self.tok.kind in (">", ">>", "|"):
            raise self.error(_NO_REDIRECT)
        if is_printf:
            if not args:
                raise self.error("printf needs a format string")
            return Printf(tuple(args))
        return Print(tuple(args))

    def parenthesized_list(self) -> list[Expr]:
        """`print (a, b)`: the list form, taken only when the `)` ends the statement."""
        mark = self.pos
        self.advance()
        try:
            items = [self.grouped(self.expr)]
            while self.tok.kind == ",":
                self.advance()
                self.skip_newlines()
                items.append(self.grouped(self.expr))
            self.expect(")")
        except AwkSyntaxError:
            self.pos = mark
            return []
        if self.tok.kind in _TERMINATORS or self.tok.kind in (">", ">>", "|"):
            return items
        self.pos = mark
        return []

    # -- expressions --
    def grouped(self, parse: Callable[[], Expr]) -> Expr:
        """Parse with `>` meaning comparison again (inside parentheses, calls, ...)."""
        saved, self.no_gt = self.no_gt, False
        try:
            return parse()
        finally:
            self.no_gt = saved

    def expr(self) -> Expr:
        """expr := lvalue assign_op expr | ternary"""
        left = self.ternary()
        op = self.tok.kind
        if op in _ASSIGN_OPS:
            if not isinstance(left, Name | Field | Index):
                raise self.error("syntax error: assignment to something that is not a variable")
            token = self.advance()
            self.skip_newlines()
            return Assign(left, _ASSIGN_OPS[op], self.expr(), token.pos)
        return left

    def ternary(self) -> Expr:
        """ternary := or ['?' expr ':' expr]"""
        test = self.logical_or()
        if self.tok.kind != "?":
            return test
        token = self.advance()
        self.skip_newlines()
        if_true = self.grouped(self.expr)
        self.skip_newlines()
        self.expect(":")
        self.skip_newlines()
        if_false = self.grouped(self.expr)
        return Conditional(test, if_true, if_false, token.pos)

    def logical_or(self) -> Expr:
        """or := and ('||' and)*"""
        left = self.logical_and()
        while self.tok.kind == "||":
            token = self.advance()
            self.skip_newlines()
            left = Logical("||", left, self.logical_and(), token.pos)
        return left

    def logical_and(self) -> Expr:
        """and := in ('&&' in)*"""
        left = self.in_expr()
        while self.tok.kind == "&&":
            token = self.advance()
            self.skip_newlines()
            left = Logical("&&", left, self.in_expr(), token.pos)
        return left

    def in_expr(self) -> Expr:
        """in := match ('in' NAME)*"""
        left = self.match_expr()
        while self.tok.kind == "in":
            token = self.advance()
            left = InArray(left, self.array_name(self.expect("name")), token.pos)
        return left

    def match_expr(self) -> Expr:
        """match := relational (('~' | '!~') relational)*"""
        left = self.relational()
        while self.tok.kind in ("~", "!~"):
            token = self.advance()
            left = Match(token.kind == "!~", left, self.relational(), token.pos)
        return left

    def relational(self) -> Expr:
        """relational := concat [relop concat]"""
        left = self.concatenation()
        op = self.tok.kind
        if op in _RELATIONAL and not (op == ">" and self.no_gt):
            token = self.advance()
            return Compare(op, left, self.concatenation(), token.pos)
        return left

    def concatenation(self) -> Expr:
        """concat := additive additive*"""
        first = self.additive()
        parts = [first]
        while self.tok.kind in _CONCAT_START:
            parts.append(self.additive())
        if len(parts) == 1:
            return first
        return Concat(tuple(parts), _pos(first))

    def additive(self) -> Expr:
        """additive := multiplicative (('+' | '-') multiplicative)*"""
        left = self.multiplicative()
        while self.tok.kind in ("+", "-"):
            token = self.advance()
            left = Binary(token.kind, left, self.multiplicative(), token.pos)
        return left

    def multiplicative(self) -> Expr:
        """multiplicative := unary (('*' | '/' | '%') unary)*"""
        left = self.unary()
        while self.tok.kind in ("*", "/", "%"):
            token = self.advance()
            left = Binary(token.kind, left, self.unary(), token.pos)
        return left

    def unary(self) -> Expr:
        """unary := ('!' | '-' | '+') unary | power"""
        token = self.tok
        if token.kind == "!":
            self.advance()
            return Not(self.unary(), token.pos)
        if token.kind in ("-", "+"):
            self.advance()
            return Unary(token.kind, self.unary(), token.pos)
        return self.power()

    def power(self) -> Expr:
        """power := postfix [('^' | '**') exponent]   (right-associative)"""
        base = self.postfix()
        if self.tok.kind in ("^", "**"):
            token = self.advance()
            return Binary("^", base, self.exponent(), token.pos)
        return base

    def exponent(self) -> Expr:
        """exponent := ('-' | '+' | '!') exponent | power"""
        token = self.tok
        if token.kind in ("-", "+"):
            self.advance()
            return Unary(token.kind, self.exponent(), token.pos)
        if token.kind == "!":
            self.advance()
            return Not(self.exponent(), token.pos)
        return self.power()

    def postfix(self) -> Expr:
        """postfix := primary ['++' | '--']   (on a variable, field or element)"""
        expr = self.primary()
        if self.tok.kind in ("++", "--") and isinstance(expr, Name | Field | Index):
            token = self.advance()
            return IncDec(expr, 1 if token.kind == "++" else -1, False, token.pos)
        return expr

    def primary(self) -> Expr:
        """primary := NUMBER | STRING | ERE | '(' expr ')' | '$' field | ('++'|'--') lvalue
                    | NAME ['[' expr ']'] | BUILTIN ['(' args ')']"""
        token = self.tok
        kind = token.kind
        if kind == "number":
            self.advance()
            return Number(float(token.value), token.pos)
        if kind == "string":
            self.advance()
            return String(str(token.value), token.pos)
        if kind == "regex":
            self.advance()
            return Regex(str(token.value), token.pos)
        if kind == "(":
            self.advance()
            inner = self.grouped(self.expr)
            if self.tok.kind == ",":
                raise self.error(_NO_MULTI_SUBSCRIPT)
            self.expect(")")
            return inner
        if kind == "$":
            self.advance()
            return Field(self.field_operand(), token.pos)
        if kind in ("++", "--"):
            self.advance()
            target = self.primary()
            if not isinstance(target, Name | Field | Index):
                raise self.error(f"{kind} needs a variable, field or array element", token)
            return IncDec(target, 1 if kind == "++" else -1, True, token.pos)
        if kind == "builtin":
            return self.builtin_call()
        if kind == "name":
            return self.name_or_element()
        if kind == "getline":
            raise self.error(_NO_GETLINE)
        if kind in ("function", "return"):
            raise self.error(_NO_FUNCTIONS)
        raise self.error(f"syntax error: unexpected {token.describe()}")

    def field_operand(self) -> Expr:
        """field := ('-' | '+' | '!') field | ('++' | '--') lvalue | primary"""
        token = self.tok
        if token.kind in ("-", "+"):
            self.advance()
            return Unary(token.kind, self.field_operand(), token.pos)
        if token.kind == "!":
            self.advance()
            return Not(self.field_operand(), token.pos)
        return self.primary()

    def name_or_element(self) -> Expr:
        token = self.advance()
        name = str(token.value)
        if name in _HERMETIC_NAMES:
            raise self.error(_HERMETIC_NAMES[name], token)
        if self.tok.kind == "[":
            self.advance()
            return Index(self.array_name(token), self.subscript(), token.pos)
        if self.tok.kind == "(" and self.tok.pos == token.pos + len(name):
            raise self.error(f"unknown function {name}(): {_NO_FUNCTIONS}", token)
        return Name(name, token.pos)

    def subscript(self) -> Expr:
        """subscript := expr ']'   (after the '[')"""
        key = self.grouped(self.expr)
        if self.tok.kind == ",":
            raise self.error(_NO_MULTI_SUBSCRIPT)
        self.expect("]")
        return key

    def array_name(self, token: Token) -> str:
        name = str(token.value)
        if name in _HERMETIC_NAMES:
            raise self.error(_HERMETIC_NAMES[name], token)
        self.arrays.add(name)
        return name

    def builtin_call(self) -> Expr:
        """call := BUILTIN '(' [expr (',' expr)*] ')' | 'length' (bare)"""
        token = self.advance()
        name = str(token.value)
        if name in _UNSUPPORTED_CALLS:
            raise self.error(_UNSUPPORTED_CALLS[name].format(name), token)
        if self.tok.kind != "(":
            if name == "length":
                return Call("length", (), token.pos)
            raise self.error(f"syntax error: {name} must be called with (...)", token)
        self.advance()
        args: list[Expr] = []
        if self.tok.kind != ")":
            args.append(self.grouped(self.expr))
            while self.tok.kind == ",":
                self.advance()
                self.skip_newlines()
                args.append(self.grouped(self.expr))
        self.expect(")")
        if name == "split" and len(args) >= 2:
            if not isinstance(args[1], Name):
                raise self.error("split: the second argument must be an array name", token)
            self.arrays.add(args[1].name)
        return Call(name, tuple(args), token.pos)


def _pos(expr: Expr) -> int:
    return expr.pos
