"""Forward == reverse == sympy.diff, numerically, on random expressions with sharing."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg

from .conftest import X, Y, Z, expressions, points


def _oracle(expr, at):
    subs = {X: at["x"], Y: at["y"], Z: at["z"]}
    return {v.name: float(sympy.diff(expr, v).subs(subs).evalf()) for v in (X, Y, Z)}


@settings(max_examples=80, deadline=None)
@given(expressions(), points)
def test_forward_equals_reverse_equals_sympy_diff(expr, at):
    g = sg.graph(expr)
    at = {x.name: at[x.name] for x in g.inputs}
    full = {"x": 0.0, "y": 0.0, "z": 0.0, **at}
    oracle = _oracle(expr, full)
    reverse = g.reverse().evaluate(at).gradient
    for x in g.inputs:
        forward = g.forward(x).evaluate(at).derivative[g.outputs[0]]
        assert reverse[x] == pytest.approx(oracle[x.name], rel=1e-8, abs=1e-9)
        assert forward == pytest.approx(reverse[x], rel=1e-10, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(expressions(max_ops=5))
def test_closed_forms_equal_sympy_diff(expr):
    g = sg.graph(expr)
    grad = g.gradient()
    at = {X: 0.3, Y: -0.7, Z: 1.1}
    for x in g.inputs:
        assert float(grad[x].subs(at)) == pytest.approx(
            float(sympy.diff(expr, x).subs(at)), rel=1e-9, abs=1e-12
        )


def test_directional_derivative_is_the_inner_product():
    g = sg.graph("x**2*y + sin(y)")
    fw = g.forward({"x": 2, "y": -1}).evaluate({"x": 1.5, "y": 0.5})
    grad = g.reverse().evaluate({"x": 1.5, "y": 0.5}).gradient
    assert fw.derivative["f"] == pytest.approx(2 * grad["x"] - grad["y"])


def test_fan_out_counted_once_per_use():
    g = sg.graph("exp(x) + sin(exp(x)) + 1/(1 + exp(x))")
    rv = g.reverse()
    t1 = g.symbol("t1")
    assert str(g.step[t1].expr) == "exp(x)"
    assert len(rv.terms[t1]) == 3 == len(g.children[t1])
    x = g.inputs[0]
    exact = sympy.diff(g.expand("f"), x).subs(x, 0.3)
    assert rv.evaluate({"x": 0.3}).gradient["x"] == pytest.approx(float(exact))


def test_hessian_forward_over_reverse_matches_sympy():
    for text in ["(x + y)*(y + 1)", "exp(x*y) + sigmoid(x - y)", "x**3*sin(y)"]:
        g = sg.graph(text)
        expr = g.expand(g.outputs[0])
        ours = g.hessian()
        theirs = sympy.hessian(expr, g.inputs)
        diff = (ours - theirs).applyfunc(lambda e: sympy.simplify(e.rewrite(sympy.exp)))
        assert diff == sympy.zeros(2, 2), text


def test_steps_and_programs_are_straight_line():
    rv = sg.graph("(x + y)*(y + 1)").reverse()
    defined = set(rv.graph.inputs)
    for name, expr in rv.as_program():
        assert expr.free_symbols <= defined, (name, expr)
        defined.add(name)
    fw = rv.graph.forward("x")
    defined = set(rv.graph.inputs)
    for name, expr in fw.as_program():
        assert expr.free_symbols <= defined, (name, expr)
        defined.add(name)


def test_mode_names_are_checked():
    with pytest.raises(ValueError, match="mode must be"):
        sg.graph("x*y").jacobian("sideways")


@pytest.mark.parametrize(
    "text", ["cos(x*y) + x", "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"]
)
def test_the_program_is_lean_and_names_every_result(text):
    g = sg.graph(text)
    for sweep in (g.reverse(), g.forward(g.inputs[0])):
        program = sweep.as_program()
        names = [name for name, _ in program]
        results = [*g.outputs, *map(sweep.mode.accent, sweep.mode.ends(g))]
        assert set(results) <= set(names) and len(set(names)) == len(names)
        used = {s for _, e in program for s in e.free_symbols}
        for name, expr in program:  # no alias or constant but a result; no dead line
            assert name in results or not expr.is_Atom, (name, expr)
            assert name in results or name in used, name


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_program_substitution_is_sympys(data):
    # the lean program's direct products and sums equal what xreplace builds
    from symgraph.program import substituted

    pool = sympy.symbols("a b c x y", real=True)
    atom = st.sampled_from([*pool, sympy.S(2), sympy.Rational(-1, 2)])
    term = st.lists(atom, min_size=1, max_size=3).map(lambda fs: sympy.Mul(*fs))
    expr = data.draw(
        st.one_of(term, st.lists(term, min_size=1, max_size=4).map(lambda ts: sympy.Add(*ts)))
    )
    expr = data.draw(st.sampled_from([expr, expr + sympy.sin(pool[0]), expr * pool[1] ** 2]))
    value = st.one_of(st.sampled_from(pool), st.sampled_from(pool).map(lambda s: -s), atom)
    used = data.draw(st.dictionaries(st.sampled_from(pool), value, max_size=3))
    made, want = substituted(expr, used), expr.xreplace(used)
    assert made == want and made.args == want.args and hash(made) == hash(want)


@given(
    st.sampled_from(
        (*sympy.symbols("a b x", real=True), sympy.Symbol("n", commutative=False), sympy.S(3))
    ),
    st.sampled_from((*sympy.symbols("a b x", real=True), sympy.S.Half)),
)
def test_an_edge_product_is_sympys(a, b):
    from symgraph.canonical import product

    assert product(a, b) == a * b and product(a, b).args == (a * b).args
