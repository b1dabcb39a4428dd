"""Why a value has no number at a point, in words a person acts on.

SymPy says ``zoo`` (complex infinity) or ``nan``; NumPy says ``-inf`` or ``nan``. A
person wants the part of the formula to blame and what happened there: "log of 0 is
-infinity (log(x) at x = 0)", "division by 0 (1/x at x = 0)". :func:`why` finds the
innermost subexpression whose parts have numbers but which has none itself;
:func:`float_limit` words a value beyond the float range.

>>> import sympy
>>> x, y = sympy.symbols("x y", real=True)
>>> why(x**y * sympy.log(x), {x: sympy.Float(0), y: sympy.Float(2)})
'log of 0 is -infinity (log(x) at x = 0)'
>>> why(1 / x + 1, {x: sympy.Float(0)})
'division by 0 (1/x at x = 0)'
>>> beyond(sympy.exp(sympy.Float(1000)))
'its value, about 1.97e+434, is beyond the largest float (about 1.8e+308)'
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

import sympy
from sympy import Basic

from ..printing import text


def _number(e: Basic) -> Basic | None:
    try:
        return sympy.N(e)
    except (TypeError, ValueError, ArithmeticError):
        return None


def _finite(v: Basic | None) -> bool:
    return v is not None and v.is_finite is True


def _show(v: Basic) -> str:
    return f"{float(v):g}" if v.is_real else text(v)


def _kind(node: Basic, args: list) -> str:
    """What happened at ``node`` (its parts' numbers ``args``), by its class."""
    if isinstance(node, sympy.log) and args[0] == 0:
        return "log of 0 is -infinity"
    if isinstance(node, sympy.Pow) and args[0] == 0 and args[1].is_negative:
        return "division by 0"
    if isinstance(node, sympy.Pow) and args[0] == 0 and args[1] == 0:
        return "0 to the power 0"
    name = getattr(node.func, "__name__", str(node.func))
    return f"{name} has no real number for {', '.join(_show(a) for a in args)}"


def why(expr: Basic, subs: Mapping) -> str | None:
    """The innermost part of ``expr`` with no number once ``subs`` is put in, in words
    (None if every part has one: then the value is too large for a float, or complex)."""
    for node in sympy.postorder_traversal(expr):
        if node.is_Atom or not node.args or not isinstance(node, sympy.Expr):
            continue
        args = [_number(a.xreplace(subs)) for a in node.args]
        if not all(_finite(a) for a in args):
            continue  # a part further in is to blame, and was seen first
        try:
            v = _number(node.func(*args))
        except (TypeError, ValueError, ArithmeticError):
            v = None
        if v is None or v is sympy.nan or v.is_finite is False:
            at = ", ".join(f"{s} = {_show(subs[s])}" for s in sorted(node.free_symbols, key=str))
            return f"{_kind(node, args)} ({text(node)}" + (f" at {at})" if at else ")")
    return None


def beyond(value: Basic) -> str:
    """A finite value too large for a float, said with its size."""
    re, im = value.as_real_imag()
    size = re if im == 0 else sympy.Abs(value)
    return (
        f"its value, about {str(sympy.Float(size, 3)).lower()}, is beyond the largest float "
        f"(about {sys.float_info.max:.2g})"
    )
