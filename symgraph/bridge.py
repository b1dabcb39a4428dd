"""A bridge from matrices to scalars: the same function, entry by entry.

:func:`entrywise` writes every matrix input as an explicit matrix of scalar symbols
(``W`` becomes ``W_00 ... W_21``) and builds the scalar graph of the result, so the
matrix-level derivatives (``W̄ = t̄ xᵀ``) can be compared with the entry-by-entry ones.
Writing matrices out costs operations in the product of their sizes, so the shapes are
measured first, and beyond :data:`ENTRYWISE_MAX_OPS` the bridge refuses with a clear error.

>>> import symgraph as sg
>>> g = sg.graph("sum(W*x)", shapes={"W": (2, 2), "x": (2, 1)})
>>> s = entrywise(g)
>>> [x.name for x in s.inputs]
['W_00', 'W_01', 'W_10', 'W_11', 'x_00', 'x_10']
>>> s.gradient()["W_01"]
x_10
"""

from __future__ import annotations

from itertools import product
from math import factorial, prod

import sympy
from sympy import ImmutableMatrix, MatrixSymbol, Symbol
from sympy.core.parameters import evaluate
from sympy.matrices.expressions import Determinant, Inverse, MatMul, MatrixExpr
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from .build import Source, graph
from .graph import Graph, GraphError, Step
from .naming import entry_name

#: The most scalar operations :func:`entrywise` writes out, as estimated from the shapes.
ENTRYWISE_MAX_OPS = 12_000


def entries(m: MatrixSymbol) -> ImmutableMatrix:
    """The explicit matrix of real scalar symbols standing for ``m``'s entries."""
    rows, cols = m.shape
    return ImmutableMatrix(rows, cols, lambda i, j: Symbol(entry_name(m.name, i, j), real=True))


def _size(node) -> int:
    return prod(map(int, getattr(node, "shape", (1, 1))))


def _cost(step: Step) -> int:
    """Scalar operations to write a step out entry by entry, from the shapes alone."""
    e, largest = step.expr, max(map(_size, step.parents), default=1)
    if isinstance(e, Inverse | Determinant):  # symbolic elimination grows like n!
        n = int(e.arg.shape[0])
        return factorial(n) * n**2
    if isinstance(e, MatMul):  # left to right, an m×k times k×n product costs m·k·n
        shapes = [tuple(map(int, a.shape)) for a in e.args if isinstance(a, MatrixExpr)]
        cost, (m, k) = 0, shapes[0]
        for _, n in shapes[1:]:
            cost, k = cost + m * k * n, n
        return cost + _size(step.name)
    return max(_size(step.name), largest) * max(1, len(e.args))


def _written_out(g: Graph) -> dict:
    """Every node's value with the matrices written out, one step at a time (each once)."""
    cost = sum(_cost(s) for s in g.steps if s.shape or any(map(_size, s.parents)))
    if cost > ENTRYWISE_MAX_OPS:
        raise GraphError(
            f"entrywise would write out about {cost} scalar operations (the limit is "
            f"{ENTRYWISE_MAX_OPS}): try smaller shapes; the matrix-level derivatives, "
            "g.reverse() and g.gradient(), work at any size"
        )
    values: dict = {x: entries(x) if isinstance(x, MatrixSymbol) else x for x in g.inputs}
    for s in g.steps:
        values[s.name] = _write_out(s, {p: values[p] for p in s.parents})
    return values


def _unevaluated(f, arg):
    """``f(arg)`` built as is: SymPy's evaluation asks its assumptions of a large sum of
    products, which takes seconds per entry and never changes the function's value."""
    if isinstance(f, sympy.Lambda) and len(f.variables) == 1:
        with evaluate(False):  # thread-local in SymPy
            return f.expr.xreplace({f.variables[0]: arg})
    return f(arg, evaluate=False) if isinstance(f, sympy.FunctionClass) else f(arg)


def _write_out(s: Step, parents: dict):
    """The step's value, given its parents' values (explicit matrices for matrices)."""
    e = s.expr
    if isinstance(e, ElementwiseApplyFunction):
        m = parents.get(e.expr)
        if m is None:  # a folded argument (sigmoid(-t2)): written out here
            m = e.expr.xreplace(parents).doit()
        return ImmutableMatrix(*m.shape, [_unevaluated(e.function, v) for v in m])
    if isinstance(e, sympy.Function) and not s.shape and not any(map(_is_matrix, parents)):
        return e.func(*(parents.get(a, a) for a in e.args), evaluate=False)
    value = e.xreplace(parents)
    if not (s.shape or any(map(_is_matrix, parents))):
        return value
    # the parents are written out already: only this step is left to do (a deep doit
    # would evaluate every function of every entry again), unless it nests (W.T*W)
    done = value.doit(deep=False)
    return done if _explicit(done) else value.doit()


def _explicit(value) -> bool:
    if isinstance(value, sympy.MatrixBase):
        return True
    return not any(
        isinstance(e, MatrixExpr | sympy.MatrixBase) for e in sympy.preorder_traversal(value)
    )


def _is_matrix(node) -> bool:
    return isinstance(node, MatrixSymbol)


def entrywise(source: Source | Graph, shapes: dict | None = None) -> Graph:
    """The scalar graph of a matrix function: one input per entry, one output per entry.

    A scalar output keeps its name; a matrix output ``F`` becomes outputs ``F_ij``.
    Raises :class:`~symgraph.graph.GraphError` beyond ``ENTRYWISE_MAX_OPS`` operations.
    """
    g = source if isinstance(source, Graph) else graph(source, shapes=shapes)
    values, outputs = _written_out(g), {}
    for o in g.outputs:
        value = values[o]
        if isinstance(value, sympy.MatrixBase):
            for (i, j), v in zip(product(*map(range, value.shape)), value, strict=True):
                outputs[entry_name(o.name, i, j)] = v
        else:
            outputs[o.name] = value
    return graph(outputs)
