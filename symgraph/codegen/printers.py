"""Printers of generated code: NumPy over arrays, plain Python over floats.

Both print a sweep's straight-line program the same way (``x*x`` rather than ``x**2``,
``1/x``, sqrt); they differ in the functions they call: NumPy's ufuncs, which any array
type speaking NumPy's protocols accepts (Dask too), or the ``math`` module's for one point.
A function is printed from its record in the table of operations (:mod:`symgraph.ops`):
a NumPy ufunc or a ``math`` function by its name, any other implementation as a helper
the printer collects in ``helpers`` for the generated code's namespace.
"""

from __future__ import annotations

import builtins
import keyword
import math
import unicodedata

from sympy import Function, Piecewise, S, Symbol, nan
from sympy.core.function import AppliedUndef
from sympy.logic.boolalg import BooleanTrue
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter

from .. import ops
from ..evaluation.conventions import Convention
from ..evaluation.numeric import implementation
from ..lazynp import np as numpy

#: Names the generated code uses as globals; a user symbol called so is renamed.
_RESERVED = frozenset(dir(math)) | frozenset(dir(builtins)) | {"numpy", "functools"}


class _Common:
    """What both printers share: names, exact constants as floats, cheap powers, and
    functions printed from their records."""

    def __init__(self, convention: Convention, settings: dict):
        super().__init__({**settings, "allow_unknown_functions": False, "order": "none"})
        self.convention, self.h0 = convention, convention.heaviside_at_zero
        self.helpers: dict[str, object] = {}

    def _print(self, expr, **kwargs):
        # a function by its record, unless the printer has a method of its own for it
        cls = type(expr)
        if isinstance(expr, AppliedUndef) and not _evaluates(cls):
            raise PrintMethodNotImplementedError(
                f"{cls.__name__} has no numbers: give it a NumPy implementation with "
                f"symgraph.register_function({cls.__name__!r}, ..., numpy=...)"
            )
        if isinstance(expr, Function) and f"_print_{cls.__name__}" not in vars(type(self)):
            return self._call(cls, ", ".join(self._print(a) for a in expr.args))
        return super()._print(expr, **kwargs)

    def _helper(self, prefix: str, cls: type, f) -> str:
        """The name under which the generated code calls ``f``, collected in ``helpers``."""
        name = f"_{prefix}_{cls.__name__}" if cls.__name__.isidentifier() else f"_{prefix}"
        while self.helpers.get(name, f) is not f:
            name += "_"
        self.helpers[name] = f
        return name

    def _print_Symbol(self, e):
        return identifier(e)

    def _print_MatrixSymbol(self, e):
        return identifier(e)  # not SymPy's raw name: a matrix named tau is not math.tau

    def _print_Dummy(self, e):
        return f"_d{e.dummy_index}"

    # no value (``log(0)`` in a derivative): NaN, which the caller reports
    def _print_ComplexInfinity(self, e):
        return self._nan

    _print_NaN = _print_ComplexInfinity

    def _print_Infinity(self, e):
        return self._inf

    def _print_NegativeInfinity(self, e):
        return f"(-{self._inf})"

    def _print_Rational(self, e):
        return repr(float(e))

    def _print_Pow(self, e, rational=False):
        # parenthesised: the Mul printer may write this right after a "/"
        base, exp = e.args
        b = self.parenthesize(base, PRECEDENCE["Pow"])
        if exp == -1:
            return f"(1/{b})"
        if exp == 2 and base.is_Atom:
            return f"({b}*{b})"  # no pow() call: twice as fast on floats
        if exp == S.Half:
            return f"{self._sqrt}({self._print(base)})"
        return self._power(b, self.parenthesize(exp, PRECEDENCE["Pow"]))

    def _power(self, b: str, e: str) -> str:
        return f"{b}**{e}"


class ArrayPrinter(_Common, NumPyPrinter):
    """NumPy code that works on any array type speaking NumPy's protocols (Dask too)."""

    _sqrt, _nan, _inf = "numpy.sqrt", "numpy.nan", "numpy.inf"

    def __init__(self, convention: Convention):
        super().__init__(convention, {"fully_qualified_modules": True})

    def _call(self, cls: type, args: str) -> str:
        f = implementation(cls, self.convention)
        name = f"numpy.{f.__name__}" if isinstance(f, numpy.ufunc) else self._helper("f", cls, f)
        return f"{name}({args})"

    def _print_Heaviside(self, e):
        return f"numpy.heaviside({self._print(e.args[0])}, {self.h0})"

    def _print_Determinant(self, e):
        return f"numpy.linalg.det({self._print(e.arg)})"

    def _print_msum(self, e):
        return f"numpy.sum({self._print(e.args[0])})"

    def _print_Trace(self, e):
        return f"numpy.trace({self._print(e.arg)})"

    def _by_record(self, e):
        # a matrix operation by its record's NumPy implementation, a helper of the code
        f = implementation(type(e), self.convention)
        return f"{self._helper('f', type(e), f)}({', '.join(map(self._print, e.args))})"

    _print_diag = _print_diagonal = _print_softmax = _by_record
    _print_KroneckerProduct = _print_HadamardPower = _by_record

    def _print_elementwise(self, e):
        # the body, admitted by the whitelist walk, as a lambda of its Dummy variable
        (v,) = e.function.variables
        body = self._print(e.function.expr)
        return f"_entrywise(lambda {self._print(v)}: {body}, {self._print(e.expr)})"

    def _print_DiracDelta(self, e):
        return f"numpy.zeros_like({self._print(e.args[0])})"

    def _print_Max(self, e):
        return _nested("numpy.maximum", [self._print(a) for a in e.args])

    def _print_Min(self, e):
        return _nested("numpy.minimum", [self._print(a) for a in e.args])

    def _print_Piecewise(self, e):
        # nested where (not numpy.select): Dask and other array types implement it
        pieces = _with_default(e).args
        out = self._print(pieces[-1].expr)
        for expr, cond in reversed(pieces[:-1]):
            out = f"numpy.where({self._print(cond)}, {self._print(expr)}, {out})"
        return out


class ScalarPrinter(_Common, PythonCodePrinter):
    """Plain Python over floats, with the ``math`` module's functions as globals."""

    _sqrt, _nan, _inf = "sqrt", "nan", "inf"

    def _power(self, b: str, e: str) -> str:
        # math.pow, not **: a negative base with a fractional exponent raises ValueError
        # (** would return a complex number), and an overflow raises OverflowError
        return f"pow({b}, {e})"

    def __init__(self, convention: Convention):
        super().__init__(convention, {"fully_qualified_modules": False})

    def _call(self, cls: type, args: str) -> str:
        op = next((op for k in cls.__mro__ if (op := ops.record(k)) and op.math), None)
        if op is None:  # no float implementation: the NumPy one, its result a Python float
            return f"float({self._helper('f', cls, implementation(cls, self.convention))}({args}))"
        f = op.math
        name = getattr(f, "__name__", "")
        if getattr(math, name, None) is f or getattr(builtins, name, None) is f:
            return f"{name}({args})"  # the generated code's globals: math's, the builtins
        return f"{self._helper('s', cls, f)}({args})"

    def _print_Heaviside(self, e):
        return f"_heaviside_scalar({self._print(e.args[0])}, {self.h0!r})"

    def _print_DiracDelta(self, e):
        return "0.0"

    def _print_Piecewise(self, e):
        return super()._print_Piecewise(_with_default(e))


def _evaluates(cls: type) -> bool:
    return any((op := ops.record(k)) is not None and op.evaluates for k in cls.__mro__)


def _nested(func: str, args: list[str]) -> str:
    if len(args) > 8:  # flat, not deeply nested code
        return f"functools.reduce({func}, [{', '.join(args)}])"
    out = args[-1]
    for a in reversed(args[:-1]):
        out = f"{func}({a}, {out})"
    return out


def _with_default(e: Piecewise) -> Piecewise:
    """``e`` with a last ``(nan, True)`` piece if it has none (no value there)."""
    if isinstance(e.args[-1].cond, BooleanTrue):
        return e
    return Piecewise(*e.args, (nan, True), evaluate=False)


def entrywise(f, a):
    """``f`` (NumPy code) applied to every entry of the matrix ``a``; a constant body
    (the derivative of a linear function) filled in."""
    return numpy.broadcast_to(f(a), numpy.shape(a)).astype(float)


def _heaviside_scalar(x: float, at_zero: float) -> float:
    return 1.0 if x > 0 else 0.0 if x < 0 else at_zero


def identifier(s: Symbol) -> str:
    """A Python name for ``s``: its own name if that is an identifier Python reads as
    written (NFKC: ``ℯ`` would read as ``e``) and shadows nothing the code uses, else an
    escaped ``_v...`` name (the generated code's own names never start so, nor do user
    names, which may not start with ``_``)."""
    name = s.name
    if (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and name not in _RESERVED
        and unicodedata.normalize("NFKC", name) == name
    ):
        return name
    return "_v" + "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}_" for c in name)


#: Helpers the float code calls, by the names it calls them.
SCALAR_HELPERS = {"_heaviside_scalar": _heaviside_scalar}
