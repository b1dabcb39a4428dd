"""Issue 9: no crafted JSON document or SymPy object runs code through any path.

Every document here carries a payload that would create a marker file if any printer
wrote it into executed code (``sg.compile``) or a lambdified function. Each must be
refused by ``from_json`` with a JSONFormatError naming the node by its path; a SymPy
object must be refused before compiling, and no path may create the marker.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import warnings

import numpy as np
import pytest
import sympy
from sympy.core.symbol import Str

import symgraph as sg
from symgraph.functions import elementwise, msum
from symgraph.safety import UnsafeExpressionError, admit


@pytest.fixture
def payload(tmp_path):
    marker = tmp_path / "MARKER"
    code = f"__import__('os').system('touch {marker}')"
    yield code
    assert not marker.exists(), "a payload ran"


def scalar_doc() -> dict:
    return json.loads(sg.to_json(sg.graph("exp(x) + y").reverse()))


def matrix_doc() -> dict:
    g = sg.graph("sum(sigmoid(W*x))", shapes={"W": (2, 2), "x": (2, 1)})
    return json.loads(sg.to_json(g.reverse()))


def _str(code):
    return ["Str", code]


def _set_expr(doc, i, tree):
    doc["graph"]["nodes"][i]["expr"] = tree
    return doc


def _lambda_body(doc, body):
    (lam, _arg) = doc["graph"]["nodes"][3]["expr"][1:]
    lam[2] = body
    return doc


# (document builder, the path the error must name)
CRAFTED = {
    "Str atom": (lambda c: _set_expr(scalar_doc(), 2, ["exp", _str(c)]), r"nodes\[2\]\.expr\[1\]"),
    "print(Str)": (
        lambda c: _set_expr(scalar_doc(), 2, ["Function", "print", _str(c)]),
        r"nodes\[2\]\.expr: unknown function 'print'",
    ),
    "exec(Str)": (
        lambda c: _set_expr(scalar_doc(), 2, ["Function", "exec", _str(c)]),
        r"unknown function 'exec'",
    ),
    "__import__ class": (
        lambda c: _set_expr(scalar_doc(), 2, ["__import__", _str(c)]),
        r"nodes\[2\]\.expr: unknown expression class",
    ),
    "function named with code": (
        lambda c: _set_expr(scalar_doc(), 2, ["Function", c, ["Symbol", "x"]]),
        r"nodes\[2\]\.expr: a function's name",
    ),
    "Dummy input": (lambda c: _dummy_input(c), r"nodes\[0\]\.symbol"),
    "Symbol named with code": (lambda c: _rename(scalar_doc(), c), r"nodes\[0\]\.symbol"),
    "Symbol named e by NFKC": (lambda c: _rename(scalar_doc(), "\u212f"), r"nodes\[0\]\.symbol"),
    "Symbol named _private": (lambda c: _rename(scalar_doc(), "_x"), r"nodes\[0\]\.symbol"),
    "MatrixSymbol named with code": (lambda c: _rename_matrix(c), r"nodes\[0\]\.symbol"),
    "elementwise body exec(Str)": (
        lambda c: _lambda_body(matrix_doc(), ["Function", "exec", _str(c)]),
        r"nodes\[3\]\.expr\[1\]\[2\]",
    ),
    "elementwise body Str": (
        lambda c: _lambda_body(matrix_doc(), ["sigmoid", _str(c)]),
        r"nodes\[3\]\.expr\[1\]\[2\]\[1\]",
    ),
    "elementwise variable a Symbol": (lambda c: _lambda_symbol(c), r"nodes\[3\]\.expr\[1\]"),
    "elementwise of a non-Lambda": (
        lambda c: _set_expr(
            matrix_doc(),
            3,
            ["elementwise", ["Symbol", "x"], matrix_doc()["graph"]["nodes"][2]["symbol"]],
        ),
        r"nodes\[3\]\.expr",
    ),
    "Dummy outside a Lambda": (
        lambda c: _set_expr(scalar_doc(), 2, ["exp", ["Dummy", "d", 1, {"real": True}]]),
        r"nodes\[2\]\.expr\[1\]: a Dummy",
    ),
    "assumptions positive": (
        lambda c: _assume(scalar_doc(), {"positive": True}),
        r"nodes\[0\]\.symbol: symbol 'x': assumptions",
    ),
    "assumptions real and code": (
        lambda c: _assume(scalar_doc(), {"real": True, c: True}),
        r"nodes\[0\]\.symbol",
    ),
    "the imaginary unit": (
        lambda c: _set_expr(scalar_doc(), 2, ["exp", ["S", "ImaginaryUnit"]]),
        r"nodes\[2\]\.expr\[1\]: unknown constant",
    ),
    "a SymPy class not admitted": (
        lambda c: _set_expr(
            scalar_doc(), 2, ["Subs", ["Symbol", "x"], ["Symbol", "x"], ["Symbol", "x"]]
        ),
        r"nodes\[2\]\.expr: unknown expression class 'Subs'",
    ),
    "replaced adjoints": (lambda c: _adjoints_42(scalar_doc()), r"adjoints\[\d\]\[1\]: the stored"),
    "replaced terms": (lambda c: _terms_42(scalar_doc()), r"terms\[t1\]: the stored"),
    "replaced seed": (lambda c: _seed(scalar_doc(), ["Str", c]), r"seed\[0\]\[1\]"),
}


def _dummy_input(code):
    doc = scalar_doc()
    doc["graph"]["nodes"][0]["symbol"] = ["Dummy", code, 1, {"real": True}]
    return doc


def _rename(doc, name):
    doc["graph"]["nodes"][0]["symbol"] = ["Symbol", name]
    doc["graph"]["nodes"][0]["id"] = name
    return doc


def _rename_matrix(code):
    doc = matrix_doc()
    doc["graph"]["nodes"][0]["symbol"][1] = ["Str", code]
    doc["graph"]["nodes"][0]["id"] = code
    return doc


def _lambda_symbol(code):
    doc = matrix_doc()
    lam = doc["graph"]["nodes"][3]["expr"][1]
    lam[1] = ["Tuple", ["Symbol", "d"]]
    return doc


def _assume(doc, assumptions):
    doc["graph"]["nodes"][0]["symbol"] = ["Symbol", "x", assumptions]
    return doc


def _adjoints_42(doc):
    doc["adjoints"] = [[n, ["Integer", 42]] for n, _ in doc["adjoints"]]
    return doc


def _terms_42(doc):
    doc["terms"] = [[n, [[m, ["Integer", 42]] for m, _ in pairs]] for n, pairs in doc["terms"]]
    return doc


def _seed(doc, tree):
    doc["seed"] = [["f", tree]]
    return doc


def _forbidden(*args, **kwargs):
    raise AssertionError("eval/exec called")


@pytest.mark.parametrize("name", CRAFTED)
def test_a_crafted_document_is_refused_naming_its_node(name, payload, monkeypatch):
    build, where = CRAFTED[name]
    text = json.dumps(build(payload))
    for forbidden in ("eval", "exec"):  # reading never runs text
        monkeypatch.setattr(builtins, forbidden, _forbidden)
    with pytest.raises(sg.JSONFormatError, match=where) as info:
        sg.from_json(text)
    assert isinstance(info.value, sg.ParseError) and isinstance(info.value, ValueError)


def test_the_documents_are_refused_only_for_their_payload():
    """The untouched documents load, and their sweeps are the recomputed ones."""
    for doc in (scalar_doc(), matrix_doc()):
        back = sg.from_json(json.dumps(doc))
        assert [str(e) for e in back.adjoints.values()] == [
            str(e) for e in back.graph.reverse().adjoints.values()
        ]


def test_a_forward_sweep_is_recomputed_from_its_seed():
    fw = sg.graph("x*y + sin(x)").forward({"x": 1, "y": 2})
    doc = json.loads(sg.to_json(fw))
    assert sg.from_json(json.dumps(doc)).tangents == fw.tangents
    doc["tangents"] = [[n, ["Integer", 42]] for n, _ in doc["tangents"]]
    with pytest.raises(sg.JSONFormatError, match="does not take a sweep as given"):
        sg.from_json(json.dumps(doc))


def _paths(g):
    """Every path a loaded graph could take: each result or a ValueError, and nothing run."""
    rv = g.reverse()
    pt = {s: np.ones(s.shape) if getattr(s, "shape", None) else 0.5 for s in g.inputs}
    calls = [
        lambda: sg.compile(rv)(*pt.values()),
        lambda: rv.evaluate(pt),
        lambda: sg.finite_difference(g, at=pt),
        lambda: sg.finite_difference_sweep(g, at=pt),
        lambda: sg.check(g, {str(g.inputs[0]): 1.0}, at=pt),
        lambda: sg.to_latex(rv, at=pt),
        lambda: sg.to_dot(rv, at=pt),
        lambda: sg.from_json(sg.to_json(rv, at=pt)),
    ]
    outcomes = []
    for call in calls:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call()
            outcomes.append(None)
        except ValueError as exc:
            outcomes.append(exc)
    return outcomes


def _sympy_cases(code):
    x = sympy.Symbol("x", real=True)
    d = sympy.Dummy("d", real=True)
    a = sympy.MatrixSymbol("A", 2, 1)
    return {
        "print(Str)": sympy.Function("print")(Str(code)) + x,
        "exec(Str)": sympy.Function("exec")(Str(code)) * x,
        "Symbol named with code": sympy.Symbol(code, real=True) * x,
        "Dummy named with code": sympy.Dummy(code, real=True) + x,
        "MatrixSymbol named with code": msum(sympy.MatrixSymbol(code, 2, 1)),
        "elementwise exec body": msum(
            elementwise(sympy.Lambda(d, sympy.Function("exec")(Str(code))), a)
        ),
        "elementwise body with a free Dummy": msum(
            elementwise(sympy.Lambda(d, d + sympy.Dummy()), a)
        ),
    }


@pytest.mark.parametrize("name", list(_sympy_cases("c")))
def test_sympy_objects_never_reach_generated_code(name, payload):
    try:
        g = sg.graph(_sympy_cases(payload)[name])
        g.reverse()
    except ValueError:  # refused while building: nothing to compile
        return
    compiled, *others = _paths(g)
    assert isinstance(compiled, UnsafeExpressionError)
    for outcome in others:  # SymPy's own floats run no code; a refusal is a ValueError
        assert outcome is None or isinstance(outcome, ValueError)


@pytest.mark.parametrize(
    "expr",
    [
        sympy.Function("print")(Str("x")),
        sympy.Symbol("a b"),
        sympy.Symbol("x") + sympy.I,
        sympy.Dummy("d"),
        sympy.Lambda(sympy.Symbol("x"), sympy.Symbol("x")),
        sympy.Subs(sympy.Symbol("x"), sympy.Symbol("x"), 1),
        sympy.Integer(2) ** 20_000 + sympy.Symbol("x"),
        sympy.MatrixSymbol("W", 10**9, 10**9),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_walk_refuses_what_symgraph_does_not_produce(expr):
    with pytest.raises(UnsafeExpressionError, match="not"):
        admit(expr)


def test_the_walk_admits_every_step_and_sweep_symgraph_builds():
    sources = [
        (
            "sum(sigmoid(W*x + b)) + trace(W) + sum(relu(W*x))",
            {"W": (2, 2), "x": (2, 1), "b": (2, 1)},
        ),
        ("where(x > 0, log(x), 0) + max(x, y) + abs(x)*sign(y) + heaviside(x)", None),
        ("softplus(x) + atan(y)**2 + sqrt(x**2 + 1) + pi*e", None),
    ]
    for text, shapes in sources:
        g = sg.graph(text, shapes=shapes)
        for sweep in (g.reverse(), g.forward(g.inputs[0])):
            for name, expr in sweep.as_program():
                admit(expr, str(name))


def test_a_registered_function_is_admitted_and_an_unregistered_one_is_not():
    x = sympy.Symbol("x", real=True)
    swish = sympy.Function("swish_h1")
    with pytest.raises(UnsafeExpressionError):
        admit(swish(x))
    from symgraph.rules import RULES, register_partial

    register_partial(swish, lambda e, d: d(e.args[0]))
    try:
        admit(swish(x))
        with pytest.raises(ValueError, match="cannot compile"):  # no printer writes it
            sg.compile(sg.graph(swish(x) + x).reverse())
    finally:
        del RULES[swish]


def test_a_registered_rule_cannot_bring_code_into_the_program(payload):
    x = sympy.Symbol("x", real=True)
    swish = sympy.Function("swish_h1b")
    from symgraph.rules import RULES, register_partial

    register_partial(swish, lambda e, d: sympy.Function("exec")(Str(payload)) * d(e.args[0]))
    try:
        rv = sg.graph(swish(x) + x).reverse()
        with pytest.raises(UnsafeExpressionError, match="exec"):
            sg.compile(rv)
        with pytest.raises(ValueError):
            sg.finite_difference(rv.graph, at={"x": 1.0})
    finally:
        del RULES[swish]


def test_numbers_of_matrices_and_finite_differences_generate_no_code(monkeypatch):
    """numeric.py and finite.py interpret the whitelist; nothing is lambdified or exec'd."""
    monkeypatch.setattr(sympy, "lambdify", _forbidden)
    shapes = {"W": (2, 2), "x": (2, 1)}
    rv = sg.graph("sum(sigmoid(W*x)) + sum(relu(W*x))", shapes=shapes).reverse()
    at = {"W": np.array([[1.0, -2.0], [0.5, 1.5]]), "x": np.array([[0.3], [-0.7]])}
    for forbidden in ("eval", "exec"):
        monkeypatch.setattr(builtins, forbidden, _forbidden)
    grad = rv.evaluate(at).gradient["x"]
    fd = sg.finite_difference("sin(x)*y + where(x > 0, log(x), 0)", at={"x": 0.5, "y": 2.0})
    sweep = sg.finite_difference_sweep(
        "relu(x) * exp(y) + abs(y)", at={"x": 0.5, "y": -2.0}, scheme="central"
    )
    monkeypatch.undo()
    z = at["W"] @ at["x"]
    sig = 1 / (1 + np.exp(-z))
    want = at["W"].T @ (sig * (1 - sig) + (z > 0))
    np.testing.assert_allclose(grad, want, rtol=1e-12)
    assert fd.estimates["x"] == pytest.approx(fd.exact["x"], abs=0.05)
    assert round(sweep.order["y"]) == 2


def test_a_subclass_of_a_sympy_number_is_not_admitted(tmp_path):
    # SymPy's printers call an object's own _numpycode/_pythoncode: a number subclass
    # could print code into a compiled function
    marker = tmp_path / "MARKER"

    class Evil(sympy.Integer):
        def _numpycode(self, printer):
            return f"__import__('pathlib').Path({str(marker)!r}).touch() or 2"

        _pythoncode = _numpycode

    expr = sympy.Mul(Evil(2), sympy.Symbol("x", real=True), evaluate=False)
    with pytest.raises(sg.ParseError, match="not SymPy's own number"):
        admit(expr)
    with contextlib.suppress(ValueError):
        sg.compile(sg.graph(expr).reverse())
    assert not marker.exists()
