"""A finite difference over a matrix input, in text: entry by entry, or its largest error.

A small matrix (at most :data:`~symgraph.verify.values.TABLE_ENTRIES` entries) is listed
entry by entry in aligned columns; a larger one by its worst entry.
"""

from __future__ import annotations

from ..lazynp import np as numpy
from . import values
from .values import fmt


def _rel(err: float, exact: float) -> str:
    return f"{err / abs(exact):.3g}" if exact else "-"


def matrix_lines(fd, n) -> str:
    """The lines of ``fd`` (a :class:`~symgraph.verify.finite.FiniteDifference`) for ``n``."""
    est, exact = numpy.asarray(fd.estimates[n]), numpy.asarray(fd.exact[n])
    label = f"∂{fd.output}/∂{n}"
    i = fd.worst[n]
    worst = (
        f"largest error {fd.abs_error[n]:.3g} at {values.entry(n, i)} "
        f"(estimate {fmt(est[i])}, exact {fmt(exact[i])})"
    )
    relative = f"largest relative error {fd.rel_error[n]:.3g}"
    if est.size > values.TABLE_ENTRIES:
        return f"  {label} ({n} is {values.dims(est.shape)}): {worst}; {relative}"
    rows = []
    for index in numpy.ndindex(*est.shape):
        err = abs(est[index] - exact[index])
        cells = [fmt(est[index]), fmt(exact[index]), f"{err:.3g}", _rel(err, exact[index])]
        rows.append([values.entry(n, index), *cells])
    headers = ["entry", "estimate", "exact", "error", "relative"]
    listed = values.table(headers, rows, indent="    ")
    return f"  {label}, entry by entry ({n} is {values.dims(est.shape)}):\n{listed}\n    {worst}"
