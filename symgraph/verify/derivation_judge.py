r"""Judging one line of a derivation (:mod:`symgraph.verify.derivation`): what it speaks
about, and each right side of it.

An adjoint or an input's partial goes through :func:`symgraph.check`'s own verdicts
(:func:`symgraph.verify.check._claim`), which name the slip and the wrong claim it
inherits from; a value, a tangent or a local partial is judged here, at the same
samples, with the person's wrong values standing in for the nodes they got wrong, so
that a line right *given* them follows from their line.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sympy import Basic, Derivative, Symbol

from .. import naming
from ..lazynp import np as numpy
from ..parse import ParseError, parse_expr_text
from ..parse.latex import latex_text
from . import derivation_text as dtext
from . import matrix_check
from .check import _claim, _half_unit
from .claims import _A_SHAPE, Misfit, parse_claim
from .derivation_report import LineVerdict
from .finite import _barred, _output_label
from .sampling import _real
from .verdicts import Counterexample, cheaply_equal


class Part(NamedTuple):
    """The verdict on one right side of a line."""

    kind: str
    should_be: object = None
    slip: str | None = None
    counterexample: Counterexample | None = None
    follows_from: int | None = None
    reason: str = ""


# ---------------------------------------------------------------- what a line is about


def _unread(p, reason: str) -> LineVerdict:
    return LineVerdict(False, "not_understood", p.line_no, p.text, reason=reason)


def _line_latex(latex: bool | None, text: str) -> bool | None:
    """Whether a line is LaTeX: as told, or if LaTeX's marks are in it; None: not known."""
    return latex if latex is not None else (True if dtext.LATEX_HINT.search(text) else None)


def _formula(latex: bool | None, part: str, shapes: dict) -> str:
    """One side of a line as formula text (symgraph's syntax): read as LaTeX, as formula
    text, or (``latex`` None) as formula text if it reads as such, else as LaTeX."""
    if latex is None:
        try:
            parse_expr_text(dtext.plain_lhs(part), shapes or None)
            latex = False
        except ParseError as e:
            latex = _A_SHAPE.search(e.message) is None  # shapes that misfit: a wrong claim
    return latex_text(part, shapes) if latex else dtext.plain_lhs(part)


def about(ctx, kind: str, node: Symbol) -> str:
    """What a line speaks about, in the graph's names: ``t3``, ``t̄3 = ∂f/∂t3``, ``∂f/∂u1``."""
    if kind == "value":
        return str(node)
    if kind == "tangent":  # ṫ3: a combining dot over the name's letters
        return re.sub(r"^([^\d_]+)", lambda m: m.group(1) + "\u0307", node.name, count=1)
    d = f"∂{_output_label(ctx.st.rv.seed)}/∂{node}"
    return d if node in ctx.st.g.inputs else f"{_barred(node)} = {d}"


def is_number(text: str) -> bool:
    return re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)\s*", text) is not None


def _node(ctx, seen, name: str) -> Symbol | None:
    if name in seen.names:
        return seen.names[name]
    return ctx.st.g.symbol(name) if name in ctx.st.g._names else None


def _rename_one(ctx, seen, name: str) -> str:
    """A name of the person's own as the graph's (an abbreviation as its formula)."""
    if name in seen.names:
        return seen.names[name].name
    if name in seen.abbrev:
        return f"({seen.abbrev[name]})"
    t = dtext.target(name)
    if t.kind in ("adjoint", "tangent") and t.name in seen.names:
        accent = naming.bar if t.kind == "adjoint" else naming.dot
        return accent(seen.names[t.name]).name
    if t.kind == "partial" and (x := _node(ctx, seen, t.wrt)) is not None:
        f = _node(ctx, seen, t.name)
        if f is not None and f in ctx.st.rv.seed:  # ∂f/∂t3 in a formula: t̄3
            return naming.bar(x).name
    return name


def _unknown(ctx, seen, name: str) -> str:
    nodes = ", ".join(map(str, ctx.st.g.order))
    own = "".join(f", {n}" for n in seen.names)
    return f"{name} is neither a node of the graph ({nodes}{own}) nor defined on an earlier line"


def _verdict(ctx, p, kind: str, node: Symbol, parts: list[Part]) -> LineVerdict:
    """The line's verdict from its parts': the first wrong, else the first not understood."""
    for worst in ("wrong", "not_understood", "right_other_form", "right"):
        found = [q for q in parts if q.kind == worst]
        if found:
            q = found[0]
            break
    ok = q.kind in ("right", "right_other_form")
    return LineVerdict(ok, q.kind, p.line_no, p.text, about(ctx, kind, node), q.should_be,
                       q.slip, q.counterexample, q.follows_from, q.reason,
                       _typeset(ctx, p))  # fmt: skip


def _typeset(ctx, p) -> tuple:
    """The line's sides as read, for a typeset report (nothing raw reaches TeX)."""
    out = []
    for part in dtext.chain(p.text):
        try:
            text = _formula(_line_latex(ctx.latex, p.text), part, ctx.shapes)
            t = dtext.target(text)
            if t is not None and t.kind == "partial":  # df_du1 is ∂f/∂u1
                f, x = Symbol(t.name), Symbol(t.wrt)
                out.append(Derivative(f, x, evaluate=False))
                continue
            out.append(parse_expr_text(text, ctx.shapes or None))
        except (ParseError, ValueError, TypeError):
            return ()
    return tuple(out)


# ---------------------------------------------------------------- adjoints (check's verdicts)


def _tolerance(ctx, raw: str, v: float) -> float:
    """The absolute tolerance of a number written ``raw`` near ``v``."""
    if ctx.rtol is not None:
        return ctx.rtol * abs(v)
    if ctx.tol is not None:
        return ctx.tol
    return max(_half_unit(raw.strip()), 1e-9 * abs(v)) if "." in raw else 1e-6


def _needs_point(ctx, raw: str) -> Part | None:
    if is_number(raw) and "." in raw and ctx.st.at is None:
        return Part("not_understood", reason=f"{raw.strip()} is a number: give the point it "
                    "holds at (at=..., --at on the command line)")  # fmt: skip
    return None


def _adjoint(ctx, seen, p, node: Symbol, text: str, raw: str) -> tuple[Part, object]:
    if (unread := _needs_point(ctx, raw)) is not None:
        return unread, seen
    st = ctx.st
    expr = parse_claim(node.name, text, ctx.shapes)
    if st.at is not None and is_number(raw):
        v = float(numpy.max(numpy.abs(st.samples[0].exact[node])))
        st = st._replace(tol=_tolerance(ctx, raw, v), rtol=None)
    result, judged = _claim(st, seen.judged, node, text, expr)
    seen = seen._replace(judged=judged)
    if result.ok:
        if not (isinstance(expr, Basic) and expr.is_Number):  # a right formula replaces a wrong one
            wrong = {n: v for n, v in judged.wrong.items() if n != node}
            lines = {k: v for k, v in seen.lines.items() if k != naming.bar(node).name}
            seen = seen._replace(judged=judged._replace(wrong=wrong), lines=lines)
        kind = "right" if _board_form(ctx, judged, node, expr, result) else "right_other_form"
        reason = (
            "" if result.verdict.startswith(("right (equal", "right (within")) else result.verdict
        )
        return Part(kind, reason=reason), seen
    if result.verdict.startswith("undecided"):
        return Part("not_understood", reason=result.verdict), seen
    bar = naming.bar(node).name
    seen = seen._replace(lines={**seen.lines, bar: seen.lines.get(bar, p.line_no)})
    departure, source = result.departure, result.inherits_from
    if source is None:  # right with the exact adjoints for the person's wrong ones?
        departure, source = _inherited(ctx, judged, node, expr, raw) or (departure, None)
    follows = seen.lines.get(naming.bar(ctx.st.g.symbol(source)).name) if source else None
    numeric = isinstance(expr, Basic) and expr.is_Number
    should = result.correct if numeric else ctx.st.rv.adjoints[node]  # the board's form
    verdict = "" if result.verdict == "wrong" else result.verdict
    reason = "; ".join(filter(None, [verdict, departure]))
    slip = None if follows else slip_name(departure)
    return Part("wrong", should, slip, result.counterexample, follows, reason), seen


def _inherited(ctx, judged, node: Symbol, expr, raw: str) -> tuple[str, str] | None:
    """(a note, the wrong node) when the claim is right given the person's wrong adjoints:
    a formula right with the exact ones in their place, or a number that the sweep from
    the person's numbers gives."""
    st = ctx.st
    if not isinstance(expr, Basic) or isinstance(expr, Misfit) or getattr(expr, "shape", None):
        return None
    if not expr.is_Number:
        if not any(st.bars.get(s.name) in judged.wrong for s in expr.free_symbols):
            return None
        exact = numpy.array([s.exact[node] for s in st.samples])
        note, source = matrix_check._inherited(st, judged, expr, exact, _same)
        return (note, source) if note else None
    given, used = _given_adjoint(ctx, judged, node)
    q = float(expr)
    if used and abs(q - given) <= _tolerance(ctx, raw, given):
        return (
            f"right given your {_barred(used)} = {judged.wrong[used][0]:.6g}, which is wrong",
            str(used),
        )
    return None


def _given_adjoint(ctx, judged, node: Symbol) -> tuple[float, Symbol | None]:
    """The adjoint of ``node`` at the point, swept from the person's wrong numbers (the
    nearest wrong node it flows from)."""
    st, env = ctx.st, ctx.envs[0]
    memo: dict = {}

    def walk(n):
        if n not in memo:
            mine = judged.wrong.get(n)
            if mine is not None and numpy.isfinite(mine[0]) and n != node:
                memo[n] = (float(mine[0]), n)
            elif not st.rv.terms[n]:
                memo[n] = (float(st.samples[0].adjoints[n]), None)
            else:
                total, used = 0.0, None
                for c, d in st.rv.terms[n]:
                    v, u = walk(c)
                    total += v * _real(d, env)
                    used = used or u
                memo[n] = (total, used)
        return memo[n]

    return walk(node)


def _board_form(ctx, judged, node: Symbol, expr, result) -> bool:
    """Right as the board writes it: equal by cheap means (not only by simplification)."""
    if not isinstance(expr, Basic) or isinstance(expr, Misfit) or expr.is_Number:
        return True
    if not result.verdict.startswith("right (equal"):
        return False
    resolved = judged.resolved.get(node)
    return _cheap(expr, ctx.st.rv.adjoints[node]) or _cheap(resolved, result.correct)


def _cheap(a, b) -> bool:
    if a is None or b is None:
        return False
    try:
        if getattr(a, "shape", None) or getattr(b, "shape", None):
            d = (a - b).doit().expand()
            return bool(d == 0 or d.is_ZeroMatrix)
        return cheaply_equal(a, b)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        return False


_THROUGH = r"^the contribution through (\w+)\b.* "
_SLIPS = (
    (r"^missing the contribution through (\w+)", r"missing contribution through \1"),
    (_THROUGH + "has the wrong sign", r"sign of the contribution through \1"),
    (_THROUGH + "lacks the factor", r"missing factor in the contribution through \1"),
    (_THROUGH + "is wrong", r"wrong contribution through \1"),
    (r"^the sign is wrong", "sign"),
    (r"^off by a constant factor (\S+)", r"factor \1"),
    (r"difference", "finite difference passed off as a derivative"),
    (r"transpose", "forgotten transpose"),
    (r"^this step is right, but it uses your", "follows from an earlier wrong line"),
    (r"^it agrees to the digits written", "rounding"),
    (r"^missing the term", "missing term"),
)  # fmt: skip


def slip_name(departure: str | None) -> str | None:
    """The kind of slip a departure note of :func:`symgraph.check` describes, in brief."""
    for pattern, name in _SLIPS:
        m = re.search(pattern, departure or "")
        if m:
            return m.expand(name)
    return None


def _same(a, b):
    return abs(a - b) <= 1e-7 * abs(b) + 1e-9 * (1 + abs(b))
