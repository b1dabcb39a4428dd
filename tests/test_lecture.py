"""The lecture's examples, with the lecture's numbers, in both modes."""

from __future__ import annotations

import math

import pytest
import sympy

import symgraph as sg

F1 = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"
F1_PROGRAM = "t1 = exp(u1)\nt2 = exp(2*u2)\nt3 = t1 + t2\nf = exp(t3) + sigmoid(t3)"
AT = {"u1": 1, "u2": -1}


def test_running_example_intermediate_variables():
    g = sg.graph("(x + y)*(y + 1)")
    assert [str(s) for s in g.steps] == ["t1 = x + y", "t2 = y + 1", "f = t1*t2"]
    rv = g.reverse()
    # ∂f/∂x = t2, ∂f/∂y = t2 + t1, in the intermediate variables
    assert rv.in_steps("x") == sympy.Symbol("t2", real=True)
    assert rv.in_steps("y") == sympy.sympify(
        "t1 + t2", locals={"t1": g.symbol("t1"), "t2": g.symbol("t2")}
    )


def test_worked_example_decomposition_matches_the_board():
    g = sg.graph(F1)
    assert [str(s) for s in g.steps] == [
        "t1 = exp(u1)",
        "t2 = exp(2*u2)",
        "t3 = t1 + t2",
        "t4 = exp(t3)",
        "t5 = sigmoid(t3)",
        "f = t4 + t5",
    ]
    t3 = g.symbol("t3")
    assert g.children[t3] == (g.symbol("t4"), g.symbol("t5"))  # shared: it feeds two nodes


@pytest.mark.parametrize("source", [F1, F1_PROGRAM])
def test_worked_example_numbers_reverse(source):
    rv = sg.graph(source).reverse()
    ev = rv.evaluate(AT)
    assert ev.values["f"] == pytest.approx(18.296, abs=5e-4)
    assert ev.adjoints["t3"] == pytest.approx(17.4, abs=0.05)
    assert ev.gradient["u2"] == pytest.approx(4.71, abs=5e-3)
    assert ev.gradient["u1"] == pytest.approx(47.30, abs=5e-3)
    assert ev.kinks == ()
    # board form: ū2 = t̄3 · 2 t2, ū1 = t̄3 · t1
    t1, t2 = rv.graph.symbol("t1"), rv.graph.symbol("t2")
    tbar3 = sympy.Symbol("tbar_3", real=True)
    assert rv.adjoints["u2"] == 2 * t2 * tbar3
    assert rv.adjoints["u1"] == t1 * tbar3


@pytest.mark.parametrize("source", [F1, F1_PROGRAM])
def test_worked_example_numbers_forward(source):
    g = sg.graph(source)
    d1 = g.forward("u1").evaluate(AT).derivative["f"]
    d2 = g.forward("u2").evaluate(AT).derivative["f"]
    assert (d1, d2) == (pytest.approx(47.3034, abs=1e-4), pytest.approx(4.7102, abs=1e-4))


def test_worked_example_adjoint_of_the_shared_node():
    rv = sg.graph(F1).reverse()
    t3 = rv.graph.symbol("t3")
    # t̄3 = t̄4 ∂t4/∂t3 + t̄5 ∂t5/∂t3, one term per child: e^{t3} + σ(t3)(1 − σ(t3))
    assert [child for child, _ in rv.terms[t3]] == [rv.graph.symbol("t4"), rv.graph.symbol("t5")]
    t4, t5 = rv.graph.symbol("t4"), rv.graph.symbol("t5")
    assert rv.adjoints[t3] == t4 + t5 * (1 - t5)


def test_finite_differences_from_the_lecture_and_the_exact_derivative():
    g = sg.graph(F1)
    base = g.evaluate(AT).outputs["f"]
    up1 = g.evaluate({"u1": 1.01, "u2": -1}).outputs["f"]
    up2 = g.evaluate({"u1": 1, "u2": -0.99}).outputs["f"]
    assert round(up1, 3) == 18.778
    assert round(up2, 3) == 18.344
    assert (up1 - base) / 0.01 == pytest.approx(48.19, abs=0.01)
    assert (up2 - base) / 0.01 == pytest.approx(4.764, abs=0.005)
    exact = g.reverse().evaluate(AT).gradient["u1"]
    assert round(exact, 2) == 47.30  # the gap to 48.19 is the forward difference's error


def test_closed_forms_agree_with_sympy_diff():
    g = sg.graph(F1)
    u1, u2 = g.inputs
    expr = sympy.exp(sympy.exp(u1) + sympy.exp(2 * u2)) + 1 / (
        1 + sympy.exp(-(sympy.exp(u1) + sympy.exp(2 * u2)))
    )
    for mode in ("reverse", "forward"):
        grad = g.gradient(mode=mode)
        for u in (u1, u2):
            ours = grad[u].rewrite(sympy.exp).subs({u1: 1, u2: -1})
            assert float(ours) == pytest.approx(float(sympy.diff(expr, u).subs({u1: 1, u2: -1})))


def test_max_example_flows_to_the_larger_argument_and_reports_the_tie():
    rv = sg.graph("u1*u2 + max(u1, u2)").reverse()
    assert rv.evaluate({"u1": 2, "u2": 1}).gradient == {
        rv.graph.inputs[0]: 2.0,
        rv.graph.inputs[1]: 2.0,
    }
    assert dict(rv.evaluate({"u1": 1, "u2": 3}).gradient.items()) == pytest.approx(
        {rv.graph.inputs[0]: 3.0, rv.graph.inputs[1]: 2.0}
    )
    with pytest.warns(sg.KinkWarning, match="Max"):
        ev = rv.evaluate({"u1": 1, "u2": 1})
    assert len(ev.kinks) == 1 and ev.kinks[0].step.op == "Max"
    assert ev.kink_convention == "split"
    assert (ev.gradient["u1"], ev.gradient["u2"]) == (1.5, 1.5)


def test_vector_function_jacobian_both_modes_and_the_choice():
    g = sg.graph(["u1*u2", "sin(u1)", "u1 + exp(u2)", "u1**2*u2"])
    assert [o.name for o in g.outputs] == ["f1", "f2", "f3", "f4"]
    jf, jr, ja = g.jacobian("forward"), g.jacobian("reverse"), g.jacobian()
    expected = sympy.Matrix([g.expand(o) for o in g.outputs]).jacobian(sympy.Matrix(g.inputs))
    assert (jf - expected).applyfunc(sympy.simplify) == sympy.zeros(4, 2)
    assert (jr - expected).applyfunc(sympy.simplify) == sympy.zeros(4, 2)
    assert (
        ja.mode_choice.mode == "forward"
        and "2 inputs < 4 outputs: 2 forward sweeps" in ja.mode_choice.reason
    )
    assert sg.choose_mode(sg.graph(["x*y*z"])).mode == "reverse"
    assert math.isclose(float(jr[0, 0].subs({g.inputs[1]: 2})), 2.0)
