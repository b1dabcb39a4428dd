"""Verdicts on hand derivations: formulas and numbers, and where a wrong one departs.

:func:`check` judges a person's own derivatives, formulas or numbers, against the exact
ones, and says where a wrong one departs from them.

>>> report = check("u1*u2 + max(u1, u2)", {"u1": "u2"})
>>> report.ok, report.results[0].departure
(False, 'missing the contribution through t2 = Max(u1, u2): t̄2·∂t2/∂u1 = Heaviside(u1 - u2)')
"""

from __future__ import annotations

import itertools
import numbers
import re
from collections.abc import Callable, Iterator, Mapping

from sympy import Add, Expr, Symbol

from ..evaluation.evaluate import EvaluationError
from ..graph import GraphError
from ..lazynp import np as numpy
from ..sweep import Mode
from . import matrix_check
from .claims import claim_shapes, parse_claim
from .finite import NAN, SCHEMES, _as_graph, _barred, _fmt, _Numeric, _output_label
from .sampling import at_samples, fresh_seed
from .state import (
    MIN_AGREEING,
    SUSPECT_HS,
    _adjoint,
    _check_names,
    _correct,
    _Judged,
    _matches,
    _resolve,
    _State,
    _state,
    _steps_form,
)
from .verdicts import CheckReport, ClaimResult, Counterexample, cheaply_equal, proven_equal


def _half_unit(raw) -> float:
    """Half a unit in the last decimal written (``48.19`` -> 0.005); 0 if unknown."""
    text = raw if isinstance(raw, str) else repr(raw) if isinstance(raw, numbers.Real) else ""
    m = re.fullmatch(r"\s*[-+]?\d*(?:\.(\d*))?\s*", text)
    return 0.5 * 10.0 ** -len(m.group(1) or "") if m and text.strip() else 0.0


def _proven_in_steps(st: _State, judged: _Judged, node: Symbol, expr: Expr) -> bool:
    """The claim equals the board form as an identity in the step and adjoint names.

    Sound where each adjoint name it uses is exact: not claimed, or claimed and proven.
    Needs no closed form, so it also proves claims on graphs too large to expand.
    """
    used = {st.bars[s.name] for s in expr.free_symbols if s.name in st.bars}
    if any(n in judged.resolved and n not in judged.proven for n in used):
        return False
    return cheaply_equal(expr, st.rv.adjoints[node])


# ---------------------------------------------------------------- verdicts


def _claim(st: _State, judged: _Judged, node: Symbol, raw, expr: Expr) -> tuple:
    """The verdict on the claim ``expr`` for ``node``, and what it tells the next claims."""
    d = f"∂{_output_label(st.rv.seed)}/∂{node}"
    base = {"name": node.name, "label": d if node in st.g.inputs else f"{_barred(node)} = {d}"}
    if node not in st.g.inputs:
        base["in_steps"] = _steps_form(st, node)
    if matrix_check.involved(st, node, expr):  # a matrix node, claim or neighbour
        return matrix_check.claim(st, judged, node, raw, expr, base)
    if st.at is not None and expr.is_Number:
        return _numeric(st, judged, node, raw, float(expr), base)
    return _symbolic(st, judged, node, expr, base)


def _symbolic(st: _State, judged: _Judged, node: Symbol, expr: Expr, base: dict) -> tuple:
    _check_names(st, node, expr)
    claimed = at_samples(expr, st.samples, judged.claimed)
    resolved, correct = _resolve(st, judged, expr), _correct(st, node)
    judged = judged._replace(
        claimed={**judged.claimed, node: claimed}, resolved={**judged.resolved, node: resolved}
    )
    exact = numpy.array([s.exact[node] for s in st.samples])
    parts = _contributions(st, node)
    close = _close(parts)
    defined = numpy.isfinite(claimed)
    bad = numpy.flatnonzero(defined & ~close(claimed, exact))
    base.update(claim=expr, correct=st.rv.adjoints[node] if correct is None else correct)
    if correct is None:  # too large to write out: the board form, in step names
        base["in_steps"] = base["correct"]
    if bad.size:
        judged, i = judged._replace(wrong={**judged.wrong, node: claimed}), bad[0]
        note, source = _departure(st, judged, node, parts, claimed, close, expr)
        counter = Counterexample(st.samples[i].point, claimed[i], exact[i])
        return ClaimResult(**base, verdict="wrong", ok=False, counterexample=counter,
                           departure=note, inherits_from=source), judged  # fmt: skip
    n = int(defined.sum())
    if _proven_in_steps(st, judged, node, expr) or proven_equal(resolved, correct):
        judged = judged._replace(proven=judged.proven | {node})
        return ClaimResult(**base, verdict="right (equal symbolically)", ok=True), judged
    why = "" if resolved is not None and correct is not None else " (too large to compare)"
    if n >= MIN_AGREEING:
        verdict = f"agrees numerically at {n} points, not proven{why}"
        return ClaimResult(**base, verdict=verdict, ok=True), judged
    verdict = f"undecided: not proven{why}, and defined at only {n} sample points"
    return ClaimResult(**base, verdict=verdict, ok=False), judged


def _numeric(st: _State, judged: _Judged, node: Symbol, raw, q: float, base: dict) -> tuple:
    v = st.samples[0].exact[node]
    limit = st.tol if st.rtol is None else st.rtol * abs(v)
    allowed = f"tol={st.tol:g}" if st.rtol is None else f"rtol={st.rtol:g}"
    base.update(claim=q, correct=v)
    if abs(q - v) <= limit:
        return ClaimResult(**base, verdict=f"right (within {allowed})", ok=True), judged
    mine = numpy.array([q] + [NAN] * (len(st.samples) - 1))
    judged = judged._replace(wrong={**judged.wrong, node: mine})
    half = _half_unit(raw)  # a number written 48.19 stands for anything in 48.19 ± half
    slack = max(half, 1e-9 * max(1.0, abs(q)))
    note, source = None, None
    if abs(q - v) <= half:
        note = f"it agrees to the digits written: pass tol={half:g} to allow for rounding"
    else:
        note = _finite_difference(st, node, q, v, slack, limit)
    if note is None:
        same = lambda a, b: abs(a - b) <= slack  # noqa: E731
        note, source = _departure(st, judged, node, _contributions(st, node), mine, same)
    return ClaimResult(**base, verdict=f"wrong (not within {allowed})", ok=False,
                       counterexample=Counterexample(st.samples[0].point, q, v),
                       departure=note, inherits_from=source), judged  # fmt: skip


def _finite_difference(st: _State, node: Symbol, q: float, v: float, slack: float, limit: float):
    """Is the number a finite difference (h = 0.1, 0.01, 0.001) and not the derivative?"""
    fn, found = _Numeric(st.g, st.rv), []
    for scheme, h in itertools.product(SCHEMES, SUSPECT_HS):
        try:
            est = fn.difference(st.samples[0].point, node, h, scheme)[0]
        except EvaluationError:
            continue
        if abs(q - est) <= slack and abs(est - v) > limit:
            found.append((abs(q - est), scheme, h, est))
    if not found:
        return None
    _, scheme, h, est = min(found)
    return f"this is the {scheme} difference with h = {h:g} ({_fmt(est)}), not the derivative"


# ---------------------------------------------------------------- where a wrong claim departs


def _contributions(st: _State, node: Symbol) -> list[tuple]:
    """Per child c: c, ∂c/∂node, c's step, and t̄c and ∂c/∂node at the samples."""
    return [
        (c, d, f"{c} = {st.g.step[c].expr}", _adjoint(st, c), at_samples(d, st.samples))
        for c, d in st.rv.terms[node]
    ]


def _close(parts: list[tuple]) -> Callable:
    """Equal up to round-off, which scales with the sizes of the summed contributions."""
    size = sum((abs(bar * local) for *_, bar, local in parts), 1.0)
    return lambda a, b: abs(a - b) <= 1e-7 * abs(b) + 1e-9 * size


def _departure(st, judged, node, parts, claimed, same: Callable, expr: Expr | None = None):
    """Where a wrong claim departs: (a note, the wrong claim it inherits from)."""
    for note, values, source in _candidates(st, judged, node, parts):
        if _matches(claimed, values, same):
            return note, source
    total = _adjoint(st, node)
    with numpy.errstate(all="ignore"):
        ratio = numpy.unique(numpy.round((claimed / total)[numpy.isfinite(claimed / total)], 9))
    if ratio.size == 1 and ratio[0] not in (0, 1) and numpy.isfinite(claimed).sum() > 1:
        return f"off by a constant factor {ratio[0]:g}", None
    if expr is None:
        return None, None
    return _wrong_term(st, judged, node, parts, expr, same), None


def _candidates(st: _State, judged: _Judged, node: Symbol, parts: list) -> Iterator[tuple]:
    """Plausible wrong derivations, each with its values at the samples."""
    total = _adjoint(st, node)
    yield "the sign is wrong", -total, None
    wrong = [p for p in parts if p[0] in judged.wrong]
    if wrong:
        shift = sum((judged.wrong[c] - bar) * local for c, _, _, bar, local in wrong)
        names = ", ".join(_barred(p[0]) for p in wrong)
        note = f"this step is right, but it uses your {names}, which is wrong"
        yield note, total + shift, str(wrong[0][0])
    many = len(parts) > 1 or node in st.rv.seed
    for c, partial, where, bar, local in parts:
        rest, via, bc = total - bar * local, f"the contribution through {where}", _barred(c)
        if many:
            term = _steps_form(st, c) * partial
            yield f"missing {via}: {bc}·∂{c}/∂{node} = {term}", rest, None
            yield f"{via} has the wrong sign", rest - bar * local, None
        yield f"{via} lacks the factor ∂{c}/∂{node} = {partial}", rest + bar, None
        yield f"{via} lacks the factor {bc} = {_steps_form(st, c)}", rest + local, None


def _wrong_term(st, judged, node, parts, expr: Expr, same: Callable) -> str | None:
    """Which child's contribution is wrong: the claim's other terms add up to the rest."""
    terms = Add.make_args(expr)
    if len(terms) > 8 or len(st.rv.terms[node]) < 2:
        return None
    values = numpy.array([at_samples(t, st.samples, judged.claimed) for t in terms])
    for c, partial, where, bar, local in parts:
        rest = _adjoint(st, node) - bar * local
        for k in range(len(terms)):
            for keep in map(list, itertools.combinations(range(len(terms)), k)):
                if _matches(values[keep].sum(axis=0), rest, same):
                    yours = Add(*[t for i, t in enumerate(terms) if i not in keep])
                    right = _steps_form(st, c) * partial
                    return f"the contribution through {where} is wrong: {yours}, not {right}"
    return None


def check(
    src, claims: Mapping, at: Mapping | None = None, tol: float = 1e-6, rtol: float | None = None,
    mode: str = "reverse", seed=None, *, rng: int | None = None,
) -> CheckReport:  # fmt: skip
    """Check hand-derived derivatives, formulas or numbers, against the exact ones.

    Parameters
    ----------
    src
        Anything :func:`symgraph.graph` accepts, or a :class:`Graph`.
    claims
        ``{node: claim}``. Keyed by an input, a claim is ``∂f/∂x``; keyed by a step (a
        program's own name, or ``t3``), it is that step's adjoint ``t̄``. A claim is a
        formula (parsed safely; it may use step names, and adjoint names such as
        ``tbar_3``), a SymPy expression, or, with ``at``, a number.
        For a matrix node ``W`` (graph built with ``shapes``), the claim is the matrix
        ``∂f/∂W`` of W's shape: a formula in the graph's shapes, where step and adjoint
        names are matrices of their nodes' shapes (``"tbar_2*x.T"``), or, with ``at``,
        its numbers (nested lists or an array; a flat list for a column). A formula
        whose shapes do not fit, or of another shape, is wrong, and a forgotten
        transpose is named (:mod:`symgraph.verify.matrix_check`); a single number
        stands for that number in every entry (the ones matrix prints as ``1``).
    at
        The point numeric claims are judged at; symbolic claims are compared there too.
    tol, rtol
        The absolute tolerance of numeric claims, or the relative one if ``rtol`` is given.
    mode
        ``"reverse"`` or ``"forward"``: the sweep the exact input derivatives come from.
    seed
        For several outputs: the output, or weights, as in ``g.reverse(seed)``.
    rng
        Seed of the random points symbolic claims are compared at; None (the default)
        draws fresh ones every call. ``report.sampling`` says what was drawn and the seed
        that draws it again (see :mod:`symgraph.verify.sampling`).

    A claim proven equal to the derivative is ``right``; otherwise it is compared at
    points inside the domain (where the function and the claim are defined, off kinks),
    and one that agrees at enough of them ``agrees numerically ..., not proven``.

    Returns
    -------
    CheckReport
        One :class:`ClaimResult` per claim, output side first, so that a wrong chain is
        traced to its first wrong step (``report.first_wrong``).

    Examples
    --------
    >>> print(check("sigmoid(x)", {"x": "exp(-x)/(1 + exp(-x))**2"}))
    the claim is right
    ✓ ∂f/∂x = exp(-x)/(1 + exp(-x))**2: right (equal symbolically)
    >>> check("(x + y)*(y + 1)", {"x": 2.5}, at={"x": 1, "y": 2}, tol=0.01).ok
    False
    >>> from symgraph import graph
    >>> net = graph("sum(sigmoid(W*x + b))", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)})
    >>> print(check(net, {"W": "x*tbar_2"}).results[0].departure)
    a forgotten transpose: tbar_2*x.T is right
    """
    g = _as_graph(src)
    mode = Mode.named(mode)
    if not isinstance(claims, Mapping) or not claims:
        raise GraphError("claims must be a non-empty mapping {node name: derivative}")
    if mode is Mode.FORWARD and claim_shapes(g):
        raise GraphError("mode='forward' checks scalar inputs: check matrices in reverse mode")
    shapes = claim_shapes(g)
    parsed = {g.symbol(key): (raw, parse_claim(key, raw, shapes)) for key, raw in claims.items()}
    if len(parsed) < len(claims):
        raise GraphError("two claims name the same node")
    order = sorted(parsed, key=lambda n: -g.order[n])
    with numpy.errstate(all="ignore"):  # overflow at wide samples: NaN and inf are masked
        st = _state(g, g.reverse(seed), mode, at, (tol, rtol), fresh_seed(rng))
        judged, results = _Judged({}, {}, {}, frozenset()), []
        for n in order:  # output side first: a claim reads the judged ones it depends on
            result, judged = _claim(st, judged, n, *parsed[n])
            results.append(result)
    return CheckReport(tuple(results), st.sampling)
