"""Messages a person acts on: no SymPy jargon (``zoo``, ``nan``), overflow named as
overflow with the step and the value, a partial undefined at a point named alone while
the other partials are given — for scalars and matrices, in Python and on the CLI."""

from __future__ import annotations

import copy
import json
import math
import pickle
import warnings

import numpy as np
import pytest
import sympy

import symgraph as sg
from symgraph.cli import main
from symgraph.evaluation.evaluate import UndefinedPartialWarning

JARGON = ("zoo", "nan", "NaN", "evaluates to")


def _error(call) -> str:
    with pytest.raises(sg.EvaluationError) as info:
        call()
    message = str(info.value)
    assert not any(word in message for word in JARGON), message
    return message


def _column(*entries) -> np.ndarray:
    return np.array([[float(e)] for e in entries])


# ---------------------------------------------------------------- log at 0, 1/x at 0


@pytest.mark.parametrize("way", ["values", "reverse", "forward"])
def test_log_at_zero_is_minus_infinity_not_zoo(way):
    g = sg.graph("log(x)")
    call = {
        "values": lambda: g.evaluate({"x": 0}),
        "reverse": lambda: g.reverse().evaluate({"x": 0}),
        "forward": lambda: g.forward("x").evaluate({"x": 0}),
    }[way]
    message = _error(call)
    assert "step f = log(x)" in message and "log of 0 is -infinity (log(x) at x = 0)" in message


def test_the_part_to_blame_is_named_inside_a_larger_step():
    message = _error(lambda: sg.graph("t1 = x - y\nf = 3 + 1/t1").evaluate({"x": 2, "y": 2}))
    assert "division by 0 (1/t1 at t1 = 0)" in message


def test_log_of_a_zero_entry_names_the_entry():
    g = sg.graph("sum(log(X))", shapes={"X": (2, 1)})
    message = _error(lambda: g.reverse().evaluate({"X": _column(1, 0)}))
    assert "step t1 = log(X)" in message and "log of 0 is -infinity at entry (1, 0)" in message


# ---------------------------------------------------------------- overflow


def test_overflow_names_the_step_and_the_value():
    for call in (
        lambda: sg.graph("exp(x)").evaluate({"x": 1000}),
        lambda: sg.graph("exp(x)").reverse().evaluate({"x": 1000}),
    ):
        message = _error(call)
        value = f"{sympy.exp(1000).evalf(3)}".lower()  # the oracle: SymPy's own e^1000
        assert "step f = exp(x) (at x = 1000) overflows" in message
        assert f"about {value}" in message and "beyond the largest float" in message
        assert "undefined" not in message


def test_overflow_of_a_matrix_entry_is_overflow_not_undefined():
    g = sg.graph("sum(exp(X))", shapes={"X": (2, 1)})
    with pytest.raises(sg.EvaluationError) as info:
        g.evaluate({"X": _column(1, 1000)})
    message = str(info.value)
    assert "step t1 = exp(X)" in message and "overflows here" in message
    assert "entry (1, 0)" in message and "undefined" not in message


# ---------------------------------------------------------------- one partial undefined


def _x_y():
    return sympy.symbols("x y", real=True)


def test_a_partial_undefined_at_the_point_is_named_and_the_others_are_given():
    x, y = _x_y()
    rv = sg.graph("x**y").reverse()
    with pytest.warns(UndefinedPartialWarning, match=r"∂f/∂y.*log of 0"):
        ev = rv.evaluate({"x": 0, "y": 2})
    assert ev.gradient["x"] == float(sympy.diff(x**y, x).subs(y, 2).subs(x, 0))  # oracle: 2x
    assert math.isnan(ev.gradient["y"]) and list(ev.undefined) == [y]
    reason = ev.undefined["y"]
    assert reason.startswith("∂f/∂y: ") and "log of 0 is -infinity (log(x) at x = 0)" in reason
    assert not any(word in reason for word in JARGON)
    text = str(ev)
    assert "∂f/∂x = 0" in text and "∂f/∂y = undefined" in text and reason in text


def test_forward_mode_names_the_same_partial():
    fw = sg.graph("x**y").forward("x")
    assert fw.evaluate({"x": 0, "y": 2}).derivative["f"] == 0  # ∂f/∂x is defined
    message = _error(lambda: sg.graph("x**y").forward("y").evaluate({"x": 0, "y": 2}))
    assert message.startswith("∂f/∂y: ") and "log of 0" in message  # its only result


def test_a_vector_function_gives_the_defined_outputs():
    with pytest.warns(UndefinedPartialWarning, match="∂f1/∂y"):
        ev = sg.graph(["x**y", "x*y"]).forward("y").evaluate({"x": 0, "y": 2})
    assert math.isnan(ev.derivative["f1"]) and ev.derivative["f2"] == 0
    assert list(map(str, ev.undefined)) == ["f1"]


def test_with_no_partial_defined_the_error_names_it():
    message = _error(lambda: sg.graph("sqrt(x)").reverse().evaluate({"x": 0}))
    assert message.startswith("∂f/∂x: the derivative of f = sqrt") and "division by 0" in message


def test_a_matrix_partial_defined_next_to_an_undefined_scalar_one():
    g = sg.graph("sum(X)**y", shapes={"X": (2, 1)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedPartialWarning)
        ev = g.reverse().evaluate({"X": _column(0, 0), "y": 2})
    # the oracle: y·(ΣX)^(y-1) at ΣX = 0 is 0 in every entry
    np.testing.assert_array_equal(ev.gradient["X"], np.zeros((2, 1)))
    assert math.isnan(ev.gradient["y"]) and "log of 0" in ev.undefined["y"]


def test_no_warning_where_every_partial_is_defined():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = sg.graph("x**y").reverse().evaluate({"x": 1, "y": 2})
    assert dict(ev.undefined) == {} and ev.gradient["y"] == 0


def test_checks_and_finite_differences_need_every_partial_and_say_which_has_none():
    at = {"x": 0, "y": 2}
    for call in (
        lambda: sg.finite_difference("x**y", at=at),
        lambda: sg.check("x**y", {"x": 0, "y": 0}, at=at),
    ):
        message = _error(call)
        assert message.startswith("∂f/∂y: ") and "log of 0 is -infinity" in message


def test_a_finite_difference_where_the_exact_value_is_zero_has_no_relative_error():
    fd = sg.finite_difference("x**2", at={"x": 0})
    assert "relative" not in str(fd) and "nan" not in str(fd)
    assert "nan" not in fd._repr_mimebundle_()["text/html"]


def test_an_evaluation_with_an_undefined_partial_copies_and_pickles():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedPartialWarning)
        ev = sg.graph("x**y").reverse().evaluate({"x": 0, "y": 2})
    for twin in (copy.deepcopy(ev), pickle.loads(pickle.dumps(ev))):
        assert str(twin) == str(ev) and twin.sweep is None and dict(twin.undefined)


# ---------------------------------------------------------------- the CLI


def _cli(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_cli_names_the_undefined_partial_and_gives_the_other(capsys):
    code, text = _cli(["grad", "x**y", "--at", "x=0,y=2"], capsys)
    assert code == 0 and "∂f/∂y" in text and "log of 0 is -infinity" in text
    code, text = _cli(["grad", "x**y", "--at", "x=0,y=2", "--json"], capsys)
    data = json.loads(text[text.index("{") :])
    assert any("∂f/∂y" in note and "log of 0" in note for note in data["notes"])


@pytest.mark.parametrize(
    ("formula", "at", "said"),
    [("log(x)", "x=0", "log of 0 is -infinity"), ("exp(x)", "x=1000", "overflows")],
)
def test_cli_errors_say_what_happened(formula, at, said, capsys):
    code, text = _cli(["grad", formula, "--at", at], capsys)
    assert code == 2 and said in text and "zoo" not in text
