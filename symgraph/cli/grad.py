"""``symgraph grad``: the board — the steps and their values, the sweep and its numbers,
then the derivatives labelled ``∂f/∂u1 = … = number``; for several outputs, the
Jacobian and the mode that computed it; ``--hessian`` the Hessian.

JSON keys say what they hold: ``values`` (every node at the point), ``adjoints`` or
``tangents`` (every node's, by node name), ``gradient`` (reverse) or ``derivative``
(forward, with ``wrt`` the seed), ``derivatives`` (labelled records), ``jacobian``,
``hessian``.
"""

from __future__ import annotations

import symgraph as sg

from ..derivatives import choose_mode
from ..lazynp import np
from ..linear_maps import value
from ..printing import text
from ..sweep import SWEEPS, Mode
from .board import aligned, direction_label, label, step_rows, sweep_heading, sweep_rows
from .common import Result, _graph, _point, _values
from .io import UsageError

#: ``--hessian`` without a name: over every (scalar) input.
EVERY_INPUT = ""


def kink(args) -> str:
    return getattr(args, "kink", None) or "split"


# ---------------------------------------------------------------- which sweep


def seed(args, g: sg.Graph) -> tuple[object, str]:
    """Forward mode's seed: an input's name (``--wrt u1``, or the only input) or a
    direction (``--wrt u1=1,u2=0.5``), and how the output says it (``u1``, ``along (..)``)."""
    if args.wrt and "=" in args.wrt:
        direction = _values(args.wrt, g, "--wrt")
        exact = {k: int(v) if isinstance(v, float) and v.is_integer() else v
                 for k, v in direction.items()}  # fmt: skip
        return exact, direction_label(direction)
    wrt = args.wrt or (g.inputs[0].name if len(g.inputs) == 1 else None)
    shape = getattr(g.symbol(wrt), "shape", None) if wrt in {x.name for x in g.inputs} else None
    if shape and args.at is None:  # a symbolic direction Ẇ: the tangents are linear in it
        return wrt, f"along {text(Mode.FORWARD.accent(g.symbol(wrt)))}"
    if shape:
        example = [[1] + [0] * (shape[1] - 1)] + [[0] * shape[1]] * (shape[0] - 1)
        raise UsageError(
            f"{wrt} is a {shape[0]}×{shape[1]} matrix: forward mode at a point needs a "
            f"direction of its shape, e.g. --wrt '{wrt}={str(example).replace(' ', '')}'"
        )
    if wrt is None:
        names = ", ".join(x.name for x in g.inputs)
        raise UsageError(
            f"forward mode needs --wrt NAME, the input to seed (one of {names}), "
            "or a direction, --wrt u1=1,u2=0.5"
        )
    return wrt, wrt


def sweep(args, g: sg.Graph):
    """The forward or reverse sweep the arguments ask for, and its seed (an input's name
    or a direction) and the seed's words; a reverse sweep's seed is its output."""
    output = getattr(args, "output", None)
    # auto, for one output: one reverse sweep (never more than forward mode's n)
    if args.mode == Mode.FORWARD.value:
        if output is not None:
            raise UsageError(
                "--output picks the output of a reverse sweep; a forward sweep gives every "
                "output's tangent: drop --output, or --mode reverse"
            )
        wrt, words = seed(args, g)
        return g.forward(wrt), wrt, words
    if output is None and len(g.outputs) > 1:
        names = ", ".join(map(str, g.outputs))
        raise UsageError(
            f"this function has {len(g.outputs)} outputs ({names}): pick one with --output "
            "NAME for its reverse sweep, or --mode forward --wrt NAME for every output's tangent"
        )
    sw = g.reverse(output)
    return sw, str(next(iter(sw.seed))), ""


def _one_of_several(args, g: sg.Graph) -> None:
    if args.output is not None and len(g.outputs) == 1:
        raise UsageError(
            f"--output picks one of several outputs; this function has one, {g.outputs[0]}: "
            "drop --output"
        )


# ---------------------------------------------------------------- the command


def cmd_grad(args) -> Result:
    g = _graph(args)
    _one_of_several(args, g)
    point = _point(args, g)
    several = len(g.outputs) > 1 and args.output is None
    if several and args.wrt is None:  # --wrt: forward mode's sweep, every output's tangent
        data, lines = jacobian(args, g, point)
    else:
        data, lines = board(args, g, point)
    if args.hessian is not None:
        lines += hessian(args, g, point, data)
    return Result(data, "\n".join(lines))


def board(args, g: sg.Graph, point) -> tuple[dict, list[str]]:
    """The steps (and values), the sweep (and its numbers), the labelled derivatives."""
    sw, wrt, words = sweep(args, g)
    mode = sw.mode
    ev = sw.evaluate(point, kink=kink(args)) if point is not None else None
    closed = sw.results
    data: dict = {
        "mode": mode.word,
        ("wrt" if mode is Mode.FORWARD else "output"): wrt,
        "steps": [str(s) for s in g.steps],
        "sweep": [f"{n} = {text(e)}" for n, e in sw.steps],
        "closed_form": {str(k): text(v) for k, v in closed.items()},
    }
    records = _derivatives(sw, wrt, words, closed, ev)
    data["derivatives"] = records
    lines = [_steps_heading(point), *aligned(step_rows(g, ev and ev.values))]
    lines += [sweep_heading(sw, words), *aligned(sweep_rows(sw, ev and ev.carried))]
    what = "gradient" if mode is Mode.REVERSE else "derivative"
    rows = [(f"{r['label']} = {r['closed_form']}", r.get("value")) for r in records]
    lines += [f"{what}, in closed form:", *aligned(rows)]
    if ev is not None:
        data["values"] = dict(ev.values)
        data[mode.carried] = dict(ev.carried)
        data[mode.results] = dict(ev.results)
        data.update(kink_convention=kink(args), kinks=[str(k) for k in ev.kinks])
        data["undefined"] = {str(k): why for k, why in ev.undefined.items()}  # and why
    return data, lines


def _steps_heading(point) -> str:
    return "steps:" if point is None else "steps, and their values at the point:"


def _derivatives(sw, wrt, words: str, closed, ev) -> list[dict]:
    """One record a derivative: its label, of what, by what (an input, or forward mode's
    direction), its closed form and its number."""
    reverse = sw.mode is Mode.REVERSE
    records = []
    for node, form in closed.items():
        of, by = (wrt, str(node)) if reverse else (str(node), wrt)
        record = {"label": label(of, str(node) if reverse else words), "of": of, "wrt": by}
        record["closed_form"] = text(form)
        if ev is not None:
            record["value"] = ev.results[node]
        records.append(record)
    return records


# ---------------------------------------------------------------- several outputs


def jacobian(args, g: sg.Graph, point) -> tuple[dict, list[str]]:
    """The Jacobian of a vector function, in closed form and at the point, and the mode."""
    _scalars_only(g)
    mode, why = _mode_choice(args, g)
    matrix = g.jacobian(mode=mode.word)
    numbers = _jacobian_numbers(args, g, mode, point) if point is not None else None
    cells = [[text(matrix[i, j]) for j in range(len(g.inputs))] for i in range(len(g.outputs))]
    rows = [
        (f"∂{o}/∂{x} = {cells[i][j]}", None if numbers is None else numbers[i][j])
        for i, o in enumerate(g.outputs)
        for j, x in enumerate(g.inputs)
    ]
    values = g.evaluate(point, kink(args)).values if point is not None else None
    size = f"{len(g.outputs)} outputs × {len(g.inputs)} inputs"
    lines = [_steps_heading(point), *aligned(step_rows(g, values))]
    lines += [f"mode: {mode.word} ({why})", f"Jacobian ({size}), in closed form:", *aligned(rows)]
    data = {
        "mode": mode.word,
        "mode_choice": {"mode": mode.word, "reason": why, "sweeps": len(mode.starts(g))},
        "steps": [str(s) for s in g.steps],
        "outputs": [str(o) for o in g.outputs],
        "inputs": [str(x) for x in g.inputs],
        "jacobian": {"closed_form": cells, **({"value": numbers} if numbers else {})},
    }
    if values is not None:
        data.update(values=dict(values), kink_convention=kink(args))
    return data, lines


def _scalars_only(g: sg.Graph) -> None:
    matrices = [str(n) for n in (*g.outputs, *g.inputs) if _is_matrix(n)]
    if matrices:
        raise UsageError(
            f"{', '.join(matrices)} {'is a matrix' if len(matrices) == 1 else 'are matrices'}: "
            "the Jacobian on the command line is for scalar inputs and outputs; pick one "
            "output with --output NAME for its gradient"
        )


def _mode_choice(args, g: sg.Graph) -> tuple[Mode, str]:
    """``--mode`` (forward, reverse) or auto's choice (fewer sweeps), and why."""
    auto = choose_mode(g)
    if args.mode in (None, "auto"):
        return Mode(auto.mode), f"auto: {auto.reason}"
    mode = Mode(args.mode)
    agrees = "agrees" if mode is Mode(auto.mode) else f"would take {auto.mode}"
    return mode, f"requested; auto {agrees}: {auto.reason}"


def _is_matrix(node) -> bool:
    shape = getattr(node, "shape", None)
    return shape is not None and tuple(shape) != (1, 1)


def _jacobian_numbers(args, g: sg.Graph, mode: Mode, point) -> list[list[float]]:
    """The Jacobian's numbers by the mode's own sweeps: a row per reverse sweep from an
    output, or a column per forward sweep from an input."""
    runs = {s: SWEEPS[mode](g, s).evaluate(point, kink=kink(args)) for s in mode.starts(g)}
    if mode is Mode.REVERSE:
        return [[runs[o].results[x] for x in g.inputs] for o in g.outputs]
    return [[runs[x].results[o] for x in g.inputs] for o in g.outputs]


# ---------------------------------------------------------------- --hessian


def hessian(args, g: sg.Graph, point, data: dict) -> list[str]:
    """``--hessian [NAME]``: the Hessian in matrix form (all scalar inputs without NAME),
    labelled like the gradient, and its numbers at the point."""
    wrt = None if args.hessian == EVERY_INPUT else args.hessian
    output = getattr(args, "output", None)
    if output is None and len(g.outputs) > 1:
        names = ", ".join(map(str, g.outputs))
        raise UsageError(f"--hessian is of one output; pick one of {names} with --output NAME")
    h = g.hessian(output=output, wrt=wrt)
    of = output or g.outputs[0]
    shape = "×".join(map(str, h.shape))
    over = f"∂²{of}/∂{wrt}²" if wrt else f"∂²{of}/∂v∂vᵀ"
    entry = {"wrt": wrt, "shape": [int(k) for k in h.shape], "closed_form": text(h)}
    inputs = "" if wrt else ", v = (" + ", ".join(map(str, g.inputs)) + ")"
    number = None
    if point is not None:
        number = np.asarray(value(h, point), dtype=float)
        entry["at"] = entry["value"] = number
    data["hessian"] = entry
    return [
        f"Hessian ({shape}{inputs}), in closed form:",
        *aligned([(f"{over} = {text(h)}", number)]),
    ]
