"""Expressions as JSON trees ``[class name, *arguments]``, rebuilt through a whitelist.

Nothing is ever evaluated: a tree names a SymPy class from a fixed table (or one of
symgraph's own functions, or a function the caller names), and the class is called with
``evaluate=False`` where it has that option, so an expression comes back exactly as it
was written. Symbols keep their assumptions, Floats their precision.

>>> tree = encode(sympy.Rational(1, 3) * Symbol("x", positive=True))
>>> tree
['Mul', ['Rational', 1, 3], ['Symbol', 'x', {'positive': True}]]
>>> decode(tree) == sympy.Rational(1, 3) * Symbol("x", positive=True)
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import mpmath.libmp as mlib
import sympy
from sympy import Basic, Expr, S, Symbol
from sympy.core.assumptions import _assume_defined
from sympy.core.function import AppliedUndef
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .. import functions

#: symgraph's own functions (sigmoid, relu, msum, ...): every Function its module defines.
_OWN = [
    f
    for f in vars(functions).values()
    if isinstance(f, type) and issubclass(f, sympy.Function) and f.__module__ == functions.__name__
]
_PLAIN_CONSTRUCTORS = (
    *(ExprCondPair, sympy.Tuple, sympy.Lambda, sympy.MatrixSymbol, sympy.Identity),
    *(sympy.ZeroMatrix, sympy.OneMatrix, sympy.ImmutableDenseMatrix, ElementwiseApplyFunction),
    functions.elementwise,
)
_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        *(sympy.Add, sympy.Mul, sympy.Pow, sympy.exp, sympy.log),
        *(sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc),
        *(sympy.asin, sympy.acos, sympy.atan, sympy.atan2, sympy.sinh, sympy.cosh, sympy.tanh),
        *(sympy.asinh, sympy.acosh, sympy.atanh, sympy.Abs, sympy.sign, sympy.Heaviside),
        *(sympy.DiracDelta, sympy.Max, sympy.Min, sympy.Piecewise),
        *(sympy.StrictLessThan, sympy.LessThan, sympy.StrictGreaterThan, sympy.GreaterThan),
        *(sympy.Equality, sympy.Unequality, sympy.And, sympy.Or, sympy.Not, sympy.erf),
        *(sympy.floor, sympy.ceiling, sympy.MatMul, sympy.MatAdd, sympy.MatPow),
        *(sympy.Transpose, sympy.HadamardProduct, sympy.Trace, sympy.Inverse),
        *_PLAIN_CONSTRUCTORS,
        *_OWN,
    )
}
_SINGLETONS = {
    type(value).__name__: value
    for value in (
        *(S.Pi, S.Exp1, S.Infinity, S.NegativeInfinity, S.ComplexInfinity, S.NaN),
        *(S.true, S.false, S.EulerGamma, S.GoldenRatio, S.ImaginaryUnit),
    )
}
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_]\w*")


class JSONFormatError(ValueError):
    """JSON that is not symgraph's format, or an expression it cannot write or rebuild."""


# ---------------------------------------------------------------- expressions as trees


def _symbol(sym: Symbol) -> list:
    """``["Symbol", name]`` (real), ``["Symbol", name, assumptions]``, or a Dummy with its
    index (a bound variable, as in an elementwise function's ``d ↦ σ(d)``)."""
    given = dict(getattr(sym, "_assumptions_orig", sym.assumptions0))
    if type(sym) is sympy.Dummy:
        return ["Dummy", sym.name, sym.dummy_index, given]
    if type(sym) is not Symbol:
        raise JSONFormatError(f"cannot write {type(sym).__name__} {sym} to JSON")
    return ["Symbol", sym.name] + ([] if given == {"real": True} else [given])


def _float(f: sympy.Float) -> list:
    """A Float exactly: enough digits for its precision, and the precision."""
    short = repr(float(f))  # the shortest text, if it reads back exactly
    if f._prec == 53 and _FLOAT.fullmatch(short) and sympy.Float(short, precision=53) == f:
        return ["Float", short, 53]
    return ["Float", mlib.to_str(f._mpf_, mlib.repr_dps(f._prec)), f._prec]


def encode(expr: Basic) -> list:
    """``expr`` as a JSON tree ``[class name, *arguments]``.

    >>> encode(sympy.exp(2 * Symbol("u2", real=True)))
    ['exp', ['Mul', ['Integer', 2], ['Symbol', 'u2']]]
    """
    expr = sympy.sympify(expr)
    if expr.is_Symbol:
        return _symbol(expr)
    if expr.is_Integer:
        return ["Integer", int(expr)]
    if expr.is_Rational:
        return ["Rational", int(expr.p), int(expr.q)]
    if expr.is_Float:
        return _float(expr)
    name = type(expr).__name__
    if _SINGLETONS.get(name) is expr:
        return ["S", name]
    if isinstance(expr, sympy.core.symbol.Str):
        return ["Str", expr.name]
    if isinstance(expr, AppliedUndef):
        return ["Function", name, *map(encode, expr.args)]
    known = _CLASSES.get(name)
    if known is not None and known is not type(expr):
        raise JSONFormatError(f"cannot write {name}: it is not SymPy's {name}")
    if known is None and not isinstance(expr, sympy.Function):
        raise JSONFormatError(f"cannot write {name} to JSON: not a supported SymPy class")
    return [name, *map(encode, expr.args)]


Functions = Mapping[str, type]


def decode(tree: Any, functions: Functions | None = None) -> Basic:
    """Rebuild an expression from :func:`encode`'s tree, through a whitelist only.

    ``functions`` adds your own ``sympy.Function`` subclasses by name.

    >>> decode(["Add", ["Symbol", "x"], ["Integer", 1]])
    x + 1
    >>> decode(["__import__", ["Str", "os"]])
    Traceback (most recent call last):
    symgraph.export.trees.JSONFormatError: unknown expression class '__import__'
    """
    if not (isinstance(tree, list) and tree and isinstance(tree[0], str)):
        raise JSONFormatError(f"an expression is a list [class name, *arguments], not {tree!r}")
    head, *args = tree
    if head == "Function":
        return _decode_function(functions, *args)
    if head in _ATOMS:
        try:
            return _ATOMS[head](*args)
        except (TypeError, ValueError) as exc:
            raise JSONFormatError(f"bad {head} {args!r}: {exc}") from None
    cls = (functions or {}).get(head) or _CLASSES.get(head)
    if cls is None:
        raise JSONFormatError(f"unknown expression class {head!r}")
    parts = [decode(a, functions) for a in args]
    try:
        return _build(cls, parts)
    except Exception as exc:  # SymPy's refusals of bad arguments
        raise JSONFormatError(f"cannot build {head} from {args!r}: {exc}") from None


def _build(cls: type, parts: list) -> Basic:
    """``cls(*parts)`` as written: unevaluated, where the class has that option."""
    if cls in _PLAIN_CONSTRUCTORS:
        return cls(*parts)
    try:
        return cls(*parts, evaluate=False)
    except TypeError as exc:
        if "evaluate" not in str(exc):
            raise
        return cls(*parts)


def need(value: Any, kind: type | tuple, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise JSONFormatError(f"{what} must be {getattr(kind, '__name__', kind)}, not {value!r}")
    return value


def _assumptions(given: Any, name: Any) -> dict[str, bool]:
    given = need(given, dict, "assumptions")
    unknown = [k for k, v in given.items() if k not in _assume_defined or not isinstance(v, bool)]
    if unknown:
        raise JSONFormatError(f"unknown assumptions {unknown} of symbol {name!r}")
    return given


def _decode_symbol(name: Any, assumptions: Any = None) -> Symbol:
    given = {"real": True} if assumptions is None else _assumptions(assumptions, name)
    return Symbol(need(name, str, "a symbol's name"), **given)


def _decode_dummy(name: Any, index: Any, assumptions: Any) -> sympy.Dummy:
    given = _assumptions(assumptions, name)
    return sympy.Dummy(need(name, str, "a name"), need(index, int, "an index"), **given)


def _decode_float(text: Any, precision: Any) -> sympy.Float:
    if not (isinstance(text, str) and _FLOAT.fullmatch(text)):
        raise JSONFormatError(f"a Float is written as decimal text, not {text!r}")
    if not (isinstance(precision, int) and 1 <= precision <= 100_000):
        raise JSONFormatError(f"a Float's precision is a number of bits, not {precision!r}")
    return sympy.Float(text, precision=precision)


def _decode_function(functions: Functions | None, name: Any, *args: Any) -> Expr:
    if not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise JSONFormatError(f"a function's name must be an identifier, not {name!r}")
    return sympy.Function(name)(*[decode(a, functions) for a in args])


def _decode_rational(p: Any, q: Any) -> sympy.Rational:
    if need(q, int, "a Rational's denominator") == 0:
        raise JSONFormatError("a Rational's denominator must not be 0")
    return sympy.Rational(need(p, int, "a Rational's numerator"), q)


def _decode_singleton(name: Any) -> Basic:
    if name not in _SINGLETONS:
        raise JSONFormatError(f"unknown constant {name!r}")
    return _SINGLETONS[name]


_ATOMS: dict[str, Callable[..., Basic]] = {
    "Symbol": _decode_symbol,
    "Dummy": _decode_dummy,
    "Integer": lambda n: sympy.Integer(need(n, int, "an Integer")),
    "Rational": _decode_rational,
    "Float": _decode_float,
    "S": _decode_singleton,
    "Str": lambda name: sympy.core.symbol.Str(need(name, str, "a Str")),
}
