"""Verdicts on hand derivations: formulas and numbers, and where a wrong one departs.

:func:`check` judges a person's own derivatives, formulas or numbers, against the exact
ones, and says where a wrong one departs from them.

>>> report = check("u1*u2 + max(u1, u2)", {"u1": "u2"})
>>> report.ok, report.results[0].departure
(False, 'missing the contribution through t2 = Max(u1, u2): t̄2·∂t2/∂u1 = Heaviside(u1 - u2)')
"""

from __future__ import annotations

import cmath
import itertools
import numbers
import re
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

import numpy
import sympy
from sympy import Add, Expr, Symbol

from . import naming
from .evaluate import EvaluationError
from .finite import NAN, SCHEMES, _as_graph, _barred, _fmt, _Numeric, _output_label
from .graph import ClosedFormTooLarge, Graph, GraphError
from .parse import ParseError, parse_expr_text
from .sampling import (
    READABLE_POINTS,
    Sampling,
    fresh_seed,
    random_count,
    random_points,
    readable_points,
)
from .simplify import TIDY_MAX_OPS, thorough, tidy, tree_size
from .sweep import Mode, Reverse
from .verdicts import CheckReport, ClaimResult, Counterexample

#: The steps tried when a wrong number may be a finite difference.
SUSPECT_HS = (1e-1, 1e-2, 1e-3)
#: How many sample points (see :mod:`symgraph.sampling`) must agree when there is no proof.
MIN_AGREEING = 10
#: Time budget of a symbolic proof of equivalence, in seconds; the largest pair tried.
PROOF_SECONDS, PROOF_MAX_NODES = 2.0, 2000
#: The largest expression written into a message, in tree nodes; beyond it, its name.
SHOWN_MAX_NODES = 2000


def _real(expr: Expr, env: Mapping[str, float]) -> float:
    """``expr`` at the point (``env``: values by name), or NaN where it is not a finite real."""
    try:
        subs = {s: sympy.Float(env[s.name]) for s in expr.free_symbols}
        v = complex(sympy.N(expr.xreplace(subs)))
    except (TypeError, KeyError, ValueError, ArithmeticError, AttributeError):
        return NAN
    return v.real if cmath.isfinite(v) and abs(v.imag) <= 1e-12 * max(1, abs(v.real)) else NAN


def _matches(claimed, values, same: Callable) -> bool:
    both = numpy.isfinite(claimed) & numpy.isfinite(values)
    return bool(both.any()) and bool(numpy.all(same(claimed, values)[both]))


def _proven_equal(a: Expr | None, b: Expr | None) -> bool:
    """Equal by cheap means first, then by ``sympy.simplify`` within a time budget.

    Not tried (False) for a form too large to write out (None) or to compare in time.
    """
    if a is None or b is None or tree_size(a - b, PROOF_MAX_NODES) > PROOF_MAX_NODES:
        return False
    d = (a - b).rewrite(sympy.exp)
    try:
        if d == 0 or (sympy.count_ops(d) <= TIDY_MAX_OPS and sympy.cancel(sympy.expand(d)) == 0):
            return True
    except sympy.PolynomialError:
        pass
    return thorough(d, seconds=PROOF_SECONDS) == 0


def _cheaply_equal(a: Expr, b: Expr) -> bool:
    """Equal as polynomials or rational functions of their symbols, tried only when small."""
    if tree_size(a - b, TIDY_MAX_OPS) > TIDY_MAX_OPS:
        return False
    d = a - b
    try:
        return d == 0 or sympy.cancel(sympy.expand(d)) == 0
    except sympy.PolynomialError:
        return False


def _half_unit(raw) -> float:
    """Half a unit in the last decimal written (``48.19`` -> 0.005); 0 if unknown."""
    text = raw if isinstance(raw, str) else repr(raw) if isinstance(raw, numbers.Real) else ""
    m = re.fullmatch(r"\s*[-+]?\d*(?:\.(\d*))?\s*", text)
    return 0.5 * 10.0 ** -len(m.group(1) or "") if m and text.strip() else 0.0


def _claim_expr(key, raw) -> Expr:
    if isinstance(raw, str):
        try:
            return parse_expr_text(raw)
        except ParseError as e:
            message = f"the claim for {key}: {e.message}"
            raise ParseError(message, e.line, e.column, e.hint, e.text) from None
    if isinstance(raw, numbers.Real) and not isinstance(raw, bool):
        return sympy.Integer(raw) if isinstance(raw, numbers.Integral) else sympy.Float(raw)
    if isinstance(raw, Expr):
        return raw
    kind = type(raw).__name__
    raise GraphError(
        f"the claim for {key} must be a formula, an expression or a number, not {kind}"
    )


class _Sample(NamedTuple):
    point: dict  # input -> float
    values: dict  # node -> float
    adjoints: dict  # node -> float
    exact: dict  # node -> the derivative a claim is judged against
    names: dict  # node name and adjoint name (tbar_3) -> float: a claim's variables


def _shown(expr: Expr, fallback: Expr) -> Expr:
    """``expr`` if it is small enough to print in a message, else ``fallback`` (a name)."""
    return expr if tree_size(expr, SHOWN_MAX_NODES) <= SHOWN_MAX_NODES else fallback


class _Checker:
    """Judges claims output side first, keeping the wrong ones to trace inherited errors.

    Claims are compared with the exact derivatives at sample points, in step form (each
    claim's variables, step names and adjoint names included, take their values there), so
    a claim on a graph whose closed forms are too large to write out is still judged.
    """

    def __init__(self, g: Graph, rv: Reverse, mode: Mode, at, tolerance: tuple, seed: int):
        self.g, self.rv, self.mode, self.at, (self.tol, self.rtol) = g, rv, mode, at, tolerance
        self.bars = {naming.bar(n).name: n for n in g.order}
        self.forwards = {x: g.forward(x) for x in g.inputs} if mode is Mode.FORWARD else {}
        self.user: dict[Symbol, numpy.ndarray] = {}  # wrong claims' values at the samples
        self.claimed: dict[Symbol, numpy.ndarray] = {}  # every symbolic claim's values
        self.user_expr: dict[Symbol, Expr | None] = {}  # symbolic claims, in the inputs
        self.parts: dict[Symbol, list[tuple]] = {}
        self.proven: set[Symbol] = set()  # claims proven right
        self.samples = [self._given(at)] if at is not None else []
        n = len(g.inputs)
        readable = self._draw(readable_points(n), READABLE_POINTS)
        count = random_count(len(g.steps))
        self.sampling = Sampling(seed, readable, self._draw(random_points(n, seed, count), count))

    def _given(self, at: Mapping) -> _Sample:
        try:
            return self._sample(at, "split")
        except ArithmeticError as e:  # a value too large for a float, say
            raise EvaluationError(f"cannot evaluate at the point given (at=): {e}") from None

    def _draw(self, candidates, wanted: int) -> int:
        """Add up to ``wanted`` of the candidates inside the domain and off kinks."""
        found = 0
        for values in candidates:
            try:
                point = dict(zip(self.g.inputs, values, strict=True))
                self.samples.append(self._sample(point, "raise"))
            except (EvaluationError, ArithmeticError):  # outside the domain, or overflows
                continue
            found += 1
            if found == wanted:
                break
        return found

    def _sample(self, point: Mapping, kink: str) -> _Sample:
        ev = self.rv.evaluate(point, kink=kink)
        exact = dict(ev.adjoints)
        for x, fw in self.forwards.items():
            d = fw.evaluate(point, kink).derivative
            exact[x] = sum(float(w) * d[o] for o, w in self.rv.seed.items())
        inputs = naming.NameDict({x: ev.values[x] for x in self.g.inputs})
        names = {n.name: v for n, v in ev.values.items()}
        names.update((naming.bar(n).name, v) for n, v in ev.adjoints.items())
        return _Sample(inputs, ev.values, ev.adjoints, exact, names)

    def at_samples(self, expr: Expr) -> numpy.ndarray:
        """``expr`` at every sample; an adjoint name is the person's own claim if made."""
        mine = {naming.bar(n).name: v for n, v in self.claimed.items()}
        envs = (
            {**s.names, **{k: v[i] for k, v in mine.items()}} for i, s in enumerate(self.samples)
        )
        return numpy.array([_real(expr, env) for env in envs])

    def adjoint(self, node: Symbol) -> numpy.ndarray:
        return numpy.array([s.adjoints[node] for s in self.samples])

    def correct(self, node: Symbol) -> Expr | None:
        """The exact derivative in the inputs; None if too large to write out."""
        try:
            if node in self.forwards:
                fw = self.forwards[node].derivative
                return tidy(Add(*[w * fw[o] for o, w in self.rv.seed.items()]))
            return self.rv.closed_form(node)
        except ClosedFormTooLarge:
            return None

    def steps_form(self, node: Symbol) -> Expr:
        """The adjoint of ``node`` in step names if it prints small, else its name ``t̄``."""
        return _shown(self.rv.in_steps(node), naming.bar(node))

    def check_names(self, node: Symbol, expr: Expr) -> None:
        for s in expr.free_symbols:
            if s.name not in self.bars and s.name not in self.g._names:
                nodes = ", ".join(map(str, self.g.order))
                message = f"the claim for {node} uses {s}, which is not a node of this graph"
                raise GraphError(f"{message} (its nodes are {nodes}) nor an adjoint")

    def _proven_in_steps(self, node: Symbol, expr: Expr) -> bool:
        """The claim equals the board form as an identity in the step and adjoint names.

        Sound where each adjoint name it uses is exact: not claimed, or claimed and proven.
        Needs no closed form, so it also proves claims on graphs too large to expand.
        """
        used = {self.bars[s.name] for s in expr.free_symbols if s.name in self.bars}
        if any(n in self.user_expr and n not in self.proven for n in used):
            return False
        return _cheaply_equal(expr, self.rv.adjoints[node])

    def resolve(self, node: Symbol, expr: Expr) -> Expr | None:
        """The claim in the inputs: step names expanded; an adjoint name (``tbar_3``) is the
        person's own claim for that node if there is one, else the exact adjoint. None if
        that is too large to write out."""
        subs = {}
        try:
            for s in expr.free_symbols:
                if s.name in self.bars:
                    n = self.bars[s.name]
                    subs[s] = self.user_expr[n] if n in self.user_expr else self.rv.closed_form(n)
                else:
                    subs[s] = self.g.expand(self.g.symbol(s.name))
        except ClosedFormTooLarge:
            return None
        if any(v is None for v in subs.values()):
            return None
        return expr.xreplace(subs)

    def claim(self, node: Symbol, raw, expr: Expr) -> ClaimResult:
        d = f"∂{_output_label(self.rv.seed)}/∂{node}"
        base = {
            "name": node.name,
            "label": d if node in self.g.inputs else f"{_barred(node)} = {d}",
        }
        if node not in self.g.inputs:
            base["in_steps"] = self.steps_form(node)
        if self.at is not None and expr.is_Number:
            return self._numeric(node, raw, float(expr), base)
        return self._symbolic(node, expr, base)

    def _symbolic(self, node: Symbol, expr: Expr, base: dict) -> ClaimResult:
        self.check_names(node, expr)
        claimed = self.at_samples(expr)
        self.claimed[node] = claimed
        resolved, correct = self.resolve(node, expr), self.correct(node)
        self.user_expr[node] = resolved
        exact = numpy.array([s.exact[node] for s in self.samples])
        close = self._close(node)
        defined = numpy.isfinite(claimed)
        bad = numpy.flatnonzero(defined & ~close(claimed, exact))
        base.update(claim=expr, correct=self.rv.adjoints[node] if correct is None else correct)
        if correct is None:  # too large to write out: the board form, in step names
            base["in_steps"] = base["correct"]
        if bad.size:
            self.user[node], i = claimed, bad[0]
            note, source = self.departure(node, claimed, close, expr)
            counter = Counterexample(self.samples[i].point, claimed[i], exact[i])
            return ClaimResult(**base, verdict="wrong", ok=False, counterexample=counter,
                               departure=note, inherits_from=source)  # fmt: skip
        n = int(defined.sum())
        if self._proven_in_steps(node, expr) or _proven_equal(resolved, correct):
            self.proven.add(node)
            return ClaimResult(**base, verdict="right (equal symbolically)", ok=True)
        why = "" if resolved is not None and correct is not None else " (too large to compare)"
        if n >= MIN_AGREEING:
            verdict = f"agrees numerically at {n} points, not proven{why}"
            return ClaimResult(**base, verdict=verdict, ok=True)
        verdict = f"undecided: not proven{why}, and defined at only {n} sample points"
        return ClaimResult(**base, verdict=verdict, ok=False)

    def _numeric(self, node: Symbol, raw, q: float, base: dict) -> ClaimResult:
        v = self.samples[0].exact[node]
        limit = self.tol if self.rtol is None else self.rtol * abs(v)
        allowed = f"tol={self.tol:g}" if self.rtol is None else f"rtol={self.rtol:g}"
        base.update(claim=q, correct=v)
        if abs(q - v) <= limit:
            return ClaimResult(**base, verdict=f"right (within {allowed})", ok=True)
        self.user[node] = numpy.array([q] + [NAN] * (len(self.samples) - 1))
        half = _half_unit(raw)  # a number written 48.19 stands for anything in 48.19 ± half
        slack = max(half, 1e-9 * max(1.0, abs(q)))
        note, source = None, None
        if abs(q - v) <= half:
            note = f"it agrees to the digits written: pass tol={half:g} to allow for rounding"
        else:
            note = self._finite_difference(node, q, v, slack, limit)
        if note is None:
            same = lambda a, b: abs(a - b) <= slack  # noqa: E731
            note, source = self.departure(node, self.user[node], same)
        return ClaimResult(**base, verdict=f"wrong (not within {allowed})", ok=False,
                           counterexample=Counterexample(self.samples[0].point, q, v),
                           departure=note, inherits_from=source)  # fmt: skip

    def _finite_difference(self, node: Symbol, q: float, v: float, slack: float, limit: float):
        """Is the number a finite difference (h = 0.1, 0.01, 0.001) and not the derivative?"""
        fn, found = _Numeric(self.g, self.rv.seed), []
        for scheme, h in itertools.product(SCHEMES, SUSPECT_HS):
            try:
                est = fn.difference(self.samples[0].point, node, h, scheme)[0]
            except EvaluationError:
                continue
            if abs(q - est) <= slack and abs(est - v) > limit:
                found.append((abs(q - est), scheme, h, est))
        if not found:
            return None
        _, scheme, h, est = min(found)
        return f"this is the {scheme} difference with h = {h:g} ({_fmt(est)}), not the derivative"

    def departure(self, node: Symbol, claimed, same: Callable, expr: Expr | None = None):
        """Where a wrong claim departs: (a note, the wrong claim it inherits from)."""
        for note, values, source in self._candidates(node):
            if _matches(claimed, values, same):
                return note, source
        total = self.adjoint(node)
        with numpy.errstate(all="ignore"):
            ratio = numpy.unique(numpy.round((claimed / total)[numpy.isfinite(claimed / total)], 9))
        if ratio.size == 1 and ratio[0] not in (0, 1) and numpy.isfinite(claimed).sum() > 1:
            return f"off by a constant factor {ratio[0]:g}", None
        return (self._wrong_term(node, expr, same) if expr is not None else None), None

    def _contributions(self, node: Symbol) -> list[tuple]:
        """Per child c: c, ∂c/∂node, c's step, and t̄c and ∂c/∂node at the samples."""
        if node not in self.parts:
            self.parts[node] = [
                (c, d, f"{c} = {self.g.step[c].expr}", self.adjoint(c), self.at_samples(d))
                for c, d in self.rv.terms[node]
            ]
        return self.parts[node]

    def _close(self, node: Symbol) -> Callable:
        """Equal up to round-off, which scales with the sizes of the summed contributions."""
        size = sum((abs(bar * local) for *_, bar, local in self._contributions(node)), 1.0)
        return lambda a, b: abs(a - b) <= 1e-7 * abs(b) + 1e-9 * size

    def _candidates(self, node: Symbol) -> Iterator[tuple]:
        """Plausible wrong derivations, each with its values at the samples."""
        total, parts = self.adjoint(node), self._contributions(node)
        yield "the sign is wrong", -total, None
        wrong = [p for p in parts if p[0] in self.user]
        if wrong:
            shift = sum((self.user[c] - bar) * local for c, _, _, bar, local in wrong)
            names = ", ".join(_barred(p[0]) for p in wrong)
            note = f"this step is right, but it uses your {names}, which is wrong"
            yield note, total + shift, str(wrong[0][0])
        many = len(parts) > 1 or node in self.rv.seed
        for c, partial, where, bar, local in parts:
            rest, via, bc = total - bar * local, f"the contribution through {where}", _barred(c)
            if many:
                term = self.steps_form(c) * partial
                yield f"missing {via}: {bc}·∂{c}/∂{node} = {term}", rest, None
                yield f"{via} has the wrong sign", rest - bar * local, None
            yield f"{via} lacks the factor ∂{c}/∂{node} = {partial}", rest + bar, None
            yield f"{via} lacks the factor {bc} = {self.steps_form(c)}", rest + local, None

    def _wrong_term(self, node: Symbol, expr: Expr, same: Callable) -> str | None:
        """Which child's contribution is wrong: the claim's other terms add up to the rest."""
        terms = Add.make_args(expr)
        if len(terms) > 8 or len(self.rv.terms[node]) < 2:
            return None
        values = numpy.array([self.at_samples(t) for t in terms])
        for c, partial, where, bar, local in self._contributions(node):
            rest = self.adjoint(node) - bar * local
            for k in range(len(terms)):
                for keep in map(list, itertools.combinations(range(len(terms)), k)):
                    if _matches(values[keep].sum(axis=0), rest, same):
                        yours = Add(*[t for i, t in enumerate(terms) if i not in keep])
                        right = self.steps_form(c) * partial
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
        that draws it again (see :mod:`symgraph.sampling`).

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
    """
    g = _as_graph(src)
    mode = Mode.named(mode)
    if not isinstance(claims, Mapping) or not claims:
        raise GraphError("claims must be a non-empty mapping {node name: derivative}")
    parsed = {g.symbol(key): (raw, _claim_expr(key, raw)) for key, raw in claims.items()}
    if len(parsed) < len(claims):
        raise GraphError("two claims name the same node")
    order = sorted(parsed, key=lambda n: -g.order[n])
    with numpy.errstate(all="ignore"):  # overflow at wide samples: NaN and inf are masked
        checker = _Checker(g, g.reverse(seed), mode, at, (tol, rtol), fresh_seed(rng))
        results = tuple(checker.claim(n, *parsed[n]) for n in order)
    return CheckReport(results, checker.sampling)
