"""Teach symgraph a function, everywhere at once: :func:`register_function`.

One call adds a record to the table of operations (:mod:`symgraph.ops`). After it the
name parses, differentiates in both modes, evaluates (exactly and in NumPy), compiles
(floats and arrays), applies entry by entry to matrices, round-trips JSON and prints
LaTeX — each of those reads the record.

>>> import sympy
>>> import symgraph as sg
>>> softsign = sg.register_function(
...     "softsign", lambda x: x / (1 + sympy.Abs(x)), lambda x: 1 / (1 + sympy.Abs(x)) ** 2
... )
>>> g = sg.graph("softsign(3*x)")
>>> g.gradient()[g.symbol("x")]
3/(3*Abs(x) + 1)**2
>>> g.reverse().evaluate({"x": 1}).gradient["x"]
0.1875
>>> sympy.latex(softsign(sympy.Symbol("x")))
'\\\\operatorname{softsign}\\\\left(x\\\\right)'
>>> sg.rules.unregister_partial(softsign)  # takes it back
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import mpmath
import sympy
from sympy import Expr, Function, Lambda, Symbol
from sympy.core.function import FunctionClass

from . import ops, rules
from .evaluation import numeric
from .lazynp import np
from .ops import Op, RuleError
from .parse.names import reserved
from .safety import admit, valid_name

__all__ = ["register_function"]


def register_function(
    name: str,
    value: Callable[..., Expr] | FunctionClass,
    derivative: Callable[..., Expr | Sequence[Expr]] | None = None,
    *,
    numpy: Callable | None = None,
    latex: str | None = None,
    kink: Callable[..., tuple[Expr, Sequence[Expr]]] | None = None,
    override: bool = False,
) -> FunctionClass:
    """Teach symgraph the function ``name``; returns its SymPy function class.

    Parameters
    ----------
    name
        How formulas spell it (an identifier not already a function, constant or keyword).
    value
        An existing SymPy function class (``sympy.erf``: its ``fdiff`` gives the
        derivative), or a callable from the argument symbols to the SymPy expression
        that defines the function (``lambda x: x/(1 + Abs(x))``).
    derivative
        A callable from the argument symbols to the partial derivative (a tuple of
        partials for several arguments). Left out: SymPy's ``fdiff`` of a class, or the
        derivative of the defining expression.
    numpy
        The implementation over NumPy arrays (and floats). Left out: the defining
        expression run by symgraph's interpreter, or for a SymPy class the ``math``
        module's function of that name, else SymPy's own numbers entry by entry.
    latex
        The LaTeX of the function's name (``\\operatorname{name}`` by default; a new
        function only: SymPy's classes keep their own LaTeX).
    kink
        For a non-smooth function: a callable from the argument symbols to
        ``(location, pieces)``; where ``location`` is exactly 0 the function switches
        between the smooth ``pieces`` (left piece first), and evaluation reports the kink
        and applies the kink convention, as it does for relu.
    override
        Replace an earlier registration of the same name.

    ``symgraph.rules.unregister_partial(cls)`` takes the registration back.
    """
    previous = _check_name(name, value, override)
    if isinstance(value, FunctionClass):
        cls, arity, definition = _existing(value, latex), _arity_of(value), None
    elif callable(value):
        symbols = _symbols(value)
        definition = Lambda(symbols, _defining(value, symbols, name))
        cls, arity = _new_class(name, definition, derivative, latex), (len(symbols),) * 2
    else:
        raise RuleError(
            f"register_function({name!r}, ...): value must be a SymPy function "
            "class or a callable from the argument symbols to an expression"
        )
    current = ops.record(cls) or Op(cls)
    op = replace(
        current,
        partial=_rule(cls, derivative, arity) if derivative or definition else current.partial,
        names=(name,),
        arity=arity,
        elementwise=arity == (1, 1),
        numpy=numpy or _numpy_of(cls, definition, current),
        math=None if numpy or definition else current.math or _math_of(cls),
        c=None if numpy or definition else current.c,  # a new implementation: no stale C
        direct=None if derivative or definition else current.direct,  # nor a stale shortcut
        bound=_bound_of(cls),
        **(_kink_of(name, kink, arity) if kink else {}),
    )
    if previous is not None and previous is not cls:  # the name moves to the new function
        ops.define(replace(ops.record(previous), names=()))
    ops.define(op)
    return cls


def _check_name(name: str, value, override: bool) -> type | None:
    """Refuse a name formulas already use, unless ``override`` replaces an earlier
    registration of it (symgraph's own functions and keywords cannot be replaced);
    the class that has the name now, if any."""
    if not valid_name(name):
        raise RuleError(f"cannot register {name!r}: a function's name must be an identifier")
    if name not in reserved():
        return None
    owner = next((c for c, op in ops.records().items() if name in op.names), None)
    ours = owner is not None and (owner is value or owner.__module__ == __name__)
    if not ours:
        raise RuleError(f"cannot register {name!r}: formulas already use it (choose another name)")
    if not override:
        raise RuleError(f"{name!r} is already registered; pass override=True to replace it")
    return owner


def _existing(cls: FunctionClass, latex: str | None) -> FunctionClass:
    if latex is not None:
        raise RuleError(f"{cls.__name__} is SymPy's: it prints with SymPy's own LaTeX")
    return cls


def _arity_of(cls: FunctionClass) -> tuple[int, int | None]:
    nargs = cls.nargs
    if isinstance(nargs, sympy.FiniteSet):
        counts = sorted(int(n) for n in nargs)
        return counts[0], counts[-1]
    return 1, None


def _symbols(value: Callable) -> tuple[Symbol, ...]:
    try:
        params = inspect.signature(value).parameters.values()
    except (TypeError, ValueError):
        raise RuleError("value must be a callable with named arguments") from None
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not names:
        raise RuleError("value must take at least one argument")
    return tuple(Symbol(n, real=True) for n in names)


def _defining(value: Callable, symbols: tuple[Symbol, ...], name: str) -> Expr:
    expr = sympy.sympify(value(*symbols))
    if not isinstance(expr, Expr) or expr.free_symbols - set(symbols):
        raise RuleError(f"{name}: value must give an expression in its own arguments only")
    admit(expr, f"the definition of {name}")
    return expr


def _new_class(name: str, definition: Lambda, derivative, latex: str | None) -> FunctionClass:
    symbols = definition.variables
    partials = _partials(derivative, definition)
    head = latex if latex is not None else rf"\operatorname{{{name}}}"

    def fdiff(self, argindex=1):
        return partials[argindex - 1].xreplace(dict(zip(symbols, self.args, strict=True)))

    def _eval_evalf(self, prec):
        if not all(a.is_number for a in self.args):
            return None
        return definition(*self.args).evalf(mpmath.libmp.prec_to_dps(prec))

    def _eval_is_real(self):
        return definition(*self.args).is_real

    def _latex(self, printer):
        args = ", ".join(printer._print(a) for a in self.args)
        return rf"{head}\left({args}\right)"

    namespace = {
        "nargs": len(symbols),
        "definition": definition,
        "fdiff": fdiff,
        "_eval_evalf": _eval_evalf,
        "_eval_is_real": _eval_is_real,
        "_latex": _latex,
        "__module__": __name__,
        "__qualname__": f"REGISTERED.{name}",
        "__doc__": f"{name}{symbols} = {definition.expr} (registered with register_function)",
    }
    cls = type(name, (Function,), namespace)
    setattr(REGISTERED, name, cls)  # pickle finds it there (thorough() runs in a child)
    return cls


class REGISTERED:
    """The functions :func:`register_function` created, by name."""


def _partials(derivative, definition: Lambda) -> tuple[Expr, ...]:
    symbols = definition.variables
    if derivative is None:
        return tuple(sympy.diff(definition.expr, s) for s in symbols)
    given = derivative(*symbols)
    given = tuple(given) if isinstance(given, tuple | list) else (given,)
    if len(given) != len(symbols):
        raise RuleError(f"derivative must give {len(symbols)} partial(s), not {len(given)}")
    return tuple(sympy.sympify(p) for p in given)


def _rule(cls: FunctionClass, derivative, arity: tuple) -> rules.Rule:
    """The differential rule from the partials (``derivative``, or the class's fdiff)."""
    symbols = tuple(Symbol(f"x{i}", real=True) for i in range(arity[0]))
    given = derivative is not None and not hasattr(cls, "definition")
    partials = _partials(derivative, Lambda(symbols, cls(*symbols))) if given else None

    def rule(expr: Expr, d: ops.Differential) -> Expr:
        if partials is None:
            slopes = [expr.fdiff(i + 1) for i in range(len(expr.args))]
        else:
            env = dict(zip(symbols, expr.args, strict=True))
            slopes = [p.xreplace(env) for p in partials]
        return sympy.Add(
            *[s * da for s, a in zip(slopes, expr.args, strict=True) if (da := d(a)) != 0]
        )

    return rule


def _numpy_of(cls: FunctionClass, definition: Lambda | None, current: Op) -> Callable:
    if definition is not None:
        run = numeric.interpreter(definition.expr)
        symbols = definition.variables

        def values(*args):
            return run(dict(zip(symbols, args, strict=True)))

        values.__name__ = cls.__name__
        return values
    if current.numpy is not None:
        return current.numpy
    scalar = _math_of(cls)
    return np.vectorize(scalar, otypes=[float]) if scalar else numeric.by_sympy(cls)


def _math_of(cls: FunctionClass) -> Callable | None:
    return getattr(math, cls.__name__, None)


def _bound_of(cls: FunctionClass) -> Callable:
    """The value at constant arguments, for the parser's constant guards (SymPy's numbers)."""

    def bound(*values):
        number = complex(cls(*(sympy.Float(mpmath.nstr(v, 20)) for v in values)).evalf())
        if number.imag:
            raise ValueError("not a real number")
        return mpmath.mpf(number.real)

    return bound


def _kink_of(name: str, kink: Callable, arity: tuple) -> dict:
    symbols = tuple(Symbol(f"x{i}", real=True) for i in range(arity[0]))
    location, pieces = kink(*symbols)
    pieces = tuple(sympy.sympify(p) for p in pieces)

    def kink_rule(expr, at):
        env = dict(zip(symbols, expr.args, strict=True))
        if at.compare(sympy.sympify(location).xreplace(env), sympy.S.Zero) != 0:
            return None
        return tuple(p.xreplace(env) for p in pieces)

    return {"kink": kink_rule, "kind": f"the kink of {name}"}
