"""The playground's JSON API: one request (what the page's URL holds) in, every pane out.

``run(request) -> response`` is pure Python over the public library; ``run_json`` is the
same as JSON text in and out (what the server's worker and the Pyodide build call). A
request holds ``f`` (a formula or a program), ``at`` (``u1=1,u2=-1``), ``mode``
(``reverse`` or ``forward``), ``seed`` (forward: an input; reverse: an output), ``shapes``
(``W=3x2``), ``claims`` (``u1=47.3``) and ``d`` (a derivation, a line per step). The
response has ``ok``, and either ``error`` (with ``line`` and ``column`` for a parse
error) or the panes: ``steps``, ``trace``,
``derivatives``, ``dot`` and ``nodes`` (each DOT node's chain-rule sum), ``fd``,
``check``, ``derivation`` (:func:`symgraph.check_derivation`'s report as data),
``code``, ``latex``. A pane that fails says why in its own ``error``; a pane
that needs NumPy where it is missing is ``{"unavailable": "needs NumPy"}``.

>>> out = run({"f": "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))",
...            "at": "u1=1,u2=-1"})
>>> out["ok"], out["derivatives"][0]["label"], round(out["derivatives"][0]["value"], 2)
(True, '∂f/∂u1', 47.3)
"""

from __future__ import annotations

import importlib.util
import json
import math
import warnings
from collections.abc import Callable

import symgraph as sg

from ..errors import SymgraphError
from ..printing import text
from ..sweep import Mode
from . import fields

#: The longest formula or program the API reads (the parser's own limits are higher).
MAX_FORMULA_CHARS = 5_000
#: The largest request, in bytes of JSON.
MAX_REQUEST_BYTES = 64_000
#: Graphs larger than this get no per-node pane (the picture would not be readable anyway).
MAX_NODES = 400
#: A derivation's budget: its lines and its characters.
MAX_DERIVATION_LINES = 60
MAX_DERIVATION_CHARS = 8_000
NEEDS_NUMPY = {"unavailable": "needs NumPy"}


def run_json(text_in: str) -> str:
    """:func:`run` on JSON text: bad JSON is an error response, never an exception.

    >>> json.loads(run_json("{not json"))["error"]["message"][:22]
    'the request is not JSO'
    """
    if len(text_in.encode("utf-8", "replace")) > MAX_REQUEST_BYTES:
        return json.dumps(_error(f"the request is larger than {MAX_REQUEST_BYTES:,} bytes"))
    try:
        request = json.loads(text_in)
    except (json.JSONDecodeError, RecursionError) as err:
        return json.dumps(_error(f"the request is not JSON: {err}"))
    return json.dumps(run(request), default=_jsonable, allow_nan=False)


def run(request: dict) -> dict:
    """Every pane of the playground for one request (see the module's docstring)."""
    if not isinstance(request, dict):
        return _error("the request is a JSON object with f, at, mode, seed, shapes, claims")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = _panes(_fields(request))
        out["notes"] = list(dict.fromkeys(str(w.message) for w in caught))
        return _clean(out)
    except sg.ParseError as err:
        return _error(str(err), line=err.line, column=err.column, hint=err.hint)
    except (SymgraphError, ValueError, TypeError, RecursionError) as err:
        return _error(str(err) or type(err).__name__)


def _error(message: str, **where) -> dict:
    return {"ok": False, "error": {"message": message, **where}}


def _fields(request: dict) -> dict:
    """The request's fields as strings, checked against the size budget."""
    out = {}
    for key in ("f", "at", "mode", "seed", "shapes", "claims", "d"):
        value = request.get(key) or ""
        if not isinstance(value, str):
            raise fields.FieldError(key, "must be a string")
        out[key] = value.strip()
    if not out["f"]:
        raise fields.FieldError("f", "type a formula, e.g. exp(u1) * sin(u2)")
    if len(out["f"]) > MAX_FORMULA_CHARS:
        raise fields.FieldError("f", f"longer than {MAX_FORMULA_CHARS:,} characters")
    if len(out["d"]) > MAX_DERIVATION_CHARS:
        raise fields.FieldError("d", f"longer than {MAX_DERIVATION_CHARS:,} characters")
    if len(out["d"].splitlines()) > MAX_DERIVATION_LINES:
        raise fields.FieldError("d", f"more than {MAX_DERIVATION_LINES} lines")
    if out["mode"] not in ("", "reverse", "forward"):
        raise fields.FieldError("mode", "reverse or forward")
    return out


def _panes(req: dict) -> dict:
    given = fields.shapes(req["shapes"])
    g = sg.graph(req["f"], shapes=given) if given else sg.graph(req["f"])
    at = fields.point(req["at"])
    sw, seed = _sweep(g, req["mode"] or "reverse", req["seed"])
    ev = sw.evaluate(at) if at is not None else None
    out = {"ok": True, "mode": sw.mode.word, "seed": seed}
    out["inputs"] = [x.name for x in g.inputs]
    out["outputs"] = [str(o) for o in g.outputs]
    out["steps"] = [str(s) for s in g.steps]
    out["trace"] = _trace(g, sw, ev)
    out["derivatives"] = _derivatives(sw, seed, ev)
    out["dot"] = _pane(lambda: sg.to_dot(sw, at=at))
    out["nodes"] = _nodes(sw, ev)
    out["latex"] = _pane(lambda: _latex(sw, at))
    out["code"] = _numpy_pane(lambda: sg.compile(sw).source)
    out["fd"] = _numpy_pane(lambda: _fd(g, at)) if at is not None else None
    claimed = fields.claims(req["claims"])
    out["check"] = _numpy_pane(lambda: _check(g, sw, seed, claimed, at)) if claimed else None
    out_seed = seed if sw.mode is Mode.REVERSE else None
    out["derivation"] = (
        _numpy_pane(lambda: _derivation(g, out_seed, req["d"], at)) if req["d"] else None
    )
    return out


def _sweep(g: sg.Graph, mode: str, seed: str):
    """The sweep asked for and its seed's name (an input forward, an output reverse)."""
    forward = mode == "forward"
    names = [x.name for x in g.inputs] if forward else [str(o) for o in g.outputs]
    if not seed and len(names) == 1:
        seed = names[0]
    if seed not in names:
        what = "an input" if forward else "an output"
        raise fields.FieldError("seed", f"{mode} mode seeds {what}: one of {', '.join(names)}")
    return (g.forward(seed) if forward else g.reverse(seed)), seed


def _pane(make: Callable[[], object]):
    """One pane: what ``make`` gives, or its error (the other panes still show)."""
    try:
        return make()
    except (SymgraphError, ValueError, TypeError, ArithmeticError) as err:
        return {"error": str(err) or type(err).__name__}


def _numpy_pane(make: Callable[[], object]):
    """A pane that needs NumPy: unavailable (not an error) where NumPy is missing."""
    return _pane(make) if importlib.util.find_spec("numpy") is not None else NEEDS_NUMPY


# ---------------------------------------------------------------- the panes


def _trace(g: sg.Graph, sw, ev) -> dict:
    """The primal trace and the sweep's trace: each line's formula and number."""
    values = ev.values if ev is not None else {}
    carried = ev.carried if ev is not None else {}
    primal = [{"name": x.name, "formula": x.name, "value": values.get(x)} for x in g.inputs]
    primal += [
        {"name": str(s.name), "formula": str(s), "value": values.get(s.name)} for s in g.steps
    ]
    node = {sw.mode.accent(n): n for n in g.order}
    sweep = [
        {"name": str(node[n]), "formula": line, "value": carried.get(node[n])}
        for line, (n, _) in zip(sw.lines(), sw.steps, strict=True)
    ]
    return {"primal": primal, "sweep": sweep, "carried": sw.mode.carried}


def _derivatives(sw, seed: str, ev) -> list[dict]:
    reverse = sw.mode is Mode.REVERSE
    out = []
    for node, form in sw.results.items():
        label = f"∂{seed}/∂{node}" if reverse else f"∂{node}/∂{seed}"
        record = {"label": label, "closed_form": text(form)}
        record["value"] = ev.results[node] if ev is not None else None
        out.append(record)
    return out


def _nodes(sw, ev) -> dict:
    """Each DOT node (``n0``, ``n1``, ... in the graph's order): its name, its step and
    its chain-rule sum (the sweep's line for it), with its number."""
    g = sw.graph
    if len(g.order) > MAX_NODES:
        return {}
    line = {n: lx for lx, (n, _) in zip(sw.lines(), sw.steps, strict=True)}
    steps = {s.name: str(s) for s in g.steps}
    values = ev.values if ev is not None else {}
    carried = ev.carried if ev is not None else {}
    return {
        f"n{i}": {
            "name": str(n),
            "step": steps.get(n, f"{n} (input)"),
            "value": values.get(n),
            "sum": line.get(sw.mode.accent(n), ""),
            "carried": carried.get(n),
        }
        for n, i in g.order.items()
    }


def _latex(sw, at) -> dict:
    """KaTeX's form (an ``aligned`` block: KaTeX has no ``\\intertext``) and a document."""
    aligned = sg.to_latex(sw, at=at, notebook_style=True).strip()
    aligned = aligned.removeprefix("$$").removesuffix("$$").strip()
    return {"katex": aligned, "document": sg.to_latex(sw, at=at, standalone=True)}


def _fd(g: sg.Graph, at) -> dict:
    fd = sg.finite_difference(g, at=at, scheme="central")
    return {"text": str(fd)}


def _check(g: sg.Graph, sw, seed: str, claimed: dict, at) -> dict:
    """The claims judged; numbers at the point within 0.01 (a hand calculation's digits)."""
    kwargs = {"at": at, "tol": 1e-2} if at is not None else {}
    report = sg.check(g, claimed, mode=sw.mode.word, seed=seed, **kwargs)
    wrong = [r for r in report.results if not r.ok]
    return {"ok": report.ok, "text": str(report), "first_wrong": str(wrong[0]) if wrong else None}


def _derivation(g: sg.Graph, seed: str | None, lines: str, at) -> dict:
    """The student's lines judged one by one; ``first_wrong`` is a 0-based index.

    The reverse seed is passed only for several outputs (one output needs none). A line
    the reader refuses (hostile LaTeX) is a ``not_understood`` verdict, not an error.
    """
    several = len(g.outputs) > 1 and seed is not None
    report = sg.check_derivation(g, lines, at=at, seed=seed if several else None)
    return report.as_dict()


# ---------------------------------------------------------------- JSON


def _jsonable(value):
    """NumPy arrays and numbers, SymPy numbers: what ``json.dumps`` cannot write itself."""
    if hasattr(value, "tolist"):
        return value.tolist()
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _clean(value):
    """Non-finite numbers as strings (JSON has no NaN), arrays as lists, SymPy as text."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _clean(_jsonable(value))
