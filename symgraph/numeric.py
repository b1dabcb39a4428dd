"""NumPy values of matrix expressions, one class at a time.

Scalar steps are evaluated in SymPy floating point (see :mod:`symgraph.evaluate`);
steps that involve matrices are evaluated here, with NumPy arrays for the matrices
and floats for the scalars. Elementwise functions are vectorised from their SymPy
form, with ``Heaviside(0)`` and ``sign(0)`` set by the kink convention.

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

from .functions import NUMPY_IMPLEMENTATIONS, msum

#: ``Heaviside(0)`` and ``sign(0)`` inside elementwise derivatives, by kink convention.
AT_ZERO = {"split": (0.5, 0.0), "zero": (0.0, 0.0), "first": (0.0, -1.0), "raise": (0.5, 0.0)}


def _product(values: list) -> object:
    def times(a, b):
        return a @ b if np.ndim(a) == 2 and np.ndim(b) == 2 else a * b

    return reduce(times, values)


def _elementwise(e: ElementwiseApplyFunction, arg, convention: str):
    (v,) = e.function.variables
    h0, s0 = AT_ZERO[convention]
    modules = [
        {
            "Heaviside": lambda x, *_: np.heaviside(x, h0),
            "sign": lambda x: np.where(x == 0, s0, np.sign(x)),
            "DiracDelta": lambda x, *_: np.zeros_like(x),
            **NUMPY_IMPLEMENTATIONS,
        },
        "numpy",
    ]
    f = sympy.lambdify(v, e.function.expr, modules=modules)
    return np.broadcast_to(f(np.asarray(arg, dtype=float)), np.shape(arg)).astype(float)


def _matpow(e, base, exponent):
    return np.linalg.matrix_power(base, int(exponent))


#: How each class is evaluated, given its evaluated arguments.
NUMERIC: dict[type, Callable] = {
    MatMul: lambda e, *args: _product(list(args)),
    MatAdd: lambda e, *args: sum(args[1:], args[0]),
    Transpose: lambda e, a: np.transpose(a),
    HadamardProduct: lambda e, *args: reduce(np.multiply, args),
    Trace: lambda e, a: float(np.trace(a)),
    Inverse: lambda e, a, *exponent: np.linalg.inv(a),
    MatPow: _matpow,
    msum: lambda e, a: float(np.sum(a)),
}


def value(expr: Basic, env: Mapping, convention: str = "split"):
    """The NumPy value of ``expr`` with ``env`` giving every free symbol's value."""
    if expr in env:
        return env[expr]
    if isinstance(expr, Identity):
        return np.eye(expr.rows)
    if isinstance(expr, ZeroMatrix | OneMatrix):
        return np.full(expr.shape, 0.0 if isinstance(expr, ZeroMatrix) else 1.0)
    if isinstance(expr, MatrixSymbol):
        raise KeyError(expr)
    if isinstance(expr, ElementwiseApplyFunction):
        return _elementwise(expr, value(expr.expr, env, convention), convention)
    if isinstance(expr, sympy.MatrixBase):
        return np.array(expr.tolist(), dtype=float)
    if not expr.free_symbols:
        return float(expr)
    rule = NUMERIC.get(type(expr))
    args = [value(a, env, convention) for a in expr.args]
    if rule is not None:
        return rule(expr, *args)
    return _scalar(expr, args)


def _scalar(expr: Basic, args: list):
    """A scalar operation on evaluated arguments (arrays broadcast elementwise)."""
    if expr.is_Add:
        return sum(args[1:], args[0])
    if expr.is_Mul:
        return _product(args)
    if expr.is_Pow:
        return np.power(args[0], args[1])
    f = sympy.lambdify(
        sympy.symbols(f"a:{len(args)}"),
        expr.func(*sympy.symbols(f"a:{len(args)}")),
        modules=[NUMPY_IMPLEMENTATIONS, "numpy", math],
    )
    return f(*args)
