"""Bounded simplification: cheap tidying by default, a thorough pass on a budget.

Closed forms are tidied by cheap, near-linear means (:func:`tidy`); the full
``sympy.simplify`` runs only on request (:func:`thorough`), in a child process with
a time budget, so a large expression can never hang the caller.

>>> from sympy import Symbol, exp
>>> x = Symbol("x", real=True)
>>> tidy(2*x*exp(x) + 4*x**2*exp(x))
2*x*(2*x + 1)*exp(x)
>>> thorough((x**2 - 1)/(x - 1), seconds=20)
x + 1
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from collections.abc import Mapping

import sympy
from sympy import Basic, Expr, Symbol
from sympy.matrices.expressions import MatrixExpr

#: Expressions with more operations than this are left as they are by :func:`tidy`.
TIDY_MAX_OPS = 400
#: Default time budget of :func:`thorough`, in seconds.
THOROUGH_SECONDS = 5.0


def resolve(forms: Mapping[Symbol, Expr], names: Mapping[Symbol, Symbol]) -> dict:
    """Substitute, in order, each ``names`` symbol (``tbar_3``) by its node's resolved form.

    ``forms`` must be in evaluation order: a form only refers to earlier nodes.
    """
    out: dict[Symbol, Expr] = {}
    for node, expr in forms.items():
        # a matrix input's seed is its own direction Ẋ: it stays a symbol
        subs = {d: out[names[d]] for d in expr.free_symbols if names.get(d) in out}
        expr = expr.xreplace(subs) if subs else expr
        out[node] = expr.doit() if subs and isinstance(expr, MatrixExpr) else expr
    return out


def tidy(expr: Expr) -> Expr:
    """Pull out common factors (``factor_terms``) and gather Piecewise branches
    (``piecewise_fold``), unless the expression is large."""
    if sympy.count_ops(expr) > TIDY_MAX_OPS:
        return expr
    if expr.has(sympy.Piecewise):  # one Piecewise of the pieces' derivatives, not a sum of them
        expr = sympy.piecewise_fold(expr)
    return sympy.factor_terms(expr)


def _simplify_into(queue, expr) -> None:
    queue.put(sympy.simplify(expr))


def thorough(expr: Expr, seconds: float = THOROUGH_SECONDS) -> Expr:
    """``sympy.simplify`` within ``seconds``; the cheap :func:`tidy` form if time runs out."""
    if not isinstance(expr, Basic) or expr.is_Atom:
        return expr
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # no fork (Windows): only small expressions are safe to try
        return sympy.simplify(expr) if sympy.count_ops(expr) <= TIDY_MAX_OPS else tidy(expr)
    queue = context.Queue()
    worker = context.Process(target=_simplify_into, args=(queue, expr), daemon=True)
    worker.start()
    try:  # read before joining: a large result would otherwise block the child
        return queue.get(timeout=seconds)
    except queue_module.Empty:
        return tidy(expr)
    finally:
        worker.kill()
        worker.join()
