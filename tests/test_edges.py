"""One kind of edge: every edge a linear map, pushed (tangents) or pulled (adjoints).

Oracles independent of our rules: ``sympy.diff`` for the scalar partials, and the
adjoint identity ``⟨c̄, push(ṗ)⟩ = ⟨pull(c̄), ṗ⟩`` on random matrices for the matrix
edges (the pull is the transpose of the push only if both are right).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from sympy import MatrixSymbol, Symbol

import symgraph as sg
from symgraph import naming
from symgraph.build import build_program
from symgraph.edges import Edge
from symgraph.evaluation import numeric
from symgraph.graph import Graph, is_matrix_edge

SHAPES = {"W": (3, 2), "x": (2, 1), "b": (3, 1), "A": (2, 2)}
MATRIX_SOURCES = [
    "sum(sigmoid(W*x + b))",
    "trace(A*A.T) + sum(hadamard(A, A))",
    "sum(exp(W*x)) + sum(inverse(A)*x)",
]


def _value(expr, env: dict) -> np.ndarray:
    """A matrix or scalar expression at numbers (symgraph's NumPy interpreter)."""
    return np.asarray(numeric.value(expr, env), float)


def _point(g: Graph, rng: np.random.Generator) -> dict:
    """Random values of the inputs, then every step's value there."""
    env: dict = {x: _random(x, rng) for x in g.inputs}
    for s in g.steps:
        env[s.name] = _value(s.expr, env)
    return env


def _random(node, rng: np.random.Generator):
    shape = getattr(node, "shape", None)
    return rng.normal(size=shape) if shape else float(rng.normal())


def test_every_edge_is_one_record_in_step_order():
    g = sg.graph("sum(sigmoid(W*x + b))", shapes=SHAPES)
    assert list(g.edges) == [(s.name, p) for s in g.steps for p in s.parents]
    for (child, parent), edge in g.edges.items():
        assert isinstance(edge, Edge) and (edge.child, edge.parent) == (child, parent)
        assert (edge.partial is None) == is_matrix_edge(g.step[child], parent)


def test_a_scalar_edge_is_the_product_by_its_partial():
    g = sg.graph("sin(x)*y + exp(x*y)")
    assert g.partials == {k: e.partial for k, e in g.edges.items()}
    for (child, parent), edge in g.edges.items():
        dot, bar = naming.dot(parent), naming.bar(child)
        assert edge.push == edge.partial * dot and edge.pull == bar * edge.partial
        assert edge.pushed(3) == 3 * edge.partial and edge.pulled(bar) == edge.pull
        # the partial itself: sympy.diff of the step's expression (other steps held fixed)
        expected = sympy.diff(g.step[child].expr, parent)
        assert sympy.simplify(g.in_inputs(edge.partial) - g.in_inputs(expected)) == 0


@pytest.mark.parametrize("source", MATRIX_SOURCES)
def test_a_matrix_edge_pushes_and_pulls_the_same_map(source):
    """⟨c̄, push(ṗ)⟩ = ⟨pull(c̄), ṗ⟩ at random points, directions and adjoints."""
    g = sg.graph(source, shapes=SHAPES)
    rng = np.random.default_rng(7)
    matrix = [(k, e) for k, e in g.edges.items() if e.partial is None]
    assert matrix
    for _ in range(3):
        env = _point(g, rng)
        for (child, parent), edge in matrix:
            pdot, cbar = _random(parent, rng), _random(child, rng)
            pushed = _value(edge.push, {**env, naming.dot(parent): pdot})
            pulled = _value(edge.pull, {**env, naming.bar(child): cbar})
            lhs = np.sum(np.asarray(cbar) * pushed.reshape(np.shape(cbar)))
            rhs = np.sum(pulled.reshape(np.shape(pdot)) * np.asarray(pdot))
            assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9), (child, parent)


def test_a_matrix_edge_is_its_map_applied():
    g = sg.graph("sum(W*x)", shapes=SHAPES)
    W = g.symbol("W")
    edge = g.edges[(g.steps[0].name, W)]
    V, U = MatrixSymbol("V", 3, 2), MatrixSymbol("U", 3, 1)
    assert edge.pushed(V) == edge.push.xreplace({naming.dot(W): V})
    assert edge.pulled(U) == edge.pull.xreplace({naming.bar(edge.child): U})
    assert edge.pushed(V).shape == edge.child.shape and edge.pulled(U).shape == W.shape


def test_a_graph_built_without_a_table_uses_the_one_in_force():
    g = sg.graph("x*exp(y)")
    raw = Graph(g.inputs, g.steps, g.outputs)
    assert raw.rule_table is None and g.rule_table is not None
    assert raw.partials == g.partials
    assert raw.reverse().gradient == g.reverse().gradient


def test_the_program_builder_makes_the_graph_a_parse_would():
    x, y = Symbol("x", real=True), Symbol("y", real=True)
    g = sg.graph("exp(x*y) + x")
    program = g.reverse().as_program()
    grads = [naming.bar(v) for v in g.inputs]
    made = build_program(program, grads, g.rule_table)
    assert made.outputs == tuple(grads) and made.rule_table is g.rule_table
    assert {s.name for s in made.steps} >= {name for name, _ in program}
    hessian = g.hessian()
    assert hessian == sympy.hessian(sympy.exp(x * y) + x, (x, y)).applyfunc(sympy.simplify)


@pytest.mark.parametrize(
    ("text", "count"), [("x/y", 1), ("(x + 1)/(y*z)", 2), ("v/(1 + exp(-(w*x + b)))", 1)]
)
def test_a_quotient_reuses_its_own_value_for_the_denominator(text, count):
    # ∂(a/b)/∂b = -t/b for t = a/b: the step's value, as ∂(1/b)/∂b = -t² reuses it
    g = sg.graph(text)
    quotients = 0
    for (child, parent), partial in g.partials.items():
        step = g.step[child]
        if step.expr.is_Mul and 1 / parent in step.expr.args:
            assert partial == -child / parent
            quotients += 1
        want = sympy.diff(step.expr, parent)
        assert sympy.simplify(partial.subs(child, step.expr) - want) == 0
    assert quotients == count
