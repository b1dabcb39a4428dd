"""The capability guard: every operation in the table of operations, on every path.

For each record of :mod:`symgraph.ops` (symgraph's own, and any function registered
later, which gets a default sample): parse its spelling; both modes against
``sympy.diff``; evaluation against SymPy's own numbers; the NumPy interpreter, and
compiled floats and arrays, against evaluation; a JSON round trip; LaTeX; entry by
entry on a matrix; kinks where its kink rule says. A record that cannot take a path
says so in ``OPT_OUTS`` with the reason; a record without a sample or an opt-out fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import NamedTuple

import numpy as np
import pytest
import sympy
from sympy import Symbol

import symgraph as sg
from symgraph import ops
from symgraph.evaluation import numeric
from symgraph.functions import elementwise, msum, relu, sigmoid, softplus
from symgraph.matrix_functions import diag, diagonal, logsumexp, norm, softmax, sqnorm

x, y = Symbol("x", real=True), Symbol("y", real=True)


class Sample(NamedTuple):
    expr: sympy.Expr  # over x (and y), containing the operation
    at: dict  # a point inside its domain, away from kinks
    kink_at: dict | None = None  # a point on its kink, for records with a kink rule


def _unary(cls, at: float = 0.4, kink_at: float | None = None) -> Sample:
    return Sample(cls(x), {"x": at}, None if kink_at is None else {"x": kink_at})


SAMPLES: dict[type, Sample] = {
    sympy.Add: Sample(x + 2 * y, {"x": 0.5, "y": -1.5}),
    sympy.Mul: Sample(x * y * 3, {"x": 0.5, "y": -1.5}),
    sympy.Pow: Sample(x**y, {"x": 1.5, "y": 0.7}),
    **{
        cls: _unary(cls)
        for cls in (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.asin)
    },
    **{cls: _unary(cls) for cls in (sympy.acos, sympy.atan, sympy.sinh, sympy.cosh)},
    **{cls: _unary(cls) for cls in (sympy.tanh, sympy.cot, sympy.sec, sympy.csc, sympy.asinh)},
    sympy.acosh: _unary(sympy.acosh, 1.7),
    sympy.atanh: _unary(sympy.atanh),
    sympy.erf: _unary(sympy.erf),
    sympy.atan2: Sample(sympy.atan2(y, x), {"x": 0.5, "y": -1.5}),
    sympy.floor: _unary(sympy.floor, 1.5),
    sympy.ceiling: _unary(sympy.ceiling, 1.5),
    sigmoid: _unary(sigmoid),
    softplus: _unary(softplus),
    relu: _unary(relu, 0.4, 0.0),
    sympy.Abs: _unary(sympy.Abs, -0.4, 0.0),
    sympy.sign: _unary(sympy.sign, -0.4, 0.0),
    sympy.Heaviside: _unary(sympy.Heaviside, 0.4, 0.0),
    sympy.Max: Sample(sympy.Max(x, y), {"x": 0.5, "y": -1.5}, {"x": 0.5, "y": 0.5}),
    sympy.Min: Sample(sympy.Min(x, y), {"x": 0.5, "y": -1.5}, {"x": 0.5, "y": 0.5}),
    sympy.Piecewise: Sample(
        sympy.Piecewise((x**2, x < y), (x * y, True)),
        {"x": 0.5, "y": -1.5},
        {"x": 0.5, "y": 0.5},
    ),
    sympy.DiracDelta: _unary(sympy.DiracDelta),
}

#: What a record does not do, and why. Keys: the class, and a path or "all".
OPT_OUTS: dict[type, dict[str, str]] = {
    sympy.Function: {"all": "the fdiff fallback for any SymPy function, not an operation"},
    **{
        cls: {
            "diff": f"SymPy's {cls.__name__} has no derivative (symgraph refuses to invent one)",
            "compile": "compiled code is a derivative sweep",
            "latex": "the LaTeX export lists every step's local partials",
            "json": "a graph's JSON holds its local partials",
        }
        for cls in (sympy.floor, sympy.ceiling)
    },
    sympy.DiracDelta: {"diff": "a distribution: its derivative is DiracDelta(x, 1)"},
    **{
        cls: {"all": "a condition: its records are checked inside Piecewise's sample"}
        for cls in (
            sympy.functions.elementary.piecewise.ExprCondPair,
            sympy.StrictLessThan,
            sympy.LessThan,
            sympy.StrictGreaterThan,
            sympy.GreaterThan,
            sympy.Equality,
            sympy.Unequality,
            sympy.And,
            sympy.Or,
            sympy.Not,
        )
    },
    **{
        cls: {"all": "a matrix operation: checked on every path in test_matrices.py"}
        for cls in (
            sympy.Determinant,
            sympy.MatMul,
            sympy.MatAdd,
            sympy.Transpose,
            sympy.HadamardProduct,
            sympy.Trace,
            sympy.Inverse,
            sympy.MatPow,
            msum,
            sympy.matrices.expressions.applyfunc.ElementwiseApplyFunction,
        )
    },
    **{
        cls: {"all": "a matrix operation: checked on every path in MATRIX_OPS below"}
        for cls in (norm, sqnorm, diag, diagonal, logsumexp, softmax)
    },
    **{
        cls: {
            "all": "values only, the matrices a Hessian is written with: checked on every "
            "path (graph, evaluation, compile, JSON, LaTeX) in test_hessian_matrix.py"
        }
        for cls in (sympy.KroneckerProduct, sympy.HadamardPower)
    },
}


def _sample(cls: type, op: ops.Op) -> Sample:
    """The record's sample; a function registered later gets one of its own arguments."""
    if cls in SAMPLES:
        return SAMPLES[cls]
    names = [x, y, Symbol("z", real=True)][: op.arity[0]]
    return Sample(cls(*names), {str(s): 0.3 + 0.2 * i for i, s in enumerate(names)})


#: Which records a path applies to, beyond the opt-outs.
APPLIES = {
    "parse": lambda op: bool(op.names),
    "matrix": lambda op: op.elementwise,
    "kink": lambda op: op.kink is not None,
}


def cases(path: str) -> list:
    """The records ``path`` is checked on: all but those opting out (with a reason) and
    those it does not apply to (no spelling, not elementwise, no kink rule)."""
    applies = APPLIES.get(path, lambda op: True)
    return [
        pytest.param(cls, op, id=cls.__name__)
        for cls, op in ops.records().items()
        if not {"all", path} & set(OPT_OUTS.get(cls, {})) and applies(op)
    ]


def _exact(expr: sympy.Expr, at: dict) -> float:
    return float(expr.subs({Symbol(k, real=True): v for k, v in at.items()}).evalf(30))


def test_every_opt_out_names_a_record_and_a_path_with_a_reason():
    paths = {"all", "parse", "diff", "evaluate", "compile", "json", "latex", "matrix", "kink"}
    for cls, reasons in OPT_OUTS.items():
        assert cls in ops.records(), f"{cls.__name__} opts out but has no record"
        assert set(reasons) <= paths and all(len(r) > 20 for r in reasons.values())


def test_every_record_has_a_sample_or_an_opt_out():
    missing = [
        cls.__name__
        for cls, op in ops.records().items()
        if cls not in SAMPLES and "all" not in OPT_OUTS.get(cls, {}) and not op.names
    ]
    assert not missing, f"records without a sample or an opt-out: {missing}"


@pytest.mark.parametrize(("cls", "op"), cases("parse"))
def test_its_spelling_parses(cls, op):
    for name in op.names:
        args = ", ".join("xyz"[: op.arity[0]])
        built = sg.graph(f"{name}({args})").expand("f")
        assert isinstance(built, cls) or built.has(cls)


@pytest.mark.parametrize(("cls", "op"), cases("diff"))
def test_both_modes_agree_with_sympy_diff(cls, op):
    s = _sample(cls, op)
    g = sg.graph(s.expr)
    for mode in ("forward", "reverse"):
        grad = g.gradient(mode=mode)
        for v in g.inputs:
            assert _exact(grad[v], s.at) == pytest.approx(_exact(sympy.diff(s.expr, v), s.at))
    ev = g.reverse().evaluate(s.at)
    for v in g.inputs:
        oracle = _exact(sympy.diff(s.expr, v), s.at)
        assert ev.gradient[v] == pytest.approx(oracle, rel=1e-12, abs=1e-14)
        assert g.forward(v).evaluate(s.at).derivative["f"] == pytest.approx(oracle, abs=1e-14)


@pytest.mark.parametrize(("cls", "op"), cases("evaluate"))
def test_evaluation_and_the_numpy_interpreter_agree_with_sympy(cls, op):
    s = _sample(cls, op)
    exact = _exact(s.expr, s.at)
    assert sg.graph(s.expr).evaluate(s.at).outputs["f"] == pytest.approx(exact, rel=1e-14)
    env = {Symbol(k, real=True): np.array([v, v]) for k, v in s.at.items()}
    assert np.allclose(numeric.value(s.expr, env), exact, rtol=1e-14)


@pytest.mark.parametrize(("cls", "op"), cases("compile"))
def test_compiled_floats_and_arrays_equal_the_interpreter(cls, op):
    s = _sample(cls, op)
    rv = sg.graph(s.expr).reverse()
    ev = rv.evaluate(s.at)
    fn = sg.compile(rv)
    args = [s.at[str(v)] for v in rv.graph.inputs]
    value, grad = fn(*map(float, args))
    assert all(type(v) is float for v in (value, *grad))  # the float path: Python floats
    assert value == pytest.approx(ev.values["f"], rel=1e-14)
    assert grad == pytest.approx([ev.gradient[v] for v in rv.graph.inputs], rel=1e-12, abs=1e-15)
    value, grad = fn(*(np.array([a, a]) for a in args))
    assert np.allclose(value, ev.values["f"], rtol=1e-14)


@pytest.mark.parametrize(("cls", "op"), cases("json"))
def test_json_round_trip_and_latex(cls, op):
    s = _sample(cls, op)
    g = sg.graph(s.expr)
    back = sg.from_json(json.loads(json.dumps(sg.to_json(g.reverse()))))
    assert back.graph.expand("f") == g.expand("f")
    tex = sg.to_latex(g.reverse(), at=s.at, standalone=True)
    assert "\\begin{document}" in tex and "\\end{document}" in tex


@pytest.mark.parametrize(("cls", "op"), cases("matrix"))
def test_entry_by_entry_on_a_matrix(cls, op):
    s = _sample(cls, op)
    (v,) = s.expr.free_symbols
    d = sympy.Dummy("d", real=True)
    M = sympy.MatrixSymbol("M", 2, 1)
    body = s.expr.xreplace({v: d})
    g = sg.graph(msum(elementwise(sympy.Lambda(d, body), M)))
    entries = np.array([[s.at[str(v)]], [s.at[str(v)] * 1.25]])
    grad = g.reverse().evaluate({"M": entries}).gradient["M"]
    slope = sympy.diff(s.expr, v)
    expected = [[_exact(slope, {str(v): float(e)})] for e in entries.ravel()]
    assert np.allclose(grad, expected, rtol=1e-12)
    assert np.allclose(sg.compile(g.reverse())(entries)[1][0], expected, rtol=1e-12)


@pytest.mark.parametrize(("cls", "op"), cases("kink"))
def test_kinks_are_detected_where_the_rule_says(cls, op):
    s = _sample(cls, op)
    rv = sg.graph(s.expr).reverse()
    assert rv.evaluate(s.at).kinks == ()
    with pytest.warns(sg.KinkWarning, match=op.kind):
        assert len(rv.evaluate(s.kink_at).kinks) == 1


def test_the_latex_of_every_operation_compiles(tmp_path):
    """One document holding every sample (renamed apart), through a real pdflatex."""
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("pdflatex is required under CI")
        pytest.skip("the 'pdflatex' program is not installed")
    total, at = sympy.S.Zero, {}
    for i, case in enumerate(cases("latex")):
        s = _sample(*case.values)
        rename = {Symbol(k, real=True): Symbol(f"{k}{i}", real=True) for k in s.at}
        total += s.expr.xreplace(rename)
        at.update({str(rename[Symbol(k, real=True)]): v for k, v in s.at.items()})
    (tmp_path / "doc.tex").write_text(
        sg.to_latex(sg.graph(total).reverse(), at=at, standalone=True)
    )
    command = [exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, [line for line in done.stdout.splitlines() if line.startswith("!")]


# ---------------------------------------------------------------- matrix operations

MATRIX_SHAPES = {"W": (3, 2), "x": (2, 1), "b": (3, 1), "y": (3, 1), "A": (3, 3)}

#: The matrix operations, each in a scalar formula (its spelling, or the spelling it is
#: built from): parsed, both modes against the entry-by-entry graph and ``sympy.diff``,
#: evaluated, compiled, through JSON and LaTeX.
MATRIX_OPS: dict[type, str] = {
    norm: "norm(W*x + b)",
    sqnorm: "norm(W*x - y)**2",
    diag: "sum(diag(b)*y) + sum(diag(y.T)*b)",
    diagonal: "sum(hadamard(diag(A.T*A), y))",
    logsumexp: "logsumexp(W*x) + logsumexp(W)",
    softmax: "sum(hadamard(softmax(W*x + b), y))",
}


def _matrix_case(cls):
    text = MATRIX_OPS[cls]
    g = sg.graph(text, shapes={k: v for k, v in MATRIX_SHAPES.items() if k in text})
    rng = np.random.default_rng(7)
    at = {v.name: rng.uniform(0.3, 1.2, size=v.shape) for v in g.inputs}
    return g, at


def _entries(at: dict) -> dict:
    """The point entry by entry, as the scalar inputs of ``sg.entrywise``."""
    return {f"{k}_{i}{j}": float(v[i, j]) for k, v in at.items() for i, j in np.ndindex(v.shape)}


def test_every_record_of_symgraph_matrix_functions_has_a_formula():
    matrix = {
        cls
        for cls, op in ops.records().items()
        if cls.__module__ == "symgraph.matrix_functions" and op.pull is not None
    }
    assert matrix <= set(MATRIX_OPS), matrix - set(MATRIX_OPS)


@pytest.mark.parametrize("cls", list(MATRIX_OPS), ids=lambda c: c.__name__)
def test_matrix_op_parses_and_both_modes_agree_with_sympy_diff_entry_by_entry(cls):
    g, at = _matrix_case(cls)
    assert any(isinstance(s.expr, cls) for s in g.steps)
    scalar = sg.entrywise(g)
    expanded, point = scalar.expand("f"), _entries(at)
    subs = {Symbol(k, real=True): v for k, v in point.items()}
    ev = g.reverse().evaluate(at)
    for v in g.inputs:
        oracle = np.array(
            [
                [
                    float(
                        sympy.diff(expanded, Symbol(f"{v.name}_{i}{j}", real=True)).evalf(subs=subs)
                    )
                    for j in range(v.shape[1])
                ]
                for i in range(v.shape[0])
            ]
        )
        np.testing.assert_allclose(ev.gradient[v], oracle, rtol=1e-10, atol=1e-12)
        assert g.gradient()[v].shape == v.shape
    direction = {v.name: np.random.default_rng(1).normal(size=v.shape) for v in g.inputs}
    tangent = g.forward(direction).evaluate(at).derivative["f"]
    assert tangent == pytest.approx(
        sum(float(np.sum(ev.gradient[k] * d)) for k, d in direction.items())
    )


@pytest.mark.parametrize("cls", list(MATRIX_OPS), ids=lambda c: c.__name__)
def test_matrix_op_adjoints_and_tangents_have_their_nodes_shapes(cls):
    g, at = _matrix_case(cls)
    rv, fw = g.reverse(), g.forward({v.name: 1 for v in g.inputs})
    for sweep in (rv, fw):
        for node, q in sweep.carried.items():
            if getattr(node, "shape", (1, 1)) != (1, 1) and q != 0:
                assert q.shape == node.shape, (node, q)
    ev = rv.evaluate(at)
    for node, value in ev.adjoints.items():
        assert np.shape(value) in ((), tuple(getattr(node, "shape", ())), (1, 1))


@pytest.mark.parametrize("cls", list(MATRIX_OPS), ids=lambda c: c.__name__)
def test_matrix_op_evaluation_agrees_with_the_entries(cls):
    g, at = _matrix_case(cls)
    exact = _exact(sg.entrywise(g).expand("f"), _entries(at))
    assert g.evaluate(at).outputs["f"] == pytest.approx(exact, rel=1e-13)


@pytest.mark.parametrize("cls", list(MATRIX_OPS), ids=lambda c: c.__name__)
def test_matrix_op_compiled_sweeps_equal_the_interpreter(cls):
    g, at = _matrix_case(cls)
    rv = g.reverse()
    ev = rv.evaluate(at)
    fn = sg.compile(rv)
    value, grad = fn(*(at[v.name] for v in fn.inputs))
    assert value == pytest.approx(ev.values["f"], rel=1e-13)
    for v, gv in zip(fn.inputs, grad, strict=True):
        np.testing.assert_allclose(gv, ev.gradient[v], rtol=1e-12, atol=1e-15)
    direction = {v.name: np.random.default_rng(2).normal(size=v.shape) for v in g.inputs}
    fw = g.forward(direction)
    tangent = sg.compile(fw)
    got = tangent(*(at[v.name] for v in tangent.inputs))[1][0]
    assert got == pytest.approx(fw.evaluate(at).derivative["f"], rel=1e-12)


@pytest.mark.parametrize("cls", list(MATRIX_OPS), ids=lambda c: c.__name__)
def test_matrix_op_json_round_trip_and_latex_without_class_names(cls):
    from symgraph.safety import admit

    g, at = _matrix_case(cls)
    rv = g.reverse()
    for _, e in rv.as_program():
        admit(e)  # the whitelist holds every class the sweep writes
    back = sg.from_json(json.loads(json.dumps(sg.to_json(rv))))
    assert back.graph.expand("f") == g.expand("f")
    for v in g.inputs:
        np.testing.assert_allclose(back.evaluate(at).gradient[v], rv.evaluate(at).gradient[v])
    tex = sg.to_latex(rv, at=at, standalone=True)
    text = " ".join([tex, str(g), *map(str, g.gradient().values())])
    for name in ("sqnorm", "DiagMatrix", "DiagonalOf", "diagonal", "_MatrixOf", "OfMatrix"):
        assert name not in text


def test_the_latex_of_every_matrix_operation_compiles(tmp_path):
    """One document holding every matrix sample, through a real pdflatex."""
    exe = shutil.which("pdflatex")
    if exe is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("pdflatex is required under CI")
        pytest.skip("the 'pdflatex' program is not installed")
    text = " + ".join(MATRIX_OPS.values())
    g = sg.graph(text, shapes=MATRIX_SHAPES)
    at = {v.name: np.full(v.shape, 0.5) for v in g.inputs}
    (tmp_path / "doc.tex").write_text(sg.to_latex(g.reverse(), at=at, standalone=True))
    command = [exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, [line for line in done.stdout.splitlines() if line.startswith("!")]
