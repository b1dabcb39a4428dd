"""Plain symbols become real ones while the graph is built, without rebuilding the input.

The oracle is the input rebuilt with real symbols first (``replaced``, unevaluated: the
rule before the builder swapped the symbols in itself), and, where SymPy canonicalises
both alike, the input written with real symbols from the start.
"""

from __future__ import annotations

import importlib
from unittest import mock

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph as sg
from symgraph.functions import sigmoid
from symgraph.parse.domain import real_twins, replaced, scaled, split_constant, swappable

from .conftest import BINARY, UNARY, grown

P = sympy.symbols("x y z")  # plain: no assumptions
TWINS = {s: sympy.Symbol(s.name, real=True) for s in P}

# operations whose result SymPy canonicalises otherwise for real symbols
TOUCHY = [sympy.Abs, sympy.sign, sympy.sqrt, lambda a: sympy.exp(sympy.log(a)), sympy.conjugate]
MORE_BINARY = [sympy.Max, sympy.Min, lambda a, b: sympy.Piecewise((a, b > 0), (b, True))]


def _same(g: sg.Graph, h: sg.Graph) -> None:
    assert g.inputs == h.inputs and g.outputs == h.outputs
    assert [(s.name, s.expr, s.parents) for s in g.steps] == [
        (s.name, s.expr, s.parents) for s in h.steps
    ]
    assert [str(s) for s in g.steps] == [str(s) for s in h.steps]
    assert all(x.is_real for x in g.inputs)


def _rebuilt(e: sympy.Basic) -> sympy.Basic:
    """``e`` with every plain symbol real, rebuilt unevaluated (the rule before)."""
    twins = {s: sympy.Symbol(s.name, real=True) for s in e.free_symbols if not s.is_real}
    return replaced(e, twins)


@st.composite
def plain_expressions(draw, unary=UNARY, binary=BINARY, max_ops: int = 8):
    expr = grown(draw, P, unary, binary, max_ops)
    if expr.is_Atom or not expr.free_symbols:
        expr = expr + P[0] * P[1]
    return expr


@settings(max_examples=60, deadline=None)
@given(plain_expressions())
def test_plain_input_builds_the_graph_of_real_input(e):
    """conftest's operations canonicalise alike for plain and real symbols."""
    _same(sg.graph(e), sg.graph(e.xreplace(TWINS)))
    _same(sg.graph(e), sg.graph(_rebuilt(e)))


@settings(max_examples=60, deadline=None)
@given(plain_expressions(UNARY + TOUCHY, BINARY + MORE_BINARY))
def test_plain_input_builds_what_rebuilding_it_real_built(e):
    """With |x|, sqrt, exp(log(x)), Max, Piecewise: the graph shows the expression as
    written, its symbols made real (as before), not what SymPy would make of it anew."""
    _same(sg.graph(e), sg.graph(_rebuilt(e)))


@pytest.mark.parametrize(
    "e",
    [
        sympy.sqrt(P[0] ** 2),  # x**2 then sqrt: for a real x, SymPy would make |x|
        sympy.Abs(P[0] * P[1]),
        sympy.exp(sympy.log(P[0])) + sympy.conjugate(P[1]),
        sympy.sign(P[0]) * sympy.Abs(P[0]) ** 2,
    ],
)
def test_forms_that_canonicalise_otherwise_stay_as_written(e):
    g = sg.graph(e)
    _same(g, sg.graph(_rebuilt(e)))
    x, y = TWINS[P[0]], TWINS[P[1]]
    assert g.inputs[0] == x and x.is_real
    point = {x: 1.5, y: -0.5}
    want = float(e.subs({P[0]: 1.5, P[1]: -0.5}))
    assert float(g.expand(g.outputs[0]).subs(point)) == pytest.approx(want)


def test_sqrt_of_a_square_stays_two_steps():
    """Decided: the graph is the person's expression (a square, then its root)."""
    assert str(sg.graph(sympy.sqrt(P[0] ** 2))) == "t1 = x**2\nf = sqrt(t1)"


def _long_sum(symbols):
    return sympy.Add(*(sympy.exp(s) * s for s in symbols), evaluate=False)


@pytest.mark.parametrize(
    "e",
    [
        # plain x and real x: one symbol in the graph (rebuilt first, as before)
        sympy.exp(P[0]) + sympy.sin(TWINS[P[0]]) + sympy.exp(TWINS[P[0]]),
        # a plain z sorts before a real y, its twin after: a long sum's order changes
        _long_sum([sympy.Symbol("y", real=True), *sympy.symbols("z a0:9")]),
        _long_sum([sympy.Symbol("y", positive=True), *sympy.symbols("z a0:9")]),
        # a sum written unevaluated, out of SymPy's order
        _long_sum(sympy.symbols("a9 a8 a7 a6 a5 a4 a3 a2 a1 a0")),
        sympy.Mul(*reversed(sympy.symbols("b0:40")), evaluate=False),
        sympy.exp(sympy.Mul(*sympy.symbols("c0:70"))),
        sympy.exp(sympy.Dummy("d")) + P[0],
    ],
)
def test_mixed_and_unordered_inputs_build_as_before(e):
    _same(sg.graph(e), sg.graph(_rebuilt(e)))


def test_inputs_that_could_build_otherwise_are_rebuilt_first():
    """Where swapping the twins in could differ, the input is rebuilt real first."""
    x, z = sympy.symbols("x z")
    y = sympy.Symbol("y", real=True)
    for symbols in ([x, sympy.Symbol("x", real=True)], [y, z], [sympy.Dummy("d"), x]):
        assert not swappable(symbols, real_twins(symbols))
    for symbols in ([x, z], [x, y], [sympy.Symbol("y", positive=True), z], P):
        assert swappable(symbols, real_twins(symbols))


def test_dicts_lists_and_matrices_of_plain_expressions():
    x, y, z = P
    pairs = [
        ({"u": sympy.exp(x) * y, "v": "sin(x*y) + z"}, {"u": _rebuilt(sympy.exp(x) * y)}),
        ([sympy.exp(x + y), sympy.exp(x + y) * z], None),
        (sympy.Matrix([[sympy.exp(x), x * y], [sympy.Max(x, z), 2 * x]]), None),
    ]
    for source, real in pairs:
        if isinstance(source, dict):
            real = {**source, **real}
        elif isinstance(source, list):
            real = [_rebuilt(v) for v in source]
        else:
            real = sympy.Matrix(*source.shape, [_rebuilt(v) for v in source])
        _same(sg.graph(source), sg.graph(real))


def test_an_output_named_like_a_plain_input_is_refused():
    with pytest.raises(sg.ParseError, match="named like an input"):
        sg.graph({"x": P[0] * P[1]})


def _mlp(n: int) -> sympy.Expr:
    """The issue's network, written in SymPy with plain symbols."""
    x, b, v = (sympy.symbols(f"{c}0:{n}") for c in "xbv")
    w = [[sympy.Symbol(f"w{i}_{j}") for j in range(n)] for i in range(n)]
    hidden = [sum(w[i][j] * x[j] for j in range(n)) + b[i] for i in range(n)]
    return sum(v[i] / (1 + sympy.exp(-hidden[i])) for i in range(n))


def _counted(calls: dict, key: str, real):
    def counting(*args, **kwargs):
        calls.setdefault(key, []).append(args)
        return real(*args, **kwargs)

    return counting


def test_building_does_not_construct_the_input_again():
    """The network's sums, products and exponentials are not built again: ``exp.eval``
    never runs on a step (``exp(-t4)`` is made directly, as SymPy would leave it; it sees
    at most a probe symbol, and numbers such as ``exp(1)`` while sorting), the input is
    never rebuilt, and SymPy's assumption system is not asked
    (``_ask``) per node: a few times in all, for 104 symbols and 185 steps."""
    f, n = _mlp(8), 8
    sympy.core.cache.clear_cache()
    assumptions = importlib.import_module("sympy.core.assumptions")
    build = importlib.import_module("symgraph.build")  # the module, not sg.build
    calls: dict[str, list] = {}
    with (
        mock.patch.object(sympy.exp, "eval", _counted(calls, "exp", sympy.exp.eval)),
        mock.patch.object(assumptions, "_ask", _counted(calls, "ask", assumptions._ask)),
        mock.patch.object(build, "replaced", _counted(calls, "rebuilt", build.replaced)),
    ):
        g = sg.graph(f)
    steps = {s.name for s in g.steps}
    assert sum(s.op == "exp" for s in g.steps) == n
    assert not any(a.free_symbols & steps for (a,) in calls.get("exp", []))
    assert "rebuilt" not in calls
    assert len(calls.get("ask", [])) <= 4
    assert all(x.is_real for x in g.inputs) and len(g.inputs) == n * n + 3 * n


def test_sigmoid_of_plain_symbols_builds_as_real():
    x, y = P[:2]
    e = sigmoid(x * y) + sympy.exp(-x * y)
    _same(sg.graph(e), sg.graph(e.xreplace(TWINS)))


@pytest.mark.parametrize(
    "a",
    [
        -P[0] * P[1],
        2 * sympy.pi * P[0],
        -2 * sympy.sqrt(2) * sympy.E * P[0] ** 2 * sympy.exp(P[1]),
        sympy.Rational(3, 4) * P[0] / P[1],
        sympy.Float(2.5) * P[0] * sympy.sin(P[2]),
        -sympy.pi * (P[0] + P[1]),
        sympy.Mul(-3, P[0], sympy.Mul(2, P[1], evaluate=False), evaluate=False),
    ],
)
def test_a_products_constant_is_split_off_as_sympy_splits_it(a):
    want = a.as_independent(*a.free_symbols, as_Add=False)
    got = split_constant(a)
    assert got == want and [g.args for g in got] == [w.args for w in want]
    t = sympy.Symbol("t1", real=True)
    for c in (got[0], sympy.Integer(-1), sympy.Rational(-7, 2), sympy.Float(0.5)):
        made, want_made = scaled(c, t), c * t
        assert made == want_made and made.args == want_made.args
        assert type(made) is type(want_made) and hash(made) == hash(want_made)


def test_a_program_of_plain_symbols_has_only_its_free_names_as_inputs():
    # a line's name used by a later line is a node, not an input (its uses are made real)
    from symgraph.parse import Program

    a0, b0, a1, b1, f = sympy.symbols("a0 b0 a1 b1 f")
    g = sg.graph(Program(((a1, sympy.sin(a0) * b0), (b1, sympy.cos(a0 * b0)), (f, a1 * b1)), f))
    assert [x.name for x in g.inputs] == ["a0", "b0"]
    closed, at = sympy.sin(a0) * b0 * sympy.cos(a0 * b0), {a0: 0.7, b0: -1.3}
    gradient = g.reverse().evaluate({"a0": 0.7, "b0": -1.3}).gradient
    for x in (a0, b0):
        assert gradient[x.name] == pytest.approx(float(closed.diff(x).subs(at)), rel=1e-12)
