"""Evaluations as text a person reads: the point, every value, the sweep's numbers and
the derivatives labelled ``∂f/∂x`` (the ``str`` and ``repr`` of the results of
:mod:`symgraph.evaluation.evaluate`).

>>> from symgraph import graph
>>> ev = graph("x*y + sin(x)").reverse().evaluate({"x": 1, "y": 2})
>>> ev
<reverse evaluation at x = 1, y = 2: f = 2.84147; ∂f/∂x = 2.5403, ∂f/∂y = 1>
>>> print(ev)
at x = 1, y = 2
values:     t1 = 2, t2 = 0.841471, f = 2.84147
adjoints:   f̄ = 1, t̄2 = 1, t̄1 = 1, ȳ = 1, x̄ = 2.5403
gradient:   ∂f/∂x = 2.5403, ∂f/∂y = 1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from sympy import Basic, Symbol

from ..lazynp import np
from ..naming import bar, dot
from ..sweep import Mode
from .kinks import fmt

_ACCENTS = {bar: "\u0304", dot: "\u0307"}
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class Names(NamedTuple):
    """What an evaluation's text names: the inputs (the point), the outputs, and each
    result's label (``∂f/∂x``)."""

    inputs: tuple
    outputs: tuple
    labels: Mapping


NO_NAMES = Names((), (), {})


def without(field: str) -> Callable:
    """``__getstate__`` leaving ``field`` (a graph or sweep: drawn, not copied) out."""

    def state(self) -> dict:
        return {**self.__dict__, field: None}

    return state


def number(v, short: bool = False) -> str:
    """A value in 6 significant digits; an array on one line (``short``: a matrix of
    more than 4 entries by its shape only)."""
    if isinstance(v, np.ndarray):
        if short and v.size > 4:
            return f"{v.shape[0]}×{v.shape[1]} matrix" if v.ndim == 2 else f"{v.size} entries"
        a = v.ravel() if 1 in v.shape else v
        text = np.array2string(a, precision=6, separator=", ", max_line_width=10**6)
        return " ".join(text.split())
    if isinstance(v, float) and np.isnan(v):
        return "undefined"
    return f"{float(v):.6g}"


def accented(mode, node: Basic) -> str:
    """``t̄2``/``ṫ2`` for the sweep quantity of ``t2`` (x̄, ẋ for an input)."""
    accent = _ACCENTS[mode.accent]
    name = str(node)
    head = name.rstrip("0123456789_")
    return head + accent + name[len(head) :].lstrip("_")


def point_text(values: Mapping, inputs, short: bool = False) -> str:
    """``x = 1, y = 2``: each input's value as given (its float's shortest text)."""
    return ", ".join(f"{x} = {_given(values[x], short)}" for x in inputs)


def _given(v, short: bool) -> str:
    return number(v, short) if isinstance(v, np.ndarray) else fmt(v)


def _line(label: str, items) -> str:
    return f"{label:<11} " + ", ".join(f"{k} = {number(v)}" for k, v in items)


def labels(ev) -> dict[Symbol, str]:
    """``∂f/∂x`` by result node (``.derivative[f]`` without names)."""
    return {n: ev.names.labels.get(n, f"{ev.mode.results}[{n}]") for n in ev.results}


def partial_label(sweep, node: Symbol) -> str:
    """``∂f/∂x`` for the result at ``node`` of a sweep seeded by one output or input
    (``∂f/∂(direction)``, ``∂(weighted outputs)/∂x`` otherwise)."""
    seeded = [n for n, v in sweep.seed.items() if v != 0]
    one = seeded[0] if len(seeded) == 1 and sweep.seed[seeded[0]] == 1 else None
    if sweep.mode is Mode.REVERSE:
        return f"∂{one if one is not None else '(weighted outputs)'}/∂{node}"
    return f"∂{node}/∂{one if one is not None else '(direction)'}"


def graph_text(ev) -> str:
    """Every value at the point, then the kinks met."""
    inputs = ev.names.inputs
    steps = [(n, v) for n, v in ev.values.items() if n not in inputs]
    lines = [f"at {point_text(ev.values, inputs)}", _line("values:", steps)]
    return "\n".join(lines + [f"kink: {k}" for k in ev.kinks])


def sweep_text(ev) -> str:
    """The point, every value, the sweep's numbers, the labelled derivatives, and
    each partial with no number with its reason."""
    inputs = ev.names.inputs
    steps = [(n, v) for n, v in ev.values.items() if n not in inputs]
    carried = [(accented(ev.mode, n), v) for n, v in ev.carried.items()]
    names = labels(ev)
    results = [(names[n], v) for n, v in ev.results.items()]
    lines = [f"at {point_text(ev.values, inputs)}", _line("values:", steps)]
    lines += [_line(f"{ev.mode.carried}:", carried), _line(f"{ev.mode.results}:", results)]
    lines += [f"undefined: {reason}" for reason in ev.undefined.values()]
    return "\n".join(lines + [f"kink: {k}" for k in ev.kinks])


def one_line(ev) -> str:
    """``<reverse evaluation at x = 1: f = 2; ∂f/∂x = 4>``: the point and the results."""
    inputs = ev.names.inputs
    outputs = ", ".join(f"{o} = {number(ev.values[o], True)}" for o in ev.names.outputs)
    names = labels(ev)
    results = ", ".join(f"{names[n]} = {number(v, True)}" for n, v in ev.results.items())
    at = point_text(ev.values, inputs, short=True)
    return f"<{ev.mode.word} evaluation at {at}: {outputs}; {results}>"


def graph_line(ev) -> str:
    """``<evaluation at x = 1: f = 2>``."""
    inputs = ev.names.inputs
    outputs = ", ".join(f"{o} = {number(v, True)}" for o, v in ev.outputs.items())
    return f"<evaluation at {point_text(ev.values, inputs, short=True)}: {outputs}>"
