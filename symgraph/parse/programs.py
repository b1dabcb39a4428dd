"""Programs as people write them: one ``name = expression`` a line, names rebound freely.

A name assigned again (``c = c + 1``, ``c += 1``, ``c -= a``, ``c *= 2``, ``c /= 2``,
``c **= 2``, ``W @= V``) is a new *version* of that name, as in static single assignment:
the first is ``c``, the next ``c_2``, then ``c_3``, ... (a name the program already uses
is skipped: ``c_3`` then, if ``c_2`` is taken). Each version is a step of its own;
a line reads the latest version before it. The versions are valid names for every
interface (``--outputs c_2``, JSON, ``rv.adjoints["c_2"]``) and SymPy typesets them with a
subscript (``c_{2}``). The program's output is its last line's name, in its final version;
:meth:`Program.final` turns a program name into its final version.

Inputs are the names never assigned; a name assigned somewhere may not be read before its
first line, so no name is both an input and a step (``x = x + 1`` is refused when there is
no ``x`` before it: the input would be rebound). A program may assign ``e`` (then ``e`` is
that variable on every line, Euler's number being ``exp(1)``), but not ``pi`` or ``π``.

>>> from symgraph.parse import parse
>>> program = parse("c = a + b\\nc += 2*c\\nc *= a")
>>> program.lines
((c, a + b), (c_2, 3*c), (c_3, a*c_2))
>>> program.output, program.final("c"), program.versions
(c_3, c_3, (('c', (c, c_2, c_3)),))
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain, count
from typing import Any

import sympy
from sympy.matrices.expressions import MatrixSymbol

from .grammar import walk
from .matrices import is_matrix
from .names import check_name, reserved
from .source import Context, Source, fail

Name = sympy.Symbol | MatrixSymbol
_BARE = "name it, or wrap an expression that spans lines in parentheses"
_SEVERAL = "give each output its own line and choose them with outputs=[...] (--outputs)"
#: The augmented assignments: ``c op= x`` is ``c op (x)`` on the latest version of ``c``.
_AUGMENTED = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult)


@dataclass(frozen=True)
class Program:
    """A straight-line program: one ``name = expression`` a line, in order.

    Attributes
    ----------
    lines : tuple of (Symbol, Expr)
        Each line's name (a rebound name's version: ``c``, ``c_2``, ...) and right-hand
        side; later lines use earlier names as symbols. A line whose right-hand side is a
        matrix names a ``MatrixSymbol`` of its shape.
    output : Symbol
        The last line's name.
    versions : tuple of (str, tuple of Symbol)
        Each name assigned more than once, with its versions in order.
    """

    lines: tuple[tuple[Name, sympy.Basic], ...]
    output: Name
    versions: tuple[tuple[str, tuple[Name, ...]], ...] = ()

    def final(self, name: str) -> Name:
        """The symbol a program name stands for at the end: its last version.

        Raises
        ------
        KeyError
            If no line assigns ``name``.
        """
        for given, made in self.versions:
            if given == name:
                return made[-1]
        for symbol, _ in self.lines:
            if symbol.name == name:
                return symbol
        raise KeyError(name)


def _target(stmt: ast.stmt, ctx: Context) -> ast.Name:
    if isinstance(stmt, ast.AugAssign):
        if not isinstance(stmt.op, _AUGMENTED):
            hint = "use +=, -=, *=, /= or **=, or write c = c ... on the line"
            fail(stmt, ctx, "this augmented assignment is not supported", hint)
        if not isinstance(stmt.target, ast.Name):
            fail(stmt.target, ctx, "the left side of an assignment must be a name", "e.g. c += 1")
        check_name(stmt.target, ctx, target=True)
        return stmt.target
    if not isinstance(stmt, ast.Assign):
        fail(stmt, ctx, "only 'name = expression' lines are allowed", "and a final expression")
    if len(stmt.targets) > 1:
        fail(stmt.targets[1], ctx, "chained assignment is not supported", "one name a line")
    target = stmt.targets[0]
    if isinstance(target, ast.Tuple | ast.List):
        fail(target, ctx, "tuple assignment is not supported", "assign one name a line")
    if not isinstance(target, ast.Name):
        fail(target, ctx, "the left side of '=' must be a name", "e.g. t1 = exp(x)")
    check_name(target, ctx, target=True)
    return target


def _assignments(body: list[ast.stmt], ctx: Context) -> dict[str, tuple[int, int]]:
    """Which statement first assigns each name, after checking every statement's shape."""
    assigned: dict[str, tuple[int, int]] = {}
    for index, stmt in enumerate(body):
        if isinstance(stmt, ast.Expr):
            if index < len(body) - 1:
                fail(stmt, ctx, "only the last statement may be a bare expression", _BARE)
            continue
        assigned.setdefault(_target(stmt, ctx).id, (index, stmt.lineno))
    return assigned


def _right_side(stmt: Any, ctx: Context) -> ast.expr:
    """The expression a line assigns: ``c += x`` is ``c + x`` (as ``c + (x)``), placed
    where the line is, so messages point into it."""
    value = stmt.value
    if isinstance(value, ast.List | ast.Tuple):
        fail(value, ctx, "a program line holds one value, not a list", _SEVERAL)
    if not isinstance(stmt, ast.AugAssign):
        return value
    left = ast.copy_location(ast.Name(stmt.target.id, ast.Load()), stmt.target)
    binop = ast.BinOp(left, stmt.op, value)
    binop.lineno, binop.col_offset = stmt.lineno, stmt.col_offset
    binop.end_lineno, binop.end_col_offset = value.end_lineno, value.end_col_offset
    return binop


class _Versions:
    """The version names of a program: ``c``, then ``c_2``, ``c_3``, ... never a name the
    program (or ``shapes``) already uses."""

    def __init__(self, module: ast.Module, shapes: Mapping) -> None:
        self.taken = {n.id for n in ast.walk(module) if isinstance(n, ast.Name)}
        self.taken |= set(shapes) | reserved()
        self.made: dict[str, list[Name]] = {}
        self.latest: dict[str, str] = {}  # what a name means on the next line

    def next(self, name: str) -> str:
        if name not in self.made:
            return name
        k = len(self.made[name]) + 1
        while f"{name}_{k}" in self.taken:
            k += 1
        self.taken.add(f"{name}_{k}")
        return f"{name}_{k}"

    def record(self, name: str, symbol: Name) -> None:
        self.made.setdefault(name, []).append(symbol)
        self.latest[name] = symbol.name

    def rebound(self) -> tuple[tuple[str, tuple[Name, ...]], ...]:
        return tuple((n, tuple(made)) for n, made in self.made.items() if len(made) > 1)


def program(module: ast.Module, source: Source, shapes: Mapping) -> Program:
    """The program of a parsed module (see :func:`symgraph.parse.parse_program`)."""
    assigned = _assignments(module.body, Context(source, {}))
    known = dict(shapes)  # grows: a line whose value is a matrix gives its name a shape
    versions, lines = _Versions(module, shapes), []
    for index, stmt in enumerate(module.body):
        if isinstance(stmt, ast.Expr):  # a final bare expression is the output f, y, ...
            names = chain("fy", (f"f{i}" for i in count(1)))
            name = next(n for n in names if n not in versions.taken)
        else:
            name = (stmt.target if isinstance(stmt, ast.AugAssign) else stmt.targets[0]).id
        ctx = Context(source, assigned, known, index, versions.latest)
        value = walk(_right_side(stmt, ctx), ctx, 0)
        symbol = _line_name(versions.next(name), value, stmt, ctx)
        versions.record(name, symbol)
        lines.append((symbol, value))
    return Program(tuple(lines), lines[-1][0], versions.rebound())


def _line_name(name: str, value: sympy.Basic, stmt: Any, ctx: Context) -> Name:
    """The symbol a line assigns: a matrix of the value's shape, recorded for later lines."""
    given = ctx.shapes.get(name)
    if given and (not is_matrix(value) or value.shape != given):
        made = f"{value.rows}×{value.cols}" if is_matrix(value) else "a scalar"
        message = f"'{name}' has shape {given[0]}×{given[1]} in shapes; its line makes it {made}"
        fail(
            getattr(stmt, "target", None) or stmt.targets[0],
            ctx,
            message,
            "fix its shape or its line",
        )
    if not is_matrix(value):
        return sympy.Symbol(name, real=True)
    ctx.shapes[name] = value.shape  # type: ignore[index]
    return MatrixSymbol(name, *value.shape)
