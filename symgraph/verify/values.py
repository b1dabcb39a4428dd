"""Values of checks and finite differences: numbers or matrices, fitted and printed.

A matrix input's value is a 2-d array of its shape; a person may write it as nested lists,
or a flat list for a column or a row (:func:`shaped`). In text, a small matrix is written
out on one line (a column as ``[1, 2]ᵀ``), a large one by its shape (:func:`fmt_value`);
entry ``(i, j)`` of ``W`` is ``W[i,j]``, counted from 0 as NumPy does.

>>> print(fmt_value(numpy.array([[1.0], [2.5]])), fmt_value(numpy.eye(2)), fmt_value(0.25))
[1, 2.5]ᵀ [[1, 0], [0, 1]] 0.25
>>> print(table(["entry", "value"], [["W[0,0]", "1"], ["W[10,1]", "-2.5"]]))
entry     value
W[0,0]        1
W[10,1]    -2.5
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..graph import GraphError
from ..lazynp import np as numpy

#: The most entries a matrix may have to be written out in a message or a point.
SHOWN_ENTRIES = 12
#: The most entries a finite difference lists one by one; beyond, the largest error.
TABLE_ENTRIES = 25


def fmt(v: float) -> str:
    return f"{v:.6g}"


def is_matrix(v) -> bool:
    return numpy.ndim(v) == 2


def dims(shape) -> str:
    return "×".join(map(str, shape))


def entry(name, index: tuple) -> str:
    """``W[0,1]``: the entry ``index`` of ``name``, or ``name`` itself for a scalar."""
    return f"{name}[{','.join(map(str, index))}]" if index else str(name)


def fmt_value(v, limit: int = SHOWN_ENTRIES) -> str:
    """A number, or a matrix on one line: its rows, a column as ``[..]ᵀ``, or its shape."""
    if numpy.ndim(v) == 0:
        return fmt(float(v))
    a = numpy.asarray(v, dtype=float)
    if a.ndim != 2:
        return "[" + ", ".join(map(fmt, a.ravel()[:limit])) + ", …" * (a.size > limit) + "]"
    if a.size > limit:
        return f"(a {dims(a.shape)} matrix)"
    row = lambda r: "[" + ", ".join(map(fmt, r)) + "]"  # noqa: E731
    if a.shape[1] == 1 and a.shape[0] > 1:
        return row(a[:, 0]) + "ᵀ"
    return "[" + ", ".join(map(row, a)) + "]"


def fmt_point(point: Mapping) -> str:
    return ", ".join(f"{k} = {fmt_value(v)}" for k, v in point.items())


def shaped(raw, shape: tuple[int, int] | None, what: str) -> numpy.ndarray | float:
    """``raw`` (a number, nested lists, an array) as a value of ``shape`` (None: a scalar).

    A flat list fills a column or a row; anything else must have the shape itself, or a
    GraphError says what it has.
    """
    try:
        a = numpy.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise GraphError(f"{what} must be numbers (nested lists of rows), not {raw!r}") from None
    if shape is None:
        if a.ndim == 0:
            return float(a)
        raise GraphError(f"{what} is a {dims(a.shape)} array, but it is a number (a scalar)")
    if a.ndim == 1 and 1 in shape and a.size == shape[0] * shape[1]:
        return a.reshape(shape)
    if a.ndim == 0 and shape == (1, 1):
        return a.reshape(shape)
    if a.shape != tuple(shape):
        has = "a number" if a.ndim == 0 else f"of shape {dims(a.shape)}"
        raise GraphError(f"{what} is {has}, but it has shape {dims(shape)}")
    return a


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "") -> str:
    """Aligned columns: the first to the left, the others (numbers) to the right."""
    cells = [list(headers), *map(list, rows)]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    lines = []
    for r in cells:
        first = r[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append(indent + "   ".join([first, *rest]).rstrip())
    return "\n".join(lines)
