"""NumPy values of matrix expressions, one class at a time.

Scalar steps are evaluated in SymPy floating point (see :mod:`symgraph.evaluate`);
steps that involve matrices are evaluated here, with NumPy arrays for the matrices
and floats for the scalars, and so are finite differences. A plain interpreter over
the whitelist of :mod:`symgraph.safety`: each admitted class has a NumPy rule, and no
source is generated. Elementwise functions run their Lambda's body on the array of
entries, with ``Heaviside(0)`` and ``sign(0)`` set by the kink convention.

>>> import numpy as np, sympy
>>> W, x = sympy.MatrixSymbol("W", 2, 2), sympy.MatrixSymbol("x", 2, 1)
>>> value(W * x + x, {W: np.eye(2), x: np.array([[1.0], [2.0]])}).ravel()
array([2., 4.])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import reduce

import numpy as np
import sympy
from sympy import Basic
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import BooleanFalse, BooleanTrue
from sympy.matrices.expressions import (
    HadamardProduct,
    Identity,
    Inverse,
    MatAdd,
    MatMul,
    MatPow,
    MatrixSymbol,
    OneMatrix,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .functions import NUMPY_IMPLEMENTATIONS, msum, relu, sigmoid, softplus
from .safety import admit

#: ``Heaviside(0)`` and ``sign(0)`` inside elementwise derivatives, by kink convention.
AT_ZERO = {"split": (0.5, 0.0), "zero": (0.0, 0.0), "first": (0.0, -1.0), "raise": (0.5, 0.0)}


def _product(values: list) -> object:
    def times(a, b):
        return a @ b if np.ndim(a) == 2 and np.ndim(b) == 2 else a * b

    return reduce(times, values)


def _elementwise(e: ElementwiseApplyFunction, arg, convention: str):
    """The Lambda's body on every entry: the interpreter with its variable bound to the
    array of entries (no code is generated)."""
    (v,) = e.function.variables
    entries = np.asarray(arg, dtype=float)
    out = _value(e.function.expr, {v: entries}, convention)
    return np.broadcast_to(out, np.shape(arg)).astype(float)


def _matpow(e, base, exponent):
    return np.linalg.matrix_power(base, int(exponent))


def _heaviside(convention: str):
    def h(e, x, *at_zero):
        return np.heaviside(x, AT_ZERO[convention][0])

    return h


def _sign(convention: str):
    def s(e, x):
        return np.where(np.equal(x, 0), AT_ZERO[convention][1], np.sign(x))

    return s


def _piecewise(e, *pairs):
    """The first piece whose condition holds, entry by entry (NaN where none does)."""
    out = np.nan
    for expr, cond in reversed(pairs):
        out = np.where(cond, expr, out)
    return out[()] if np.ndim(out) == 0 else out


def _registered(e, *args):
    """A function registered in the rule table: SymPy's own numbers for it, entry by entry."""

    def one(*values):
        try:
            return float(e.func(*map(sympy.Float, values)).evalf())
        except TypeError:  # no real number there
            return math.nan

    return np.vectorize(one, otypes=[float])(*args)


def _unary(f: Callable) -> Callable:
    return lambda e, x: f(x)


#: How each class is evaluated, given its evaluated arguments: NumPy ufuncs, so one
#: rule serves a float and an array of entries alike.
NUMERIC: dict[type, Callable] = {
    MatMul: lambda e, *args: _product(list(args)),
    MatAdd: lambda e, *args: sum(args[1:], args[0]),
    Transpose: lambda e, a: np.transpose(a),
    HadamardProduct: lambda e, *args: reduce(np.multiply, args),
    Trace: lambda e, a: float(np.trace(a)),
    Inverse: lambda e, a, *exponent: np.linalg.inv(a),
    MatPow: _matpow,
    msum: lambda e, a: float(np.sum(a)),
    sympy.Add: lambda e, *args: sum(args[1:], args[0]),
    sympy.Mul: lambda e, *args: reduce(np.multiply, args),  # entry by entry, never @
    sympy.Pow: lambda e, b, x: np.power(np.asarray(b, dtype=float), x),
    sympy.Max: lambda e, *args: reduce(np.maximum, args),
    sympy.Min: lambda e, *args: reduce(np.minimum, args),
    sympy.atan2: lambda e, y, x: np.arctan2(y, x),
    sympy.DiracDelta: lambda e, x, *k: np.zeros_like(x, dtype=float),
    sympy.Piecewise: _piecewise,
    ExprCondPair: lambda e, expr, cond: (expr, cond),
    sympy.StrictLessThan: lambda e, a, b: np.less(a, b),
    sympy.LessThan: lambda e, a, b: np.less_equal(a, b),
    sympy.StrictGreaterThan: lambda e, a, b: np.greater(a, b),
    sympy.GreaterThan: lambda e, a, b: np.greater_equal(a, b),
    sympy.Equality: lambda e, a, b: np.equal(a, b),
    sympy.Unequality: lambda e, a, b: np.not_equal(a, b),
    sympy.And: lambda e, *args: reduce(np.logical_and, args),
    sympy.Or: lambda e, *args: reduce(np.logical_or, args),
    sympy.Not: lambda e, a: np.logical_not(a),
    **{
        cls: _unary(f)
        for cls, f in [
            (sympy.exp, np.exp),
            (sympy.log, np.log),
            (sympy.sin, np.sin),
            (sympy.cos, np.cos),
            (sympy.tan, np.tan),
            (sympy.cot, lambda x: 1 / np.tan(x)),
            (sympy.sec, lambda x: 1 / np.cos(x)),
            (sympy.csc, lambda x: 1 / np.sin(x)),
            (sympy.asin, np.arcsin),
            (sympy.acos, np.arccos),
            (sympy.atan, np.arctan),
            (sympy.sinh, np.sinh),
            (sympy.cosh, np.cosh),
            (sympy.tanh, np.tanh),
            (sympy.asinh, np.arcsinh),
            (sympy.acosh, np.arccosh),
            (sympy.atanh, np.arctanh),
            (sympy.Abs, np.abs),
            (sympy.floor, np.floor),
            (sympy.ceiling, np.ceil),
            (sympy.erf, np.vectorize(math.erf, otypes=[float])),
            (sigmoid, NUMPY_IMPLEMENTATIONS["sigmoid"]),
            (relu, NUMPY_IMPLEMENTATIONS["relu"]),
            (softplus, NUMPY_IMPLEMENTATIONS["softplus"]),
        ]
    },
}
#: Rules that depend on the kink convention.
_BY_CONVENTION = {sympy.Heaviside: _heaviside, sympy.sign: _sign}


def value(expr: Basic, env: Mapping, convention: str = "split"):
    """The NumPy value of ``expr`` with ``env`` giving every free symbol's value.

    ``expr`` is first walked against :mod:`symgraph.safety`'s whitelist; then each
    class is evaluated by its rule in :data:`NUMERIC` (a plain interpreter: no code is
    generated or run). A symbol without a value raises ``KeyError``.
    """
    admit(expr, "a numeric evaluation")
    with np.errstate(all="ignore"):  # NaN and inf are the caller's to report
        return _value(expr, env, convention)


def interpreter(expr: Basic, convention: str = "split") -> Callable[[Mapping], object]:
    """``env -> value(expr, env)``, with the whitelist walked once, here, not per call."""
    admit(expr, "a numeric evaluation")

    def run(env: Mapping):
        with np.errstate(all="ignore"):
            return _value(expr, env, convention)

    return run


def _value(expr: Basic, env: Mapping, convention: str):
    if expr in env:
        return env[expr]
    if isinstance(expr, Identity):
        return np.eye(expr.rows)
    if isinstance(expr, ZeroMatrix | OneMatrix):
        return np.full(expr.shape, 0.0 if isinstance(expr, ZeroMatrix) else 1.0)
    if isinstance(expr, MatrixSymbol | sympy.Symbol):
        raise KeyError(expr)
    if isinstance(expr, ElementwiseApplyFunction):
        return _elementwise(expr, _value(expr.expr, env, convention), convention)
    if isinstance(expr, sympy.MatrixBase):
        return np.array([[_value(a, env, convention) for a in row] for row in expr.tolist()])
    if expr.is_Number or expr.is_NumberSymbol:
        return float(expr)  # zoo and nan: NaN
    if isinstance(expr, BooleanTrue | BooleanFalse):
        return bool(expr)
    args = [_value(a, env, convention) for a in expr.args]
    rule = NUMERIC.get(type(expr)) or _BY_CONVENTION.get(type(expr), lambda c: None)(convention)
    return (rule or _registered)(expr, *args)
