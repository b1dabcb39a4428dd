"""A bridge from matrices to scalars: the same function, entry by entry.

:func:`entrywise` writes every matrix input as an explicit matrix of scalar symbols
(``W`` becomes ``W_00 ... W_21``) and builds the scalar graph of the result, so the
matrix-level derivatives (``W̄ = t̄ xᵀ``) can be compared with the entry-by-entry ones.

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

import sympy
from sympy import ImmutableMatrix, MatrixSymbol, Symbol

from .build import Source, graph
from .graph import Graph
from .naming import entry_name


def entries(m: MatrixSymbol) -> ImmutableMatrix:
    """The explicit matrix of real scalar symbols standing for ``m``'s entries."""
    rows, cols = m.shape
    return ImmutableMatrix(rows, cols, lambda i, j: Symbol(entry_name(m.name, i, j), real=True))


def entrywise(source: Source | Graph, shapes: dict | None = None) -> Graph:
    """The scalar graph of a matrix function: one input per entry, one output per entry.

    A scalar output keeps its name; a matrix output ``F`` becomes outputs ``F_ij``.
    """
    g = source if isinstance(source, Graph) else graph(source, shapes=shapes)
    subs = {x: entries(x) for x in g.inputs if isinstance(x, MatrixSymbol)}
    outputs = {}
    for o in g.outputs:
        value = g.expand(o).xreplace(subs).doit()
        if isinstance(value, sympy.MatrixBase):
            for (i, j), v in zip(product(*map(range, value.shape)), value, strict=True):
                outputs[entry_name(o.name, i, j)] = v
        else:
            outputs[o.name] = value
    return graph(outputs)
