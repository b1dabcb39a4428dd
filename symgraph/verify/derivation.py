r"""A person's derivation, line by line: each line matched to what it speaks about, judged.

A line ``lhs = rhs [= rhs2 ...]`` (LaTeX or formula text, see
:mod:`symgraph.verify.derivation_text`) speaks about one of

- a step's value, ``t_3 = e^{u_1} + e^{2u_2}``: by the graph's name, or by a name of the
  person's own (``a = e^{u_1}``), matched to the node with that value; later lines may
  use it (``\bar a``), and a name for no node is an abbreviation, expanded where used;
- an adjoint ``\bar t_3 = ...`` or a partial ``\frac{\partial f}{\partial u_1} = ...``:
  judged by :func:`symgraph.check`'s machinery, which names the slip (a missing
  contribution, a sign, a factor, a forgotten transpose, a finite difference);
- a tangent ``\dot t_3 = ...`` (the seed from lines such as ``\dot u_1 = 1``), or a
  local partial ``\partial t_4/\partial t_3``;
- with ``at``, a number at the point (``\bar t_3 \approx 17.40``).

A line that is wrong but right *given* an earlier wrong line follows from it.

>>> r = check_derivation("exp(u1)*u2", [r"t_1 = e^{u_1}", r"\bar t_1 = u_2",
...                                      r"\frac{\partial f}{\partial u_1} = -t_1 u_2"])
>>> [v.kind for v in r.lines], r.first_wrong, r.lines[2].slip
(['right', 'right', 'wrong'], 2, 'sign')
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from sympy import Symbol

from .. import naming
from ..build import graph
from ..evaluation.evaluate import evaluate_sweep
from ..graph import Graph, GraphError
from ..lazynp import np as numpy
from ..parse import ParseError
from ..sweep import Mode
from . import derivation_judge as judge
from . import derivation_text as dtext
from . import derivation_values as values
from .claims import claim_shapes
from .derivation_judge import _formula, _line_latex, _unread
from .derivation_report import DerivationReport, LineVerdict
from .sampling import fresh_seed
from .state import _Judged, _State, _state

__all__ = ["DerivationReport", "LineVerdict", "check_derivation"]


class Context(NamedTuple):
    """What every line is judged against, built once."""

    st: _State  # check's: the graph, its reverse sweep, the samples, the tolerance
    shapes: dict  # names that are matrices (nodes, adjoints, names of one's own)
    latex: bool | None  # None: each line says (see derivation_judge._line_latex)
    envs: tuple  # per sample: every name's value (steps, adjoints, tangents)
    tangents: Mapping | None  # node -> the forward sweep's tangent, in step names
    tol: float | None
    rtol: float | None


class Seen(NamedTuple):
    """What the lines so far tell the next one."""

    judged: _Judged  # check's: the adjoint claims so far
    names: Mapping[str, Symbol]  # a name of one's own (or renumbered) -> its node
    abbrev: Mapping[str, str]  # a name of one's own for no node -> its formula text
    wrong: Mapping[str, numpy.ndarray]  # t3, tbar_3, tdot_3 -> the person's wrong values
    lines: Mapping[str, int]  # the same names -> the line that claimed them wrong


def _is_latex(texts: Sequence[str], latex: bool | None) -> bool:
    return latex if latex is not None else any(dtext.LATEX_HINT.search(t) for t in texts)


def _graph_of(src, shapes, latex: bool | None) -> Graph:
    if isinstance(src, Graph):
        return src
    as_latex = isinstance(src, str) and _is_latex([src], latex) and "\n" not in src.strip()
    return graph(src, shapes=shapes, latex=as_latex)


def _direction(g: Graph, pieces: list, latex: bool) -> dict | None:
    """The forward seed the lines give (``\\dot u_1 = 1``), or the only input's."""
    seed = {}
    for p in pieces:
        parts = dtext.chain(p.text)
        try:
            latex_line = _line_latex(latex, p.text)
            t = dtext.target(_formula(latex_line, parts[0], {}))
            value = float(_formula(latex_line, parts[-1], {})) if len(parts) > 1 else None
        except (ParseError, ValueError):
            continue
        if t and t.kind == "tangent" and t.name in g._names and g.symbol(t.name) in g.inputs:
            seed[t.name] = value
    if seed and all(v is not None for v in seed.values()):
        return {x.name: seed.get(x.name, 0.0) for x in g.inputs}
    scalar = [x for x in g.inputs if not getattr(x, "shape", None)]
    return {scalar[0].name: 1.0} if len(g.inputs) == 1 and scalar else None


def _context(g: Graph, pieces: list, at, options: dict) -> Context:
    latex, (tol, rtol), rng = options["latex"], options["tolerance"], options["rng"]
    if len(g.outputs) > 1 and options["seed"] is None:
        names = ", ".join(map(str, g.outputs))
        raise GraphError(
            f"this function has {len(g.outputs)} outputs ({names}): say which one the "
            f'derivation differentiates, seed="{g.outputs[0]}" (or weights)'
        )
    with numpy.errstate(all="ignore"):
        rv = g.reverse(options["seed"])
        st = _state(g, rv, Mode.REVERSE, at, (1e-6 if tol is None else tol, rtol), rng)
    envs, tangents = [dict(s.names) for s in st.samples], None
    needs = any(re.search(r"\\dot\b|dot_", p.text) for p in pieces)
    direction = _direction(g, pieces, latex) if needs else None
    if direction is not None and not any(getattr(x, "shape", None) for x in g.inputs):
        fw = g.forward(direction)
        tangents = fw.tangents
        for env, s in zip(envs, st.samples, strict=True):
            ev = evaluate_sweep(fw, s.point, "split")
            env.update((naming.dot(n).name, float(v)) for n, v in ev.tangents.items())
    return Context(st, claim_shapes(g), latex, tuple(envs), tangents, tol, rtol)


def check_derivation(
    src, lines, at: Mapping | None = None, *, shapes: Mapping | None = None,
    latex: bool | None = None, tol: float | None = None, rtol: float | None = None,
    rng: int | None = None, seed=None,
) -> DerivationReport:  # fmt: skip
    r"""Check a derivation written line by line, as on the board or in homework.

    Parameters
    ----------
    src
        What :func:`symgraph.graph` takes (a LaTeX formula too), or a :class:`Graph`.
    lines
        A list of lines, or one text (a line per line; LaTeX ``\\`` breaks and
        ``align*`` rows; Markdown math): see :mod:`symgraph.verify.derivation_text`.
    at
        The point numbers in the lines hold at; formulas are compared there too.
    shapes
        Matrix inputs, as for :func:`symgraph.graph`.
    latex
        True: the lines (and a text ``src``) are LaTeX; False: formula text; None (the
        default): a line is LaTeX when a backslash, brace, ``^``, ``$`` or a subscript
        (``u_1``) says so, else formula text if it reads as such (``t3 = t1 + t2``), else
        LaTeX (``a = b c``).
    tol, rtol
        The tolerance of numbers; by default a number is right to the digits written
        (``17.40`` stands for 17.40 ± 0.005; a number written without decimals to 1e-6).
    rng
        Seed of the random points formulas are compared at (None: fresh ones).
    seed
        For several outputs: the output the derivation differentiates, or weights, as in
        ``g.reverse(seed)``.

    Returns
    -------
    DerivationReport
        One :class:`LineVerdict` a line: ``.lines``, ``.ok``, ``.first_wrong``.

    Examples
    --------
    >>> f = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"
    >>> r = check_derivation(f, [r"t_3 = e^{u_1} + e^{2u_2}",
    ...                          r"\bar t_3 = e^{t_3} + \sigma(t_3)(1 - \sigma(t_3))",
    ...                          r"\bar u_2 = e^{2u_2} \bar t_3"])
    >>> r.ok, r.lines[2].slip
    (False, 'factor 0.5')
    """
    g = _graph_of(src, shapes, latex)
    if isinstance(lines, str):
        pieces = dtext.pieces(lines)
    elif isinstance(lines, Sequence):
        pieces = dtext.from_lines(list(lines))
    else:
        raise ParseError(f"lines must be a str or a list of str, not {type(lines).__name__}")
    if not pieces:
        raise ParseError("the derivation has no lines to check (one step a line: t_3 = ...)")
    options = {"latex": latex, "tolerance": (tol, rtol),
               "rng": fresh_seed(rng), "seed": seed}  # fmt: skip
    ctx = _context(g, pieces, at, options)
    seen = Seen(_Judged({}, {}, {}, frozenset()), {}, {}, {}, {})
    verdicts = []
    with numpy.errstate(all="ignore"):  # overflow at wide samples: NaN and inf are masked
        for p in pieces:
            verdict, seen = _line(ctx, seen, p)
            verdicts.append(verdict)
    return DerivationReport(tuple(verdicts))


# ---------------------------------------------------------------- one line


_ABOUT = (
    "a line of a derivation names what it is about on the left: a step t_3, an adjoint "
    "\\bar t_3, a tangent \\dot t_3, or a partial \\frac{\\partial f}{\\partial u_1}"
)


def _line(ctx: Context, seen: Seen, p) -> tuple[LineVerdict, Seen]:
    parts = dtext.chain(p.text)
    if len(parts) < 2 or not all(parts):
        return _unread(p, "expected lhs = rhs (= rhs ...): " + _ABOUT), seen
    try:
        latex = _line_latex(ctx.latex, p.text)
        lhs = _formula(latex, parts[0], ctx.shapes)
        rhs = [_formula(latex, r, ctx.shapes) for r in parts[1:]]
    except ParseError as e:
        return _unread(p, str(e)), seen
    t = dtext.target(lhs)
    if t is None:
        return _unread(p, f"the left side {parts[0]!r} is not one name: " + _ABOUT), seen
    try:
        return _about_line(ctx, seen, p, t, rhs, parts[1:])
    except (ValueError, TypeError, ArithmeticError, NotImplementedError, RecursionError) as e:
        return _unread(p, f"could not judge this line: {e}"), seen


def _about_line(ctx, seen, p, t, rhs: list[str], raws: list[str]) -> tuple[LineVerdict, Seen]:
    """The verdict on the line ``p`` about ``t`` with right sides ``rhs`` (formula text)."""
    rhs = [
        dtext.renamed(r, {n: judge._rename_one(ctx, seen, n) for n in dtext.names_in(r)})
        for r in rhs
    ]
    if t.kind == "value":
        return values._values_line(ctx, seen, p, t.name, rhs, raws)
    node = judge._node(ctx, seen, t.name)
    if node is None:
        return judge._unread(p, judge._unknown(ctx, seen, t.name)), seen
    if t.kind == "partial":
        x = judge._node(ctx, seen, t.wrt)
        if x is None:
            return judge._unread(p, judge._unknown(ctx, seen, t.wrt)), seen
        if node not in ctx.st.rv.seed:
            return values._local_line(ctx, seen, p, node, x, rhs, raws)
        node = x
    elif t.kind == "tangent":
        return values._tangent_line(ctx, seen, p, node, rhs, raws)
    parts = []
    for text, raw in zip(rhs, raws, strict=True):
        part, seen = judge._adjoint(ctx, seen, p, node, text, raw)
        parts.append(part)
    return judge._verdict(ctx, p, "adjoint", node, parts), seen
