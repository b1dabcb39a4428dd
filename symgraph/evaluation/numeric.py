"""NumPy values of matrix expressions, one class at a time.

The :data:`~symgraph.evaluation.interpret.ARRAYS` implementation of
:mod:`symgraph.evaluation.interpret`: steps that involve matrices are evaluated here, with
NumPy arrays for the matrices and floats for the scalars, and so are finite differences
(scalar steps are evaluated in SymPy floating point,
:data:`~symgraph.evaluation.interpret.EXACT`). A plain interpreter over
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

import sympy
from sympy import Basic
from sympy.logic.boolalg import BooleanFalse, BooleanTrue
from sympy.matrices.expressions import Identity, MatrixSymbol, OneMatrix, ZeroMatrix
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .. import ops
from ..lazynp import np
from ..safety import admit
from . import conventions
from .conventions import Convention


def _elementwise(e: ElementwiseApplyFunction, arg, convention: Convention):
    """The Lambda's body on every entry: the interpreter with its variable bound to the
    array of entries (no code is generated)."""
    (v,) = e.function.variables
    entries = np.asarray(arg, dtype=float)
    out = _value(e.function.expr, {v: entries}, convention)
    return np.broadcast_to(out, np.shape(arg)).astype(float)


def by_sympy(cls: type) -> Callable:
    """Values of a function without a NumPy implementation: SymPy's own numbers, entry by
    entry (NaN where there is no real number)."""

    def one(*values):
        try:
            return float(cls(*map(sympy.Float, values)).evalf())
        except TypeError:  # no real number there
            return math.nan

    return np.vectorize(one, otypes=[float])


_implementations: dict = {}


def implementation(cls: type, convention: Convention) -> Callable:
    """The NumPy implementation of ``cls`` in the table in force: its record's (or the
    nearest along its MRO), else SymPy's numbers entry by entry."""
    table = ops.records()
    key = (cls, convention.name)
    cached = _implementations.get(key)
    if cached is not None and cached[0] is table:
        return cached[1]
    op = next((op for k in cls.__mro__ if (op := table.get(k)) and op.evaluates), None)
    found = op.implementation(convention) if op else by_sympy(cls)
    _implementations[key] = (table, found)
    return found


def value(expr: Basic, env: Mapping, convention: Convention | str = "split"):
    """The NumPy value of ``expr`` with ``env`` giving every free symbol's value.

    ``expr`` is first walked against :mod:`symgraph.safety`'s whitelist; then each
    class is evaluated by its record's NumPy implementation (a plain interpreter: no code
    is generated or run). A symbol without a value raises ``KeyError``.
    """
    return interpreter(expr, convention)(env)


def interpreter(expr: Basic, convention: Convention | str = "split") -> Callable[[Mapping], object]:
    """``env -> value(expr, env)``, with the whitelist walked once, here, not per call."""
    admit(expr, "a numeric evaluation")
    rules = conventions.named(convention)

    def run(env: Mapping):
        with np.errstate(all="ignore"):  # NaN and inf are the caller's to report
            return _value(expr, env, rules)

    return run


def first_fault(expr: Basic, env: Mapping, convention: Convention | str = "split") -> str | None:
    """NumPy's first floating-point fault in ``expr`` at ``env``, e.g. ``"overflow
    encountered in exp"`` (None if there is none): run again, only after a NaN or an
    infinity, to say why (the interpreter itself ignores faults)."""
    try:
        with np.errstate(all="raise"):
            _value(expr, env, conventions.named(convention))
    except FloatingPointError as fault:
        return str(fault)
    except (ArithmeticError, ValueError, KeyError, np.linalg.LinAlgError):
        return None
    return None


def on_entries(body: Basic, variable: sympy.Dummy, entries, convention: Convention | str = "split"):
    """The value of an elementwise step's ``body`` (or a part of it) with its
    ``variable`` bound to the array of ``entries``."""
    admit(body, "a numeric evaluation", bound=frozenset({variable}))
    with np.errstate(all="ignore"):
        return _value(body, {variable: entries}, conventions.named(convention))


def _value(expr: Basic, env: Mapping, convention: Convention):
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
    return implementation(type(expr), convention)(*args)
