"""Checking hand derivations and finite differences.

Oracles independent of the rule table: ``sympy.diff`` of the expanded expression, finite
differences computed here by hand in plain floats, and the lecture's published numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings

import symgraph as sg

from .conftest import expressions

LECTURE = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"
LECTURE_PROGRAM = "t1 = exp(u1)\nt2 = exp(2*u2)\nt3 = t1 + t2\nf = exp(t3) + sigmoid(t3)"
AT = {"u1": 1, "u2": -1}


def lecture_f(u1: float, u2: float) -> float:
    t3 = math.exp(u1) + math.exp(2 * u2)
    return math.exp(t3) + 1 / (1 + math.exp(-t3))


# ---------------------------------------------------------------- right answers pass

RIGHT = [
    ("x**2*sin(x)", {"x": "2*x*sin(x) + x**2*cos(x)"}),
    ("x**2*sin(x)", {"x": "x*(2*sin(x) + x*cos(x))"}),  # factored
    ("sigmoid(x)", {"x": "sigmoid(x)*(1 - sigmoid(x))"}),
    ("sigmoid(x)", {"x": "exp(-x)/(1 + exp(-x))**2"}),  # σ(1−σ) in its exp form
    ("tanh(x)", {"x": "1 - tanh(x)**2"}),
    ("tanh(x)", {"x": "1/cosh(x)**2"}),
    ("(x + y)*(y + 1)", {"x": "y + 1", "y": "x + 2*y + 1"}),
    ("t1 = x + y\nt2 = y + 1\nf = t1*t2", {"x": "t2", "y": "t2 + t1"}),  # the lecture's names
    (LECTURE_PROGRAM, {"u1": "t1*(t4 + t5*(1 - t5))", "u2": "2*t2*(t4 + t5*(1 - t5))"}),
    (LECTURE_PROGRAM, {"t3": "t4 + t5*(1 - t5)", "t2": "tbar_3", "u1": "t1*tbar_3"}),
    ("u1*u2 + max(u1, u2)", {"u1": "u2 + Heaviside(u1 - u2)", "u2": "u1 + Heaviside(u2 - u1)"}),
    ("log(x)*sqrt(y)", {"x": "sqrt(y)/x", "y": "log(x)/(2*sqrt(y))"}),  # a domain x, y > 0
    ("3*x", {"x": 3}),  # a number without a point is a constant formula
]


@pytest.mark.parametrize(("src", "claims"), RIGHT)
def test_right_answers_in_other_forms_pass(src, claims):
    report = sg.check(src, claims)
    assert report.ok, str(report)
    assert all(r.counterexample is None and r.departure is None for r in report.results)
    assert str(report).splitlines()[0] in (
        "the claim is right",
        f"all {len(claims)} claims are right",
    )


def test_sympy_expressions_are_claims_too():
    x = sympy.Symbol("x")  # no assumptions: matched by name
    assert sg.check("x**3", {x: 3 * x**2}).ok


def test_numeric_agreement_without_a_proof_says_so():
    result = sg.check("abs(x)", {"x": "x/abs(x)"}).results[0]
    assert result.ok
    assert result.verdict == "agrees numerically at 32 points, not proven"


def test_a_proof_is_reported_as_such():
    result = sg.check("tanh(x)", {"x": "1/cosh(x)**2"}).results[0]
    assert result.verdict == "right (equal symbolically)"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(max_ops=5))
def test_sympy_diff_is_always_right_and_a_shifted_one_never(expr):
    x = min(expr.free_symbols, key=str)
    right = sg.check(expr, {x: sympy.diff(expr, x)})
    assert right.ok, str(right)
    wrong = sg.check(expr, {x: sympy.diff(expr, x) + x / 7 + 1})
    assert not wrong.ok and wrong.results[0].counterexample is not None


# ---------------------------------------------------------------- wrong answers fail


def _exact(src: str, wrt: str, point) -> float:
    """The oracle: sympy.diff of the expression, at the point."""
    g = sg.graph(src)
    value = sympy.diff(g.expand(g.outputs[0]), g.symbol(wrt))
    return float(value.subs({g.symbol(k): v for k, v in point.items()}))


@pytest.mark.parametrize(
    ("src", "claims", "departure"),
    [
        (
            "u1*u2 + max(u1, u2)",  # forgets that max depends on u1
            {"u1": "u2"},
            "missing the contribution through t2 = Max(u1, u2): t̄2·∂t2/∂u1 = Heaviside(u1 - u2)",
        ),
        ("cos(x**2)", {"x": "2*x*sin(x**2)"}, "the sign is wrong"),
        (
            "sin(x**2)",
            {"x": "cos(x**2)"},
            "the contribution through t1 = x**2 lacks the factor ∂t1/∂x = 2*x",
        ),
        ("x**2", {"x": "4*x"}, "off by a constant factor 2"),
        (
            "t1 = x + y\nt2 = y + 1\nf = t1*t2",
            {"y": "t2 + 2*t1"},
            "the contribution through t2 = y + 1 is wrong: 2*t1, not t1",
        ),
    ],
)
def test_wrong_answers_fail_with_a_counterexample(src, claims, departure):
    report = sg.check(src, claims)
    assert not report.ok
    (result,) = report.results
    assert result.verdict == "wrong" and not result.ok
    assert result.departure == departure
    point, claimed, correct = result.counterexample
    assert correct == pytest.approx(_exact(src, result.name, point))
    assert claimed != pytest.approx(correct)
    text = str(report)
    assert "✗" in text and "correct:" in text and departure in text


def test_the_max_claim_is_caught_where_u1_is_larger():
    (result,) = sg.check("u1*u2 + max(u1, u2)", {"u1": "u2"}, at={"u1": 2, "u2": 1}).results
    point = result.counterexample.point  # the point given is tried first
    assert (point["u1"], point["u2"]) == (2.0, 1.0)
    assert (result.counterexample.claimed, result.counterexample.correct) == (1.0, 2.0)


def test_a_missing_contribution_to_an_intermediate_adjoint():
    (result,) = sg.check(LECTURE_PROGRAM, {"t3": "t4"}).results
    assert result.label == "t̄3 = ∂f/∂t3"
    assert result.departure.startswith("missing the contribution through t5 = sigmoid(t3)")
    assert str(result.in_steps) == "t4 + t5*(1 - t5)"


def test_a_wrong_contribution_to_an_intermediate_adjoint():
    (result,) = sg.check(LECTURE_PROGRAM, {"t3": "t4 + t5"}).results  # forgets σ' = σ(1 − σ)
    assert result.departure == (
        "the contribution through t5 = sigmoid(t3) is wrong: t5, not t5*(1 - t5)"
    )


def test_a_wrong_chain_is_traced_to_its_first_wrong_step():
    claims = {"u2": "2*t2*tbar_2", "t2": "t4 + t5", "t3": "t4 + t5*(1 - t5)", "u1": "t1*tbar_3"}
    report = sg.check(LECTURE_PROGRAM, claims)
    assert [r.name for r in report.results] == ["t3", "t2", "u2", "u1"]  # output side first
    assert [r.ok for r in report.results] == [True, False, False, True]
    assert report.first_wrong.name == "t2"
    assert report["u2"].inherits_from == "t2"
    assert report["u2"].departure == "this step is right, but it uses your t̄2, which is wrong"
    assert str(report).splitlines()[0] == "2 of 4 claims wrong; the first wrong step is t̄2 = ∂f/∂t2"


def test_an_inherited_error_is_recognised_without_adjoint_names():
    claims = {"t2": "t4 + t5", "u2": "2*t2*(t4 + t5)"}
    report = sg.check(LECTURE_PROGRAM, claims)
    assert report.first_wrong.name == "t2" and report["u2"].inherits_from == "t2"


# ---------------------------------------------------------------- numbers at a point


def test_the_lectures_hand_numbers_pass():
    report = sg.check(LECTURE, {"u1": 47.3, "u2": 4.71}, at=AT, tol=0.01)
    assert report.ok
    assert report["u1"].correct == pytest.approx(47.3034, abs=1e-4)


def test_finite_differences_passed_off_as_derivatives_are_called_out():
    report = sg.check(LECTURE, {"u1": 48.19, "u2": 4.764}, at=AT, tol=0.01)
    assert not report.ok
    assert report["u1"].departure == (
        "this is the forward difference with h = 0.01 (48.1924), not the derivative"
    )
    assert report["u2"].departure.startswith("this is the forward difference with h = 0.01")
    assert report["u1"].counterexample.claimed == 48.19


def test_a_central_difference_passed_off_is_named():
    central = (math.sin(1.1) - math.sin(0.9)) / 0.2
    (result,) = sg.check("sin(x)", {"x": round(central, 6)}, at={"x": 1}).results
    assert result.departure.startswith("this is the central difference with h = 0.1")


def test_an_intermediate_adjoint_from_a_finite_difference():
    h = 0.01  # perturb t3 itself: (f(t3 + h) - f(t3)) / h
    t3 = math.exp(1) + math.exp(-2)
    f = lambda t: math.exp(t) + 1 / (1 + math.exp(-t))  # noqa: E731
    claim = round((f(t3 + h) - f(t3)) / h, 3)
    (result,) = sg.check(LECTURE_PROGRAM, {"t3": claim}, at=AT, tol=0.01).results
    assert result.departure.startswith("this is the forward difference with h = 0.01")


@pytest.mark.parametrize(
    ("claim", "kwargs", "ok"),
    [
        (12.1, {"tol": 0.2}, True),
        (12.1, {"tol": 0.05}, False),
        (12.1, {"rtol": 0.01}, True),  # |12.1 - 12| <= 0.01 * 12
        (12.5, {"rtol": 0.01}, False),
        ("12", {}, True),
        (12.0000001, {}, True),  # within the default tol = 1e-6
    ],
)
def test_numeric_claims_with_tol_and_rtol(claim, kwargs, ok):
    (result,) = sg.check("x**3", {"x": claim}, at={"x": 2}, **kwargs).results
    assert result.ok is ok
    assert result.correct == 12.0
    assert ("tol=" in result.verdict) and (result.verdict.startswith("right") is ok)


def test_a_number_right_to_its_written_digits_gets_a_hint():
    (result,) = sg.check(LECTURE, {"u1": 47.3}, at=AT).results
    assert not result.ok
    assert (
        result.departure == "it agrees to the digits written: pass tol=0.05 to allow for rounding"
    )


def test_several_outputs_need_a_seed():
    with pytest.raises(ValueError, match="2 outputs"):
        sg.check(["x*y", "x + y"], {"x": "y"})
    assert sg.check(["x*y", "x + y"], {"x": "y"}, seed="f1").ok
    report = sg.check(["x*y", "x + y"], {"x": "y + 2"}, seed={"f1": 1, "f2": 2})
    assert report.ok and report["x"].label == "∂(f1 + 2*f2)/∂x"


def test_forward_mode_gives_the_same_verdicts():
    assert sg.check(LECTURE, {"u1": 47.3}, at=AT, tol=0.01, mode="forward").ok
    assert not sg.check("u1*u2 + max(u1, u2)", {"u1": "u2"}, mode="forward").ok


def test_the_report_renders_as_markdown():
    md = sg.check("x**2", {"x": "4*x"})._repr_markdown_()
    assert md.splitlines()[0] == "| | claim | correct | verdict |"
    assert "| ✗ | `∂f/∂x = 4*x` | `2*x` | wrong; off by a constant factor 2 |" in md


# ---------------------------------------------------------------- bad claims


@pytest.mark.parametrize(
    ("claims", "error", "message"),
    [
        ({"z": "1"}, sg.GraphError, "no node named 'z'"),
        ({"x": "y +* 2"}, sg.ParseError, "the claim for x: invalid syntax"),
        ({"x": "__import__('os')"}, sg.ParseError, "the claim for x"),
        ({"x": "y + q"}, sg.GraphError, "uses q, which is not a node of this graph"),
        ({"x": [1]}, sg.GraphError, "must be a formula, an expression or a number, not list"),
        ({"x": True}, sg.GraphError, "not bool"),
        ({}, sg.GraphError, "non-empty mapping"),
        ({"x": "y", sympy.Symbol("x", real=True): "y"}, sg.GraphError, "two claims"),
    ],
)
def test_bad_claims_are_value_errors_with_a_clear_message(claims, error, message):
    with pytest.raises(error, match=message) as raised:
        sg.check("x*y", claims)
    assert isinstance(raised.value, ValueError)


def test_a_bad_mode_or_point_is_refused():
    with pytest.raises(ValueError, match="mode must be"):
        sg.check("x*y", {"x": "y"}, mode="sideways")
    with pytest.raises(sg.EvaluationError, match="log"):
        sg.check("log(x)", {"x": 1.0}, at={"x": -1})


# ---------------------------------------------------------------- finite differences


def test_the_lectures_forward_differences():
    fd = sg.finite_difference(LECTURE, at=AT, h=0.01)
    assert round(fd.estimates["u1"], 2) == 48.19 and round(fd.estimates["u2"], 3) == 4.764
    assert round(fd.exact["u1"], 2) == 47.30 and round(fd.exact["u2"], 2) == 4.71
    assert [round(v, 3) for v in fd.evaluations["u1"]] == [18.296, 18.778]
    assert [round(v, 3) for v in fd.evaluations["u2"]] == [18.296, 18.344]
    assert fd.abs_error["u1"] == pytest.approx(48.1924 - 47.3034, abs=1e-4)
    assert fd.rel_error["u1"] == pytest.approx(fd.abs_error["u1"] / fd.exact["u1"])
    assert "∂f/∂u1 ≈ (18.7779 − 18.2959)/0.01 = 48.1924   exact 47.3034" in str(fd)


@pytest.mark.parametrize(
    ("scheme", "lo", "hi", "div"),
    [("forward", 0, 1, 1), ("backward", -1, 0, 1), ("central", -1, 1, 2)],
)
def test_the_schemes_by_hand(scheme, lo, hi, div):
    h = 1e-3
    fd = sg.finite_difference(LECTURE, at=AT, h=h, scheme=scheme)
    by_hand = (lecture_f(1 + hi * h, -1) - lecture_f(1 + lo * h, -1)) / (div * h)
    assert fd.estimates["u1"] == pytest.approx(by_hand, rel=1e-9)


def test_a_step_node_estimates_its_adjoint():
    fd = sg.finite_difference(LECTURE_PROGRAM, at=AT, scheme="central", h=1e-4, wrt=["t3", "u2"])
    assert list(fd.estimates) == [
        sg.graph(LECTURE_PROGRAM).symbol("t3"),
        sg.graph(LECTURE_PROGRAM).symbol("u2"),
    ]
    assert fd.estimates["t3"] == pytest.approx(17.4, abs=0.05)
    assert fd.abs_error["t3"] < 1e-5


@pytest.mark.parametrize(("scheme", "order"), [("forward", 1), ("backward", 1), ("central", 2)])
def test_the_sweep_shows_the_order_and_the_round_off_floor(scheme, order):
    sweep = sg.finite_difference_sweep(LECTURE, at=AT, scheme=scheme)
    assert sweep.hs == tuple(10.0**-k for k in range(1, 13))
    for x in ("u1", "u2"):
        assert sweep.order[x] == pytest.approx(order, abs=0.15)
        h, error = sweep.floor[x]
        assert 1e-10 <= h <= 1e-4
        assert error < 1e-3 * sweep.errors[x][0] and error < sweep.errors[x][-1]
    text = str(sweep)
    assert f"(O(h^{order}) expected); round-off floor at h = " in text
    assert f"error ~ h^{sweep.order['u1']:.2f}" in text


def test_the_sweep_from_a_result_and_a_linear_function():
    fd = sg.finite_difference("3*x + y", at={"x": 1, "y": 2}, scheme="central")
    sweep = fd.sweep(hs=[1e-2, 1e-1, 1e-3])
    assert sweep.hs == (1e-1, 1e-2, 1e-3)
    assert sweep.order["x"] is None  # no truncation error to measure
    assert "order not measurable" in str(sweep)


def test_leaving_the_domain_is_an_evaluation_error():
    with pytest.raises(
        sg.EvaluationError, match=r"backward difference for x with h = 0\.1 leaves the domain"
    ):
        sg.finite_difference("log(x)", at={"x": 0.05}, h=0.1, scheme="backward")
    sweep = sg.finite_difference_sweep("log(x)", at={"x": 0.05}, scheme="central")
    assert math.isnan(sweep.errors["x"][0]) and sweep.order["x"] == pytest.approx(2, abs=0.15)


def test_a_bad_scheme_is_refused():
    with pytest.raises(ValueError, match="scheme must be one of forward, backward, central"):
        sg.finite_difference("x", at={"x": 1}, scheme="sideways")


def test_vector_functions_name_an_output():
    fd = sg.finite_difference(["x*y", "x + y"], at={"x": 2, "y": 3}, output="f1", scheme="central")
    assert fd.estimates["x"] == pytest.approx(3) and fd.output == "f1"


def test_matrix_inputs_are_checked_not_refused():
    # once refused ("scalar inputs, not matrices"); tests/test_check_matrix.py has the rest
    g = sg.graph(sympy.Trace(sympy.MatrixSymbol("W", 2, 2).T * sympy.MatrixSymbol("W", 2, 2)))
    report = sg.check(g, {"W": "trace(W)"}, rng=0)
    assert not report.ok and "the shapes differ" in report["W"].verdict
    fd = sg.finite_difference(g, at={"W": [[1, 2], [3, 4]]}, scheme="central")
    assert fd.estimates["W"] == pytest.approx(2 * np.array([[1, 2], [3, 4]]))


# ---------------------------------------------------------------- honest sampling

#: Wrong claims for ∂(x²)/∂x that agree with 2x on a grid, near 0, or only far from it.
PLAUSIBLE_BUT_WRONG = [
    "2*x + sin(1000*pi*x)",  # zero on every point with 3 decimals
    "2*x + relu(x - 3)",  # right on [-2, 2.5]
    "2*x + relu(-x - 3)",
    "2*x + relu(x - 100)",  # wrong only at large scales
    "2*x + relu(abs(x) - 200)",
    "2*x + 1e-5*x",  # a tiny relative error
    "2*x + relu(1e-2 - abs(x))",  # wrong only very near 0
    "2*x*(1 + sin(1000*pi*x)**2)",
]


@pytest.mark.parametrize("claim", PLAUSIBLE_BUT_WRONG)
@pytest.mark.parametrize("rng", [None, 0, 12345])
def test_wrong_claims_that_a_grid_would_miss_are_called_wrong(claim, rng):
    result = sg.check("x**2", {"x": claim}, rng=rng).results[0]
    assert not result.ok
    point, claimed, correct = result.counterexample
    assert correct == pytest.approx(2 * point["x"])  # the oracle: d(x²)/dx = 2x
    assert claimed != pytest.approx(correct, rel=1e-9)


def test_wrong_claims_in_two_inputs_are_found_at_every_scale():
    claims = {"x": "y + relu(y - 50)", "y": "x"}
    report = sg.check("x*y", claims, rng=3)
    assert not report["x"].ok and report["y"].ok


def test_each_call_draws_fresh_points_and_a_seed_draws_them_again():
    seeds = {sg.check("x**3", {"x": "3*x**2"}).sampling.seed for _ in range(3)}
    assert len(seeds) == 3
    first = sg.check("x**2", {"x": "2*x + relu(x - 3)"})
    again = sg.check("x**2", {"x": "2*x + relu(x - 3)"}, rng=first.sampling.seed)
    assert first.results[0].counterexample == again.results[0].counterexample


def test_numeric_agreement_says_what_was_sampled():
    report = sg.check("abs(x)", {"x": "x/abs(x)"}, rng=7)
    assert report.sampling.readable == 8 and report.sampling.random == 24
    text = str(report)
    assert "agrees numerically at 32 points, not proven" in text
    assert "32 points: 8 readable" in text and "rng=7" in text
    proven = sg.check("x**2", {"x": "2*x"}, rng=7)
    assert "sampled" not in str(proven)  # a proof needs no samples


@pytest.mark.parametrize(
    ("src", "claim", "inside"),
    [
        ("log(x)", "1/x", lambda p: p["x"] > 0),
        ("sqrt(x)", "1/(2*sqrt(x))", lambda p: p["x"] > 0),
        ("sqrt(x - 1)", "1/(2*sqrt(x - 1))", lambda p: p["x"] > 1),
        ("log(1 - x**2)", "-2*x/(1 - x**2)", lambda p: abs(p["x"]) < 1),
    ],
)
def test_samples_stay_inside_the_domain(src, claim, inside):
    report = sg.check(src, {"x": claim + " + relu(x - 1e9)"}, rng=4)
    assert report.ok  # the sampled points never reach 1e9
    checker_points = [s.point for s in _samples(src, claim)]
    assert len(checker_points) >= 20 and all(inside(p) for p in checker_points)


def _samples(src, claim):
    from symgraph.verify import sampling

    drawn, _ = sampling.samples(sg.graph(src).reverse(), {}, None, 5)
    return drawn


@pytest.mark.parametrize("rng", [-1, 1.5, "seed", True])
def test_a_bad_rng_is_a_clear_error(rng):
    with pytest.raises(ValueError, match="rng must be a non-negative integer"):
        sg.check("x**2", {"x": "2*x"}, rng=rng)


def test_forward_mode_over_matrix_inputs_is_a_clear_error():
    g = sg.graph("sum(W*x)", shapes={"W": (2, 2), "x": (2, 1)})
    with pytest.raises(sg.GraphError, match="reverse mode"):
        sg.check(g, {"W": "x"}, mode="forward")


def test_a_large_graph_is_compared_at_fewer_random_points_and_says_so(monkeypatch):
    from symgraph.verify import sampling

    assert sampling.random_count(10) == 24 and sampling.random_count(10**6) == 8
    src = "sin(x)*cos(y) + x*y"
    monkeypatch.setattr(sampling, "SAMPLE_STEPS", 12 * len(sg.graph(src).steps))  # as if large
    report = sg.check(src, {"y": "-sin(x)*sin(y) + x"}, rng=2)
    assert report.ok and report.sampling.random == 12 and report.sampling.readable == 8
