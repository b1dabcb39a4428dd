"""The names the parser knows: a view of the table of operations (:mod:`symgraph.ops`).

Each record's spellings, with the builder that applies its class (through the parser's
guards where it needs them) and the numbers of arguments it takes; the parser's own
sugar (``sqrt``, ``ln``); the constants; and the names no variable may take.

>>> spellings().scalar["tanh"][1:], "relu" in spellings().elementwise, "pi" in reserved()
((1, 1), True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import sympy

from .. import ops, rules  # noqa: F401  (rules: the records the names come from)
from .domain import applying, construct
from .guards import logarithm, minmax, power
from .matrices import MATRIX_BUILDERS

#: The only names that are not variables besides the functions: ``e`` (Euler's number)
#: and ``pi`` or ``π``. Every other name, ``E``, ``I``, ``N``, ``S``, ``O`` and ``Q``
#: among them, is a real variable: SymPy's own singletons never come in through a name.
CONSTANTS = {"pi": sympy.pi, "π": sympy.pi, "e": sympy.E}
#: How the constants are listed in messages.
CONSTANTS_TEXT = "e (Euler's number) and pi or π"
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
