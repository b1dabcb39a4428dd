"""Shared fixtures and hypothesis strategies: random expressions with shared subexpressions."""

from __future__ import annotations

import builtins
import os
import random

import numpy as np
import pytest
import sympy
from hypothesis import settings
from hypothesis import strategies as st

from symgraph import ops
from symgraph.functions import sigmoid

# CI draws the same examples on every run (Hypothesis' derandomize): a red CI then points to
# a change, not to a rare draw; local runs keep exploring fresh examples.
settings.register_profile("ci", derandomize=True)
if "CI" in os.environ:
    settings.load_profile("ci")

X, Y, Z = sympy.symbols("x y z", real=True)

# Operations whose domain is all of R, so random points never leave it.
UNARY = [
    sympy.sin,
    sympy.cos,
    sympy.tanh,
    sigmoid,
    lambda a: sympy.exp(a / 4),
    lambda a: sympy.log(1 + a**2),
    lambda a: sympy.sqrt(1 + a**2),
    lambda a: a**2,
    lambda a: -a,
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1 + b**2),
    lambda a, b: 3 * a + b / 2,
]


def grown(draw, pool, unary, binary, max_ops: int) -> sympy.Expr:
    """The last expression of ``pool`` grown by 1..``max_ops`` random operations on its
    members, so subexpressions repeat (each test module brings its own operations)."""
    pool = list(pool)
    for _ in range(draw(st.integers(1, max_ops))):
        if draw(st.booleans()):
            op = draw(st.sampled_from(unary))
            pool.append(op(draw(st.sampled_from(pool))))
        else:
            op = draw(st.sampled_from(binary))
            pool.append(op(draw(st.sampled_from(pool)), draw(st.sampled_from(pool))))
    return pool[-1]


@st.composite
def expressions(draw, max_ops: int = 7):
    """A random expression over x, y, z built from a pool, so subexpressions repeat."""
    expr = grown(draw, [X, Y, Z], UNARY, BINARY, max_ops)
    if expr.is_Atom or not expr.free_symbols:
        expr = expr + X * Y
    return expr


points = st.fixed_dictionaries(
    {"x": st.floats(-2, 2), "y": st.floats(-2, 2), "z": st.floats(-2, 2)}
)


@pytest.fixture(autouse=True)
def _table_of_operations():
    """Each test starts from symgraph's own table: what a test registers ends with it."""
    with ops.preserved():
        yield


@pytest.fixture
def rng():
    return random.Random(1234)


def random_point(g, rng) -> dict:
    """A random value for every input of ``g``: an array of its shape, or a float."""
    return {
        s.name: rng.normal(size=s.shape) if getattr(s, "shape", None) else rng.normal()
        for s in g.inputs
    }


def central_gradient(g, at: dict, name: str, h: float = 1e-6):
    """∂f/∂name by central differences, entry by entry (an array of the input's shape)."""

    def value(point):
        return float(np.sum(g.evaluate(point).outputs[g.outputs[0]]))

    base = np.asarray(at[name], dtype=float)
    grad = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        step = np.zeros_like(base)
        step[index] = h
        grad[index] = (value({**at, name: base + step}) - value({**at, name: base - step})) / (
            2 * h
        )
    return grad


def assert_refused_without_running(text: str, monkeypatch, **kwargs) -> None:
    """Every parser entry point refuses ``text`` with a ParseError and never calls eval/exec."""
    from symgraph.parse import ParseError, parse, parse_expr_text, parse_program

    def forbidden(*args, **kw):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    for parser in (parse, parse_expr_text, parse_program):
        with pytest.raises(ParseError):
            parser(text, **kwargs)


@pytest.fixture(scope="module")
def net():
    """The lecture's linear network (:mod:`tests.lecture_net`) as a graph."""
    import symgraph as sg

    from .lecture_net import NET, SHAPES

    return sg.graph(NET, shapes=SHAPES)
