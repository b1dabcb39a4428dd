"""Derived quantities: gradients, Jacobians (with the choice of mode) and Hessians.

Over matrix inputs, ``g.jacobian(wrt=...)`` and ``g.hessian(wrt=...)`` give them in
matrix form (numerator layout, ``vec`` stacking a matrix's columns), read off a forward
sweep along a symbolic direction by :mod:`symgraph.linear_maps`;
``g.hessian(wrt=..., direction=V)`` gives the Hessian-vector product ``H[V]``.

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
from sympy import BlockMatrix, Expr, MatrixExpr, Symbol

from . import linear_maps, naming, ops
from .build import build_program
from .graph import Graph, GraphError
from .lazynp import np
from .simplify import shared_doit
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


class Jacobian(sympy.MutableDenseMatrix):
    """A SymPy Matrix that also says which mode made it, ``.mode_choice`` (None on a
    matrix computed from it); its notebook display is attached by the exports."""

    mode_choice: ModeChoice | None = None


def jacobian(g: Graph, mode: str = "auto", wrt=None):
    """The Jacobian in closed form: of every output, by every input (or those in ``wrt``).

    Parameters
    ----------
    mode
        ``"forward"``, ``"reverse"`` or ``"auto"`` (the cheaper); ``.mode_choice`` on the
        result says which was used and why. Without ``wrt``, for scalar inputs and outputs.
    wrt
        An input (a name or symbol) or a list of them, scalars, vectors or matrices:
        the Jacobian in matrix form, made of forward sweeps along a symbolic direction.
        Numerator layout: ``J[i, j] = ∂F_i/∂x_j``, so a column output ``F`` (m×1) of a
        column input ``x`` (n×1) gives the m×n matrix, and a scalar output the 1×n row
        (the gradient, transposed). A matrix ``F`` or ``X`` stands for ``vec F`` or
        ``vec X``, its columns stacked (column-major): ``J = ∂vec(F)/∂vec(X)``, with
        Kronecker products (``vec(A Ẋ B) = (Bᵀ ⊗ A) vec Ẋ``). Several outputs or
        inputs give a block matrix, outputs down, inputs across; all scalars, a Matrix.

    Raises :class:`~symgraph.linear_maps.NotALinearMap` for a tangent outside the rules
    of :mod:`symgraph.linear_maps` (then use ``g.forward({x: V})``, the product J V).

    Examples
    --------
    >>> import symgraph as sg
    >>> g = sg.graph("tanh(A*x)", shapes={"A": (3, 2), "x": (2, 1)})
    >>> J = g.jacobian(wrt="x")
    >>> J, J.shape
    (diag(tanh'(A*x))*A, (3, 2))
    >>> row = sg.graph("sum(A*x)", shapes={"A": (3, 2), "x": (2, 1)}).jacobian(wrt="x")
    >>> row, row.shape  # 1ᵀ A, the ones row times A: the gradient Aᵀ 1, transposed
    (1*A, (1, 2))
    """
    _check_mode(mode)
    if wrt is not None:
        return _in_matrix_form(g, _inputs(g, wrt), g.outputs)
    matrices = [str(n) for n in (*g.outputs, *g.inputs) if _is_matrix(n)]
    if matrices:
        raise GraphError(
            f"jacobian() is for scalar inputs and outputs, and {', '.join(matrices)} "
            "is a matrix: pass wrt= for the Jacobian in matrix form (numerator layout, "
            "vec for matrices), use gradient() for a scalar output, g.reverse({output: Y}) "
            "for a vector-Jacobian product or g.forward({input: V}) for a Jacobian-vector "
            "product"
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
    matrix = Jacobian(
        len(g.outputs), len(g.inputs), lambda i, j: entries[(g.outputs[i], g.inputs[j])]
    )
    matrix.mode_choice = choice
    return matrix


def _inputs(g: Graph, wrt) -> tuple[Symbol, ...]:
    """The inputs named by ``wrt`` (one, or a list), refusing anything else."""
    names = list(wrt) if isinstance(wrt, list | tuple) else [wrt]
    found = tuple(g.symbol(n) for n in names)
    stray = [str(x) for x in found if x not in g.inputs]
    if stray or not found:
        raise GraphError(
            f"wrt= names inputs ({', '.join(map(str, g.inputs))}), not "
            f"{', '.join(stray) or 'nothing'}"
        )
    return found


def _in_matrix_form(g: Graph, xs: tuple, outputs: tuple):
    """∂vec(output)/∂vec(x) for every output and x in ``xs``, one forward sweep per x."""
    sweeps = [forward(g, x) for x in xs]  # a matrix x: along a symbolic ẋ of its shape
    blocks = [[_block(sweep, o, x) for x, sweep in zip(xs, sweeps, strict=True)] for o in outputs]
    if all(not isinstance(b, MatrixExpr) for row in blocks for b in row):
        return sympy.Matrix(blocks)
    if len(xs) == len(outputs) == 1:
        return blocks[0][0]
    return BlockMatrix([[_as_matrix(b) for b in row] for row in blocks])


def _block(sweep, o: Symbol, x: Symbol):
    """∂vec(o)/∂vec(x) from the sweep along x: a scalar for scalars, else a matrix."""
    tangent, direction = sweep.closed_form(o), sweep.seed[x]
    rows, cols = linear_maps.size(o), linear_maps.size(x)
    if tangent == 0 and (rows, cols) != (1, 1):
        return sympy.ZeroMatrix(rows, cols)
    if isinstance(direction, MatrixExpr):  # the tangent is linear in the direction ẋ
        # each node rebuilt once, evaluated: det(B) tr(B⁻¹Ḃ)/det(B) cancels to tr(B⁻¹Ḃ)
        return linear_maps.coefficient(shared_doit(tangent), direction)
    return linear_maps.vec(tangent) if rows > 1 else tangent  # along x = 1: ∂o/∂x


def _as_matrix(block) -> MatrixExpr:
    return block if isinstance(block, MatrixExpr) else sympy.ImmutableMatrix([[block]])


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


def hessian(g: Graph, output=None, wrt=None, direction=None):
    """The Hessian of a scalar output: forward mode over the reverse-mode gradient program.

    Parameters
    ----------
    output
        The output, for a function of several (a name or symbol).
    wrt
        None: every input, all scalars (a sympy Matrix, as ``sympy.hessian``). An input
        or a list of them: the Hessian in matrix form, the other inputs held as
        parameters. For a column vector ``w`` (n×1) the n×n matrix expression
        ``∂²f/∂w∂wᵀ``; for a matrix ``W`` (m×n) the mn×mn Hessian of ``vec W`` (the
        columns stacked, column-major: ``H = ∂vec(W̄)/∂vec(W)``, with Kronecker products).
        A list gives the block matrix (``H[i][j] = ∂x̄_i/∂x_j``). A tangent outside the
        rules of :mod:`symgraph.linear_maps` raises ``NotALinearMap``: use ``direction``.
    direction
        A Hessian-vector product instead: ``H[V]``, of ``wrt``'s shape, the tangent of
        its adjoint along ``V`` (a MatrixSymbol, a name, or an array of that shape).

    Examples
    --------
    >>> import symgraph as sg
    >>> shapes = {"A": (3, 2), "w": (2, 1), "y": (3, 1)}
    >>> g = sg.graph("sum(hadamard(A*w - y, A*w - y))", shapes=shapes)
    >>> H = g.hessian(wrt="w")
    >>> H, H.shape
    (2*A.T*A, (2, 2))
    >>> sg.linear_maps.value(H, {"A": [[1, 0], [0, 1], [1, 1]]})  # numbers, by NumPy
    array([[4., 2.],
           [2., 4.]])
    >>> g.hessian(wrt="A", direction="V")
    2*V*w*w.T
    """
    if wrt is None:
        if direction is not None:
            raise GraphError("a Hessian-vector product needs wrt=: the input it is a direction of")
        return _scalar_hessian(g, output)
    xs = _inputs(g, wrt)
    program = gradient_program(g, output, xs)
    if direction is None:
        return _in_matrix_form(program, xs, program.outputs)
    if len(xs) != 1:
        raise GraphError("a Hessian-vector product takes one input in wrt= and its direction")
    (x,) = xs
    sweep = forward(program, {x: _direction(g, x, direction)})
    product = sweep.closed_form(program.outputs[0])
    numbers = sweep.directions.get(x)  # an array: named ẋ in the sweep, its numbers put in
    if numbers is None:
        return product
    return product.xreplace({sweep.seed[x]: sympy.ImmutableMatrix(np.asarray(numbers))})


def _direction(g: Graph, x: Symbol, v):
    """A direction for ``x``: a name is a symbol of x's shape (an input's, if it names one)."""
    shape = getattr(x, "shape", None)
    if isinstance(v, str):
        v = sympy.MatrixSymbol(v, *shape) if shape else sympy.Symbol(v, real=True)
        clash = [i for i in g.inputs if str(i) == str(v) and i != v]
        if clash:
            raise GraphError(f"the direction {v} names the input {v}, whose shape is not {x}'s")
    if _is_matrix(x) and tuple(getattr(v, "shape", None) or np.shape(v)) != tuple(shape):
        raise GraphError(f"the direction for {x} needs its shape {tuple(shape)}")
    return v


def _scalar_hessian(g: Graph, output) -> sympy.Matrix:
    matrices = [str(x) for x in g.inputs if _is_matrix(x)]
    if matrices:
        are = "is a matrix input" if len(matrices) == 1 else "are matrix inputs"
        raise GraphError(
            f"{', '.join(matrices)} {are}: pass wrt= for the Hessian in "
            f'matrix form (g.hessian(wrt="{matrices[0]}"), vec for a matrix), or '
            f'g.hessian(wrt="{matrices[0]}", direction=V) for a Hessian-vector product'
        )
    if not g.inputs:  # a constant: no inputs, an empty Hessian
        reverse(g, output)  # still refuses a bad output
        return sympy.Matrix(0, 0, [])
    return jacobian(gradient_program(g, output, g.inputs), "forward")


def gradient_program(g: Graph, output, xs: tuple) -> Graph:
    """The graph of the reverse sweep's program, its outputs the adjoints of ``xs``."""
    table = ops.snapshot() if g.rule_table is None else g.rule_table  # g's rules, kept
    program = reverse(g, output).as_program()
    return build_program(program, tuple(naming.bar(x) for x in xs), table)


# g.gradient(), g.jacobian(), g.hessian(): attached here, so graph.py imports no stage
Graph.gradient = gradient
Graph.jacobian = jacobian
Graph.hessian = hessian
