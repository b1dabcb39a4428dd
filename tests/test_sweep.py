"""One sweep type: the mode as data, forward and reverse as the same walk.

Oracles: sympy.diff (closed forms and Jacobians), forward-vs-reverse agreement
(⟨ȳ, J ẋ⟩ = ⟨Jᵀȳ, ẋ⟩), and each node's board form evaluated at the point's values.
"""

from __future__ import annotations

import copy
import pickle

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph import naming
from symgraph.evaluation.evaluate import SweepEvaluation
from symgraph.sweep import SWEEPS, Mode, Sweep

from .conftest import X, Y, Z, expressions, points

# ---------------------------------------------------------------- the mode as data


def test_modes_are_named_by_the_public_strings():
    assert Mode("forward") is Mode.FORWARD and Mode.named("reverse") is Mode.REVERSE
    assert Mode.named(Mode.FORWARD) is Mode.FORWARD
    assert [m.word for m in Mode] == ["forward", "reverse"]
    with pytest.raises(sg.GraphError, match="mode must be 'forward' or 'reverse', not 'sideways'"):
        Mode.named("sideways")


def test_each_mode_carries_its_accent_and_names():
    u = sympy.Symbol("u1")
    assert Mode.FORWARD.accent(u) == naming.dot(u) and Mode.REVERSE.accent(u) == naming.bar(u)
    names = {m: (m.carried, m.results, m.function) for m in Mode}
    assert names == {
        Mode.FORWARD: ("tangents", "derivative", "tangent"),
        Mode.REVERSE: ("adjoints", "gradient", "gradient"),
    }


def test_reverse_is_forward_on_the_transposed_graph():
    g = sg.graph(["x*y + sin(x)", "exp(x*y)"])
    fw, rv = Mode.FORWARD, Mode.REVERSE
    assert rv.order(g) == tuple(reversed(fw.order(g))) == tuple(reversed(list(g.order)))
    assert (fw.starts(g), fw.ends(g)) == (rv.ends(g), rv.starts(g)) == (g.inputs, g.outputs)
    for s in g.steps:
        for p in s.parents:
            assert p in fw.neighbours(g)[s.name] and s.name in rv.neighbours(g)[p]
            assert fw.edge(s.name, p) == rv.edge(p, s.name) == (s.name, p)
    assert fw.neighbours(g)[g.inputs[0]] == () and rv.neighbours(g)[g.outputs[0]] == ()


# ---------------------------------------------------------------- one type, two names


def test_forward_and_reverse_are_sweeps_of_their_mode():
    g = sg.graph("(x + y)*(y + 1)")
    fw, rv = g.forward("y"), g.reverse()
    assert isinstance(fw, Sweep) and isinstance(fw, sg.Forward) and not isinstance(fw, sg.Reverse)
    assert isinstance(rv, Sweep) and isinstance(rv, sg.Reverse) and not isinstance(rv, sg.Forward)
    assert (fw.mode, rv.mode) == (Mode.FORWARD, Mode.REVERSE)
    assert fw.tangents is fw.carried and fw.derivative is fw.results
    assert rv.adjoints is rv.carried and rv.gradient is rv.results
    assert SWEEPS[Mode.FORWARD](g, "y").tangents == fw.tangents
    assert SWEEPS[Mode.REVERSE](g, None).adjoints == rv.adjoints


def test_the_other_modes_names_are_absent_with_a_hint():
    g = sg.graph("x*y")
    fw, rv = g.forward("x"), g.reverse()
    assert not hasattr(fw, "adjoints") and not hasattr(fw, "gradient")
    assert not hasattr(rv, "tangents") and not hasattr(rv, "derivative")
    with pytest.raises(AttributeError, match=r"a reverse sweep has \.adjoints"):
        rv.tangents  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        fw.nonsense  # noqa: B018
    assert {"tangents", "derivative"} <= set(dir(fw)) and "adjoints" in dir(rv)


def test_one_evaluation_type_with_the_modes_names():
    g = sg.graph("u1*u2 + max(u1, u2)")
    at = {"u1": 1, "u2": 1}
    with pytest.warns(sg.KinkWarning):
        fev = g.forward("u1").evaluate(at, kink="zero")
    with pytest.warns(sg.KinkWarning):
        rev = g.reverse().evaluate(at, kink="zero")
    assert type(fev) is type(rev) is SweepEvaluation
    assert fev.tangents is fev.carried and fev.derivative is fev.results
    assert rev.adjoints is rev.carried and rev.gradient is rev.results
    assert fev.derivative["f"] == rev.gradient["u1"] == 1.0  # u2 + 0 at the tie
    assert fev.kink_convention == rev.kink_convention == "zero"
    assert [str(k) for k in fev.kinks] == [str(k) for k in rev.kinks] != []
    assert fev.values == rev.values
    assert not hasattr(fev, "adjoints") and not hasattr(rev, "tangents")


def test_evaluations_copy_and_pickle():
    ev = sg.graph("x*y + sin(x)").forward("x").evaluate({"x": 1, "y": 2})
    for twin in (copy.copy(ev), copy.deepcopy(ev), pickle.loads(pickle.dumps(ev))):
        assert twin.mode is Mode.FORWARD and twin.derivative["f"] == ev.derivative["f"]


# ---------------------------------------------------------------- against the oracles


def _diff_at(expr, at) -> dict:
    subs = {X: at["x"], Y: at["y"], Z: at["z"]}
    return {v: float(sympy.diff(expr, v).subs(subs)) for v in (X, Y, Z)}


@settings(max_examples=40, deadline=None)
@given(expressions(), points, st.lists(st.integers(-3, 3), min_size=3, max_size=3))
def test_directional_derivative_is_the_gradient_along_the_direction(expr, at, direction):
    """Forward along ẋ equals ⟨∇f, ẋ⟩ from reverse, and both equal sympy.diff."""
    g = sg.graph(expr)
    here = {x.name: at[x.name] for x in g.inputs}
    ẋ = dict(zip((X, Y, Z), direction, strict=True))
    oracle = _diff_at(expr, {"x": 0.0, "y": 0.0, "z": 0.0, **here})
    fw = g.forward({x: ẋ[x] for x in g.inputs}).evaluate(here)
    grad = g.reverse().evaluate(here).gradient
    along = sum(ẋ[x] * grad[x] for x in g.inputs)
    assert fw.derivative["f"] == pytest.approx(along, rel=1e-9, abs=1e-9)
    assert along == pytest.approx(sum(ẋ[v] * oracle[v] for v in g.inputs), rel=1e-8, abs=1e-8)


@settings(max_examples=20, deadline=None)
@given(st.lists(expressions(max_ops=5), min_size=1, max_size=3))
def test_jacobians_by_either_mode_equal_sympys(exprs):
    g = sg.graph(exprs)
    expected = sympy.Matrix(exprs).jacobian(list(g.inputs))
    at = {X: 0.4, Y: -0.3, Z: 0.9}
    for mode in ("forward", "reverse"):
        jac = g.jacobian(mode)
        assert jac.mode_choice.mode == mode and jac.shape == expected.shape
        for got, want in zip(jac, expected, strict=True):
            assert float(got.subs(at)) == pytest.approx(float(want.subs(at)), rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(expressions(), points, st.sampled_from(list(Mode)))
def test_every_nodes_number_is_its_board_form_at_the_point(expr, at, mode):
    """The numeric sweep and the symbolic one agree node by node: each carried number
    is the node's quantity in step names, evaluated at the point's values."""
    g = sg.graph(expr)
    here = {x.name: at[x.name] for x in g.inputs}
    sweep = SWEEPS[mode](g, g.inputs[0] if mode is Mode.FORWARD else None)
    ev = sweep.evaluate(here)
    values = {n: sympy.Float(v) for n, v in ev.values.items()}
    for node, number in ev.carried.items():
        exact = sweep.in_steps(node).xreplace(values)
        assert number == pytest.approx(float(exact), rel=1e-9, abs=1e-9)


def test_board_forms_use_only_quantities_swept_before():
    """Each node's quantity is written with accented symbols of nodes earlier in the
    sweep (its neighbours', or what they fold into): the program is straight-line."""
    g = sg.graph("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))")
    for sweep in (g.forward("u1"), g.reverse()):
        mode = sweep.mode
        position = {mode.accent(n): i for i, n in enumerate(mode.order(g))}
        assert list(sweep.carried) == list(mode.order(g))
        for node, board in sweep.carried.items():
            used = [position[s] for s in board.free_symbols if s in position]
            assert all(i < position[mode.accent(node)] for i in used)


def test_reverse_prunes_what_the_seed_never_reaches_forward_lists_every_tangent():
    g = sg.graph(["x*y", "sin(x)"])
    rv, fw = g.reverse("f2"), g.forward("y")
    assert [str(n) for n, _ in rv.steps] == ["fbar_2", "ybar", "xbar"]  # f1 is not reached
    assert [str(n) for n, _ in fw.steps] == ["xdot", "ydot", "fdot_1", "fdot_2"]
    assert dict(fw.steps)[naming.dot(g.symbol("f2"))] == 0
