"""THE table of local partials, keyed by SymPy class.

A rule gives the differential of an expression from the differentials of its
arguments: ``rule(expr, d)`` returns ``Σ_i ∂expr/∂args[i] · d(args[i])``. Seeding
``d`` with one parent gives the local partial ``∂t_k/∂p`` that both forward mode
(``ṫ_k = Σ ∂t_k/∂p · ṗ``) and reverse mode (``p̄ = Σ t̄_k · ∂t_k/∂p``) use, so each
rule is written once. Rules may return ``expr`` itself (``d e^a = e^a da``); the
graph then writes the step's own name there, as on the board (``∂t_4/∂t_3 = t_4``).

Non-smooth operations also register a *kink* rule: at a point where the operation
switches between smooth pieces (a max tie, ``|x|`` at 0, a Piecewise boundary) it
returns those pieces, ordered (first argument or left-hand side first), so that
evaluation can report the kink and apply a stated convention.

Lookup walks the class's MRO; any ``sympy.Function`` with ``fdiff`` works through
the fallback, and other classes raise :class:`UnsupportedOperationError`.

>>> from sympy import Symbol, exp
>>> x, y = Symbol("x", real=True), Symbol("y", real=True)
>>> local_partial(x * exp(2 * y), y)
2*x*exp(2*y)
>>> local_partial(sigmoid(x), x)
(1 - sigmoid(x))*sigmoid(x)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
from sympy import (
    Abs,
    Add,
    Basic,
    DiracDelta,
    Expr,
    Function,
    Heaviside,
    Lambda,
    Max,
    Min,
    Mul,
    Piecewise,
    Pow,
    S,
    Symbol,
    acos,
    asin,
    atan,
    cos,
    cosh,
    exp,
    log,
    sign,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)
from sympy.core.function import ArgumentIndexError
from sympy.core.relational import Relational
from sympy.matrices.expressions import (
    HadamardProduct,
    Identity,
    Inverse,
    MatAdd,
    MatMul,
    MatrixExpr,
    OneMatrix,
    Trace,
    Transpose,
)
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .functions import elementwise, msum, relu, sigmoid, softplus

Differential = Callable[[Basic], Expr]
Rule = Callable[[Expr, Differential], Expr]
#: ``kink(expr, value)`` -> the smooth pieces meeting at this point, or None.
KinkRule = Callable[[Expr, Callable[[Expr], float]], "tuple[Expr, ...] | None"]

#: Relative tolerance for deciding that a point sits on a kink.
KINK_TOL = 1e-12


class UnsupportedOperationError(ValueError):
    """An operation symgraph has no derivative rule for."""


#: ``pull(expr, i, G)`` -> the adjoint of ``expr.args[i]`` given the adjoint G of expr.
PullRule = Callable[[Expr, int, Expr], Expr]


@dataclass(frozen=True)
class Entry:
    """One row of the table: the differential (push) rule, and optionally the kink
    rule of a non-smooth operation and the pull rule of a matrix operation (a scalar
    operation pulls back by multiplying with its local partial)."""

    partial: Rule
    kink: KinkRule | None = None
    pull: PullRule | None = None


RULES: dict[type, Entry] = {}


def register_partial(
    cls: type, rule: Rule, kink: KinkRule | None = None, pull: PullRule | None = None
) -> None:
    """Add or replace the rule for ``cls`` (and, through the MRO, its subclasses)."""
    RULES[cls] = Entry(rule, kink, pull)


def lookup(cls: type) -> Entry:
    """The entry for ``cls``: the nearest class along its MRO that has one."""
    for klass in cls.__mro__:
        if klass in RULES:
            return RULES[klass]
    raise UnsupportedOperationError(
        f"no derivative rule for {cls.__name__}; "
        f"register one with symgraph.rules.register_partial({cls.__name__}, rule)"
    )


def differential(expr: Basic, d: Differential) -> Expr:
    """``Σ_i ∂expr/∂args[i] · d(args[i])`` by the table."""
    return lookup(type(expr)).partial(expr, d)


def pushforward(expr: Basic, tangents: dict) -> Expr:
    """The differential of a small step expression given its parents' ``tangents``."""
    if expr in tangents:
        return tangents[expr]
    if not any(expr.has(p) for p in tangents):
        return S.Zero
    return differential(expr, lambda arg: pushforward(arg, tangents))


def local_partial(expr: Basic, wrt: Symbol) -> Expr:
    """∂expr/∂wrt of a scalar step expression (recursive over its own small tree)."""
    return pushforward(expr, {wrt: S.One})


def pullback(expr: Basic, wrt: Basic, adjoint: Expr) -> Expr:
    """The adjoint contribution to ``wrt`` from ``expr`` whose adjoint is ``adjoint``.

    Matrix operations pull back by their pull rules (with the transposes); a scalar
    operation multiplies by its local partial. The adjoint of a 1×1 matrix is a scalar.
    """
    if expr == wrt:
        return adjoint
    if not expr.has(wrt):
        return S.Zero
    pull = lookup(type(expr)).pull
    if pull is None:
        return adjoint * local_partial(expr, wrt)
    parts = [pullback(a, wrt, pull(expr, i, adjoint).doit()) for i, a in enumerate(expr.args)]
    return total(parts)


def total(terms) -> Expr:
    """Sum of terms, dropping zeros; a matrix sum when the terms are matrices."""
    terms = [t for t in terms if t != 0 and not getattr(t, "is_ZeroMatrix", False)]
    if any(isinstance(t, MatrixExpr) for t in terms):
        return MatAdd(*terms).doit()  # doit() collects like terms: X + X = 2 X
    return Add(*terms)


def kink_pieces(expr: Expr, value: Callable[[Expr], float]) -> tuple[Expr, ...] | None:
    """The smooth pieces that meet at this point, if ``expr`` sits on a kink here."""
    try:
        entry = lookup(type(expr))
    except UnsupportedOperationError:
        return None
    return entry.kink(expr, value) if entry.kink else None


def near(a: float, b: float) -> bool:
    """Equal up to :data:`KINK_TOL`, relative to the larger magnitude (at least 1)."""
    return abs(a - b) <= KINK_TOL * max(1.0, abs(a), abs(b))


def _terms(pairs) -> Expr:
    """Σ partial · d over the pairs whose d is not zero."""
    return Add(*[p * da for p, da in pairs if da != 0])


# ---------------------------------------------------------------- arithmetic


def _add(expr: Expr, d: Differential) -> Expr:
    return Add(*[d(a) for a in expr.args])


def _mul(expr: Expr, d: Differential) -> Expr:
    args = expr.args
    return _terms((Mul(*args[:i], *args[i + 1 :]), d(a)) for i, a in enumerate(args))


def _pow(expr: Expr, d: Differential) -> Expr:
    base, e = expr.args
    db, de = d(base), d(e)
    if de == 0:
        if e == -1:  # d(1/b) = -(1/b)^2 db, reusing the step's own value
            return -(expr**2) * db
        if e == S.Half:  # d√b = db / (2√b)
            return db / (2 * expr)
        return e * base ** (e - 1) * db
    if db == 0:
        return expr * log(base) * de
    return expr * (de * log(base) + e * db / base)


register_partial(Add, _add)
register_partial(Mul, _mul)
register_partial(Pow, _pow)


# ---------------------------------------------------------------- elementary functions


def unary(derivative: Callable[[Expr, Expr], Expr]) -> Rule:
    """A rule for f(a) from f'(a, v), written with the argument ``a`` and the value ``v``."""

    def rule(expr: Expr, d: Differential) -> Expr:
        (a,) = expr.args
        return _terms([(derivative(a, expr), d(a))])

    rule.__doc__ = derivative.__doc__
    return rule


register_partial(exp, unary(lambda a, v: v))
register_partial(log, unary(lambda a, v: 1 / a))
register_partial(sin, unary(lambda a, v: cos(a)))
register_partial(cos, unary(lambda a, v: -sin(a)))
register_partial(tan, unary(lambda a, v: 1 + v**2))
register_partial(asin, unary(lambda a, v: 1 / sqrt(1 - a**2)))
register_partial(acos, unary(lambda a, v: -1 / sqrt(1 - a**2)))
register_partial(atan, unary(lambda a, v: 1 / (1 + a**2)))
register_partial(sinh, unary(lambda a, v: cosh(a)))
register_partial(cosh, unary(lambda a, v: sinh(a)))
register_partial(tanh, unary(lambda a, v: 1 - v**2))


# ---------------------------------------------------------------- activations


register_partial(sigmoid, unary(lambda a, v: v * (1 - v)))
register_partial(softplus, unary(lambda a, v: sigmoid(a)))


def _relu_kink(expr, value):
    (a,) = expr.args
    return (S.Zero, a) if near(value(a), 0.0) else None


register_partial(relu, unary(lambda a, v: Heaviside(a)), kink=_relu_kink)


# ---------------------------------------------------------------- non-smooth


def _abs_kink(expr, value):
    (a,) = expr.args
    return (-a, a) if near(value(a), 0.0) else None


def _step_kink(left: Expr, right: Expr) -> KinkRule:
    """Kink rule of a jump at 0 (Heaviside, sign): the constant pieces either side."""

    def kink(expr, value):
        return (left, right) if near(value(expr.args[0]), 0.0) else None

    return kink


def _tie(pick: Callable) -> KinkRule:
    """Kink rule of max/min: the arguments tied for the extreme value, in order."""

    def kink(expr, value):
        values = [value(a) for a in expr.args]
        best = pick(values)
        tied = tuple(a for a, v in zip(expr.args, values, strict=True) if near(v, best))
        return tied if len(tied) > 1 else None

    return kink


def _via_fdiff(expr: Expr, d: Differential) -> Expr:
    """SymPy's own ``fdiff`` (the fallback for any ``sympy.Function``)."""
    name = type(expr).__name__
    unsupported = UnsupportedOperationError(
        f"{name} has no usable derivative (its fdiff fails or is unevaluated); "
        f"register one with symgraph.rules.register_partial({name}, rule)"
    )
    try:
        result = _terms((expr.fdiff(i + 1), d(a)) for i, a in enumerate(expr.args))
    except (ArgumentIndexError, NotImplementedError) as err:
        raise unsupported from err
    if result.has(sympy.Derivative, sympy.Subs):
        raise unsupported
    return result


register_partial(Abs, unary(lambda a, v: sign(a)), kink=_abs_kink)
register_partial(sign, unary(lambda a, v: 2 * DiracDelta(a)), kink=_step_kink(-S.One, S.One))


def _heaviside(expr: Expr, d: Differential) -> Expr:
    a = expr.args[0]  # the second argument is the constant H(0)
    return _terms([(DiracDelta(a), d(a))])


register_partial(Heaviside, _heaviside, kink=_step_kink(S.Zero, S.One))
register_partial(Max, _via_fdiff, kink=_tie(max))
register_partial(Min, _via_fdiff, kink=_tie(min))
register_partial(Function, _via_fdiff)


# ---------------------------------------------------------------- Piecewise


def _piecewise(expr: Expr, d: Differential) -> Expr:
    return Piecewise(*[(d(e), c) for e, c in expr.args])


def _chosen(expr: Piecewise, truth: dict) -> int:
    """Index of the first piece whose condition holds under the given truth values."""
    for i, (_, cond) in enumerate(expr.args):
        if cond.xreplace(truth) == sympy.true:
            return i
    return -1


def _piecewise_kink(expr, value):
    relations = set().union(*(c.atoms(Relational) for _, c in expr.args))
    sides = {r: (value(r.lhs), value(r.rhs)) for r in relations}
    boundary = [r for r in relations if near(*sides[r])]
    if not boundary or len(boundary) > 3:
        return None
    fixed = {r: r.func(*sides[r]) for r in relations if r not in boundary}
    chosen = set()
    for mask in range(2 ** len(boundary)):
        truth = {r: sympy.true if mask >> k & 1 else sympy.false for k, r in enumerate(boundary)}
        chosen.add(_chosen(expr, {**fixed, **truth}))
    chosen.discard(-1)
    return tuple(expr.args[i].expr for i in sorted(chosen)) if len(chosen) > 1 else None


register_partial(Piecewise, _piecewise, kink=_piecewise_kink)
register_partial(DiracDelta, _via_fdiff)


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


register_partial(MatMul, _matmul, pull=_matmul_pull)
register_partial(MatAdd, _matadd, pull=lambda expr, i, adjoint: adjoint)
register_partial(Transpose, _transpose, pull=lambda expr, i, adjoint: _transposed(adjoint))
register_partial(HadamardProduct, _hadamard, pull=_hadamard_pull)
register_partial(ElementwiseApplyFunction, _elementwise, pull=_elementwise_pull)
register_partial(
    Trace, _trace, pull=lambda expr, i, adjoint: _scalar_to_matrix(adjoint, expr.arg.shape, _eye)
)
register_partial(
    Inverse, _inverse, pull=lambda expr, i, adjoint: MatMul(-1, expr.T, adjoint, expr.T)
)
register_partial(
    msum,
    _msum,
    pull=lambda expr, i, adjoint: _scalar_to_matrix(adjoint, expr.args[0].shape, OneMatrix),
)


def _transposed(adjoint: Expr) -> Expr:
    return adjoint.T if _is_matrix(adjoint) else adjoint


def _eye(m: int, n: int) -> Expr:
    return Identity(m)
