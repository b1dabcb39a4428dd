r"""LaTeX of every step: the primal trace, the tangent or adjoint trace, the closed forms.

Each step is one aligned line, symbolic and, at a point, with its number. A tangent or
adjoint writes its sum out term by term: first with the local partials as
``\frac{\partial t_k}{\partial a}``, then with the partials themselves, then in board
form (numbers folded in). Matrices' shapes stand in a column of their own. Printing is
SymPy's own :class:`~sympy.printing.latex.LatexPrinter`, with names made safe and matrices
as a slide writes them (:mod:`symgraph.export.printer`).

>>> from symgraph import graph
>>> print(to_latex(graph("(x + y)*(y + 1)")))
\begin{align*}
\intertext{\textbf{Primal trace}}
t_{1} &= x + y \\
t_{2} &= y + 1 \\
f &= t_{1} t_{2} \\
\intertext{\textbf{Outputs in the inputs}}
f &= \left(x + y\right) \left(y + 1\right)
\end{align*}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy
from sympy import Expr, Symbol

from .. import naming
from ..evaluation.evaluate import CONVENTIONS, evaluate_graph, evaluate_sweep
from ..graph import Graph
from ..sweep import Forward, Mode, Reverse, Sweep
from .printer import PRINTER, number, tex
from .typeset import WIDTH, Row, Section, Token, document, fragment, joined, notebook, width

# ---------------------------------------------------------------- rows and sections


def terms(expr) -> tuple[Token, ...]:
    """``expr`` as tokens, one per term of a sum, and a product wider than a line one per
    factor (see :meth:`.printer.Printer.terms`)."""
    return PRINTER.terms(sympy.sympify(expr), room=WIDTH * 2 // 3)


def _sum(tokens: Sequence[Token]) -> tuple[Token, ...]:
    if not tokens:
        return (("", "0"),)
    (op, first), *rest = tokens
    return (("", ("- " if op == "-" else "") + first), *rest)


def _row(lhs: str, parts: Sequence[Sequence[Token]], value: str = "") -> Row:
    """A row, leaving out a part (or a value) that repeats the one before it."""
    kept: list[tuple[Token, ...]] = []
    for part in parts:
        if not kept or joined(part) != joined(kept[-1]):
            kept.append(tuple(part))
    return Row(lhs, tuple(kept), "" if kept and value == "= " + joined(kept[-1]) else value)


def _partial(child: Symbol, parent: Symbol) -> str:
    return rf"\frac{{\partial {tex(child)}}}{{\partial {tex(parent)}}}"


def _shape(obj) -> str:
    r"""``\in \mathbb{R}^{m \times n}`` for a matrix step or input; '' for a scalar."""
    shape = getattr(obj, "shape", None)
    if not isinstance(shape, tuple) or tuple(shape) in ((1, 1), ()):
        return ""
    return r" \in \mathbb{R}^{" + r" \times ".join(tex(d) for d in shape) + "}"


def evaluate_quietly(obj, at: Mapping | None, kink: str):
    """The numbers at ``at``, or None; kinks are listed in the output, so not warned about.

    The evaluator is asked not to warn: silencing it with ``warnings.catch_warnings``
    would change the process-wide filters, losing other threads' warnings meanwhile.
    """
    if at is None:
        return None
    if isinstance(obj, Graph):
        return evaluate_graph(obj, at, kink)  # values only: never warns
    return evaluate_sweep(obj, at, kink, warn=False)


def _value(ev, table: str, node: Symbol, digits: int) -> str:
    return "= " + number(getattr(ev, table)[node], digits) if ev is not None else ""


# ---------------------------------------------------------------- the sections


def primal(g: Graph, ev=None, digits: int = 5) -> Section:
    """The primal trace ``t_k = ...``, one row a step (and the inputs, at a point); the
    shapes of matrices in a column of their own, so they line up."""
    kinked = {k.step.name for k in ev.kinks} if ev is not None else set()
    rows = [
        Row(tex(x), ((("", number(ev.values[x], digits)),),) if ev else (), "", _shape(x).strip())
        for x in g.inputs
        if ev is not None or _shape(x)
    ]
    for s in g.steps:
        value = _value(ev, "values", s.name, digits)
        value += r" \quad \text{(kink)}" if s.name in kinked else ""
        rows.append(_row(tex(s.name), [terms(s.expr)], value)._replace(shape=_shape(s).strip()))
    return Section("Primal trace", tuple(rows))


def _term(g: Graph, child: Symbol, parent: Symbol, d: Expr, forward: bool) -> tuple[Token, Token]:
    r"""One term of a tangent (``∂c/∂p \dot{p}``) or adjoint (``\bar{c} ∂c/∂p``), first
    with the partial named, then written out; a matrix edge's term is its linear map."""
    if g.edges[(child, parent)].partial is None:  # a matrix edge: d pushes ṗ or pulls c̄
        return ("+", tex(d)), ("+", tex(d))
    if forward:
        dot = tex(naming.dot(parent))
        return ("+", f"{_partial(child, parent)} {dot}"), PRINTER.product("", d, dot)
    bar = tex(naming.bar(child))
    return ("+", f"{bar} {_partial(child, parent)}"), PRINTER.product(bar, d)


def tangent(fw: Forward, ev=None, digits: int = 5) -> Section:
    r"""The tangent trace ``\dot{t}_k = Σ_p ∂t_k/∂p \dot{p}``, with the partials written out."""
    rows = [
        _row(tex(naming.dot(x)), [terms(fw.seed[x])], _value(ev, "tangents", x, digits))._replace(
            shape=_shape(x).strip()
        )
        for x in fw.graph.inputs
    ]
    for s in fw.graph.steps:
        pairs = fw.terms[s.name]
        written = [_term(fw.graph, s.name, p, d, forward=True) for p, d in pairs]
        parts = [_sum([w[0] for w in written]), _sum([w[1] for w in written])]
        parts.append(terms(fw.tangents[s.name]))
        value = _value(ev, "tangents", s.name, digits)
        rows.append(_row(tex(naming.dot(s.name)), parts if pairs else [_sum([])], value))
    return Section("Tangent trace (forward mode)", tuple(rows))


def adjoint(rv: Reverse, ev=None, digits: int = 5) -> Section:
    r"""The adjoint trace ``\bar{a} = Σ_k \bar{t}_k ∂t_k/∂a``, the sum over children written out."""
    rows, nodes = [], {naming.bar(n): n for n in rv.adjoints}
    for name, board in rv.steps:
        node, pairs = nodes[name], rv.terms[nodes[name]]
        seed = [("+", tex(rv.seed[node]))] if node in rv.seed else []
        written = [_term(rv.graph, c, node, d, forward=False) for c, d in pairs]
        parts = [_sum(seed + [w[0] for w in written]), _sum(seed + [w[1] for w in written])]
        parts.append(terms(board))
        rows.append(_row(tex(name), parts, _value(ev, "adjoints", node, digits)))
    return Section("Adjoint trace (reverse mode)", tuple(rows))


_TRACES = {Mode.FORWARD: tangent, Mode.REVERSE: adjoint}


def kinks(ev, digits: int = 5) -> Section:
    """The kinks met at the point, each with the partials its convention takes."""
    rows = []
    for k in ev.kinks:
        where = r",\ ".join(f"{tex(p)} = {number(v, digits)}" for p, v in k.at.items())
        rows.append(_row(tex(k.step.name), [terms(k.step.expr)], rf"\text{{{k.kind}: }} {where}"))
        rows += [
            _row(_partial(k.step.name, p), [[("", number(v, digits))]], r"\text{by convention}")
            for p, v in k.partials.items()
        ]
    title = f"Kinks at this point (convention {ev.kink_convention}: "
    return Section(f"{title}{CONVENTIONS[ev.kink_convention]})", tuple(rows))


def _single(seed: Mapping[Symbol, Expr]) -> Symbol | None:
    """The one node seeded with 1 (all others 0), if the seed is a unit vector."""
    ones = [n for n, v in seed.items() if v != 0]
    return ones[0] if len(ones) == 1 and seed[ones[0]] == 1 else None


_RESULT_TITLES = {
    Mode.FORWARD: ("Derivative", "Directional derivative"),
    Mode.REVERSE: ("Gradient", "Vector-Jacobian product"),
}


def closed_forms(obj, ev=None, digits: int = 5) -> Section:
    """The results in the inputs: gradient, (directional) derivative or the outputs."""
    g = obj if isinstance(obj, Graph) else obj.graph
    if isinstance(obj, Sweep):  # ∂(output)/∂(input) at each result node, or its accent
        mode, one, table, results = obj.mode, _single(obj.seed), "results", obj.results
        title = _RESULT_TITLES[mode][one is None]
        lhs = {
            n: _partial(*mode.edge(n, one)) if one else tex(mode.accent(n)) for n in mode.ends(g)
        }
    else:
        title, table, lhs = "Outputs in the inputs", "values", {o: tex(o) for o in g.outputs}
        results = {o: g.expand(o) for o in g.outputs}
    results, named = in_steps_where_wide(g, results)
    boards = [n for n, e in results.items() if _too_wide(e)] if isinstance(obj, Sweep) else []
    # still too wide (a deep matrix network's chain of pulls): the sweep's own board form
    results.update({n: obj.carried[n] for n in boards})
    rows = [
        _row(left, [terms(results[n])], _value(ev, table, n, digits)) for n, left in lhs.items()
    ]
    where = "the traces" if boards else "the primal trace"
    return Section(
        title + (f" (wide parts named as in {where})" if named or boards else ""), tuple(rows)
    )


#: A closed form with a piece wider than this (a factor no line break can split) names
#: its subexpressions; a step's expansion wider than :data:`NAMED` is named by the step.
TOO_WIDE = WIDTH * 2 // 3
NAMED = WIDTH // 3


def _too_wide(e, too_wide: int = TOO_WIDE) -> bool:
    """Whether a piece of ``e`` no line break can split is wider than ``too_wide``."""
    return any(width(t) > too_wide for _, t in terms(e))


def in_steps_where_wide(g: Graph, results: Mapping, too_wide: int = TOO_WIDE) -> tuple[dict, bool]:
    r"""The results, each subexpression too wide to print on a line (a deep network's
    nested ``\tanh``) written as the step that computes it (``t_{14}``), so every line
    fits on the page; and whether any was named.

    >>> from symgraph import graph
    >>> deep = "x"
    >>> for k in range(1, 9):
    ...     deep = f"tanh(w{k}*{deep})"
    >>> g = graph(deep)
    >>> named, _ = in_steps_where_wide(g, g.reverse().gradient)
    >>> named[g.symbol("w8")]
    t14*(1 - f**2)
    """
    if not any(_too_wide(e, too_wide) for e in results.values()):
        return dict(results), False
    names = {}
    for s in g.steps:
        expanded = g.expand(s.name)
        if width(tex(expanded)) > NAMED:
            names[expanded] = s.name
    out = {n: e.xreplace(names) for n, e in results.items()}
    return out, any(out[n] != results[n] for n in results)


def _formula(expr: sympy.Basic, standalone: bool) -> str:
    if not standalone:
        return tex(expr)
    shape = getattr(expr, "shape", None)
    title = f"A {shape[0]}-by-{shape[1]} matrix" if shape else "A formula"
    return document([Section(title, (Row("", (terms(expr),)),))], "symgraph")


def sections(obj, at: Mapping | None = None, kink: str = "split", digits: int = 5) -> list:
    """The sections of :func:`to_latex`: traces, kinks at the point, closed forms."""
    if not isinstance(obj, Graph | Sweep):
        raise TypeError(
            "to_latex takes a Graph, Forward, Reverse or SymPy expression, "
            f"not {type(obj).__name__}"
        )
    ev = evaluate_quietly(obj, at, kink)
    out = [primal(obj if isinstance(obj, Graph) else obj.graph, ev, digits)]
    if isinstance(obj, Sweep):
        out.append(_TRACES[obj.mode](obj, ev, digits))
    if ev is not None and ev.kinks:
        out.append(kinks(ev, digits))
    return [*out, closed_forms(obj, ev, digits)]


def to_latex(
    obj: Graph | Forward | Reverse,
    at: Mapping | None = None,
    standalone: bool = False,
    kink: str = "split",
    *,
    notebook_style: bool = False,
    digits: int = 5,
) -> str:
    r"""LaTeX of every step: the primal trace, the tangent or adjoint trace, the results.

    Parameters
    ----------
    obj
        A :class:`~symgraph.graph.Graph` (its primal trace), a
        :class:`~symgraph.sweep.Forward` (with tangents ``\dot{t}_k``) or a
        :class:`~symgraph.sweep.Reverse` (with adjoints ``\bar{t}_k``); or a result by
        itself (a closed form, ``g.hessian(wrt="w")``): its formula, ``\[ ... \]`` in a
        document when ``standalone``.
    at
        A point ``{input: number}``: every step then also shows its number, and the
        kinks met there are listed with the convention applied.
    standalone
        A complete document for ``pdflatex`` instead of an ``align*`` fragment.
    kink
        The kink convention at the point (see :data:`symgraph.CONVENTIONS`).
    notebook_style
        ``$$\begin{aligned}...\end{aligned}$$``, which Jupyter's MathJax renders
        (what ``_repr_latex_`` gives).
    digits
        Significant digits of the numbers.

    Examples
    --------
    >>> from symgraph import graph
    >>> rv = graph("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))").reverse()
    >>> out = to_latex(rv, at={"u1": 1, "u2": -1})
    >>> print(next(line for line in out.splitlines() if line.startswith(r"\bar{t}_{3}")))
    ... # doctest: +NORMALIZE_WHITESPACE
    \bar{t}_{3} &= \bar{t}_{4} \frac{\partial t_{4}}{\partial t_{3}}
                 + \bar{t}_{5} \frac{\partial t_{5}}{\partial t_{3}}
                 = \bar{t}_{4} t_{4} + \bar{t}_{5} t_{5} \left(1 - t_{5}\right)
                 = t_{4} + t_{5} \left(1 - t_{5}\right) && = 17.402 \\
    """
    if isinstance(obj, sympy.Basic) and not isinstance(obj, Symbol | Graph):
        return _formula(obj, standalone)  # a result (a Hessian, a closed form) by itself
    parts = sections(obj, at, kink, digits)
    if standalone:
        kind = (
            "Computation graph" if isinstance(obj, Graph) else f"{obj.mode.word.capitalize()} mode"
        )
        g = obj if isinstance(obj, Graph) else obj.graph
        return document([function(g), *parts], kind + ", step by step", about=statement(obj, at))
    return notebook(parts) if notebook_style else fragment(parts)


def function(g: Graph) -> Section:
    """The function itself, each output in the inputs (a piece too wide for a line named
    as in the primal trace)."""
    results, named = in_steps_where_wide(g, {o: g.expand(o) for o in g.outputs}, WIDTH - 10)
    title = "The function" + (" (wide parts named as in the primal trace)" if named else "")
    return Section(title, tuple(_row(tex(o), [terms(results[o])]) for o in g.outputs))


def statement(obj, at: Mapping | None) -> str:
    r"""What a document is about, in a sentence each: the inputs, the mode and its seed,
    the point.

    >>> from symgraph import graph
    >>> print(statement(graph("x*y").forward("x"), {"x": 2, "y": 0.5}))
    ... # doctest: +NORMALIZE_WHITESPACE
    A function of $x$, $y$. Forward mode, seeded with $\dot{x} = 1$ (every other input's
    tangent 0). At the point $x = 2$, $y = 0.5$.
    """
    g = obj if isinstance(obj, Graph) else obj.graph
    out = "A function of " + ", ".join(f"${tex(x)}$" for x in g.inputs) + "."
    if isinstance(obj, Sweep):
        accent = obj.mode.accent
        seeds = [
            f"${tex(accent(n))}$" if v == accent(n) else f"${tex(accent(n))} = {tex(v)}$"
            for n, v in obj.seed.items()
            if v != 0
        ]
        other = _OTHERS[obj.mode] if len(seeds) < len(obj.mode.starts(g)) else ""
        out += f" {obj.mode.word.capitalize()} mode, seeded with {', '.join(seeds) or '0'}{other}."
    if at:
        point = ", ".join(f"${tex(g.symbol(k))} = {number(v)}$" for k, v in at.items())
        out += f" At the point {point}."
    return out


#: What a sweep's seed leaves out: the other inputs' tangents, the other outputs' adjoints.
_OTHERS = {
    Mode.FORWARD: " (every other input's tangent 0)",
    Mode.REVERSE: " (every other output's adjoint 0)",
}
