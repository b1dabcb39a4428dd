"""The records of the matrix functions derivations need: norms, diag, softmax, logsumexp.

Each registers its differential (push, a matrix expression in ``dX``) and the adjoint of
its argument (pull, with the transposes the shapes need), from the Matrix Cookbook:

* ``‖X‖`` (2-norm of a vector, Frobenius norm of a matrix): ``d‖X‖ = tr(Xᵀ dX)/‖X‖``,
  ``X̄ = ḡ X/‖X‖``; at ``X = 0`` it has no derivative, and its adjoint there is NaN,
  which evaluation reports as an error (never a number).
* ``‖X‖²``: ``d‖X‖² = 2 tr(Xᵀ dX)``, ``X̄ = 2 ḡ X``, smooth everywhere.
* ``diag(v)`` (a vector to its diagonal matrix) and ``diagonal(M)`` (a square matrix to the
  column of its diagonal): each one's pull is the other operation.
* ``logsumexp(v) = log Σ exp(v_i)``: ``d = tr(softmax(v)ᵀ dv)``, ``v̄ = ḡ softmax(v)``.
* ``s = softmax(v)``: ``ṡ = s∘v̇ − s (sᵀv̇)``, ``v̄ = s∘s̄ − s (sᵀs̄)`` (``tr(sᵀ·)`` is the
  1×1 product as a scalar, and is the inner product over any shape).

>>> import sympy
>>> from symgraph import ops
>>> x = sympy.MatrixSymbol("x", 3, 1)
>>> ops.pullback(norm(x), x, sympy.S.One), ops.pullback(sqnorm(x), x, sympy.S.One)
(1/norm(x)*x, 2*x)
"""

from __future__ import annotations

from sympy import Expr, S
from sympy.matrices.expressions import (
    HadamardPower,
    HadamardProduct,
    Identity,
    KroneckerProduct,
    MatAdd,
    MatMul,
    MatrixExpr,
    OneMatrix,
    Trace,
    Transpose,
)

from .lazynp import np
from .matrix_functions import diag, diagonal, logsumexp, norm, softmax, sqnorm
from .ops import Differential, Op, define, folded


def _inner(a: Expr, b: Expr) -> Expr:
    """⟨A, B⟩ = tr(Aᵀ B), a scalar (for vectors, the 1×1 product aᵀb)."""
    return Trace(MatMul(Transpose(a), b))


def _linear(build):
    """The push of an operation linear in its one matrix argument: itself, of ``dX``."""

    def push(expr: Expr, d: Differential) -> Expr:
        da = d(expr.args[0])
        return build(da) if da != 0 else S.Zero

    return push


def _scaled(coefficient: Expr, m: Expr) -> Expr:
    return MatMul(coefficient, m)


# ---------------------------------------------------------------- norms


def _norm(expr: Expr, d: Differential) -> Expr:
    # d‖X‖ = tr(Xᵀ dX) / ‖X‖ (the Matrix Cookbook, eq. 547)
    x = expr.args[0]
    dx = d(x)
    return _inner(x, dx) / expr if dx != 0 else S.Zero


def _norm_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    return _scaled(adjoint / expr, expr.args[0])  # X̄ = ḡ X / ‖X‖


def _sqnorm(expr: Expr, d: Differential) -> Expr:
    x = expr.args[0]
    dx = d(x)
    return 2 * _inner(x, dx) if dx != 0 else S.Zero  # ∂‖X‖²/∂X = 2X (eq. 548)


def _sqnorm_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    return _scaled(2 * adjoint, expr.args[0])


def _norm_values(a) -> float:
    # a NumPy float: compiled code dividing by ‖0‖ gets NaN with NumPy's warning, as
    # any array it computes outside a domain (not a bare ZeroDivisionError)
    return np.float64(np.linalg.norm(a))


def _sqnorm_values(a) -> float:
    return float(np.sum(np.square(a)))


# ---------------------------------------------------------------- diag


def _diag_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    v = expr.args[0]
    if not isinstance(adjoint, MatrixExpr):  # a 1×1 diag: its adjoint is a scalar
        return adjoint
    column = diagonal(adjoint)
    return column if v.shape[1] == 1 else Transpose(column)


def _diagonal_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    return diag(adjoint) if isinstance(adjoint, MatrixExpr) else adjoint


def _diag_values(a):
    return np.diag(np.ravel(a))


def _diagonal_values(a):
    return np.diag(a).reshape(-1, 1)


# ---------------------------------------------------------------- softmax and logsumexp


def _logsumexp(expr: Expr, d: Differential) -> Expr:
    v = expr.args[0]
    dv = d(v)
    return _inner(softmax(v), dv) if dv != 0 else S.Zero


def _logsumexp_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    return _scaled(adjoint, softmax(expr.args[0]))


def _softmax_linear(s: Expr, g: Expr) -> Expr:
    """``s∘g − s (sᵀg)``: the Jacobian of softmax (symmetric) applied to ``g``."""
    return HadamardProduct(s, g) - _scaled(_inner(s, g), s)


def _softmax(expr: Expr, d: Differential) -> Expr:
    dv = d(expr.args[0])
    return _softmax_linear(expr, dv) if dv != 0 else S.Zero


def _softmax_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    return _softmax_linear(expr, adjoint)


def _logsumexp_values(a) -> float:
    a = np.asarray(a, dtype=float)
    top = np.max(a)
    if not np.isfinite(top):
        return float(top)
    return float(top + np.log(np.sum(np.exp(a - top))))  # no overflow at large entries


def _softmax_values(a):
    a = np.asarray(a, dtype=float)
    e = np.exp(a - np.max(a))
    return e / np.sum(e)


def _record(cls: type, push, pull, numpy, name: str = "") -> None:
    """A record; ``name`` is its spelling in the parser (which checks the shapes,
    :data:`symgraph.parse.matrices.MATRIX_BUILDERS`)."""
    define(Op(cls, push, pull=pull, numpy=numpy, names=(name,) if name else ()))


_record(norm, _norm, _norm_pull, _norm_values, "norm")
_record(sqnorm, _sqnorm, _sqnorm_pull, _sqnorm_values)  # parsed from norm(X)**2
_record(diag, _linear(diag), _diag_pull, _diag_values, "diag")  # diag(M) is diagonal
_record(diagonal, _linear(diagonal), _diagonal_pull, _diagonal_values)
_record(logsumexp, _logsumexp, _logsumexp_pull, _logsumexp_values, "logsumexp")
_record(softmax, _softmax, _softmax_pull, _softmax_values, "softmax")


def _kron(expr: Expr, d: Differential) -> Expr:
    # d(A ⊗ B) = dA ⊗ B + A ⊗ dB: a product rule
    args = expr.args
    terms = [
        KroneckerProduct(*args[:i], d(a), *args[i + 1 :]) for i, a in enumerate(args) if d(a) != 0
    ]
    return MatAdd(*terms) if len(terms) > 1 else terms[0] if terms else S.Zero


def _kron_pull(expr: Expr, i: int, adjoint: Expr) -> Expr:
    # C = A ⊗ B (p×q and r×s): Ā[i, j] = ⟨block (i, j) of C̄, B⟩ and B̄ = Σ A[i, j] block (i, j);
    # a block sum is a product with I ⊗ 1 on either side. More factors: A ⊗ (the rest).
    args = expr.args
    if i == 0:
        a, b = args[0], _kron_of(args[1:])
        (p, q), (r, s) = a.shape, b.shape
        weighted = HadamardProduct(adjoint, KroneckerProduct(OneMatrix(p, q), b))
        return MatMul(_blocks(p, OneMatrix(1, r)), weighted, _blocks(q, OneMatrix(s, 1)))
    a, b = _kron_of(args[:i]), _kron_of(args[i:])
    (p, q), (r, s) = a.shape, b.shape
    weighted = HadamardProduct(adjoint, KroneckerProduct(a, OneMatrix(r, s)))
    summed = MatMul(KroneckerProduct(OneMatrix(1, p), Identity(r)), weighted)
    b_bar = MatMul(summed, KroneckerProduct(OneMatrix(q, 1), Identity(s)))
    return b_bar if i == len(args) - 1 else _kron_pull(b, 0, b_bar)


def _blocks(n: int, ones: Expr) -> Expr:
    return KroneckerProduct(Identity(n), ones)


def _kron_of(args) -> Expr:
    return args[0] if len(args) == 1 else KroneckerProduct(*args)


# The classes Hessians and Jacobians are written with (symgraph.linear_maps): no parser
# spelling; they evaluate, compile and pass the whitelist, and a Kronecker product has
# push and pull rules like any matrix operation.
define(Op(KroneckerProduct, _kron, pull=_kron_pull, numpy=folded(np.kron), arity=(2, None)))
define(Op(HadamardPower, numpy=np.power, arity=(2, 2)))
