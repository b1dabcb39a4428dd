"""The matrix records of the table (see :mod:`symgraph.rules`): push and pull rules, values."""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import reduce

from sympy import Basic, Determinant, Expr, Lambda, Mul, S
from sympy.matrices.expressions import (
    HadamardProduct,
    Identity,
    Inverse,
    MatAdd,
    MatMul,
    MatPow,
    MatrixExpr,
    OneMatrix,
    Trace,
    Transpose,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .functions import elementwise, msum
from .lazynp import np
from .ops import Differential, Op, define, folded, local_partial, register_partial, total

# ---------------------------------------------------------------- matrices
#
# A matrix operation registers its differential (push: the tangent, as a matrix
# expression) and its pull (the adjoint of each argument, with the transposes the
# shapes require: for C = A B, Ā = C̄ Bᵀ and B̄ = Aᵀ C̄). Scalars inside a MatMul are
# coefficients; the adjoint of a scalar coefficient c of C = c M is ⟨C̄, M⟩ = tr(C̄ᵀ M).


def _is_matrix(e: Basic) -> bool:
    return isinstance(e, MatrixExpr)


def _matmul(expr: Expr, d: Differential) -> Expr:
    args = expr.args
    return total(MatMul(*args[:i], d(a), *args[i + 1 :]) for i, a in enumerate(args) if d(a) != 0)


def _matmul_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    args = expr.args
    scalars = Mul(*[a for j, a in enumerate(args) if j != i and not _is_matrix(a)])
    if not _is_matrix(args[i]):  # a coefficient: the inner product of C̄ with the rest
        rest = MatMul(*[a for j, a in enumerate(args) if j != i])
        return _inner(adjoint, rest)
    left = [a for a in args[:i] if _is_matrix(a)]
    right = [a for a in args[i + 1 :] if _is_matrix(a)]
    factors = [MatMul(*left).T] if left else []
    factors += [adjoint] if _is_matrix(adjoint) else []
    factors += [MatMul(*right).T] if right else []
    coefficient = scalars * (1 if _is_matrix(adjoint) else adjoint)
    return MatMul(coefficient, *factors) if factors else coefficient


def _inner(adjoint: Expr, m: Expr) -> Expr:
    """⟨Ḡ, M⟩, the sum of the entries of Ḡ ∘ M (a scalar adjoint is a 1×1 Ḡ)."""
    if not _is_matrix(adjoint):
        return adjoint * msum(m)
    return Trace(MatMul(adjoint.T, m))


def _matadd(expr: Expr, d: Differential) -> Expr:
    return total(d(a) for a in expr.args)


def _transpose(expr: Expr, d: Differential) -> Expr:
    da = d(expr.arg)
    return Transpose(da) if da != 0 else S.Zero


def _hadamard(expr: Expr, d: Differential) -> Expr:
    args = expr.args
    return total(
        HadamardProduct(*args[:i], d(a), *args[i + 1 :]) for i, a in enumerate(args) if d(a) != 0
    )


def _hadamard_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    others = [a for j, a in enumerate(expr.args) if j != i]
    return HadamardProduct(adjoint, *others) if _is_matrix(adjoint) else adjoint * MatMul(*others)


def elementwise_derivative(expr: ElementwiseApplyFunction) -> ElementwiseApplyFunction:
    """f'(A) entry by entry, for ``expr = f(A)`` applied elementwise."""
    f = expr.function
    (v,) = f.variables
    return elementwise(Lambda(v, local_partial(f.expr, v)), expr.expr)


def _elementwise(expr: Expr, d: Differential) -> Expr:
    da = d(expr.expr)
    return HadamardProduct(elementwise_derivative(expr), da) if da != 0 else S.Zero


def _elementwise_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    slope = elementwise_derivative(expr)
    return HadamardProduct(adjoint, slope) if _is_matrix(adjoint) else adjoint * slope


def _trace(expr: Expr, d: Differential) -> Expr:
    da = d(expr.arg)
    return Trace(da) if da != 0 else S.Zero


def _inverse(expr: Expr, d: Differential) -> Expr:
    da = d(expr.arg)
    return MatMul(-1, expr, da, expr) if da != 0 else S.Zero


def _msum(expr: Expr, d: Differential) -> Expr:
    da = d(expr.args[0])
    return msum(da) if da != 0 else S.Zero


def _scalar_to_matrix(adjoint: Expr, shape: tuple[int, int], fill: Callable) -> Expr:
    """A scalar adjoint spread over a matrix argument; a 1×1 argument keeps the scalar."""
    return adjoint if shape == (1, 1) else adjoint * fill(*shape)


def _product_values(*values):
    """A MatMul's value: matrix products, and scalars (coefficients) times matrices."""

    def times(a, b):
        return a @ b if np.ndim(a) == 2 and np.ndim(b) == 2 else a * b

    return reduce(times, values)


def _trace_pull(expr, i, adjoint):
    return _scalar_to_matrix(adjoint, expr.arg.shape, _eye)


def _msum_pull(expr, i, adjoint):
    return _scalar_to_matrix(adjoint, expr.args[0].shape, OneMatrix)


def _matrix(cls: type, rule, pull, numpy: Callable, name: str = "", arity=(1, 1)) -> None:
    """A matrix operation's record; ``name`` is its spelling in the parser, if any (the
    parser checks the shapes, :mod:`symgraph.parse.matrices`)."""
    names = (name,) if name else ()
    define(Op(cls, rule, pull=pull, numpy=numpy, names=names, arity=arity))


_matrix(MatMul, _matmul, _matmul_pull, _product_values, arity=(2, None))
_matrix(MatAdd, _matadd, lambda expr, i, adjoint: adjoint, folded(operator.add), arity=(2, None))
_matrix(
    Transpose, _transpose, lambda expr, i, adjoint: _transposed(adjoint), np.transpose, "transpose"
)
_matrix(
    HadamardProduct,
    _hadamard,
    _hadamard_pull,
    folded(np.multiply),
    "hadamard",
    arity=(2, None),
)
_matrix(Trace, _trace, _trace_pull, lambda a: float(np.trace(a)), "trace")
_matrix(
    Inverse,
    _inverse,
    lambda expr, i, adjoint: MatMul(-1, expr.T, adjoint, expr.T),
    lambda a, *exponent: np.linalg.inv(a),
    "inverse",
)
_matrix(msum, _msum, _msum_pull, lambda a: float(np.sum(a)), "sum")


def _det(expr: Expr, d: Differential) -> Expr:
    # d det(X) = det(X) tr(X⁻¹ dX) (the Matrix Cookbook, eq. 46)
    da = d(expr.arg)
    return expr * Trace(MatMul(Inverse(expr.arg), da)) if da != 0 else S.Zero


def _det_pull(expr, i, adjoint):
    # X̄ = Ḡ det(X) X⁻ᵀ (the Matrix Cookbook, eq. 49)
    return adjoint * expr * Transpose(Inverse(expr.arg))


_matrix(Determinant, _det, _det_pull, lambda a: float(np.linalg.det(a)), "det")
# the interpreter applies an elementwise step's Lambda itself (see symgraph.evaluation.numeric)
register_partial(ElementwiseApplyFunction, _elementwise, pull=_elementwise_pull)
# a matrix power has no derivative rule (the parser does not build one); it evaluates
define(Op(MatPow, numpy=lambda base, k: np.linalg.matrix_power(base, int(k)), arity=(2, 2)))


def _transposed(adjoint: Expr) -> Expr:
    return adjoint.T if _is_matrix(adjoint) else adjoint


def _eye(m: int, n: int) -> Expr:
    return Identity(m)


from . import rules_linalg  # noqa: E402, F401  (norms, diag, softmax: their records)
