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

import sympy
from sympy import (
    Abs,
    Add,
    DiracDelta,
    Expr,
    Function,
    Heaviside,
    Max,
    Min,
    Mul,
    Piecewise,
    Pow,
    S,
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

from .functions import relu, sigmoid, softplus
from .registry import (  # noqa: F401  (the table's API, re-exported where rules live)
    BUILTIN,
    RULES,
    Differential,
    Entry,
    KinkRule,
    PullRule,
    Registration,
    Rule,
    RuleError,
    UnsupportedOperationError,
    differential,
    kink_pieces,
    local_partial,
    lookup,
    pullback,
    pushforward,
    register_partial,
    snapshot,
    tied,
    total,
    unregister_partial,
    using,
)


def _terms(pairs) -> Expr:
    """Σ partial · d over the pairs whose d is not zero."""
    return Add(*[p * da for p, da in pairs if da != 0])


# ---------------------------------------------------------------- arithmetic


def _add(expr: Expr, d: Differential) -> Expr:
    return Add(*[d(a) for a in expr.args])


def _mul(expr: Expr, d: Differential) -> Expr:
    # the product of the other factors only where d(a) is not zero: a step's local
    # partial has one such factor, so an n-factor product costs O(n), not O(n²)
    args = expr.args
    slopes = [(i, da) for i, da in enumerate(map(d, args)) if da != 0]
    return Add(*[Mul(*args[:i], *args[i + 1 :]) * da for i, da in slopes])


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


def _at_zero(at, a: Expr) -> bool:
    return at.compare(a, S.Zero) == 0 if hasattr(at, "compare") else at(a) == 0


def _relu_kink(expr, at):
    (a,) = expr.args
    return (S.Zero, a) if _at_zero(at, a) else None


register_partial(
    relu, unary(lambda a, v: Heaviside(a)), kink=_relu_kink, kind="the kink of relu at 0"
)


# ---------------------------------------------------------------- non-smooth


def _abs_kink(expr, at):
    (a,) = expr.args
    return (-a, a) if _at_zero(at, a) else None


def _step_kink(left: Expr, right: Expr) -> KinkRule:
    """Kink rule of a jump at 0 (Heaviside, sign): the constant pieces either side."""

    def kink(expr, at):
        return (left, right) if _at_zero(at, expr.args[0]) else None

    return kink


def _tie(sense: int) -> KinkRule:
    """Kink rule of max (sense 1) / min (-1): the arguments tied for the extreme, in order."""

    def kink(expr, at):
        best = expr.args[0]
        for a in expr.args[1:]:
            if at.compare(a, best) * sense > 0:
                best = a
        tied_args = tuple(a for a in expr.args if a is best or at.compare(a, best) == 0)
        return tied_args if len(tied_args) > 1 else None

    return kink


def _extreme(sense: int) -> Rule:
    """Rule of max (sense 1) / min (-1): ∂/∂a_i = Π_j H(±(a_i - a_j)), 1 where a_i wins.

    Linear in the number of arguments (``Heaviside(u1 - u2)`` for two, as SymPy writes
    it), where SymPy's ``fdiff`` builds the max of the other arguments for each one
    (and its derivatives again): exponential in reverse mode and Hessians.
    """

    def rule(expr: Expr, d: Differential) -> Expr:
        args = expr.args
        pairs = []
        for a in args:
            da = d(a)
            if da != 0:
                wins = [Heaviside(sense * (a - b)) for b in args if b is not a]
                pairs.append((Mul(*wins), da))
        return _terms(pairs)

    return rule


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


register_partial(Abs, unary(lambda a, v: sign(a)), kink=_abs_kink, kind="the kink of |x| at 0")
register_partial(
    sign,
    unary(lambda a, v: 2 * DiracDelta(a)),
    kink=_step_kink(-S.One, S.One),
    kind="a jump of sign",
)


def _heaviside(expr: Expr, d: Differential) -> Expr:
    a = expr.args[0]  # the second argument is the constant H(0)
    return _terms([(DiracDelta(a), d(a))])


register_partial(Heaviside, _heaviside, kink=_step_kink(S.Zero, S.One), kind="a jump of Heaviside")
register_partial(Max, _extreme(1), kink=_tie(1), kind="a tie of max")
register_partial(Min, _extreme(-1), kink=_tie(-1), kind="a tie of min")
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


register_partial(Piecewise, _piecewise, kink=_piecewise_kink, kind="a Piecewise boundary")
register_partial(DiracDelta, _via_fdiff)


from . import rules_matrix  # noqa: E402, F401  (registers the matrix rows)

BUILTIN.update(RULES)  # the rows registered here and in rules_matrix
