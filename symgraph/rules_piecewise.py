"""The records of Piecewise and of the conditions inside it (see :mod:`symgraph.rules`).

A Piecewise differentiates piece by piece; its kink rule finds the boundaries where a
condition's sides are exactly equal at the point, and the pieces that meet there. The
conditions (relations, and/or/not) have no derivative: they are evaluated only.
"""

from __future__ import annotations

import sympy
from sympy import Expr, Piecewise
from sympy.core.relational import Relational
from sympy.functions.elementary.piecewise import ExprCondPair

from .lazynp import np
from .ops import Differential, Op, define, folded, size_bound

# ---------------------------------------------------------------- Piecewise


def _piecewise(expr: Expr, d: Differential) -> Expr:
    return Piecewise(*[(d(e), c) for e, c in expr.args])


def _chosen(expr: Piecewise, truth: dict) -> int:
    """Index of the first piece whose condition holds under the given truth values."""
    for i, (_, cond) in enumerate(expr.args):
        if cond.xreplace(truth) == sympy.true:
            return i
    return -1


def _piecewise_kink(expr, at):
    """The pieces met at a boundary: a condition whose sides are exactly equal here and
    do not agree on a neighbourhood (``max(x, y) <= x`` at x > y is no boundary)."""
    relations = set().union(*(c.atoms(Relational) for _, c in expr.args))
    fixed, boundary = {}, []
    for r in relations:
        try:
            s = at.compare(r.lhs, r.rhs)
        except ValueError:  # a side undefined here: that condition is never reached
            continue
        if s == 0 and not at.locally_constant(r):
            boundary.append(r)
        else:
            fixed[r] = sympy.true if at.truth(r) else sympy.false
    if not boundary or len(boundary) > 3:
        return None
    chosen = set()
    for mask in range(2 ** len(boundary)):
        truth = {r: sympy.true if mask >> k & 1 else sympy.false for k, r in enumerate(boundary)}
        chosen.add(_chosen(expr, {**fixed, **truth}))
    chosen.discard(-1)
    return tuple(expr.args[i].expr for i in sorted(chosen)) if len(chosen) > 1 else None


def _piecewise_values(*pairs):
    """The first piece whose condition holds, entry by entry (NaN where none does)."""
    out = np.nan
    for expr, cond in reversed(pairs):
        out = np.where(cond, expr, out)
    return out[()] if np.ndim(out) == 0 else out


define(
    Op(
        Piecewise,
        _piecewise,
        _piecewise_kink,
        "a Piecewise boundary",
        arity=(1, None),
        numpy=_piecewise_values,
        bound=size_bound,
    )
)


# ---------------------------------------------------------------- conditions (no derivative)


for _cls, _f in [
    (ExprCondPair, lambda expr, cond: (expr, cond)),
    (sympy.StrictLessThan, np.less),
    (sympy.LessThan, np.less_equal),
    (sympy.StrictGreaterThan, np.greater),
    (sympy.GreaterThan, np.greater_equal),
    (sympy.Equality, np.equal),
    (sympy.Unequality, np.not_equal),
    (sympy.And, folded(np.logical_and)),
    (sympy.Or, folded(np.logical_or)),
    (sympy.Not, np.logical_not),
]:
    define(Op(_cls, numpy=_f, arity=(1, None)))
