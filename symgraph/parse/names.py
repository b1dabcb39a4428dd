"""The names the parser knows: a view of the table of operations (:mod:`symgraph.ops`).

Each record's spellings, with the builder that applies its class (through the parser's
guards where it needs them) and the numbers of arguments it takes; the parser's own
sugar (``sqrt``, ``ln``); the constants; the names no variable may take; and what a
name in the text stands for (:func:`variable`).

>>> spellings().scalar["tanh"][1:], "relu" in spellings().elementwise, "pi" in reserved()
((1, 1), True, True)
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn

import sympy
from sympy.matrices.expressions import MatrixSymbol

from .. import ops, rules  # noqa: F401  (rules: the records the names come from)
from .domain import applying, construct
from .guards import MAX_NAME_CHARS, logarithm, minmax, power
from .matrices import MATRIX_BUILDERS
from .source import Context, fail

#: The only names that are not variables besides the functions: ``e`` (Euler's number)
#: and ``pi`` or ``π``. Every other name, ``E``, ``I``, ``N``, ``S``, ``O`` and ``Q``
#: among them, is a real variable: SymPy's own singletons never come in through a name.
CONSTANTS = {"pi": sympy.pi, "π": sympy.pi, "e": sympy.E}
#: How the constants are listed in messages.
CONSTANTS_TEXT = "e (Euler's number) and pi or π"
#: The constants a program may assign; the name is then that line's variable everywhere.
ASSIGNABLE = frozenset({"e"})
#: The parser's own forms (built by the walk, not from a record).
SPECIAL = ("where", "piecewise")
Signature = tuple[Callable[..., Any], int, "int | None"]
#: Builders that add the parser's guards (or a second argument) to a record's class.
_BUILDERS: dict[type, Callable[..., sympy.Expr]] = {
    sympy.log: logarithm,
    sympy.Max: minmax(sympy.Max),
    sympy.Min: minmax(sympy.Min),
}
#: Spellings that are not one class applied to its arguments.
_SUGAR: dict[str, Signature] = {
    "sqrt": (lambda a: power(a, sympy.S.Half), 1, 1),
    "ln": (logarithm, 1, 1),
}


class Spellings(NamedTuple):
    """The parser's view of the table of operations: each name with its builder and the
    least and most arguments it takes; ``matrix`` builders take ``(values, labels)``."""

    scalar: dict[str, Signature]
    matrix: dict[str, Signature]
    elementwise: frozenset[str]
    reserved: frozenset[str]  # the names no variable may take


def _logdet(values, labels):
    """``logdet(X)``: log det X of a square matrix, as ``log(det(X))``."""
    return construct(sympy.log, MATRIX_BUILDERS[sympy.Determinant](values, labels))


def _spellings(table) -> Spellings:
    scalar, matrix, elementwise = dict(_SUGAR), {"logdet": (_logdet, 1, 1)}, {"sqrt", "ln"}
    for cls, op in table.items():
        for name in op.names:
            if cls in MATRIX_BUILDERS:
                matrix[name] = (MATRIX_BUILDERS[cls], *op.arity)
                continue
            scalar[name] = (_BUILDERS.get(cls) or applying(cls), *op.arity)
            if op.elementwise:
                elementwise.add(name)
    taken = frozenset({*scalar, *SPECIAL, *matrix, *CONSTANTS})
    return Spellings(scalar, matrix, frozenset(elementwise), taken)


_cached: list = [None, None]


def spellings() -> Spellings:
    """The names the parser knows now (a view of :func:`symgraph.ops.records`)."""
    table = ops.records()
    if _cached[0] is not table:  # the table is replaced, never changed, when one registers
        _cached[:] = [table, _spellings(table)]
    return _cached[1]


def reserved() -> frozenset[str]:
    """Names that cannot be variables (nor be given a shape)."""
    return spellings().reserved


# ---------------------------------------------------------------- names in the text


def variable(node: ast.Name, ctx: Context) -> sympy.Expr:
    """A name's value: a constant, an input, or the latest version of a program's name."""
    if node.id in CONSTANTS and node.id not in ctx.assigned:  # a program may assign e
        return CONSTANTS[node.id]
    check_name(node, ctx)
    assigned = ctx.assigned.get(node.id)
    if assigned is not None and assigned[0] >= ctx.statement:
        _before(node, ctx, assigned)
    name = ctx.versions.get(node.id, node.id)  # c after c += 1 is its latest version, c_2
    shape = ctx.shapes.get(name)
    return MatrixSymbol(name, *shape) if shape else sympy.Symbol(name, real=True)


def _before(node: ast.Name, ctx: Context, assigned: tuple[int, int]) -> NoReturn:
    """A name read before the line that first assigns it."""
    message = f"'{node.id}' is used before its assignment on line {assigned[1]}"
    if node.id in CONSTANTS:
        hint = f"this program assigns the constant {node.id}: here it is a variable on every"
        hint += " line; to keep the constant, give the variable another name"
    elif assigned[0] == ctx.statement:  # x = x + 1 with no x before: an input rebound
        hint = f"an input cannot be rebound; name the new value, e.g. {node.id}2 = ..."
    else:
        hint = "assign each name on a line before its first use"
    fail(node, ctx, message, hint)


def check_name(node: ast.Name, ctx: Context, target: bool = False) -> None:
    """Refuse a name no variable may have. A program may assign ``e`` (micrograd's names
    a step ``e``), never ``pi``, which would be typeset as the constant π."""
    name = node.id
    if name in reserved() and name not in CONSTANTS:
        hint = "choose another name" if target else f"call it, e.g. {name}(x) or x.{name}()"
        fail(node, ctx, f"'{name}' is a function, not a variable", hint)
    if target and name in CONSTANTS and name not in ASSIGNABLE:
        hint = f"the constants are {CONSTANTS_TEXT}; choose another name"
        fail(node, ctx, f"'{name}' is a constant and cannot be assigned", hint)
    if name.startswith("_"):
        fail(node, ctx, f"names must not start with '_': '{name}'")
    if len(name) > MAX_NAME_CHARS:
        fail(node, ctx, f"name longer than {MAX_NAME_CHARS} characters")
