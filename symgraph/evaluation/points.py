"""Points: the values a user gives for the inputs, checked (real, finite, shaped)."""

from __future__ import annotations

import decimal
import math
import numbers
from collections.abc import Mapping

import sympy
from sympy import Basic

from ..graph import Graph
from ..lazynp import np
from .exact import EvaluationError


def _real_number(x: Basic, v) -> float:
    """A point value as a float: real numbers only (not bool, str, None, inf or NaN)."""
    ok = isinstance(v, numbers.Real | decimal.Decimal) or (
        isinstance(v, sympy.Basic) and v.is_number and v.is_extended_real
    )
    if not ok or isinstance(v, bool | np.bool_):
        raise EvaluationError(f"the value of {x} must be a real number, not {v!r}")
    try:
        value = float(v)
    except OverflowError:
        raise EvaluationError(
            f"the value of {x} is too large for a floating-point number: {_short(v)}"
        ) from None
    except (TypeError, ValueError):
        raise EvaluationError(f"the value of {x} must be a real number, not {v!r}") from None
    if not math.isfinite(value):
        raise EvaluationError(f"the value of {x} must be a finite real number, not {_short(v)}")
    return value


def _short(v) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:20] + "..." + text[-10:]


def _input_value(x: Basic, v):
    shape = getattr(x, "shape", None)
    if not shape:
        return _real_number(x, v)
    if isinstance(v, str | bytes) or np.asarray(v).dtype.kind not in "iuf":
        raise EvaluationError(f"the value of {x} must be an array of shape {shape}, not {v!r}")
    value = np.asarray(v, dtype=float)
    if not np.all(np.isfinite(value)):
        raise EvaluationError(f"the value of {x} has NaN or infinite entries")
    if value.shape != tuple(shape):
        if value.size != shape[0] * shape[1] or 1 not in shape:
            raise EvaluationError(f"{x} has shape {shape}, but its value has shape {value.shape}")
        value = value.reshape(shape)  # a flat vector for a column or row
    return value


def point(g: Graph, at: Mapping) -> dict:
    """Check a point ``{name or symbol: number or array}`` against the graph's inputs."""
    if not isinstance(at, Mapping):
        raise EvaluationError(f"a point is a mapping from input names to numbers, not {at!r}")
    values: dict = {}
    for key, v in at.items():
        x = g.symbol(key)
        if x not in g.inputs:
            raise EvaluationError(f"{x} is a step, not an input; give values for the inputs")
        values[x] = _input_value(x, v)
    missing = [str(x) for x in g.inputs if x not in values]
    if missing:
        raise EvaluationError(f"no value given for {', '.join(missing)}")
    return values


def check_tol(kink_tol) -> float:
    ok = isinstance(kink_tol, numbers.Real) and not isinstance(kink_tol, bool)
    if not ok or not 0 <= float(kink_tol) < math.inf:
        raise EvaluationError(f"kink_tol must be a finite number >= 0, not {kink_tol!r}")
    return float(kink_tol)
