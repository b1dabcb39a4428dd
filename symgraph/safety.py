"""The whitelist of expression classes symgraph produces, and the walk that enforces it.

One whitelist, :func:`classes`, names every class an expression may contain: a view of the
table of operations (:mod:`symgraph.ops`) and a few structured classes; JSON reading
(:mod:`symgraph.export.trees`) decodes only these, and :func:`admit` walks a tree against
them before anything is compiled or evaluated numerically. So no graph — read from JSON,
passed as SymPy objects, or built by a registered rule — can bring a SymPy class whose
printer writes arbitrary text (``Str``, an undefined ``Function('exec')``, a Symbol named
with code) into generated code.

Admitted: SymPy arithmetic and numbers, the named constants, the parser's functions,
elementary functions, Max/Min/Abs/sign/Heaviside, Piecewise with relational or boolean
conditions, the matrix classes, ``elementwise`` of a Lambda whose variable is a Dummy and
whose body is admitted, symbols named by identifiers (as the parser names them), and
functions registered in the rule table under their own class.

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> admit(sympy.sin(x) + x**2)
>>> admit(sympy.Function("exec")(x))
Traceback (most recent call last):
symgraph.safety.UnsafeExpressionError: the expression: exec is not an operation symgraph admits
"""

from __future__ import annotations

import unicodedata

import sympy
from sympy import Basic, S
from sympy.logic.boolalg import BooleanFalse, BooleanTrue
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from . import functions, ops, rules  # noqa: F401  (rules: the records admitted)
from .parse.guards import MAX_CONST_BITS, MAX_NAME_CHARS
from .parse.source import ParseError

#: Classes with a structure of their own, checked by their own rule below.
STRUCTURED = (
    *(sympy.Lambda, sympy.Tuple, sympy.MatrixSymbol, sympy.Identity, sympy.ZeroMatrix),
    *(sympy.OneMatrix, sympy.ImmutableDenseMatrix, ElementwiseApplyFunction),
    functions.elementwise,
)


def classes() -> dict[str, type]:
    """THE whitelist, by class name (JSON names classes so): the operations in the table
    of :mod:`symgraph.ops` (symgraph's and those you registered) and the structured
    classes."""
    table = ops.records()
    if _classes[0] is not table:  # the table is replaced, never changed, when one registers
        admitted = (cls for cls in table if cls is not sympy.Function and registered(cls))
        _classes[:] = [table, {cls.__name__: cls for cls in (*admitted, *STRUCTURED)}]
    return _classes[1]


_classes: list = [None, None]


#: Named constants, by their class name (``Pi``, ``Exp1``); ``zoo``/``nan`` appear in
#: derivatives (``d/dx 0**x``), so they are admitted and evaluate to "undefined".
CONSTANTS: dict[str, Basic] = {
    type(value).__name__: value
    for value in (
        *(S.Pi, S.Exp1, S.Infinity, S.NegativeInfinity, S.ComplexInfinity, S.NaN),
        *(S.true, S.false, S.EulerGamma, S.GoldenRatio),
    )
}
#: Largest matrix dimension, and entries, a walked expression may name.
MAX_DIM = 100_000
MAX_ENTRIES = 10_000_000
#: Longest name: the parser's limit plus room for symgraph's suffixes (``bar``, ``_neg``).
MAX_NAME = 2 * MAX_NAME_CHARS
#: Largest precision of a Float, in bits (SymPy's arithmetic slows with it).
MAX_FLOAT_BITS = 4000


class UnsafeExpressionError(ParseError):
    """An expression holding a class or a name symgraph does not produce."""


def valid_name(name: object) -> bool:
    """A name as the parser admits it: an identifier, not starting with ``_``, short,
    and already in the normal form Python reads it in (so ``ℯ`` cannot become ``e``)."""
    return (
        isinstance(name, str)
        and name.isidentifier()
        and not name.startswith("_")
        and len(name) <= MAX_NAME
        and unicodedata.normalize("NFKC", name) == name
    )


def registered(cls: type) -> bool:
    """An operation with a record of its own in the table in force (SymPy's and
    symgraph's, or one you registered, named by an identifier); the generic Function
    fallback does not count."""
    if cls is sympy.Function or ops.record(cls) is None:
        return False
    return (cls.__module__ or "").startswith(("sympy.", "symgraph.")) or valid_name(cls.__name__)


def admit(
    expr: Basic,
    where: str = "the expression",
    extra: frozenset = frozenset(),
    bound: frozenset = frozenset(),
) -> None:
    """Raise :class:`UnsafeExpressionError` unless ``expr`` holds only admitted classes
    and names; ``where`` says where ``expr`` comes from, for the message, and ``extra``
    admits more function classes (those a caller passes to ``from_json`` by name);
    ``bound`` holds the Dummy variables bound outside ``expr`` (an elementwise body's).

    The walk is iterative (a deep tree does not exhaust the stack) and visits each
    distinct subexpression once.
    """
    stack: list[tuple[Basic, frozenset]] = [(expr, frozenset(bound))]
    seen: set = set()
    while stack:
        e, bound = stack.pop()
        key = (e, bound)
        if key in seen:
            continue
        seen.add(key)
        if type(e) is sympy.Lambda:  # its body is walked with its variable bound
            bound = bound | frozenset(e.variables)
        stack.extend((a, bound) for a in _children(e, bound, where, extra))


def _refuse(what: str, where: str) -> UnsafeExpressionError:
    return UnsafeExpressionError(f"{where}: {what} is not admitted")


def _children(e: Basic, bound: frozenset, where: str, extra: frozenset) -> tuple:
    """The arguments of ``e`` still to walk, after checking ``e`` itself."""
    if not isinstance(e, Basic):
        raise _refuse(f"a {type(e).__name__} object", where)
    if e.is_Atom:
        _atom(e, bound, where)
        return ()
    cls = type(e)
    if cls in _SHAPED:
        _shape(e.shape, where)
        if cls is sympy.MatrixSymbol and not valid_name(e.name):
            raise _refuse(f"a matrix named {e.name!r}", where)
        return ()
    if cls is sympy.ImmutableDenseMatrix:
        _shape(e.shape, where)
        return tuple(e)
    if issubclass(cls, ElementwiseApplyFunction) and cls in STRUCTURED:
        f = e.function
        ok = isinstance(f, sympy.Lambda) and len(f.variables) == 1
        if not ok or type(f.variables[0]) is not sympy.Dummy:
            raise _refuse("an elementwise function that is not a Lambda of one Dummy", where)
        return (f, e.expr)
    if cls is sympy.Lambda:
        if any(type(v) is not sympy.Dummy for v in e.variables):
            raise _refuse("a Lambda whose variables are not Dummy symbols", where)
        return (e.expr,)  # admit() walks it with the variables bound
    if cls in extra or registered(cls):
        return e.args
    name = getattr(cls, "__name__", type(e).__name__)
    raise UnsafeExpressionError(f"{where}: {name} is not an operation symgraph admits")


_SHAPED = (sympy.MatrixSymbol, sympy.Identity, sympy.ZeroMatrix, sympy.OneMatrix)
_CONSTANT_SET = frozenset(CONSTANTS.values())


def _atom(e: Basic, bound: frozenset, where: str) -> None:
    cls = type(e)
    if cls is sympy.Symbol:
        if not valid_name(e.name):
            raise _refuse(f"a symbol named {e.name!r}", where)
    elif cls is sympy.Dummy:
        if e not in bound:
            raise _refuse(f"a Dummy {e.name!r} outside the Lambda that binds it", where)
    elif (e.is_Rational or e.is_Float) and cls.__module__ != "sympy.core.numbers":
        # a subclass of SymPy's numbers could bring its own printing method into code
        raise UnsafeExpressionError(f"{where}: {cls.__name__} is not SymPy's own number")
    elif e.is_Integer or e.is_Rational:
        if max(abs(e.p).bit_length(), e.q.bit_length()) > MAX_CONST_BITS:
            raise _refuse(f"an exact constant of more than {MAX_CONST_BITS} bits", where)
    elif e.is_Float:
        if e._prec > MAX_FLOAT_BITS:
            raise _refuse(f"a Float of more than {MAX_FLOAT_BITS} bits", where)
    elif e not in _CONSTANT_SET and not isinstance(e, BooleanTrue | BooleanFalse):
        raise UnsafeExpressionError(f"{where}: {cls.__name__} is not an atom symgraph admits")


def _shape(shape: tuple, where: str) -> None:
    ok = all(isinstance(n, sympy.Integer | int) and 0 < int(n) <= MAX_DIM for n in shape)
    if not ok or int(shape[0]) * int(shape[1]) > MAX_ENTRIES:
        raise _refuse(f"a matrix of shape {shape}", where)
