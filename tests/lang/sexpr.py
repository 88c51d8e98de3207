"""Render a syntax tree as a compact S-expression, so parse tests read as data.

    echo a $x            →  (cmd echo a (var x))
    x=[1 "b"]            →  (= x (list 1 q"b"))
    a | b &              →  (pipe & (cmd a) (cmd b))

Bareword strings print bare when that is unambiguous (`a`), otherwise as JSON
(`"a b"`); a quoted string prints `q"..."`; numbers and booleans print as
JSON so `5` (int) and `"5"` (str) differ.
"""

from __future__ import annotations

import json
import re
from typing import Any

from kaish_kernel.lang import ast

_PLAIN = re.compile(r"[A-Za-z_./~@+-][A-Za-z0-9_./~@+:,#=-]*\Z")


def _value(value: Any, quoted: bool) -> str:
    if isinstance(value, str):
        if quoted:
            return "q" + json.dumps(value, ensure_ascii=False)
        if _PLAIN.match(value) and value not in ("true", "false") and not value[0].isdigit() \
                and not re.match(r"-?[0-9]", value):
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


def _seg(seg: ast.Segment) -> str:
    if isinstance(seg, ast.KeySeg):
        return json.dumps(seg.key, ensure_ascii=False)
    if isinstance(seg, ast.IndexSeg):
        return str(seg.index)
    if isinstance(seg, ast.SliceSeg):
        lo = "" if seg.start is None else str(seg.start)
        hi = "" if seg.end is None else str(seg.end)
        return f"{lo}:{hi}"
    return f"(dyn {expr(seg.expr)})"


def _path(path: ast.VarPath) -> str:
    return " ".join([path.name, *(_seg(s) for s in path.segments)])


def arith(node: ast.Arith) -> str:
    if isinstance(node, ast.ArithNumber):
        return str(node.value)
    if isinstance(node, ast.ArithName):
        return node.name
    if isinstance(node, ast.ArithSubscript):
        return f"(idx {node.name} {arith(node.index)})"
    if isinstance(node, ast.ArithExpand):
        return expr(node.expr)
    if isinstance(node, ast.ArithUnary):
        return f"(u{node.op} {arith(node.operand)})"
    return f"({node.op} {arith(node.left)} {arith(node.right)})"


def expr(node: ast.Expr) -> str:
    if isinstance(node, ast.Literal):
        return _value(node.value, node.quoted)
    if isinstance(node, ast.Interpolated):
        return "(interp " + " ".join(expr(p) for p in node.parts) + ")"
    if isinstance(node, ast.VarRef):
        return f"(var {_path(node.path)})"
    if isinstance(node, ast.VarDefault):
        return f"(default {_path(node.path)} {expr(node.default)})"
    if isinstance(node, ast.VarLength):
        return f"(len {_path(node.path)})"
    if isinstance(node, ast.Special):
        return "$" + node.name
    if isinstance(node, ast.CommandSubst):
        return "(subst " + block(node.body) + ")"
    if isinstance(node, ast.Arithmetic):
        return f"(arith {arith(node.expr)})"
    if isinstance(node, ast.GlobWord):
        return f"(glob {json.dumps(node.pattern, ensure_ascii=False)})"
    if isinstance(node, ast.ListLiteral):
        items = [("..." if i.spread else "") + expr(i.value) for i in node.items]
        return "(list" + "".join(" " + i for i in items) + ")"
    if isinstance(node, ast.RecordLiteral):
        entries = [f"({expr(e.key)} {expr(e.value)})" for e in node.entries]
        return "(record" + "".join(" " + e for e in entries) + ")"
    raise TypeError(node)


def arg(node: ast.Arg) -> str:
    if isinstance(node, ast.Positional):
        return expr(node.value)
    if isinstance(node, ast.ShortFlag):
        return f"(short {node.name})"
    if isinstance(node, ast.LongFlag):
        return f"(long {node.name})"
    if isinstance(node, ast.NamedArg):
        return f"(named {node.name} {expr(node.value)})"
    if isinstance(node, ast.WordAssign):
        return f"(wa {node.name} {expr(node.value)})"
    return "(dd)"


def redirect(node: ast.Redirect) -> str:
    if node.heredoc is not None:
        h = node.heredoc
        flags = ("-" if h.strip_tabs else "") + ("'" if h.literal else "")
        return f"(<<{flags} {h.delimiter} {expr(h.body)})"
    if node.target is None:
        return f"({node.kind})"
    return f"({node.kind} {expr(node.target)})"


def test(node: ast.TestExpr) -> str:
    if isinstance(node, ast.FileTest | ast.UnaryTest):
        return f"({node.op} {expr(node.operand)})"
    if isinstance(node, ast.CompareTest):
        return f"({node.op} {expr(node.left)} {expr(node.right)})"
    if isinstance(node, ast.MembershipTest):
        op = "not-in" if node.negated else "in"
        return f"({op} {expr(node.left)} {expr(node.right)})"
    if isinstance(node, ast.WordTest):
        return f"(word {expr(node.operand)})"
    if isinstance(node, ast.TestNot):
        return f"(! {test(node.operand)})"
    if isinstance(node, ast.TestAnd):
        return f"(&& {test(node.left)} {test(node.right)})"
    return f"(|| {test(node.left)} {test(node.right)})"


def _assignment(node: ast.Assignment) -> str:
    target = node.name + "".join(f"[{_seg(s)}]" for s in node.path)
    head = "local" if node.local else "="
    return f"({head} {target} {expr(node.value)})"


def command(node: ast.Command) -> str:
    pieces = ["cmd", _value(node.name, False)]
    pieces += [arg(a) for a in node.args]
    pieces += [redirect(r) for r in node.redirects]
    pieces += ["(env " + _assignment(e)[3:] for e in node.env]
    return "(" + " ".join(pieces) + ")"


def stmt(node: ast.Stmt | ast.Stage) -> str:
    if isinstance(node, ast.Command):
        return command(node)
    if isinstance(node, ast.Pipeline):
        if len(node.stages) == 1 and not node.negated and not node.background:
            return stmt(node.stages[0])
        flags = ("!" if node.negated else "") + ("&" if node.background else "")
        head = "pipe" + (" " + flags if flags else "")
        return f"({head} " + " ".join(stmt(s) for s in node.stages) + ")"
    if isinstance(node, ast.AndOr):
        return f"({node.op} {stmt(node.left)} {stmt(node.right)})"
    if isinstance(node, ast.Assignment):
        return _assignment(node)
    if isinstance(node, ast.If):
        out = ["if"]
        for br in node.branches:
            out.append(f"({block(br.condition)}) ({block(br.body)})")
        if node.else_body is not None:
            out.append(f"(else {block(node.else_body)})")
        return "(" + " ".join(out) + ")"
    if isinstance(node, ast.For):
        items = " ".join(expr(i) for i in node.items)
        return f"(for {node.var} ({items}) {block(node.body)})"
    if isinstance(node, ast.While):
        return f"(while ({block(node.condition)}) {block(node.body)})"
    if isinstance(node, ast.Case):
        branches = [
            "((" + " ".join(expr(p) for p in b.patterns) + ") " + block(b.body) + ")"
            for b in node.branches
        ]
        return f"(case {expr(node.subject)}" + "".join(" " + b for b in branches) + ")"
    if isinstance(node, ast.FunctionDef):
        return f"(fn {node.name} {block(node.body)})"
    if isinstance(node, ast.TestStmt):
        return f"[[ {test(node.expr)} ]]"
    name = type(node).__name__.lower()
    value = getattr(node, "levels", None) or getattr(node, "value", None)
    return f"({name})" if value is None else f"({name} {expr(value)})"


def block(body: ast.Block) -> str:
    return " ; ".join(stmt(s) for s in body)


def program(node: ast.Program) -> str:
    return block(node.body)
