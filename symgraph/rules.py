"""THE table of operations' records, keyed by SymPy class: local partials and the rest.

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

Each record (:class:`symgraph.ops.Op`) also holds the operation's spellings in the
parser, its NumPy and float implementations and its bound for the parser's constant
guards: one record per operation, in one place, read by every stage.

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

import math
import operator
from collections.abc import Callable

import mpmath
import sympy
from sympy import (
    Abs,
    Add,
    Basic,
    DiracDelta,
    Expr,
    Function,
    Heaviside,
    Max,
    Min,
    Mul,
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

from . import canonical
from .functions import relu, sigmoid, softplus
from .lazynp import np
from .ops import (  # noqa: F401  (the table's API, re-exported where rules live)
    BUILTIN,
    RULES,
    Differential,
    Entry,
    KinkRule,
    Op,
    PullRule,
    Registration,
    Rule,
    RuleError,
    UnsupportedOperationError,
    define,
    differential,
    folded,
    kink_pieces,
    local_partial,
    lookup,
    pullback,
    pushforward,
    register_partial,
    size_bound,
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


def _add_direct(expr: Expr, p: Basic) -> Expr | None:
    """A sum's partial in a term ``p`` or ``c·p`` (c a number): 1 or c, as ``_add`` gives."""
    found = None
    for a in expr.args:
        if a == p:
            c = S.One
        elif a.is_Mul and len(a.args) == 2 and a.args[0].is_Number and a.args[1] == p:
            c = a.args[0]
        elif a.has(p):
            return None
        else:
            continue
        if found is not None:
            return None
        found = c
    return found


def _mul_direct(expr: Expr, p: Basic) -> Expr | None:
    """A product's partial in a factor ``p`` it holds once: the other factors, as ``_mul``
    gives (the product rule with one nonzero term)."""
    others = [a for a in expr.args if a is not p and a != p]
    if len(others) != len(expr.args) - 1 or any(not a.is_Atom and a.has(p) for a in others):
        return None
    made = canonical.mul(others)
    return Mul(*others) if made is None else made


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


def _pow_values(base, exponent):
    return np.power(np.asarray(base, dtype=float), exponent)


define(
    Op(
        Add,
        _add,
        direct=_add_direct,
        arity=(2, None),
        numpy=folded(operator.add),
        bound=lambda *a: mpmath.fsum(a),
    )
)
# a product entry by entry, never @ (a MatMul's record multiplies matrices)
define(
    Op(
        Mul,
        _mul,
        direct=_mul_direct,
        arity=(2, None),
        numpy=folded(np.multiply),
        bound=lambda *a: mpmath.fprod(a),
    )
)
define(Op(Pow, _pow, arity=(2, 2), numpy=_pow_values, bound=mpmath.power))


# ---------------------------------------------------------------- elementary functions


def unary(derivative: Callable[[Expr, Expr], Expr]) -> Rule:
    """A rule for f(a) from f'(a, v), written with the argument ``a`` and the value ``v``."""

    def rule(expr: Expr, d: Differential) -> Expr:
        (a,) = expr.args
        return _terms([(derivative(a, expr), d(a))])

    rule.__doc__ = derivative.__doc__
    return rule


def elementary(
    cls: type, derivative: Callable, numpy: Callable, scalar: Callable, name: str
) -> None:
    """The record of an elementary function of one argument, parsed as ``name(x)`` and
    applied entry by entry to a matrix; ``mpmath`` gives its bound by the same name."""
    rule = unary(derivative)
    bound = getattr(mpmath, name)
    common = {"elementwise": True, "bound": bound, "c": name}  # C99 spells them as Python's math
    define(Op(cls, rule, names=(name,), numpy=numpy, math=scalar, **common))


elementary(exp, lambda a, v: v, np.exp, math.exp, "exp")
# the derivatives of a step's argument (a real node symbol) are made without SymPy's eval
elementary(sin, lambda a, v: canonical.call(cos, a), np.sin, math.sin, "sin")
elementary(cos, lambda a, v: -canonical.call(sin, a), np.cos, math.cos, "cos")
elementary(tan, lambda a, v: 1 + v**2, np.tan, math.tan, "tan")
elementary(asin, lambda a, v: 1 / sqrt(1 - a**2), np.arcsin, math.asin, "asin")
elementary(acos, lambda a, v: -1 / sqrt(1 - a**2), np.arccos, math.acos, "acos")
elementary(atan, lambda a, v: 1 / (1 + a**2), np.arctan, math.atan, "atan")
elementary(sinh, lambda a, v: canonical.call(cosh, a), np.sinh, math.sinh, "sinh")
elementary(cosh, lambda a, v: canonical.call(sinh, a), np.cosh, math.cosh, "cosh")
elementary(tanh, lambda a, v: 1 - v**2, np.tanh, math.tanh, "tanh")
# log(x, b) is log(x)/log(b): the parser takes a second argument, the record one
define(
    Op(
        log,
        unary(lambda a, v: 1 / a),
        names=("log",),
        arity=(1, 2),
        elementwise=True,
        numpy=np.log,
        math=math.log,
        bound=mpmath.log,
        c="log",
    )
)


def _unparsed(cls: type, numpy: Callable, scalar: Callable | None = None, c=None) -> None:
    """A function symgraph evaluates and compiles (from SymPy objects or JSON) but does
    not parse from text; its derivative is SymPy's ``fdiff``."""
    define(Op(cls, numpy=numpy, math=scalar, arity=(1, None), c=c))


def _reciprocal(f: Callable) -> Callable:
    """``1/f(x)``, over arrays or floats as ``f`` is."""
    return lambda x: 1 / f(x)


for _cls, _array, _float in (
    (sympy.cot, np.tan, math.tan),
    (sympy.sec, np.cos, math.cos),
    (sympy.csc, np.sin, math.sin),
):
    _unparsed(_cls, _reciprocal(_array), _reciprocal(_float))
_unparsed(sympy.asinh, np.arcsinh, math.asinh, "asinh")
_unparsed(sympy.acosh, np.arccosh, math.acosh, "acosh")
_unparsed(sympy.atanh, np.arctanh, math.atanh, "atanh")
_unparsed(sympy.atan2, np.arctan2, math.atan2, "atan2")
_unparsed(sympy.floor, np.floor, math.floor, "floor")
_unparsed(sympy.ceiling, np.ceil, math.ceil, "ceil")


def _erf_array(x):
    """``erf`` over an array: NumPy has none, so vectorise ``math.erf`` (built on first call)."""
    return np.vectorize(math.erf, otypes=[float])(x)


_unparsed(sympy.erf, _erf_array, math.erf, "erf")


# ---------------------------------------------------------------- activations


def _sigmoid_values(x):
    return 1 / (1 + np.exp(-x))


def _sigmoid_float(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)  # no overflow for large negative x
    return z / (1.0 + z)


def _softplus_float(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _relu_values(x):
    return np.maximum(x, 0)


def _relu_float(x: float) -> float:
    return max(x, 0.0)


def activation(cls: type, rule: Rule, numpy: Callable, scalar: Callable, **kink) -> None:
    """The record of an activation: parsed by its class name, entry by entry on matrices;
    in C, symgraph's helper ``sg_<name>``."""
    names = (cls.__name__,)
    common = {"elementwise": True, "bound": size_bound, "c": f"sg_{cls.__name__}"}
    define(Op(cls, rule, names=names, numpy=numpy, math=scalar, **common, **kink))


def _at_zero(at, a: Expr) -> bool:
    return at.compare(a, S.Zero) == 0 if hasattr(at, "compare") else at(a) == 0


def _relu_kink(expr, at):
    (a,) = expr.args
    return (S.Zero, a) if _at_zero(at, a) else None


activation(sigmoid, unary(lambda a, v: v * (1 - v)), _sigmoid_values, _sigmoid_float)
activation(softplus, unary(lambda a, v: sigmoid(a)), lambda x: np.logaddexp(0, x), _softplus_float)
relu_kink = {"kink": _relu_kink, "kind": "the kink of relu at 0"}
activation(relu, unary(lambda a, v: Heaviside(a)), _relu_values, _relu_float, **relu_kink)


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


def _sign_at(convention):
    def sign_values(x):
        return np.where(np.equal(x, 0), convention.sign_at_zero, np.sign(x))

    return sign_values


def _sign_float(x: float) -> float:
    # sign(0) is 0 under every convention compiled code supports
    return math.copysign(1.0, x) if x else 0.0


def _heaviside_at(convention):
    def heaviside_values(x, *at_zero):
        return np.heaviside(x, convention.heaviside_at_zero)

    return heaviside_values


_ZERO = {"elementwise": True, "bound": size_bound}
define(
    Op(
        Abs,
        unary(lambda a, v: sign(a)),
        _abs_kink,
        "the kink of |x| at 0",
        names=("abs",),
        numpy=np.abs,
        math=abs,
        c="fabs",
        **_ZERO,
    )
)
define(
    Op(
        sign,
        unary(lambda a, v: 2 * DiracDelta(a)),
        _step_kink(-S.One, S.One),
        "a jump of sign",
        names=("sign",),
        at_kink=_sign_at,
        math=_sign_float,
        c="sg_sign",
        **_ZERO,
    )
)


def _heaviside(expr: Expr, d: Differential) -> Expr:
    a = expr.args[0]  # the second argument is the constant H(0)
    return _terms([(DiracDelta(a), d(a))])


define(
    Op(
        Heaviside,
        _heaviside,
        _step_kink(S.Zero, S.One),
        "a jump of Heaviside",
        names=("heaviside", "Heaviside"),
        at_kink=_heaviside_at,
        **_ZERO,
    )
)
for _cls, _sense, _pick in ((Max, 1, np.maximum), (Min, -1, np.minimum)):
    define(
        Op(
            _cls,
            _extreme(_sense),
            _tie(_sense),
            f"a tie of {_cls.__name__.lower()}",
            names=(_cls.__name__.lower(),),
            arity=(2, None),
            numpy=folded(_pick),
            bound=size_bound,
            c=f"sg_{_cls.__name__.lower()}",
        )
    )
register_partial(Function, _via_fdiff)


define(Op(DiracDelta, _via_fdiff, numpy=lambda x, *k: np.zeros_like(x, dtype=float)))


from . import rules_matrix, rules_piecewise  # noqa: E402, F401  (register their records)

BUILTIN.update(RULES)  # the rows registered here, in rules_matrix and in rules_piecewise
