"""SymPy nodes made directly in the form SymPy's constructors would give them.

``Add``, ``Mul`` and a function's constructor canonicalise every node they make: they
sort, collect like terms, and ask assumption queries (``exp(-t)`` asks a dozen of its
argument, a third of a millisecond on a cold cache). The sweeps make thousands of nodes
whose canonical form is known without that work: a sum of distinct monomials, a product
of distinct symbols, ``exp`` of a step's name. :func:`node` makes those directly, in
SymPy's canonical order, and returns None for anything else (the caller then asks SymPy).
``tests/test_canonical.py`` checks it against SymPy's own constructors.

>>> from sympy import Add, Integer, Symbol, exp
>>> x, y = Symbol("x", real=True), Symbol("y", real=True)
>>> node(Add, [y, -2 * x, Integer(3)]) == Add(y, -2 * x, 3), node(exp, [-x]) == exp(-x)
(True, True)
>>> node(Add, [x, 2 * x]) is None  # like terms: SymPy collects them
True
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cmp_to_key
from operator import attrgetter

from sympy import Add, Basic, Expr, Mul, Pow, S, Symbol, sympify
from sympy.core.basic import ordering_of_classes
from sympy.core.function import Application

#: SymPy's canonical order of the arguments of a sum or product.
CANONICAL_ORDER = cmp_to_key(Basic.compare)

#: The assumptions of the symbols the builder and the sweeps make (``real=True``).
_PROBE = Symbol("_probe", real=True)
_REAL = _PROBE._assumptions0
#: Whether SymPy leaves ``F(t)`` and ``F(-t)`` as they stand for a real symbol ``t``,
#: found once per function class with a probe (its evaluation reads only assumptions).
_KEPT: dict[tuple[type, bool], bool] = {}
_name = attrgetter("name")
_RANK = {name: i for i, name in enumerate(ordering_of_classes)}
_SYMBOL_KEY = (_RANK["Symbol"], len(_PROBE._hashable_content()))


def _real(s: Basic) -> bool:
    return type(s) is Symbol and s._assumptions0 == _REAL


def _parts(term: Basic) -> tuple[Basic, tuple] | None:
    """A monomial as (coefficient, its other factors), None if it is not one: a number,
    a real symbol, an integer power of one, or a product of a number and those. Numbers are
    rationals: SymPy keeps a float ``1.0`` factor, and sums floats as it goes."""
    if term.is_Rational:
        return term, ()
    if _real(term) or (term.is_Pow and _real(term.base) and _integer_power(term.exp)):
        return S.One, (term,)
    if term.is_Mul and all(_factor(f) for f in term.args[term.args[0].is_Rational :]):
        return (term.args[0], term.args[1:]) if term.args[0].is_Rational else (S.One, term.args)
    return None


def _integer_power(e: Basic) -> bool:
    return e.is_Integer and e not in (S.Zero, S.One)


def _factor(f: Basic) -> bool:
    return _real(f) or (f.is_Pow and _real(f.base) and _integer_power(f.exp))


def _sort(items: list) -> None:
    """Sort monomials in SymPy's canonical order (:func:`_key`); real symbols alone by name."""
    if len(items) > 1:
        items.sort(key=_name if all(map(_real, items)) else _key)


def _key(e: Basic) -> tuple:
    """The key ``Basic.compare`` sorts a monomial by: its class's place in SymPy's
    ``ordering_of_classes``, the length of its hashable content, then that content (a
    symbol's name, as its assumptions are those of every real symbol)."""
    if type(e) is Symbol:
        return (*_SYMBOL_KEY, e.name)
    if e.is_Rational:
        return _RANK[type(e).__name__], 2, e.p, e.q
    return _RANK[type(e).__name__], len(e.args), *map(_key, e.args)


def add(terms: Sequence[Basic]) -> Expr | None:
    """``Add(*terms)`` for monomials with distinct non-numeric parts (no like terms)."""
    constant, kept, seen = S.Zero, [], set()
    for t in terms:
        parts = _parts(t)
        if parts is None:
            return None
        c, rest = parts
        if not rest:
            constant = constant + c if constant is not S.Zero else c
        elif rest in seen or c is S.Zero:  # like terms, or a term SymPy would drop
            return None
        else:
            seen.add(rest)
            kept.append(t)
    _sort(kept)
    if constant is not S.Zero:
        kept.insert(0, constant)
    if len(kept) < 2:
        return kept[0] if kept else S.Zero
    return Add._from_args(kept, is_commutative=True)


def mul(factors: Sequence[Basic]) -> Expr | None:
    """``Mul(*factors)`` for a number times factors with distinct bases (real symbols,
    integer powers of them, or products of those)."""
    if len(factors) == 1 and _real(factors[0]):  # the other factor of x_j · w_ij
        return factors[0]
    if len(factors) == 2:  # an edge's x_j · t̄_k, or 1 · t̄_k
        a, b = factors
        if _real(a) and _real(b) and a.name != b.name:
            return Mul._from_args((a, b) if a.name < b.name else (b, a), True)
        if a is S.One and _real(b):
            return b
    coefficient, kept, bases = S.One, [], set()
    for f in factors:
        parts = _parts(f)
        if parts is None:
            return None
        if parts[0] is not S.One:
            coefficient *= parts[0]
        for g in parts[1]:
            base = g.base if g.is_Pow else g
            if base in bases:
                return None
            bases.add(base)
            kept.append(g)
    if coefficient is S.Zero and kept:  # a product SymPy would drop, and its parents
        return None
    if not kept:
        return coefficient
    _sort(kept)
    if coefficient is not S.One:
        kept.insert(0, coefficient)
    return Mul._from_args(kept, is_commutative=True) if len(kept) > 1 else kept[0]


def applied(func: type, arg: Basic) -> Expr | None:
    """``func(arg)`` for a function of one real symbol or its negation, where SymPy
    leaves it as it stands (``exp(-t)``; not ``sin(-t)``, which SymPy writes ``-sin(t)``)."""
    negated = arg.is_Mul and len(arg.args) == 2 and arg.args[0] is S.NegativeOne
    if not (_real(arg.args[1]) if negated else _real(arg)):
        return None
    key = (func, negated)
    if key not in _KEPT:
        probe = -_PROBE if negated else _PROBE
        made = func(probe)
        _KEPT[key] = made.func is func and made.args == (probe,)
    return Basic.__new__(func, arg) if _KEPT[key] else None


def call(func: type, arg: Basic) -> Expr:
    """``func(arg)``: made directly where :func:`applied` knows its form, else by SymPy.

    >>> from sympy import cos
    >>> t = Symbol("t", real=True)
    >>> call(cos, t) == cos(t), call(cos, -t) == cos(t)
    (True, True)
    """
    made = applied(func, arg)
    return func(arg) if made is None else made


def node(func: type, args: Sequence[Basic]) -> Expr | None:
    """``func(*args)`` made directly where its canonical form is known, else None."""
    if func is Add:
        return add(args)
    if func is Mul:
        return mul(args)
    if func is Pow:
        base, exponent = args
        return power(base, exponent) if _real(base) and _integer_power(exponent) else None
    if len(args) == 1 and issubclass(func, Application) and not func.is_Boolean:
        return applied(func, args[0])
    return None


def replaced(expr: Basic, mapping: dict) -> Basic:
    """``expr.xreplace(mapping)``, each rebuilt node made by :func:`node` where it can
    (SymPy's constructors otherwise): ``sin(t₁)`` with ``t₁ → t₂`` runs no ``eval``.

    >>> from sympy import sin
    >>> a, b = Symbol("a", real=True), Symbol("b", real=True)
    >>> replaced(sin(a) * b + a, {a: b}) == (sin(a) * b + a).xreplace({a: b})
    True
    """
    if expr in mapping:
        return mapping[expr]
    if expr.is_Atom or not isinstance(expr, Expr) or not expr.args:
        return expr.xreplace(mapping)
    args = [replaced(a, mapping) for a in expr.args]
    if all(new is old for new, old in zip(args, expr.args, strict=True)):
        return expr
    made = node(expr.func, args)
    return expr.func(*args) if made is None else made


def power(base: Symbol, exponent: Basic) -> Expr:
    """``base**exponent`` for a real symbol and an integer other than 0 and 1, as
    ``Pow`` makes it once its evaluation finds nothing to do."""
    made = Expr.__new__(Pow, base, exponent)
    made.is_commutative = True
    return made


def reciprocal(b: Expr) -> Expr:
    """``1/b``, made directly for a real symbol (the builder's folded divisions)."""
    return power(b, S.NegativeOne) if _real(b) else 1 / b


def product(*factors: Expr) -> Expr:
    """``Mul(*factors)``, made directly when its form is known (the sweep's commonest
    product, ``x_j · t̄_k``, where ``Mul`` would only sort).

    >>> x, y = Symbol("x", real=True), Symbol("y", real=True)
    >>> product(y, x) == x*y and product(y, -2, x).args == (-2*x*y).args
    True
    """
    factors = tuple(f if isinstance(f, Basic) else sympify(f) for f in factors)
    made = mul(factors)
    return Mul(*factors) if made is None else made
