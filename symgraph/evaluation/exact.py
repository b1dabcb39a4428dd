"""Numbers of scalar steps at a point, with every decision taken exactly.

Values are computed in floating point, step by step; but which piece of a max,
min, ``|x|``, relu, sign, Heaviside or Piecewise is active — and so whether a point
sits on a kink — is decided in exact arithmetic: the point's floats are read as the
rationals they are, each step's exact value is built from its parents' (a SymPy
number such as ``sin(7/10)**2``), and the sign of a difference is settled by SymPy
(exactly for rational arithmetic, by adaptive-precision ``evalf`` with a guaranteed
sign otherwise). Two sides are tied only if they are exactly equal, or if SymPy
cannot tell their difference from 0 at its maximum working precision (``evalf``'s
``maxn``). An exact value beyond :data:`BUDGET` nodes or :data:`BITS` bits, or a
matrix, is not built: then the floats decide (exact equality of the floats).
A condition whose sides tie exactly is a Piecewise boundary only if they do not
also tie at nearby points (``max(x, y) <= x`` at x > y is no boundary).

With ``kink_tol > 0`` two values within ``kink_tol`` (relative to the larger
magnitude, at least 1) also count as tied (:func:`symgraph.rules.tied`).

Only the active piece is evaluated: ``where(x > 0, log(x), 0)`` at ``x = -1`` never
evaluates ``log(-1)``.

>>> import sympy
>>> from symgraph import graph
>>> g = graph("max(x, y)")
>>> at = Point(g, {sympy.Symbol("x", real=True): 1.0, sympy.Symbol("y", real=True): 1 + 5e-13})
>>> at.compare(*g.steps[0].expr.args)
-1
"""

from __future__ import annotations

import cmath
import decimal
import random
from collections.abc import Callable

import sympy
from sympy import Basic, Expr, Float, Rational, S
from sympy.core.evalf import PrecisionExhausted
from sympy.core.relational import Relational

from ..errors import SymgraphError
from ..functions import relu
from ..rules import tied
from . import reasons

#: Largest exact value (in tree nodes, and in bits of its rationals) carried step by step.
BUDGET = 400
BITS = 20000


class EvaluationError(SymgraphError):
    """A point outside a step's domain, or a bad point (missing or non-numeric values)."""


class OverflowEvaluationError(EvaluationError):
    """A value beyond the float range (finite, but too large for a float)."""


class Undefined:
    """A node whose value failed; the failure is raised only if the value is used.

    A value beyond the float range (but below :data:`BIG`) keeps its SymPy value, so
    that ``1/(1 + e^1000)`` is 0 rather than an error: only a float result must fit.
    """

    def __init__(self, error: EvaluationError, value: Float | None = None):
        self.error, self.value = error, value


#: Values beyond the float range are carried as SymPy floats up to this magnitude (beyond
#: it, an overflow): exp of such a value stays cheap to compute.
BIG = Float("1e3000")


def _sympy_value(v) -> Float:
    return v.value if isinstance(v, Undefined) else Float(v)


class Point:
    """Scalar values and exact decisions at one point of a graph.

    ``env`` maps inputs (and, as they are computed, steps) to floats; an
    :class:`Undefined` marks a node whose value failed.
    """

    def __init__(self, g, env: dict, kink_tol: float = 0.0):
        self.g, self.env, self.kink_tol = g, env, kink_tol
        self.exact = {
            x: Rational(v) for x, v in env.items() if x in g.inputs and isinstance(v, float)
        }
        self._exact: dict[Basic, Expr | None] = {}
        self._signs: dict[Expr, int | None] = {}

    @classmethod
    def free(cls, values: dict, kink_tol: float = 0.0) -> Point:
        """A point of no graph: every value given is an input, read exactly as its float."""
        return cls(_Inputs(tuple(values)), values, kink_tol)

    # -- values ------------------------------------------------------------------

    def __call__(self, expr: Expr) -> float:
        """The float value of ``expr`` (old-style kink rules call the point like this)."""
        return self.number(expr, f"{expr}")

    def number(self, expr: Expr, what: str) -> float:
        """``expr`` at the point as a float, or an EvaluationError saying what went wrong."""
        expr = self.localize(sympy.sympify(expr))
        self.require(expr.free_symbols)
        missing = [s for s in expr.free_symbols if s not in self.env]
        if missing:
            raise EvaluationError(f"{what}: no value for {', '.join(sorted(map(str, missing)))}")
        subs = {s: _sympy_value(self.env[s]) for s in expr.free_symbols}
        try:
            value = sympy.N(expr.xreplace(subs)) if subs or not expr.is_Float else expr
            c = complex(value)
        except (TypeError, decimal.InvalidOperation, OverflowError, ZeroDivisionError):
            c, value = complex("nan"), None
        if cmath.isfinite(c) and c.imag == 0:
            return c.real
        return _real(c, value, what, lambda: reasons.why(expr, subs))

    def require(self, symbols) -> None:
        """Raise the failure of the first undefined node among ``symbols``."""
        bad = [
            s
            for s in symbols
            if isinstance(self.env.get(s), Undefined) and self.env[s].value is None
        ]
        if bad:
            first = min(bad, key=lambda s: self.g.order.get(s, 0))
            raise self.env[first].error

    # -- exact decisions -----------------------------------------------------------

    def compare(self, a: Expr, b: Expr) -> int:
        """-1, 0 or 1 as ``a < b``, ``a`` tied with ``b``, ``a > b`` at the point."""
        self.require((sympy.sympify(a) - b).free_symbols)
        if self.kink_tol > 0:
            fa, fb = self(a), self(b)
            if tied(fa, fb, self.kink_tol):
                return 0
        key = sympy.sympify(a) - b
        if key not in self._signs:
            self._signs[key] = self._exact_sign(key)
        s = self._signs[key]
        if s is None:  # too big or not scalar: the floats decide
            fa, fb = self(a), self(b)
            return 0 if tied(fa, fb, 0.0) else (1 if fa > fb else -1)
        return s

    def _exact_sign(self, difference: Expr) -> int | None:
        known = {v: self.exact_value(v) for v in difference.free_symbols}
        if any(v is None for v in known.values()):
            return None
        value = difference.xreplace(known)
        if not _small(value):
            return None
        return sign_of(value, f"{difference} (a difference compared at this point)")

    def exact_value(self, node: Basic) -> Expr | None:
        """The exact value of a scalar node at the point (a SymPy number), built step by
        step from the inputs' rationals; None where it would exceed :data:`BUDGET` nodes or
        :data:`BITS` bits (then the floats decide)."""
        memo = self._exact
        if node not in self.g.order:  # a line of a sweep's program: the floats decide
            return None
        if node not in memo:
            order = self.g.order
            for n in sorted(self.g.ancestors(node) - memo.keys(), key=order.__getitem__):
                memo[n] = self.exact.get(n) if n in self.g.inputs else self._step_exact(n)
        return memo[node]

    def _step_exact(self, name: Basic) -> Expr | None:
        s = self.g.step[name]
        parents = {p: self._exact.get(p) for p in s.parents}
        failed = isinstance(self.env.get(name), Undefined) and self.env[name].value is None
        if failed or getattr(name, "shape", None) or any(v is None for v in parents.values()):
            return None
        if _power_too_large(s.expr, parents):
            return None  # (10**300)**(10**30) exactly would never finish: the floats decide
        value = s.expr.xreplace(parents)
        return value if _small(value) and _bits(value) <= BITS else None

    def truth(self, cond: Basic) -> bool:
        """The exact truth of a Piecewise condition at the point."""
        if cond in (sympy.true, sympy.false):
            return bool(cond)
        if isinstance(cond, Relational):
            return _holds(cond, self.compare(cond.lhs, cond.rhs))
        truths = {r: sympy.true if self.truth(r) else sympy.false for r in cond.atoms(Relational)}
        result = cond.xreplace(truths)
        if result not in (sympy.true, sympy.false):
            raise EvaluationError(f"the condition {cond} has no truth value here")
        return bool(result)

    def localize(self, expr: Expr) -> Expr:
        """``expr`` with each max/min/|x|/relu/sign/Heaviside/Piecewise replaced by its
        active piece at the point (left as it is where its pieces tie)."""
        if expr.is_Atom or not expr.has(*ACTIVE):
            return expr
        if isinstance(expr, sympy.Piecewise):
            for e, c in expr.args:
                if self.truth(c):
                    return self.localize(e)
            raise EvaluationError(f"{expr} is undefined here: no condition holds")
        args = [self.localize(a) for a in expr.args]
        rule = ACTIVE.get(type(expr))
        rebuilt = expr.func(*args) if args != list(expr.args) else expr
        return rule(self, rebuilt) if rule else rebuilt

    def locally_constant(self, r: Relational) -> bool:
        """True if the two sides of ``r`` agree on a neighbourhood of the point: they are
        tied (exactly) at two random points within a relative 1e-9 of this one too."""
        rng = random.Random(str(r))
        for _ in range(2):
            near = {
                x: v + (abs(v) + 1e-6) * rng.uniform(1e-9, 2e-9) * rng.choice((-1, 1))
                if isinstance(v, float)
                else v
                for x, v in self.env.items()
                if x in self.g.inputs
            }
            other = Point(self.g, near, self.kink_tol)
            try:
                if not other.fill(r.free_symbols) or other.compare(r.lhs, r.rhs) != 0:
                    return False
            except EvaluationError:
                return False
        return True

    def fill(self, symbols) -> bool:
        """Compute the scalar steps that ``symbols`` depend on (False if a matrix step is
        among them)."""
        need = set().union(*(self.g.ancestors(s) for s in symbols if s in self.g.order))
        for s in self.g.steps:
            if s.name not in need:
                continue
            if s.shape or any(getattr(p, "shape", None) for p in s.parents):
                return False
            try:
                self.env[s.name] = self.number(s.expr, f"step {s}")
            except EvaluationError as err:
                self.env[s.name] = Undefined(err, getattr(err, "value", None))
        return True


class _Inputs:
    """What a :class:`Point` reads of a graph, for a point of no graph: inputs only."""

    def __init__(self, inputs: tuple):
        self.inputs, self.steps, self.step = inputs, (), {}
        self.order = {x: i for i, x in enumerate(inputs)}

    def ancestors(self, node: Basic) -> set:
        return {node}


def sign_of(value: Expr, what: str) -> int:
    """The sign of an exact real number (0 where SymPy cannot tell it from 0)."""
    if value.is_Rational:
        return int(sympy.sign(value))
    try:
        v = value.evalf(15, strict=True)
    except PrecisionExhausted:
        return 0  # indistinguishable from 0 at evalf's maximum working precision
    except (TypeError, ValueError, ArithmeticError, decimal.InvalidOperation):
        raise EvaluationError(f"{what} has no value here") from None
    re, im = v.as_real_imag()
    if im != 0 or not re.is_finite:
        kind = "infinite" if re.is_finite is False or im.is_finite is False else "complex"
        raise EvaluationError(f"{what} is not a real number here: it is {kind}")
    return int(sympy.sign(re)) if re.is_Number else 0


def _real(c: complex, value, what: str, reason: Callable[[], str | None]) -> float:
    """The float ``c``, or the error saying why there is none (no SymPy jargon: the part
    of the formula to blame, or the size of a value beyond the float range)."""
    if cmath.isinf(c) and isinstance(value, Expr) and value.is_finite:
        err = OverflowEvaluationError(f"{what} overflows here: {reasons.beyond(value)}")
        big = value.as_real_imag()
        if big[1] == 0 and abs(big[0]) < BIG:
            err.value = big[0]
        raise err
    if cmath.isnan(c) or cmath.isinf(c):
        raise EvaluationError(f"{what} is undefined here: {reason() or 'it has no number'}")
    raise EvaluationError(
        f"{what} is outside its real domain here: it evaluates to the complex number {c!r}"
    )


def _holds(r: Relational, s: int) -> bool:
    return {"<": s < 0, "<=": s <= 0, ">": s > 0, ">=": s >= 0, "==": s == 0, "!=": s != 0}[
        r.rel_op
    ]


def _bits(e: Basic) -> int:
    return sum(r.p.bit_length() + r.q.bit_length() for r in e.atoms(Rational))


def _power_too_large(expr: Basic, values: dict) -> bool:
    """True if a power in ``expr`` would, with ``values`` put in, need more than :data:`BITS`
    bits exactly: checked on the exponent (and the base's size) before SymPy computes it."""
    for power in expr.atoms(sympy.Pow):
        exponent = power.exp.xreplace(values)
        if not exponent.is_Rational:
            continue
        if exponent.q > BITS:
            return True
        base = power.base
        size = _bits(values[base]) if base in values else sum(map(_bits, values.values())) + 64
        if base not in (0, 1, -1) and size * abs(exponent.p) > BITS:
            return True
    return False


def _small(e: Basic) -> bool:
    return all(n <= BUDGET for n, _ in enumerate(sympy.preorder_traversal(e)))


def _extreme(sense: int):
    def active(at: Point, e: Expr) -> Expr:
        best = e.args[0]
        for a in e.args[1:]:
            if at.compare(a, best) * sense > 0:
                best = a
        ties = [a for a in e.args if a is not best and at.compare(a, best) == 0]
        return e if ties else best

    return active


def _by_sign(pos, neg):
    def active(at: Point, e: Expr) -> Expr:
        s = at.compare(e.args[0], 0)
        return e if s == 0 else (pos(e.args[0]) if s > 0 else neg(e.args[0]))

    return active


#: The active piece of each non-smooth operation at a point (the operation itself at a tie).
ACTIVE = {
    sympy.Max: _extreme(1),
    sympy.Min: _extreme(-1),
    sympy.Abs: _by_sign(lambda a: a, lambda a: -a),
    relu: _by_sign(lambda a: a, lambda a: S.Zero),
    sympy.sign: _by_sign(lambda a: S.One, lambda a: -S.One),
    sympy.Heaviside: _by_sign(lambda a: S.One, lambda a: S.Zero),
    sympy.DiracDelta: _by_sign(lambda a: S.Zero, lambda a: S.Zero),
    sympy.Piecewise: None,
}
