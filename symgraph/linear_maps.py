"""The matrix of a linear map, read off a matrix expression that is linear in a direction.

A forward sweep along a symbolic direction ``Ẋ`` gives a tangent ``T(Ẋ)``, linear in
``Ẋ`` (``Aᵀ (A Ẋ)``, ``u ∘ (X Ẋ)``, ``sum(Ẋ) b``). :func:`coefficient` finds the matrix
``C`` with ``vec T = C vec Ẋ`` by a few structural rules, vec stacking the columns
(column-major, as in the Matrix Cookbook): for a column vector ``vec v = v``, so ``C`` is
the Jacobian of a vector function, and the Hessian when ``T`` is the tangent of a gradient.

============================  ==========================================
tangent                       its matrix (of ``vec Ẋ``)
============================  ==========================================
``A L B``                     ``(Bᵀ ⊗ A) C(L)`` (``A C(L)`` for a column L)
``u ∘ L``                     ``diag(vec u) C(L)``
``c L``, ``L₁ + L₂``          ``c C(L)``, ``C(L₁) + C(L₂)``
``Lᵀ``                        ``C(L)`` for a vector, the commutation matrix times it else
``s(Ẋ) R`` (s a scalar)       ``vec(R) C(s)``
``sum(L)``, ``tr(A L)``       ``1ᵀ C(L)``, ``vec(Aᵀ)ᵀ C(L)``
============================  ==========================================

Anything else (``Ẋ`` inside an inverse, a determinant, an elementwise function, two
factors both holding ``Ẋ``) is refused with :class:`NotALinearMap`: never a wrong matrix.

>>> from sympy import MatrixSymbol, HadamardProduct
>>> A, w, u = MatrixSymbol("A", 3, 2), MatrixSymbol("w", 2, 1), MatrixSymbol("u", 3, 1)
>>> coefficient(2 * A.T * HadamardProduct(u, A * w), w)
2*A.T*diag(u)*A
>>> W = MatrixSymbol("W", 3, 2)
>>> x = MatrixSymbol("x", 2, 1)
>>> coefficient(W * x, W)  # vec(W x) = (xᵀ ⊗ I) vec W
KroneckerProduct(x.T, I)
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy
from sympy import Add, Basic, ImmutableMatrix, Mul
from sympy.matrices.expressions import (
    BlockMatrix,
    HadamardProduct,
    Identity,
    MatAdd,
    MatMul,
    MatrixExpr,
    OneMatrix,
    Trace,
    Transpose,
    ZeroMatrix,
)
from sympy.matrices.expressions.kronecker import KroneckerProduct

from .functions import msum
from .graph import GraphError
from .lazynp import np
from .matrix_functions import diag


class NotALinearMap(GraphError):
    """A tangent whose structure is outside the rules of :func:`coefficient`."""


def size(e: Basic) -> int:
    """The number of entries of ``e`` (1 for a scalar)."""
    rows, cols = getattr(e, "shape", (1, 1))
    return int(rows) * int(cols)


def coefficient(e: Basic, d: MatrixExpr) -> MatrixExpr:
    """The matrix ``C`` (``size(e) × size(d)``) with ``vec e = C vec d``.

    ``e`` is a matrix or scalar expression linear in the matrix symbol ``d``; a scalar
    ``e`` gives a row. Raises :class:`NotALinearMap` outside the rules (module docstring).

    >>> from sympy import MatrixSymbol
    >>> from symgraph.functions import msum
    >>> v = MatrixSymbol("v", 3, 1)
    >>> coefficient(msum(v), v), coefficient(v.T, v)
    (1, I)
    """
    if e == d:
        return Identity(size(d))
    if not e.has(d):
        if e != 0 and not (isinstance(e, MatrixExpr) and e.is_ZeroMatrix):
            raise _outside(e, d, "a term without the direction (the map is not linear)")
        return ZeroMatrix(size(e), size(d))
    rule = next((r for cls, r in _RULES if isinstance(e, cls)), None)
    if rule is None:
        raise _outside(e, d, f"{type(e).__name__} of the direction")
    return rule(e, d)


def _outside(e: Basic, d: MatrixExpr, why: str) -> NotALinearMap:
    return NotALinearMap(
        f"cannot write the map {d} ↦ {e} as a matrix ({why}); use the matrix-vector "
        "product instead: g.hessian(wrt=..., direction=V) or g.forward({input: V})"
    )


def _sum(e: Basic, d: MatrixExpr) -> MatrixExpr:
    parts = [coefficient(a, d) for a in e.args]
    parts = [p for p in parts if not p.is_ZeroMatrix]
    if not parts:
        return ZeroMatrix(size(e), size(d))
    return parts[0] if len(parts) == 1 else MatAdd(*parts).doit(deep=False)  # I + I = 2 I


def _split(e: Basic, d: MatrixExpr) -> tuple[int, list]:
    """The index of the one argument holding ``d`` (refusing a product of two)."""
    holding = [i for i, a in enumerate(e.args) if a.has(d)]
    if len(holding) != 1:
        raise _outside(e, d, "a product of two factors holding the direction")
    return holding[0], list(e.args)


def _scalar_product(e: Mul, d: MatrixExpr) -> MatrixExpr:
    i, args = _split(e, d)
    return times(Mul(*args[:i], *args[i + 1 :]), coefficient(args[i], d))


def _matmul(e: MatMul, d: MatrixExpr) -> MatrixExpr:
    i, args = _split(e, d)
    scalars = Mul(*[a for j, a in enumerate(args) if j != i and not _is_matrix(a)])
    if not _is_matrix(args[i]):  # s(d) R: vec(s R) = vec(R) s
        rest = [a for j, a in enumerate(args) if j != i]
        return times(vec(MatMul(*rest).doit()), coefficient(args[i], d))
    left = [a for a in args[:i] if _is_matrix(a)]
    right = [a for a in args[i + 1 :] if _is_matrix(a)]
    rows, cols = args[i].shape
    a = _product(left) if left else Identity(rows)
    bt = Transpose(_product(right)).doit() if right else Identity(cols)
    return times(scalars, kron(bt, a), coefficient(args[i], d))


def _hadamard(e: HadamardProduct, d: MatrixExpr) -> MatrixExpr:
    i, args = _split(e, d)
    others = [a for j, a in enumerate(args) if j != i and not isinstance(a, OneMatrix)]
    inner = coefficient(args[i], d)
    if not others:
        return inner
    u = others[0] if len(others) == 1 else HadamardProduct(*others)
    return times(diag(vec(u)), inner)


def _transpose(e: Transpose, d: MatrixExpr) -> MatrixExpr:
    inner = coefficient(e.arg, d)
    rows, cols = e.arg.shape
    if rows == 1 or cols == 1:  # a vector and its transpose have the same vec
        return inner
    return times(commutation(int(rows), int(cols)), inner)


def _msum(e: msum, d: MatrixExpr) -> MatrixExpr:
    inner = coefficient(e.args[0], d)
    return times(OneMatrix(1, size(e.args[0])), inner)


def _trace(e: Trace, d: MatrixExpr) -> MatrixExpr:
    arg = e.arg
    if isinstance(arg, MatMul):  # tr(A L B) = tr(B A L) = vec((B A)ᵀ)ᵀ vec L
        i, args = _split(arg, d)
        if _is_matrix(args[i]):
            rest = [a for a in (*args[i + 1 :], *args[:i]) if _is_matrix(a)]
            scalars = Mul(*[a for a in args if not _is_matrix(a)])
            if rest:
                row = Transpose(vec(Transpose(_product(rest)).doit())).doit()
                return times(scalars, row, coefficient(args[i], d))
    if arg.shape == (1, 1):
        return coefficient(arg, d)
    return times(Transpose(vec(Identity(arg.shape[0]))), coefficient(arg, d))


def _is_matrix(e: Basic) -> bool:
    return isinstance(e, MatrixExpr)


_RULES = (
    (MatAdd, _sum),
    (Add, _sum),
    (MatMul, _matmul),
    (Mul, _scalar_product),
    (HadamardProduct, _hadamard),
    (Transpose, _transpose),
    (msum, _msum),
    (Trace, _trace),
)

# ---------------------------------------------------------------- building blocks


def _product(factors: list) -> MatrixExpr:
    return factors[0] if len(factors) == 1 else MatMul(*factors)


def times(*factors: Basic) -> Basic:
    """The product, flat: scalars gathered in front, identities dropped, neighbouring
    diagonals merged (``diag(a) diag(b) = diag(a ∘ b)``, ``1ᵀ diag(a) = aᵀ``).

    >>> from sympy import MatrixSymbol, Identity
    >>> A, a = MatrixSymbol("A", 2, 2), MatrixSymbol("a", 2, 1)
    >>> times(-1, A, Identity(2), times(-2, A.T)), times(OneMatrix(1, 2), diag(a), A)
    (2*A*A.T, a.T*A)
    """
    flat = [f for a in factors for f in (a.args if isinstance(a, MatMul) else (a,))]
    scalar = Mul(*[f for f in flat if not _is_matrix(f)])
    matrices: list = []
    for f in (f for f in flat if _is_matrix(f)):
        if f.is_ZeroMatrix:
            return ZeroMatrix(*_shape(flat))
        if isinstance(f, Identity) or (isinstance(f, OneMatrix) and f.shape == (1, 1)):
            continue
        matrices.append(_merged(matrices.pop(), f) if matrices else f)
        if isinstance(matrices[-1], tuple):
            matrices.extend(matrices.pop())
    if not matrices:  # only identities: the identity of their size, scaled
        eye = Identity(_shape(flat)[0])
        return eye if scalar == 1 else MatMul(scalar, eye)
    if scalar == 1:
        return matrices[0] if len(matrices) == 1 else MatMul(*matrices)
    return MatMul(scalar, *matrices)


def _merged(p: MatrixExpr, q: MatrixExpr) -> MatrixExpr | tuple:
    """``p q`` as one factor where a rule of :func:`times` applies, else ``(p, q)``."""
    if isinstance(p, diag) and isinstance(q, diag):
        return diag(HadamardProduct(*_factors(p.args[0]), *_factors(q.args[0])))
    if isinstance(p, OneMatrix) and p.shape[0] == 1 and isinstance(q, diag):
        return Transpose(q.args[0]).doit()
    return (p, q)


def _factors(h: MatrixExpr) -> tuple:
    return h.args if isinstance(h, HadamardProduct) else (h,)


def _shape(flat: list) -> tuple[int, int]:
    matrices = [f for f in flat if _is_matrix(f)]
    return matrices[0].shape[0], matrices[-1].shape[1]


def kron(a: MatrixExpr, b: MatrixExpr) -> MatrixExpr:
    """``a ⊗ b``, without the factors that change nothing (a 1×1 identity)."""
    if a.shape == (1, 1) and isinstance(a, Identity | OneMatrix):
        return b
    if b.shape == (1, 1) and isinstance(b, Identity | OneMatrix):
        return a
    if isinstance(a, Identity) and isinstance(b, Identity):
        return Identity(a.shape[0] * b.shape[0])
    return KroneckerProduct(a, b)


def vec(m: Basic) -> MatrixExpr:
    """The columns of ``m`` stacked into one column (a scalar as a 1×1 matrix).

    A vector is its own vec (transposed if a row); a general matrix expression ``G``
    (``p × q``) is written ``(I_q ⊗ G) vec(I_q)``, which holds for any ``G``.

    >>> from sympy import MatrixSymbol, Identity
    >>> vec(MatrixSymbol("r", 1, 3)), vec(Identity(2)).T
    (r.T, Matrix([[1, 0, 0, 1]]))
    """
    if not _is_matrix(m):
        return ImmutableMatrix([[m]])
    rows, cols = map(int, m.shape)
    if cols == 1:
        return m
    if rows == 1:
        return Transpose(m).doit()
    if isinstance(m, OneMatrix | ZeroMatrix):
        return type(m)(rows * cols, 1)
    if isinstance(m, Identity | ImmutableMatrix):
        return ImmutableMatrix(rows * cols, 1, list(sympy.Matrix(m).T))
    return MatMul(kron(Identity(cols), m), vec(Identity(cols)))


def commutation(rows: int, cols: int) -> ImmutableMatrix:
    """The permutation ``K`` with ``vec(Mᵀ) = K vec(M)`` for ``M`` of ``rows × cols``.

    >>> commutation(2, 1) == ImmutableMatrix.eye(2)
    True
    """
    k = np.zeros((rows * cols, rows * cols), dtype=int)
    for i in range(rows):
        for j in range(cols):
            k[j + i * cols, i + j * rows] = 1  # Mᵀ[j, i] = M[i, j]
    return ImmutableMatrix(k)


# ---------------------------------------------------------------- numbers


def value(expr: Basic, at: Mapping) -> np.ndarray | float:
    """The NumPy value of a matrix expression (a Hessian, a Jacobian) at a point.

    ``at`` maps the symbols (or their names) to numbers and arrays; Kronecker products
    and diagonal matrices are records of the table (:mod:`symgraph.rules_linalg`).

    >>> from sympy import MatrixSymbol
    >>> v = MatrixSymbol("v", 2, 1)
    >>> value(KroneckerProduct(v.T, diag(v)), {"v": [[1.0], [2.0]]})
    array([[1., 0., 2., 0.],
           [0., 2., 0., 4.]])
    """
    from .evaluation import numeric  # numbers are the evaluation stage's: imported on use

    if isinstance(expr, sympy.MatrixBase):  # a scalar Hessian (sympy.Matrix) as well
        expr = ImmutableMatrix(expr)
    named = {str(k): v for k, v in at.items()}
    env = {s: _as_value(s, named[str(s)]) for s in expr.free_symbols if str(s) in named}
    missing = sorted(str(s) for s in expr.free_symbols if s not in env)
    if missing:
        raise GraphError(f"no value for {', '.join(missing)} in the point")
    if isinstance(expr, BlockMatrix):
        return np.block([[value(b, at) for b in row] for row in expr.blocks.tolist()])
    return numeric.value(expr, env)


def _as_value(s: Basic, v):
    shape = getattr(s, "shape", None)
    return np.asarray(v, dtype=float).reshape(tuple(map(int, shape))) if shape else float(v)
