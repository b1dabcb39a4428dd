"""Constructing the parser's SymPy nodes: bounded in time, and without losing a domain.

SymPy's automatic evaluation has two costs the parser cannot accept:

* **It folds domains away.** ``x/x`` is 1, ``log(x) - log(x)`` is 0 and ``sqrt(x)**2`` is
  ``x``, true only where the cancelled part is defined. :func:`construct` compares the
  domain conditions of the arguments (``x ≠ 0``, ``x ≥ 0``, ``log`` of something) with
  those of the result; if one vanished, the node is built unevaluated (``x/x`` stays
  ``x/x``), so evaluation at 0 fails at that step.
* **Its assumption system is exponential in depth.** ``sinh(arg)`` asks whether ``arg`` is
  zero, which for ``sinh(...)**2`` eight deep runs for seconds. :func:`construct` lets
  SymPy see only the top ``EVAL_DEPTH`` levels of the arguments: deeper subexpressions are
  replaced by real placeholders for the evaluation and put back unevaluated, so SymPy
  still folds coefficients and merges sums (``2*(3*sinh(…))`` is ``6*sinh(…)``) but never
  queries a deep tree.

>>> x = sympy.Symbol("x", real=True)
>>> construct(sympy.Mul, x, 1 / x), construct(sympy.Mul, sympy.Integer(2), x, x)
(x/x, 2*x**2)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import pairwise
from typing import Any

import sympy
from sympy import Basic
from sympy.core.function import Application
from sympy.core.mul import _unevaluated_Mul
from sympy.functions.elementary.miscellaneous import MinMaxBase
from sympy.matrices.expressions import MatrixExpr

from ..canonical import CANONICAL_ORDER
from ..functions import relu, sigmoid, softplus

#: Levels of the arguments SymPy's evaluation sees when a node is built; deeper parts
#: are placeholders, so the assumption queries of one construction are bounded.
EVAL_DEPTH = 3

#: Functions defined on every real number: they add no domain condition.
_ENTIRE = frozenset(
    {sympy.exp, sympy.sin, sympy.cos, sympy.atan, sympy.sinh, sympy.cosh, sympy.tanh}
    | {sympy.Abs, sympy.sign, sympy.Heaviside, sympy.Max, sympy.Min, sigmoid, relu, softplus}
    | {sympy.Piecewise}  # its branches' conditions hold only where they are taken
)
_TRANSPARENT = (sympy.Add, sympy.Mul, sympy.Pow, Application, MinMaxBase)
_NONE: frozenset = frozenset()


def _own(e: Basic) -> frozenset:
    """The domain conditions a node adds itself, as hashable (kind, subexpression) pairs."""
    if e.is_Pow:
        base, exponent = e.args
        if exponent.is_Integer:
            return _NONE if exponent >= 0 else frozenset({("nonzero", base)})
        if base.is_Number and base > 0:
            return _NONE
        if exponent.is_Rational or exponent.is_Float:  # a root: base ≥ 0 (> 0 if negative)
            kinds = ("root", "nonzero") if exponent < 0 else ("root",)
            return frozenset((k, base) for k in kinds)
        return frozenset({("power", base)})
    if isinstance(e, Application) and type(e) not in _ENTIRE and not e.is_Boolean:
        return frozenset({("function", e)})
    return _NONE


@lru_cache(maxsize=1 << 14)
def conditions(e: Basic) -> frozenset:
    """Every domain condition in ``e``: where it is defined, each must hold."""
    if e.is_Atom or isinstance(e, MatrixExpr):
        return _NONE
    inner = frozenset().union(*map(conditions, e.args))
    own = _own(e)
    return inner | own if own else inner


def unevaluated(func: Any, args: Any) -> Basic:
    """``func(*args)`` as it stands; sums and products in SymPy's canonical order, so an
    unevaluated node equals the evaluated one when SymPy would not have changed it."""
    if func in (sympy.Add, sympy.Mul):
        args = sorted(args, key=CANONICAL_ORDER)
    try:
        return func(*args, evaluate=False)
    except TypeError:  # containers (ExprCondPair, Tuple) take no keyword, and never fold
        return func(*args)


def _truncated(e: Basic, depth: int, table: dict) -> Basic:
    if e.is_Atom or e.is_number or not isinstance(e, sympy.Expr) or isinstance(e, MatrixExpr):
        return e  # a matrix keeps its shape: it is never a (scalar) placeholder
    opaque = not isinstance(e, _TRANSPARENT) or isinstance(e, sympy.Piecewise)
    if depth >= EVAL_DEPTH or opaque:
        if e not in table:
            table[e] = sympy.Dummy(real=True)
        return table[e]
    args = [_truncated(a, depth + 1, table) for a in e.args]
    if all(a is b for a, b in zip(args, e.args, strict=True)):
        return e
    return unevaluated(e.func, args)


def replaced(e: Basic, back: dict) -> Basic:
    """``e`` with the keys of ``back`` replaced by their values, without re-evaluating
    (``xreplace`` would evaluate every rebuilt node, and ask deep assumption queries)."""
    if e in back:
        return back[e]
    if e.is_Atom or not (e.free_symbols & back.keys()):
        return e
    return unevaluated(e.func, [replaced(a, back) for a in e.args])


def construct(func: Any, *args: Basic) -> Basic:
    """``func(*args)`` evaluated by SymPy on a bounded view of the arguments, unevaluated
    where evaluation would drop a domain condition of an argument."""
    table: dict[Basic, sympy.Dummy] = {}
    view = [_truncated(a, 1, table) for a in args]
    result = func(*view)
    if table:
        result = replaced(result, {v: k for k, v in table.items()})
    wanted = frozenset().union(*map(conditions, args))
    if wanted and not wanted <= conditions(result):
        return _kept(func, args)
    return result


def _kept(func: Any, args: tuple) -> Basic:
    """``func(*args)`` unevaluated, its numbers folded into one (``6*x/x``, not ``2*3*x/x``)."""
    numbers = [a for a in args if a.is_number]
    if func in (sympy.Add, sympy.Mul) and len(numbers) > 1:
        args = (func(*numbers), *(a for a in args if not a.is_number))
    return unevaluated(func, args)


def applying(func: Any):
    """A builder for ``func`` through :func:`construct` (named for error messages)."""

    def build(*args: Basic) -> Basic:
        return construct(func, *args)

    build.__name__ = getattr(func, "__name__", "build")
    return build


def split_constant(a: Basic) -> tuple[Basic, Basic]:
    """``a.as_independent(*a.free_symbols, as_Add=False)``: the product's constant
    factors and the rest, found directly for a commutative product (SymPy's general
    search was a third of building the MLP n = 16).

    >>> x, y = sympy.symbols("x y", real=True)
    >>> split_constant(-2 * sympy.pi * x * y)
    (-2*pi, x*y)
    """
    if not a.is_commutative:
        return a.as_independent(*a.free_symbols, as_Add=False)
    first, rest = a.args[0], a.args[1:]
    if first.is_Rational and not any(f.is_number or f.is_Mul for f in rest):  # as SymPy made it
        return first, rest[0] if len(rest) == 1 else sympy.Mul._from_args(rest, True)
    constant = [f for f in a.args if not f.free_symbols]
    rest = [f for f in a.args if f.free_symbols]
    return sympy.Mul(*constant), _unevaluated_Mul(*rest)


def scaled(constant: Basic, node: Basic) -> Basic:
    """``constant * node``; for a rational and a symbol, the product SymPy would make
    (``-1*t3``) made directly: SymPy's ``Mul`` would search for it a while.

    >>> scaled(sympy.Integer(-1), sympy.Symbol("t3", real=True))
    -t3
    """
    if constant.is_Rational and constant not in (0, 1) and type(node) is sympy.Symbol:
        return sympy.Mul._from_args((constant, node), True)
    return constant * node


def real_twins(symbols: Iterable[Basic]) -> dict[sympy.Symbol, sympy.Symbol]:
    """Each plain symbol's real twin (one assumption query per symbol, none per node).

    >>> real_twins([sympy.Symbol("x"), sympy.Symbol("y", positive=True)])
    {x: x}
    """
    return {
        s: sympy.Symbol(s.name, real=True)
        for s in symbols
        if isinstance(s, sympy.Symbol) and (_plain(s) or not s.is_real)
    }


#: The assumptions of ``Symbol("x")``: none but the default, commutative.
_PLAIN = sympy.Symbol("_plain")._assumptions0


def _plain(s: Basic) -> bool:
    """A ``Symbol`` made without assumptions: not known to be real, without asking."""
    return type(s) is sympy.Symbol and s._assumptions0 == _PLAIN


def swappable(symbols: Iterable[Basic], twins: Mapping[sympy.Symbol, sympy.Symbol]) -> bool:
    """Whether swapping the twins in at the leaves builds the graph that rebuilding the
    input with real symbols first would. Not with a twin already used (``x`` plain and
    real in one input), a ``Dummy`` or subclass (its class would change), or SymPy's
    canonical order of the symbols changing with their assumptions (a long sum's terms
    would be visited in another order).

    >>> x, z = sympy.symbols("x z")
    >>> y = sympy.Symbol("y", real=True)  # a plain z sorts before y, its twin after
    >>> swappable([x, y], real_twins([x, y])), swappable([y, z], real_twins([y, z]))
    (True, False)
    """
    symbols = [s for s in symbols if isinstance(s, sympy.Symbol)]
    if all(map(_plain, symbols)):  # plain symbols, and their twins, sort by name alike
        return True
    real = set(twins.values())
    if any(type(s) is not sympy.Symbol for s in twins) or len(real) < len(twins):
        return False
    if not real.isdisjoint(symbols):
        return False
    made = [twins.get(s, s) for s in sorted(symbols, key=CANONICAL_ORDER)]
    return all(a.compare(b) < 0 for a, b in pairwise(made))
