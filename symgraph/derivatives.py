"""Derived quantities: gradients, Jacobians (with the choice of mode) and Hessians.

Each is made of forward or reverse sweeps (:mod:`symgraph.sweep`) and attached to
:class:`~symgraph.graph.Graph` as ``g.gradient()``, ``g.jacobian()`` and ``g.hessian()``.

>>> from symgraph import graph
>>> g = graph("x**2*y")
>>> g.jacobian(), g.jacobian().mode_choice.mode
(Matrix([[2*x*y, x**2]]), 'reverse')
>>> g.hessian()
Matrix([
[2*y, 2*x],
[2*x,   0]])
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import sympy
from sympy import Expr, Symbol

from . import naming, ops
from .build import build_program
from .graph import Graph, GraphError
from .sweep import SWEEPS, Mode, forward, reverse

log = logging.getLogger("symgraph")


class ModeChoice(NamedTuple):
    """Which mode ``jacobian(mode="auto")`` used, and why."""

    mode: str
    sweeps: int
    reason: str


def choose_mode(g: Graph) -> ModeChoice:
    """Forward needs one sweep per input (n), reverse one per output (m): take the fewer."""
    n, m = len(g.inputs), len(g.outputs)
    inputs, outputs = _count(n, "input"), _count(m, "output")
    if n < m:
        reason = f"{inputs} < {outputs}: {_count(n, 'forward sweep')} instead of {m} reverse"
        return ModeChoice("forward", n, reason)
    reason = f"{outputs} <= {inputs}: {_count(m, 'reverse sweep')} instead of {n} forward"
    return ModeChoice("reverse", m, reason)


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}{'' if k == 1 else 's'}"


def _check_mode(mode: str) -> None:
    if mode not in ("forward", "reverse", "auto"):
        raise GraphError(f"mode must be 'forward', 'reverse' or 'auto', not {mode!r}")


def jacobian(g: Graph, mode: str = "auto") -> sympy.Matrix:
    """The Jacobian (outputs × inputs) in closed form; ``.mode_choice`` says how it was made."""
    _check_mode(mode)
    matrices = [str(n) for n in (*g.outputs, *g.inputs) if _is_matrix(n)]
    if matrices:
        raise GraphError(
            f"jacobian() is for scalar inputs and outputs, and {', '.join(matrices)} "
            "is a matrix: use gradient() for a scalar output, g.reverse({output: Y}) for "
            "a vector-Jacobian product or g.forward({input: V}) for a Jacobian-vector product"
        )
    choice = choose_mode(g) if mode == "auto" else ModeChoice(mode, 0, "requested")
    log.info("jacobian: %s (%s)", choice.mode, choice.reason)
    mode = Mode(choice.mode)
    sweeps = {s: SWEEPS[mode](g, s) for s in mode.starts(g)}  # one sweep per input or output
    forms = (sw.in_steps(n) for sw in sweeps.values() for n in mode.ends(g))
    g.check_total(forms, "the closed-form Jacobian")  # all sweeps' forms, measured once
    # the entry ∂child/∂parent, by the edge (output, input) between a seed and a result;
    # each sweep's closed forms, not its .results, which would measure them again
    entries = {mode.edge(n, s): sw.closed_form(n) for s, sw in sweeps.items() for n in mode.ends(g)}
    matrix = sympy.Matrix(
        len(g.outputs), len(g.inputs), lambda i, j: entries[(g.outputs[i], g.inputs[j])]
    )
    matrix.mode_choice = choice
    return matrix


def gradient(g: Graph, mode: str = "reverse") -> dict[Symbol, Expr]:
    """Closed-form gradient of a scalar function, by one reverse or n forward sweeps."""
    _check_mode(mode)
    if Mode(mode) is Mode.FORWARD:
        if len(g.outputs) != 1:
            raise GraphError("gradient needs a scalar function; use jacobian() for several outputs")
        matrices = [str(x) for x in g.inputs if _is_matrix(x)]
        if matrices:  # a forward sweep gives a directional derivative (in Ẋ), not a gradient
            raise GraphError(
                f"{', '.join(matrices)} is a matrix: forward mode gives directional "
                "derivatives for it (g.forward({input: V})), not a gradient; use "
                "gradient(mode='reverse')"
            )
        return naming.NameDict({x: forward(g, x).derivative[g.outputs[0]] for x in g.inputs})
    return reverse(g).gradient


def _is_matrix(node) -> bool:
    shape = getattr(node, "shape", None)
    return shape is not None and tuple(shape) != (1, 1)


def hessian(g: Graph, output=None) -> sympy.Matrix:
    """Hessian of a scalar output: forward mode over the reverse-mode gradient program."""
    grads = tuple(naming.bar(x) for x in g.inputs)
    if not grads:  # a constant: no inputs, an empty Hessian
        reverse(g, output)  # still refuses a bad output
        return sympy.Matrix(0, 0, [])
    table = ops.snapshot() if g.rule_table is None else g.rule_table  # g's rules, kept
    program = build_program(reverse(g, output).as_program(), grads, table)
    return jacobian(program, "forward")


# g.gradient(), g.jacobian(), g.hessian(): attached here, so graph.py imports no stage
Graph.gradient = gradient
Graph.jacobian = jacobian
Graph.hessian = hessian
