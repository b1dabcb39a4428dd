"""Compile a forward or reverse sweep into a fast numeric function.

The straight-line program of the sweep (``as_program()``) is printed line by line as
Python, so the graph's own sharing is the common-subexpression elimination. Before
printing, aliases (``tbar_2 = tbar_3``) and constants (``fbar = 1``) are folded into
the lines that use them, lines no result needs are dropped, and a negated adjoint is
computed without its sign where its uses can absorb it (:func:`lean_program`).

Two functions are generated from the same lines: one over NumPy-compatible arrays
(a batch of points; NumPy, Dask or any array with NumPy's ufunc protocol), and one
over plain floats with the ``math`` module (one point, without NumPy's per-call cost).
Calling the compiled function picks the float one when every argument is a Python
number (ints are taken as floats); there, like :meth:`evaluate`, a point outside the
domain raises :class:`~symgraph.evaluation.evaluate.EvaluationError`: a math domain error, an
overflow, or an output that is infinite or NaN (``math.pow`` raises where ``**`` would
return a complex number). Over arrays (NumPy scalars included) such entries are NumPy's
``nan``/``inf`` with a RuntimeWarning. Only the outputs are checked: an intermediate
overflow that cancels, which :meth:`evaluate` reports, goes unnoticed here. A large
NumPy batch is run in chunks that fit the CPU cache, by a third function that writes
each chunk's results straight into the rows of one output array.

Nothing but whitelisted arithmetic reaches the generated source: every line is walked
by :func:`symgraph.safety.admit` first, and every name is an escaped identifier.

>>> import numpy as np
>>> from symgraph import graph
>>> fn = compile(graph("x*y**2").reverse())
>>> value, grad = fn(2.0, np.array([1.0, 2.0]))
>>> value, grad[0], grad[1]
(array([2., 8.]), array([1., 4.]), array([4., 8.]))
>>> fn(2.0, 3.0)
(18.0, (9.0, 12.0))
>>> print(fn.source.splitlines()[0])
def gradient(x, y):
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from sympy import Expr, Symbol
from sympy.matrices.expressions import MatrixSymbol
from sympy.printing.codeprinter import PrintMethodNotImplementedError

from .. import ops
from ..evaluation import conventions
from ..evaluation.evaluate import EvaluationError
from ..graph import Graph
from ..lazynp import np as numpy
from ..lazynp import require_numpy
from ..program import lean_program
from ..safety import admit
from ..sweep import Sweep
from .c import BackendError
from .c import build as c_build
from .printers import SCALAR_HELPERS, ArrayPrinter, ScalarPrinter, entrywise, identifier

#: Argument types that take the ``math`` path (ints converted to floats first).
_SCALARS = frozenset({float, int})
_FLOATS = frozenset({float})

#: Points per chunk of a large NumPy batch: a chunk's intermediate arrays stay in the
#: CPU cache (the MLP n = 16 gradient on 10,000 points: 1.2 µs a point, 1.9 µs unchunked).
CHUNK = 4096

#: Terms of a sum (factors of a product) written on one line of generated code.
MAX_TERMS = 100


# ---------------------------------------------------------------- the function


@dataclass(frozen=True)
class CompiledFunction:
    """A compiled sweep: ``fn(*inputs) -> (outputs, derivatives)``; ``.source`` is its code.

    ``function`` runs on arrays; ``scalar`` (None for matrix programs) on Python floats.
    """

    function: Callable
    source: str
    inputs: tuple[Symbol, ...]
    outputs: tuple[Symbol, ...]
    derivatives: tuple[Symbol, ...]
    scalar: Callable | None = None
    into: Callable | None = None  # writes a batch's results into given rows (NumPy only)
    fast: Callable | None = None  # C: the whole call over a tuple of floats, or None

    def __call__(self, *args, **kwargs):
        if self.fast is not None and not kwargs:  # None: not all floats, or not finite
            done = self.fast(args)
            if done is not None:
                return done
        if kwargs:
            named = {str(k): v for k, v in kwargs.items()}
            args = (*args, *(named[x.name] for x in self.inputs[len(args) :]))
        if len(args) != len(self.inputs):
            raise TypeError(f"expected values for {', '.join(map(str, self.inputs))}")
        scalar = self.scalar is not None and _FLOATS.issuperset(map(type, args))
        if not scalar and self.scalar is not None and _SCALARS.issuperset(map(type, args)):
            args, scalar = _floats(self, args), True  # ints as floats: no exact huge powers
        if scalar:
            try:
                values = self.scalar(*args)
            except OverflowError:
                raise EvaluationError(f"a value overflows at {_where(self, args)}") from None
            except (ArithmeticError, ValueError, TypeError) as exc:  # math's domain errors
                where = _where(self, args)
                raise EvaluationError(f"outside the domain at {where} ({exc})") from None
            if not math.isfinite(sum(values)):  # one sum: cheaper than a test per value
                _undefined(self, args, values)
        else:
            args = tuple(map(_float_array, args))
            values = _in_chunks(self, args) or self.function(*args)
        m = len(self.outputs)
        return (values[0] if m == 1 else values[:m]), values[m:]


def _float_array(a):
    """An integer NumPy array (or scalar, or int) as floats: integer powers would
    overflow and wrap around without a word."""
    kind = getattr(getattr(a, "dtype", None), "kind", None)
    if kind in ("i", "u", "b") and isinstance(a, numpy.ndarray | numpy.generic):
        return a.astype(float)
    return float(a) if type(a) is int else a


def _floats(fn: CompiledFunction, args: tuple) -> tuple[float, ...]:
    try:
        return tuple(map(float, args))
    except OverflowError:
        raise EvaluationError(f"a value is too large for a float at {_where(fn, args)}") from None


def _undefined(fn: CompiledFunction, args: tuple, values: tuple) -> None:
    """At a single point, like :meth:`evaluate`: no inf or NaN without a word (a sum
    of finite values may overflow, which is no error)."""
    for name, v in zip((*fn.outputs, *fn.derivatives), values, strict=True):
        if not math.isfinite(v):
            raise EvaluationError(f"{name} is undefined at {_where(fn, args)}: it is {v}")


def _where(fn: CompiledFunction, args: tuple) -> str:
    return ", ".join(f"{x} = {a!r}" for x, a in zip(fn.inputs, args, strict=True))


def _in_chunks(fn: CompiledFunction, args: tuple) -> tuple | None:
    """``fn`` over a large batch of NumPy arrays, ``CHUNK`` points at a time, each chunk
    writing its results straight into rows of one output array (no copies).

    Only for NumPy arrays of one shape (and scalars); None for anything else, which then
    runs in one call (a Dask array has chunks of its own).
    """
    if fn.into is None:
        return None
    shape = None
    for a in args:
        if type(a) is numpy.ndarray and a.ndim:
            if shape is not None and a.shape != shape:
                return None
            shape = a.shape
        elif numpy.ndim(a):
            return None
    if shape is None or shape[0] < 2 * CHUNK:
        return None
    n = shape[0]
    size = -(-n // -(-n // CHUNK))  # equal chunks of at most CHUNK points
    dtype = numpy.result_type(*(a for a in args if numpy.ndim(a)), numpy.float64)
    out = numpy.empty((len(fn.outputs) + len(fn.derivatives), *shape), dtype=dtype)
    for i in range(0, n, size):
        rows = [row[i : i + size] for row in out]
        fn.into(rows, *(a[i : i + size] if numpy.ndim(a) else a for a in args))
    return tuple(out)


def compile(sweep, kink: str = "split", backend: str = "numpy") -> CompiledFunction:
    """Compile a :class:`Forward` or :class:`Reverse` into a numeric function; a
    :class:`Graph` compiles to the values of its outputs (``sg.compile(sg.graph(H))`` for
    the numbers of a Hessian ``H = g.hessian(wrt="w")``), with no derivatives.

    Every line is first walked against :mod:`symgraph.safety`'s whitelist, so only
    admitted arithmetic is ever printed into the code that is ``exec``'d, and every
    name in it is an escaped identifier (:func:`~symgraph.codegen.printers.identifier`). A
    forward sweep of a matrix direction takes the direction's value as one more
    argument (``Ẋ`` after the inputs), unless the sweep holds its numbers
    (``g.forward({"W": array})``).

    ``backend="numpy"`` (the default, always available) generates Python; ``backend="c"``
    prints the same lines as C, compiles them with the system compiler (``cc``/``gcc``,
    cached by the source's hash) and loads them with ctypes: one call loops over a batch
    inside C. Scalar programs only, with the functions whose records have a C spelling;
    anything else, or no compiler, raises :class:`~symgraph.codegen.c.BackendError`
    (use ``backend="numpy"``). Over arrays a point outside the domain gives nan/inf
    silently (no RuntimeWarning); at Python floats it raises EvaluationError as above.
    """
    if backend not in ("numpy", "c"):
        raise BackendError(f"unknown backend {backend!r}: use backend='numpy' or 'c'")
    require_numpy("sg.compile")  # the compiled code is NumPy code, and C reads NumPy arrays
    convention = conventions.named(kink)
    if not convention.compiled:  # compiled code does not detect kinks
        supported = " or ".join(
            repr(c.name) for c in conventions.CONVENTIONS.values() if c.compiled
        )
        raise conventions.ConventionError(f"compiled code supports kink={supported}, not {kink!r}")
    g, name, wanted, program = _plan(sweep)
    for s, e in program:
        admit(e, f"the line {s} of the program")
    lines, held = lean_program(program, [*g.outputs, *wanted])
    lines = [(s, e) for s, e in lines if s != e]  # a matrix seed Ẋ = Ẋ: a parameter
    directions, params = _directions(sweep, lines, held) if wanted else ([], g.inputs)
    inputs = params[: len(params) - len(directions)]
    matrices = any(isinstance(s, MatrixSymbol) for s in (*inputs, *(n for n, _ in lines)))
    if backend == "c":
        if matrices or directions:
            raise BackendError("the C backend compiles scalar programs only: use backend='numpy'")
        built = c_build(inputs, lines, held, len(g.outputs), convention, g.rule_table)
        batch, scalar, text, fast = built
        return CompiledFunction(batch, text, inputs, g.outputs, tuple(wanted), scalar, fast=fast)
    printers = ArrayPrinter(convention), ScalarPrinter(convention)
    try:
        with ops.using(g.rule_table):
            source = _source(name, params, lines, held, printers[0], array=True)
            if not matrices:
                scalar = _source(f"{name}_scalar", inputs, lines, held, printers[1])
                into = _source_into(f"{name}_into", inputs, lines, held, printers[0])
                source = f"{source}\n\n\n{scalar}\n\n\n{into}"
    except PrintMethodNotImplementedError as err:
        raise ValueError(f"cannot compile: {str(err).splitlines()[0]}") from None
    namespace = {**_namespace(), **printers[0].helpers, **printers[1].helpers}
    exec(source, namespace)
    function = namespace[name]
    if directions:  # the sweep's own numbers for its matrix directions
        function = functools.partial(_with_directions, function, directions)
    extra = [] if matrices else [namespace[f"{name}_scalar"], namespace[f"{name}_into"]]
    return CompiledFunction(function, source, inputs, g.outputs, tuple(wanted), *extra)


def _plan(obj) -> tuple[Graph, str, list[Symbol], list[tuple[Symbol, Expr]]]:
    """The graph, the function's name, the derivatives wanted and the program: a sweep's
    (values and derivatives), or a graph's own steps (its values: a Hessian's numbers)."""
    if isinstance(obj, Graph):
        return obj, "values", [], [(step.name, step.expr) for step in obj.steps]
    if not isinstance(obj, Sweep):
        kind = type(obj).__name__
        raise TypeError(f"compile takes a Graph, Forward or Reverse, not {kind}")
    g, mode = obj.graph, obj.mode
    return g, mode.function, [mode.accent(n) for n in mode.ends(g)], obj.as_program()


def _directions(sweep, lines, held) -> tuple[list, tuple]:
    """The numbers of the matrix directions ``Ẋ`` the sweep holds, and the compiled
    function's parameters: the inputs, then each direction without numbers."""
    g = sweep.graph
    made = {s for s, _ in lines} | set(g.inputs)
    used = {s for _, e in lines for s in e.free_symbols} | {s for r in held for s in r.free_symbols}
    free = sorted((s for s in used - made if isinstance(s, MatrixSymbol)), key=str)
    by_dot = {sweep.mode.accent(x): v for x, v in sweep.directions.items()}
    numbered = [d for d in free if d in by_dot]
    params = (*g.inputs, *(d for d in free if d not in by_dot), *numbered)
    return [numpy.asarray(by_dot[d], dtype=float) for d in numbered], params


def _with_directions(function, directions, *args):
    return function(*args, *directions)


def _source(name, inputs, lines, held, printer, array: bool = False) -> str:
    out = [f"def {name}({', '.join(map(identifier, inputs))}):"]
    dead = _last_uses(lines, held) if array else {}
    for s, e in lines:
        out += _assignment(identifier(s), e, printer)
        if dead.get(s):
            out.append(f"    del {', '.join(map(identifier, dead[s]))}")
    results = [_result(r, inputs, printer, array) for r in held]
    out.append(f"    return ({', '.join(results)},)")
    return "\n".join(out)


def _source_into(name, inputs, lines, held, printer) -> str:
    """The array function writing its results into ``_out`` (rows of one array): a result
    line's sum or product is accumulated in its row by NumPy ufuncs with ``out=``."""
    out = [f"def {name}(_out, {', '.join(map(identifier, inputs))}):"]
    dead = _last_uses(lines, held)
    row = {}
    for k, r in enumerate(held):
        row.setdefault(r, k)
    written = set()
    for s, e in lines:
        k, v = row.get(s), identifier(s)
        if k is not None and (e.is_Add or e.is_Mul):
            ufunc = "numpy.add" if e.is_Add else "numpy.multiply"
            first, second, *rest = (printer._print(a) for a in e.args)
            out.append(f"    {v} = {ufunc}({first}, {second}, out=_out[{k}])")
            out += [f"    {ufunc}({v}, {a}, out={v})" for a in rest]
            written.add(k)
        else:
            out += _assignment(v, e, printer)
        if dead.get(s):
            out.append(f"    del {', '.join(map(identifier, dead[s]))}")
    for k, r in enumerate(held):
        if k not in written:
            value = repr(float(r)) if r.is_number else printer._print(r)
            out.append(f"    _out[{k}][...] = {value}")
    return "\n".join(out)


def _assignment(name: str, e: Expr, printer) -> list[str]:
    """``name = e``; a long sum or product is accumulated in pieces, because Python's
    compiler recurses once per operator and fails on a line of 10,000 terms."""
    if not (e.is_Add or e.is_Mul) or len(e.args) <= MAX_TERMS:
        return [f"    {name} = {printer._print(e)}"]
    op = "+" if e.is_Add else "*"
    parts = [e.func(*e.args[i : i + MAX_TERMS]) for i in range(0, len(e.args), MAX_TERMS)]
    first, *rest = (printer._print(part) for part in parts)
    return [f"    {name} = {first}"] + [f"    {name} = {name} {op} ({p})" for p in rest]


def _last_uses(lines, held) -> dict[Symbol, list[Symbol]]:
    """Temporaries to free after each line: an array batch then reuses memory it has just
    touched, instead of keeping every intermediate array alive until the return."""
    keep = {s for r in held for s in r.free_symbols}
    made = {s for s, _ in lines}
    last: dict[Symbol, Symbol] = {}
    for s, e in lines:  # sorted: the source is the same from run to run
        for p in sorted(e.free_symbols & made, key=str):
            last[p] = s
    dead: dict[Symbol, list[Symbol]] = {}
    for p, s in last.items():
        if p not in keep:
            dead.setdefault(s, []).append(p)
    return dead


def _result(r: Expr, inputs, printer, array: bool) -> str:
    """A returned value; in the array function a constant is broadcast to the batch."""
    if not r.is_number:
        return printer._print(r)
    if not array:
        return repr(float(r))
    return f"_full({float(r)!r}, {''.join(identifier(x) + ', ' for x in inputs)})"


def _full(value: float, *args):
    """``value`` in the broadcast shape of the arguments, as their array type (lazy on Dask)."""
    arrays = [a for a in args if numpy.ndim(a) > 0]
    if not arrays:
        return numpy.float64(value)
    out = numpy.full_like(arrays[0], value, dtype=float)
    for a in arrays[1:]:
        if numpy.shape(a) != numpy.shape(out):
            out = out + numpy.zeros_like(a, dtype=float)
    return out


def _namespace() -> dict:
    return {
        "numpy": numpy,
        "functools": functools,
        **{k: getattr(math, k) for k in dir(math) if not k.startswith("_")},
        "nan": math.nan,
        "_full": _full,
        "_entrywise": entrywise,
        **SCALAR_HELPERS,
    }
