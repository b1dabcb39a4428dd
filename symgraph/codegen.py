"""Compile a forward or reverse sweep into a NumPy function.

The straight-line program of the sweep (``as_program()``) is printed line by line
as NumPy code, so the graph's own sharing is the common-subexpression elimination.
The function accepts scalars or NumPy-compatible arrays (a batch of points).

>>> import numpy as np
>>> from symgraph import graph
>>> fn = compile(graph("x*y**2").reverse())
>>> value, grad = fn(2.0, np.array([1.0, 2.0]))
>>> value, grad[0], grad[1]
(array([2., 8.]), array([1., 4.]), array([4., 8.]))
>>> print(fn.source.splitlines()[0])
def gradient(x, y):
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass

import numpy
from sympy import Expr, Symbol
from sympy.printing.numpy import NumPyPrinter

from . import naming
from .functions import NUMPY_IMPLEMENTATIONS

#: Heaviside(0) in compiled code, by kink convention (compiled code does not detect kinks).
_H0 = {"split": 0.5, "zero": 0.0}


class _Printer(NumPyPrinter):
    """NumPy printer that knows symgraph's activations and the kink convention."""

    def __init__(self, h0: float):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.h0 = h0

    def _print_sigmoid(self, e):
        return f"_sigmoid({self._print(e.args[0])})"

    def _print_relu(self, e):
        return f"_relu({self._print(e.args[0])})"

    def _print_softplus(self, e):
        return f"_softplus({self._print(e.args[0])})"

    def _print_Heaviside(self, e):
        return f"numpy.heaviside({self._print(e.args[0])}, {self.h0})"

    def _print_DiracDelta(self, e):
        return f"numpy.zeros_like({self._print(e.args[0])})"

    def _print_Symbol(self, e):
        return _identifier(e)


def _identifier(s: Symbol) -> str:
    """A Python name for ``s`` (symbol names that are not identifiers are escaped)."""
    name = s.name
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_"):
        return name
    return "_v" + "".join(c if c.isalnum() else f"_{ord(c):x}_" for c in name)


@dataclass(frozen=True)
class CompiledFunction:
    """A compiled sweep: ``fn(*inputs) -> (outputs, derivatives)``; ``.source`` is its code."""

    function: object
    source: str
    inputs: tuple[Symbol, ...]
    outputs: tuple[Symbol, ...]
    derivatives: tuple[Symbol, ...]

    def __call__(self, *args, **kwargs):
        if kwargs:
            named = {str(k): v for k, v in kwargs.items()}
            args = (*args, *(named[x.name] for x in self.inputs[len(args) :]))
        if len(args) != len(self.inputs):
            raise TypeError(f"expected values for {', '.join(map(str, self.inputs))}")
        values = self.function(*args)
        value = values[0] if len(self.outputs) == 1 else values[: len(self.outputs)]
        return value, values[len(self.outputs) :]


def compile(sweep, kink: str = "split") -> CompiledFunction:
    """Compile a :class:`Forward` or :class:`Reverse` into a NumPy function."""
    if kink not in _H0:
        raise ValueError(f"compiled code supports kink='split' or 'zero', not {kink!r}")
    g = sweep.graph
    printer = _Printer(_H0[kink])
    is_reverse = hasattr(sweep, "adjoints")
    wanted = [naming.bar(x) for x in g.inputs] if is_reverse else [naming.dot(o) for o in g.outputs]
    name = "gradient" if is_reverse else "tangent"
    lines = [f"def {name}({', '.join(map(_identifier, g.inputs))}):"]
    for symbol, expr in sweep.as_program():
        lines.append(f"    {_identifier(symbol)} = {printer.doprint(expr)}")
    program = dict(sweep.as_program())
    results = [_result(s, program, g.inputs) for s in (*g.outputs, *wanted)]
    lines.append(f"    return ({', '.join(results)},)")
    source = "\n".join(lines)
    namespace = {"numpy": numpy, **{f"_{k}": f for k, f in NUMPY_IMPLEMENTATIONS.items()}}
    exec(source, namespace)
    return CompiledFunction(namespace[name], source, g.inputs, g.outputs, tuple(wanted))


def _result(s: Symbol, program: dict[Symbol, Expr], inputs: tuple[Symbol, ...]) -> str:
    """A returned name; a constant is broadcast to the batch's shape."""
    if not program[s].is_Number:
        return _identifier(s)
    shape = f"numpy.broadcast({', '.join(map(_identifier, inputs))}).shape" if inputs else "()"
    return f"numpy.full({shape}, {float(program[s])!r})"
