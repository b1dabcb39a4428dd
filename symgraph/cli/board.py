"""The command line's text, laid out like the board: each formula, then its number.

A step reads ``t3 = t1 + t2  = 2.853617112``, a sweep's line ``tbar_3 = t4 + t5*(1 - t5)
= 17.4`` and a derivative ``∂f/∂u1 = … = 47.30340959``: the formulas in one column,
their numbers in the next, arrays with their rows aligned under their first.

>>> print("\\n".join(aligned([("u1", 1.0), ("t1 = exp(u1)", 2.718281828459045)])))
  u1           = 1
  t1 = exp(u1) = 2.718281828
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sympy import Basic, Symbol

from ..lazynp import np
from ..printing import text
from ..sweep import Mode

#: A formula this long or longer takes its number on the next line (a closed form).
WIDE = 56
#: What the text shows for a node whose number was never computed (a branch not taken).
UNEVALUATED = "(not evaluated)"


def fmt(v, prefix: str = "") -> str:
    """A number as 10 digits; an array as NumPy prints it, its rows aligned after ``prefix``.

    >>> fmt(47.30340958588636), fmt(np.eye(2), "  W = ")
    ('47.30340959', '[[1. 0.]\\n       [0. 1.]]')
    """
    if isinstance(v, np.ndarray):
        return np.array2string(v, precision=8, prefix=prefix, max_line_width=100)
    if isinstance(v, float) and v != v:  # NaN: a partial with no number here (a note says why)
        return "undefined"
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def aligned(rows: Iterable[tuple[str, object]], indent: str = "  ") -> list[str]:
    """``left = number`` lines, the numbers in one column; ``None`` prints ``left`` alone,
    as does a line that already ends with its number.

    A left side of :data:`WIDE` characters or more (a closed form) takes its number on
    the next line, under its first ``=``.
    """
    rows = [(left, None if _says(left, v) else v) for left, v in rows]
    narrow = [len(left) for left, v in rows if len(left) < WIDE]
    width = max(narrow, default=0)
    lines = []
    for left, v in rows:
        if v is None:
            lines.append(indent + left)
            continue
        head = indent + left.ljust(width) + " = "
        if len(left) < WIDE:
            lines.append(head + fmt(v, " " * len(head)))
            continue
        under = indent + " " * left.find(" = ") if " = " in left else indent + "  "
        lines += [indent + left, under + " = " + fmt(v, " " * (len(under) + 3))]
    return lines


def _says(left: str, v) -> bool:
    """The line already ends with its number (``∂f/∂E = 1``, ``fbar = 1``): no ``= 1`` again."""
    return not isinstance(v, np.ndarray) and v is not None and left.endswith(" = " + fmt(v))


def number(table: Mapping, node):
    """``table[node]``, or :data:`UNEVALUATED` for a node never evaluated."""
    try:
        return table[node]
    except KeyError:
        return UNEVALUATED


def step_rows(g, values: Mapping | None) -> list[tuple[str, object]]:
    """The inputs (at a point) and every step ``name = formula``, with its value."""
    inputs = [(str(x), number(values, x)) for x in g.inputs] if values is not None else []
    steps = [(str(s), None if values is None else number(values, s.name)) for s in g.steps]
    return inputs + steps


def sweep_rows(sweep, carried: Mapping | None) -> list[tuple[str, object]]:
    """The sweep's lines ``tbar_3 = tbar_4*t4 + tbar_5*t5*(1 - t5) = t4 + t5*(1 - t5)``
    (as the LaTeX writes them), with the number of each at the point."""
    node = {sweep.mode.accent(n): n for n in sweep.graph.order}
    lines = sweep.lines()  # the chain rule's sum term by term, then the board form
    return [
        (line, None if carried is None else number(carried, node[n]))
        for line, (n, _) in zip(lines, sweep.steps, strict=True)
    ]


def sweep_heading(sweep, wrt: str) -> str:
    """``reverse sweep (adjoints t̄ = ∂f/∂t):`` or ``forward sweep (tangents ṫ = ∂t/∂u1):``
    (``wrt``: the seeded input's name, or a direction's words)."""
    if sweep.mode is Mode.REVERSE:
        seeded = ", ".join(map(str, sweep.seed))
        return f"reverse sweep (adjoints t̄ = ∂{seeded}/∂t):"
    along = f"ṫ = ∂t/∂{wrt}" if wrt.isidentifier() else wrt
    return f"forward sweep (tangents {along}):"


def label(of: Basic, wrt: str) -> str:
    """``∂f/∂u1``: the derivative of ``of`` by ``wrt``; along a direction ``fdot along (..)``.

    >>> label("f", "u1"), label(Symbol("f"), "along (u1: 1, u2: 2)")
    ('∂f/∂u1', 'fdot along (u1: 1, u2: 2)')
    """
    if wrt.isidentifier():
        return f"∂{of}/∂{wrt}"
    return f"{text(Mode.FORWARD.accent(Symbol(str(of))))} {wrt}"


def direction_label(direction: Mapping) -> str:
    """``along (u1: 1, u2: 0.5)``: a forward seed that is a direction, in words."""
    parts = ", ".join(f"{k}: {_inline(v)}" for k, v in direction.items())
    return f"along ({parts})"


def _inline(v) -> str:
    """A number, or an array on one line: ``[[1, 0], [0, 0]]``."""
    if isinstance(v, np.ndarray):
        return str(np.vectorize(fmt, otypes=[object])(v).tolist()).replace("'", "")
    return fmt(v)
