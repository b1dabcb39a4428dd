"""Verdicts on matrix claims: ``∂f/∂W`` as a formula in the graph's shapes, or numbers.

A claim keyed by a matrix node is a matrix of its shape. A formula is compared with the
exact adjoint entry by entry at the samples (:mod:`symgraph.verify.sampling` draws every
entry of every matrix input); numbers are compared at the point given, entry by entry,
within ``tol`` (or ``rtol``). A claim of the wrong shape is wrong, saying which shapes
differ; a forgotten transpose (the claim's transpose, or one of its matrices transposed,
is right) is named. Claims on scalar nodes next to a matrix step are judged here too,
as arrays of one entry a sample.

>>> from symgraph import check, graph
>>> g = graph("sum(sigmoid(W*x + b))", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)})
>>> print(check(g, {"W": "tbar_2*x.T"}))
the claim is right
✓ ∂f/∂W = tbar_2*x.T: right (equal symbolically)
>>> print(check(g, {"W": "x*tbar_2.T"}).results[0].departure)
a forgotten transpose: tbar_2*x.T is right
"""

from __future__ import annotations

import dataclasses
import itertools
import re

from sympy import Basic, OneMatrix, Symbol, Transpose

from .. import naming
from ..evaluation.evaluate import EvaluationError
from ..graph import GraphError
from ..lazynp import np as numpy
from ..parse import ParseError, parse_expr_text
from ..simplify import tree_size
from . import values
from .claims import Misfit, claim_shapes
from .finite import SCHEMES, _barred, _Numeric
from .sampling import at_samples
from .state import (
    MIN_AGREEING,
    SUSPECT_HS,
    _check_names,
    _correct,
    _Judged,
    _matches,
    _resolve,
    _State,
)
from .verdicts import PROOF_MAX_NODES, ClaimResult, Counterexample

NAN = float("nan")


def _shape(x) -> tuple[int, int] | None:
    shape = getattr(x, "shape", None)
    return tuple(map(int, shape)) if shape else None


def _wanted(node: Symbol) -> tuple[int, int] | None:
    """The shape of ``node``'s adjoint (a 1×1 matrix's adjoint is a scalar)."""
    return _shape(naming.bar(node))


def involved(st: _State, node: Symbol, claim) -> bool:
    """Whether a matrix verdict judges this claim: a matrix node, claim or neighbour."""
    if isinstance(claim, Misfit | numpy.ndarray) or _shape(claim) or _shape(node):
        return True
    return any(_shape(c) for c, _ in st.rv.terms[node])


def claim(st: _State, judged: _Judged, node: Symbol, raw, claimed, base: dict) -> tuple:
    """The verdict on a claim judged as a matrix, and what it tells the next claims."""
    want = _wanted(node)
    if isinstance(claimed, Misfit):
        base.update(claim=claimed, correct=_correct_form(st, node))
        verdict = f"the shapes do not fit: {claimed.message}"
        return _misfit(st, node, claimed.text, verdict, base), judged
    if isinstance(claimed, numpy.ndarray) or (st.at is not None and claimed.is_Number):
        if st.at is None:
            raise GraphError(f"numbers claimed for {node} need the point they hold at: give at=")
        q = numpy.asarray(claimed, dtype=float)
        if want and q.ndim == 0:  # one number for a matrix: in every entry (as 1 is printed)
            q = numpy.full(want, float(q))
        return _numeric(st, judged, node, q, base)
    if want and isinstance(claimed, Basic) and claimed.is_Number:  # the board prints 1 so
        result, judged = _symbolic(st, judged, node, claimed * OneMatrix(*want), base)
        shown = claimed if claimed.is_Integer else float(claimed)
        return dataclasses.replace(result, claim=shown), judged
    _check_names(st, node, claimed)
    if _shape(claimed) != want and not _both_one(_shape(claimed), want):
        base.update(claim=claimed, correct=_correct_form(st, node))
        text = raw if isinstance(raw, str) else str(claimed)
        has = _described(_shape(claimed))
        verdict = f"the shapes differ: the claim is {has}, {node} is {_described(want)}"
        return _misfit(st, node, text, verdict, base), judged
    return _symbolic(st, judged, node, claimed, base)


def _both_one(a, b) -> bool:
    return {a, b} <= {None, (1, 1)}


def _described(shape) -> str:
    if shape is None:
        return "a scalar"
    return f"a flat list of {shape[0]}" if len(shape) == 1 else values.dims(shape)


def _correct_form(st: _State, node: Symbol):
    correct = _correct(st, node)
    return st.rv.adjoints[node] if correct is None else correct


def _exact(st: _State, node: Symbol) -> numpy.ndarray:
    want = _wanted(node) or ()
    return numpy.array([numpy.reshape(s.exact[node], want) for s in st.samples], dtype=float)


def _per_sample(mask: numpy.ndarray) -> numpy.ndarray:
    return mask.reshape(len(mask), -1).all(axis=1)


# ---------------------------------------------------------------- formulas


def _symbolic(st: _State, judged: _Judged, node: Symbol, expr, base: dict) -> tuple:
    claimed = at_samples(expr, st.samples, judged.claimed).reshape(_exact(st, node).shape)
    resolved, correct = _resolve(st, judged, expr), _correct(st, node)
    judged = judged._replace(
        claimed={**judged.claimed, node: claimed}, resolved={**judged.resolved, node: resolved}
    )
    exact, parts = _exact(st, node), _contributions(st, node)
    close = _close(parts, len(st.samples))
    defined = _per_sample(numpy.isfinite(claimed))
    bad = numpy.flatnonzero(defined & ~_per_sample(close(claimed, exact)))
    base.update(claim=expr, correct=st.rv.adjoints[node] if correct is None else correct)
    if correct is None:  # too large to write out: the board form, in step names
        base["in_steps"] = base["correct"]
    if bad.size:
        judged, i = judged._replace(wrong={**judged.wrong, node: claimed}), bad[0]
        note, source = _inherited(st, judged, expr, exact, close)
        if note is None:
            note, source = _departure(st, judged, node, parts, claimed, close)
        counter = Counterexample(st.samples[i].point, claimed[i], exact[i])
        return ClaimResult(**base, verdict="wrong", ok=False, counterexample=counter,
                           departure=note, inherits_from=source), judged  # fmt: skip
    n = int(defined.sum())
    if _proven(st, judged, expr, st.rv.adjoints[node]) or _proven(st, judged, resolved, correct):
        judged = judged._replace(proven=judged.proven | {node})
        return ClaimResult(**base, verdict="right (equal symbolically)", ok=True), judged
    if n >= MIN_AGREEING:
        verdict = f"agrees numerically at {n} points, entry by entry, not proven"
        return ClaimResult(**base, verdict=verdict, ok=True), judged
    verdict = f"undecided: not proven, and defined at only {n} sample points"
    return ClaimResult(**base, verdict=verdict, ok=False), judged


def _inherited(st: _State, judged: _Judged, expr, exact, close) -> tuple:
    """Right with the exact adjoints in place of the person's wrong ones it uses?"""
    used = [st.bars[s.name] for s in expr.free_symbols if s.name in st.bars]
    wrong = [n for n in used if n in judged.wrong]
    mine = at_samples(expr, st.samples).reshape(exact.shape)
    if not wrong or not _matches(mine, exact, close):
        return None, None
    names = ", ".join(_barred(n) for n in wrong)
    return f"this step is right, but it uses your {names}, which is wrong", str(wrong[0])


def _proven(st: _State, judged: _Judged, a, b) -> bool:
    """Equal as matrix expressions: their difference expands to zero. Sound where each
    adjoint name used is exact (not claimed, or claimed and proven)."""
    if a is None or b is None or _shape(a) != _shape(b):
        return False
    if tree_size(a, PROOF_MAX_NODES) + tree_size(b, PROOF_MAX_NODES) > PROOF_MAX_NODES:
        return False
    used = {st.bars[s.name] for s in a.free_symbols if s.name in st.bars}
    if any(n in judged.resolved and n not in judged.proven for n in used):
        return False
    try:
        d = (a - b).doit().expand()
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        return False
    return bool(d == 0 or d.is_ZeroMatrix)


def _contributions(st: _State, node: Symbol) -> list[tuple]:
    """Per child c: c, c's step, and the contribution through c at the samples (as the
    node's adjoint is shaped), the child's adjoint its own value there."""
    want = _exact(st, node).shape
    return [
        (
            c,
            f"{c} = {st.g.step[c].expr}",
            d,
            at_samples(_term(st, c, d), st.samples).reshape(want),
        )
        for c, d in st.rv.terms[node]
    ]


def _term(st: _State, c: Symbol, d):
    """A matrix edge's term is already a contribution; a scalar one a partial: times c̄."""
    uses_bar = naming.bar(c) in d.free_symbols
    return d if uses_bar or _shape(d) else naming.bar(c) * d


def _close(parts: list[tuple], n: int):
    """Equal up to round-off, which scales with the sizes of the summed contributions."""
    size = numpy.ones(n)
    for *_, v in parts:
        size = size + numpy.nan_to_num(numpy.abs(v).reshape(n, -1).max(axis=1), posinf=0)
    scale = size.reshape((n,) + (1,) * (parts[0][3].ndim - 1 if parts else 0))
    return lambda a, b: abs(a - b) <= 1e-7 * abs(b) + 1e-9 * scale


def _departure(st, judged, node, parts, claimed, same) -> tuple:
    """Where a wrong claim departs: (a note, the wrong claim it inherits from)."""
    exact = _exact(st, node)
    for note, v, source in _candidates(st, judged, node, parts, exact):
        if _matches(claimed, v, same):
            return note, source
    with numpy.errstate(all="ignore"):
        ratio = claimed / exact
    ratio = numpy.unique(numpy.round(ratio[numpy.isfinite(ratio)], 9))
    if ratio.size == 1 and ratio[0] not in (0, 1) and numpy.isfinite(claimed).sum() > 1:
        return f"off by a constant factor {ratio[0]:g}", None
    return None, None


def _candidates(st, judged, node, parts, exact):
    """Plausible wrong derivations of a matrix adjoint, each with its values at the samples."""
    label = f"∂f/∂{node}" if node in st.g.inputs else _barred(node)
    if exact.ndim == 3 and exact.shape[1] == exact.shape[2]:
        yield (
            f"this is the transpose of {label}: a forgotten transpose?",
            exact.swapaxes(1, 2),
            None,
        )
    yield "the sign is wrong", -exact, None
    wrong = [p for p in parts if p[0] in judged.wrong]
    if wrong:
        mine = [at_samples(_term(st, c, d), st.samples, judged.wrong) for c, _, d, _ in parts]
        names = ", ".join(_barred(p[0]) for p in wrong)
        note = f"this step is right, but it uses your {names}, which is wrong"
        yield note, sum(mine).reshape(exact.shape), str(wrong[0][0])
    if len(parts) > 1 or node in st.rv.seed:
        for c, where, d, v in parts:
            term = f"{d}".replace(str(naming.bar(c)), _barred(c))
            yield f"missing the contribution through {where}: {term}", exact - v, None
            yield f"the contribution through {where} has the wrong sign", exact - 2 * v, None


# ---------------------------------------------------------------- wrong shapes


def _transposed(text: str, shapes: dict) -> list[str]:
    """The claim with one of its matrices transposed, or the whole of it, or both."""
    names = sorted(set(re.findall(r"[A-Za-z_]\w*", text)) & set(shapes))
    one = [re.sub(rf"(?<![\w.]){re.escape(n)}\b(?!\s*\()", f"{n}.T", text) for n in names]
    return [t for v in [text, *one] for t in (v, f"({v}).T")][1:]


def _misfit(st: _State, node: Symbol, text: str, verdict: str, base: dict) -> ClaimResult:
    """A claim of the wrong shape is wrong; a transposed form of it may be right."""
    exact, shapes = _exact(st, node), claim_shapes(st.g)
    same = _close(_contributions(st, node), len(st.samples))
    note = "no transpose of the claim's matrices fits and is right"
    for fixed in _transposed(text, shapes):
        try:
            expr = parse_expr_text(fixed, shapes)
        except ParseError:
            continue
        if _shape(expr) != _wanted(node) or not expr.free_symbols <= _known(st):
            continue
        if _matches(at_samples(expr, st.samples).reshape(exact.shape), exact, same):
            note = f"a forgotten transpose: {_tidy(expr)} is right"
            break
    return ClaimResult(**base, verdict=f"wrong ({verdict})", ok=False, departure=note)


def _known(st: _State) -> set:
    return {s for s in (*st.g.order, *map(naming.bar, st.g.order))}


def _tidy(expr):
    try:
        return expr.doit() if isinstance(expr, Transpose) else expr
    except (TypeError, ValueError, AttributeError):
        return expr


# ---------------------------------------------------------------- numbers


def _numeric(st: _State, judged: _Judged, node: Symbol, q: numpy.ndarray, base: dict) -> tuple:
    v = numpy.reshape(st.samples[0].exact[node], _wanted(node) or ())
    try:
        q = numpy.asarray(values.shaped(q, _wanted(node), f"the claim for {node}"))
    except ValueError:
        base.update(claim=q, correct=v)
        transpose = q.ndim == 2 and q.T.shape == v.shape and _within(st, q.T, v).all()
        note = "its transpose is right: a forgotten transpose" if transpose else None
        has, want = (_described(numpy.shape(a) or None) for a in (q, v))
        verdict = f"wrong (the shapes differ: the claim is {has}, {node} is {want})"
        return ClaimResult(**base, verdict=verdict, ok=False, departure=note), judged
    allowed = f"tol={st.tol:g}" if st.rtol is None else f"rtol={st.rtol:g}"
    base.update(claim=q, correct=v)
    ok = _within(st, q, v)
    if ok.all():
        return ClaimResult(**base, verdict=f"right (within {allowed})", ok=True), judged
    mine = numpy.full((len(st.samples), *q.shape), NAN)
    mine[0] = q
    judged = judged._replace(wrong={**judged.wrong, node: mine})
    gap = numpy.abs(q - v)
    i = numpy.unravel_index(int(numpy.argmax(gap)), gap.shape) if gap.ndim else ()
    off = f"{int((~ok).sum())} of {ok.size} entries off" if ok.ndim else "off"
    verdict = f"wrong (not within {allowed}: {off}, the most at {values.entry(node, i)})"
    note = _finite_difference(st, node, q, v)
    if note is None:
        slack = lambda a, b: abs(a - b) <= 1e-9 * numpy.maximum(1.0, abs(a))  # noqa: E731
        note, _ = _departure(st, judged, node, [], mine, slack)
    counter = Counterexample(st.samples[0].point, q, v)
    result = ClaimResult(**base, verdict=verdict, ok=False, departure=note, counterexample=counter)
    return result, judged


def _within(st: _State, q, v) -> numpy.ndarray:
    return numpy.abs(q - v) <= (st.tol if st.rtol is None else st.rtol * numpy.abs(v))


def _finite_difference(st: _State, node: Symbol, q, v) -> str | None:
    """Are the numbers finite differences (h = 0.1, 0.01, 0.001), not the derivative?"""
    fn, point = _Numeric(st.g, st.rv), st.samples[0].point
    for scheme, h in itertools.product(SCHEMES, SUSPECT_HS):
        try:
            est = fn.differences(point, node, _wanted(node), h, scheme)[0]
        except EvaluationError:
            continue
        if numpy.allclose(q, est, rtol=1e-6, atol=1e-9) and not _within(st, est, v).all():
            return f"these are {scheme} differences with h = {h:g}, not the derivative"
    return None
