"""Expressions as JSON trees ``[class name, *arguments]``, rebuilt through a whitelist.

Nothing is ever evaluated: a tree names a SymPy class from a fixed table (or one of
symgraph's own functions, or a function the caller names), and the class is called with
``evaluate=False`` where it has that option, so an expression comes back exactly as it
was written. Symbols are real (the one assumption symgraph gives them); Floats keep
their precision.

>>> tree = encode(sympy.Rational(1, 3) * Symbol("x", real=True))
>>> tree
['Mul', ['Rational', 1, 3], ['Symbol', 'x']]
>>> decode(tree) == sympy.Rational(1, 3) * Symbol("x", real=True)
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import mpmath.libmp as mlib
import sympy
from sympy import Basic, Expr, Symbol
from sympy.core.function import AppliedUndef
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .. import functions, safety
from ..parse.guards import MAX_CONST_BITS, MAX_MINMAX_ARGS, check_folding, power
from ..parse.source import ParseError

#: Classes built without ``evaluate=`` (they take no such option).
_PLAIN_CONSTRUCTORS = (
    *(ExprCondPair, sympy.Tuple, sympy.Lambda, sympy.MatrixSymbol, sympy.Identity),
    *(sympy.ZeroMatrix, sympy.OneMatrix, sympy.ImmutableDenseMatrix, ElementwiseApplyFunction),
    functions.elementwise,
)
#: The classes a tree may name: the one whitelist of :mod:`symgraph.safety`.
_SINGLETONS = safety.CONSTANTS
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d{1,4})?")
_NAME = re.compile(r"[A-Za-z_]\w*")


class JSONFormatError(ParseError):
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
    known = safety.classes().get(name)
    if known is not None and known is not type(expr):
        raise JSONFormatError(f"cannot write {name}: it is not SymPy's {name}")
    if known is None and not isinstance(expr, sympy.Function):
        raise JSONFormatError(f"cannot write {name} to JSON: not a supported SymPy class")
    return [name, *map(encode, expr.args)]


Functions = Mapping[str, type]

#: Limits of one document: expression nodes in all its trees, nesting, arguments of a node.
MAX_TREE_NODES = 200_000
MAX_TREE_DEPTH = 100
MAX_ARGS = 20_000


class Budget:
    """The expression nodes a document may still hold (one budget for all its trees)."""

    def __init__(self, nodes: int | None = None):
        self.nodes = MAX_TREE_NODES if nodes is None else nodes


def decode(
    tree: Any, functions: Functions | None = None, *, path: str = "expr", budget=None
) -> Basic:
    """Rebuild an expression from :func:`encode`'s tree, through a whitelist only.

    Only the classes of :func:`symgraph.safety.classes` (and ``functions``, your own
    ``sympy.Function`` subclasses by name) are built, names must be identifiers as the
    parser reads them, symbols are real (as symgraph writes them), and constants,
    arguments, nesting and the number of nodes are bounded. Every refusal is a
    :class:`JSONFormatError` naming the node by its ``path`` in the document.

    >>> decode(["Add", ["Symbol", "x"], ["Integer", 1]])
    x + 1
    >>> decode(["Add", ["Symbol", "x"], ["__import__", ["Str", "os"]]])
    Traceback (most recent call last):
    symgraph.export.trees.JSONFormatError: expr[2]: unknown expression class '__import__'
    """
    fns = dict(functions or {})
    expr = _decode(tree, fns, path, budget or Budget(), 0, frozenset())
    try:  # the walk compiled code and numeric evaluation run too: one whitelist
        safety.admit(expr, path, extra=frozenset(fns.values()))
    except safety.UnsafeExpressionError as exc:
        raise JSONFormatError(exc.message) from None
    return expr


def _decode(tree: Any, fns: dict, path: str, budget: Budget, depth: int, bound) -> Basic:
    budget.nodes -= 1
    if budget.nodes < 0:
        raise JSONFormatError(f"{path}: the document holds more than {MAX_TREE_NODES} nodes")
    if depth > MAX_TREE_DEPTH:
        raise JSONFormatError(f"{path}: nested more than {MAX_TREE_DEPTH} levels deep")
    if not (isinstance(tree, list) and tree and isinstance(tree[0], str)):
        raise JSONFormatError(f"{path}: an expression is [class name, *arguments], not {tree!r}")
    head, *args = tree
    if len(args) > MAX_ARGS:
        raise JSONFormatError(f"{path}: {head} has more than {MAX_ARGS} arguments")
    special = _SPECIAL.get(head)
    if special is not None:
        return special(args, fns, path, budget, depth, bound)
    if head in _ATOMS:
        try:
            return _ATOMS[head](*args)
        except JSONFormatError as exc:
            raise JSONFormatError(f"{path}: {exc.message}") from None
        except (TypeError, ValueError) as exc:
            raise JSONFormatError(f"{path}: bad {head} {args!r}: {exc}") from None
    cls = fns.get(head) or safety.classes().get(head)
    if cls is None:
        raise JSONFormatError(f"{path}: unknown expression class {head!r}")
    parts = [
        _decode(a, fns, f"{path}[{i}]", budget, depth + 1, bound) for i, a in enumerate(args, 1)
    ]
    try:
        return _guard(cls, parts) or _build(cls, parts)
    except ParseError as exc:
        raise JSONFormatError(f"{path}: {head}: {exc.message}") from None
    except Exception as exc:  # SymPy's refusals of bad arguments
        raise JSONFormatError(f"{path}: cannot build {head}: {exc}") from None


def _guard(cls: type, parts: list) -> Basic | None:
    """The parser's guards: no constant power, fold or comparison SymPy cannot finish
    once the expression is rebuilt (``xreplace`` evaluates). A power of exact constants
    is returned evaluated (as the parser builds it), so an outer guard sees its size."""
    if cls is sympy.Pow and len(parts) == 2 and not any(p.has(sympy.Function) for p in parts):
        base, exponent = parts
        if exponent.is_number:
            return power(base, exponent)
        # SymPy splits the constant terms off an exponent, in any order, nested or not
        numbers = [t for t in _terms(exponent) if t.is_number]
        if numbers:
            power(base, sympy.Add(*numbers))
    elif cls in (sympy.Add, sympy.Mul):
        check_folding(*parts)
    elif cls in (sympy.Max, sympy.Min) and len(parts) > MAX_MINMAX_ARGS:
        raise ParseError(f"more than {MAX_MINMAX_ARGS} arguments to compare")
    return None


def _terms(e: Basic) -> list[Basic]:
    """The terms of a sum, unevaluated sums inside it flattened."""
    return [t for a in e.args for t in _terms(a)] if e.is_Add else [e]


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


#: The assumptions symgraph gives every symbol (and a matrix entry's Dummy).
_REAL = {"real": True}


def _assumptions(given: Any, name: Any) -> dict[str, bool]:
    """Only what symgraph writes: a document may not make a symbol positive (and so
    change what SymPy simplifies, and the derivatives)."""
    if given != _REAL:
        raise JSONFormatError(f"symbol {name!r}: assumptions {given!r}; symgraph writes real ones")
    return dict(_REAL)


def _name(name: Any, what: str) -> str:
    if not safety.valid_name(name):
        raise JSONFormatError(f"{what} {name!r} is not a name the parser accepts")
    return name


def _decode_symbol(name: Any, assumptions: Any = _REAL) -> Symbol:
    given = _assumptions(assumptions, name)
    return Symbol(_name(name, "a symbol's name"), **given)


def _decode_dummy(name: Any, index: Any, assumptions: Any) -> sympy.Dummy:
    # a bound variable may also carry none: SymPy's own applyfunc makes ``d`` that way,
    # and knowing less never changes a derivative
    given = {} if assumptions == {} else _assumptions(assumptions, name)
    return sympy.Dummy(_name(name, "a name"), need(index, int, "an index"), **given)


def _decode_float(text: Any, precision: Any) -> sympy.Float:
    if not (isinstance(text, str) and _FLOAT.fullmatch(text) and math.isfinite(float(text))):
        raise JSONFormatError(f"a Float is written as finite decimal text, not {text!r}")
    if not (isinstance(precision, int) and 1 <= precision <= safety.MAX_FLOAT_BITS):
        raise JSONFormatError(f"a Float's precision is a number of bits, not {precision!r}")
    return sympy.Float(text, precision=precision)


def _integer(n: Any, what: str) -> int:
    if need(n, int, what).bit_length() > MAX_CONST_BITS:
        raise JSONFormatError(f"{what} has more than {MAX_CONST_BITS} bits")
    return n


def _decode_rational(p: Any, q: Any) -> sympy.Rational:
    if _integer(q, "a Rational's denominator") == 0:
        raise JSONFormatError("a Rational's denominator must not be 0")
    return sympy.Rational(_integer(p, "a Rational's numerator"), q)


def _decode_singleton(name: Any) -> Basic:
    if not isinstance(name, str) or name not in _SINGLETONS:
        raise JSONFormatError(f"unknown constant {name!r}")
    return _SINGLETONS[name]


_ATOMS: dict[str, Callable[..., Basic]] = {
    "Symbol": _decode_symbol,
    "Integer": lambda n: sympy.Integer(_integer(n, "an Integer")),
    "Rational": _decode_rational,
    "Float": _decode_float,
    "S": _decode_singleton,
}


# ---------------------------------------------------------------- nodes with a structure


def _function(args, fns, path, budget, depth, bound) -> Expr:
    """``["Function", name, *args]``: a function you pass, or one registered in the rule
    table; never an undefined name (its printer would write the name into code)."""
    name, *rest = args or [None]
    cls = fns.get(name) if isinstance(name, str) else None
    if cls is None:
        _name(name, f"{path}: a function's name")
        cls = sympy.Function(name)
        if not safety.registered(cls):
            hint = "register it with register_partial, or pass functions={name: class}"
            raise JSONFormatError(f"{path}: unknown function {name!r} ({hint})")
    parts = [
        _decode(a, fns, f"{path}[{i}]", budget, depth + 1, bound) for i, a in enumerate(rest, 2)
    ]
    try:
        return cls(*parts)
    except Exception as exc:
        raise JSONFormatError(f"{path}: cannot build {name}: {exc}") from None


def _matrix_symbol(args, fns, path, budget, depth, bound) -> sympy.MatrixSymbol:
    """``["MatrixSymbol", ["Str", name], rows, cols]``: the one place a Str may stand."""
    if not (len(args) == 3 and isinstance(args[0], list) and len(args[0]) == 2):
        raise JSONFormatError(f"{path}: a MatrixSymbol is [name, rows, cols], not {args!r}")
    (tag, name), rows, cols = args
    if tag != "Str":
        raise JSONFormatError(f'{path}: a MatrixSymbol\'s name is ["Str", name]')
    shape = [
        _decode(a, fns, f"{path}[{i}]", budget, depth + 1, bound) for i, a in [(2, rows), (3, cols)]
    ]
    if not all(n.is_Integer and 0 < n <= safety.MAX_DIM for n in shape):
        raise JSONFormatError(f"{path}: a matrix's shape is two sizes up to {safety.MAX_DIM}")
    return sympy.MatrixSymbol(_name(name, f"{path}: a matrix's name"), *shape)


def _dummy(args, fns, path, budget, depth, bound) -> sympy.Dummy:
    try:
        d = _decode_dummy(*args)
    except (TypeError, JSONFormatError) as exc:
        raise JSONFormatError(f"{path}: bad Dummy {args!r}: {exc}") from None
    if d not in bound:
        raise JSONFormatError(f"{path}: a Dummy may only stand as a Lambda's variable")
    return d


def _lambda(args, fns, path, budget, depth, bound) -> sympy.Lambda:
    """``["Lambda", ["Tuple", dummy], body]``: the Dummy is bound in the body only."""
    ok = len(args) == 2 and isinstance(args[0], list) and len(args[0]) == 2
    if not (ok and args[0][0] == "Tuple" and isinstance(args[0][1], list)):
        raise JSONFormatError(f'{path}: a Lambda is [["Tuple", a Dummy], body]')
    variable, where = args[0][1], f"{path}[1][1]"
    if variable[:1] != ["Dummy"]:
        raise JSONFormatError(f"{where}: a Lambda's variable is a Dummy")
    try:
        d = _decode_dummy(*variable[1:])
    except (TypeError, JSONFormatError) as exc:
        raise JSONFormatError(f"{where}: bad Dummy {variable[1:]!r}: {exc}") from None
    budget.nodes -= 1
    body = _decode(args[1], fns, f"{path}[2]", budget, depth + 1, bound | {d})
    return sympy.Lambda(d, body)


_SPECIAL = {
    "Function": _function,
    "MatrixSymbol": _matrix_symbol,
    "Dummy": _dummy,
    "Lambda": _lambda,
}
