r"""LaTeX of every step: the primal trace, the tangent or adjoint trace, the closed forms.

Each step is one aligned line, symbolic and, at a point, with its number. A tangent or
adjoint writes its sum out term by term: first with the local partials as
``\frac{\partial t_k}{\partial a}``, then with the partials themselves, then in board
form (numbers folded in). Printing is SymPy's own :class:`~sympy.printing.latex.LatexPrinter`;
only symbol names it cannot typeset (``α``, ``a&b``) are printed differently.

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

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import sympy
from sympy import Expr, Symbol
from sympy.core.function import _coeff_isneg
from sympy.matrices.expressions import MatAdd, MatMul, Trace
from sympy.printing.latex import LatexPrinter, greek_letters_set, tex_greek_dictionary
from sympy.printing.precedence import PRECEDENCE

from .. import naming
from ..evaluation.evaluate import CONVENTIONS, evaluate_graph, evaluate_sweep
from ..functions import elementwise
from ..graph import Graph
from ..sweep import Forward, Mode, Reverse, Sweep
from .typeset import Row, Section, Token, document, fragment, joined, notebook

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NAME = re.compile(r"\\?[A-Za-z]+|\\operatorname\{[A-Za-z]+\}")  # \tanh, \operatorname{relu}
_SPECIAL = {c: "\\" + c for c in "#$%&_{}"}
_MATH = {
    **_SPECIAL,
    "\\": r"\backslash ",
    "^": r"\hat{}",
    "~": r"\sim ",
    "|": r"\vert ",
    " ": r"\ ",
}


class Printer(LatexPrinter):
    r"""SymPy's LaTeX printer; names it cannot typeset are made safe for ``pdflatex``.

    >>> print(Printer().doprint(Symbol("α1")), Printer().doprint(Symbol("a&b")))
    \alpha_{1} \mathrm{a\&b}
    """

    def _print_Symbol(self, expr: Symbol, style: str = "plain") -> str:
        spelled = "".join(_greek_word(c) or c for c in expr.name)  # α1 -> alpha1 -> \alpha_{1}
        if _PLAIN.fullmatch(spelled):
            return super()._print_Symbol(Symbol(spelled), style)
        return r"\mathrm{" + "".join(_math_char(c) for c in expr.name) + "}"

    # ---- matrices as a slide writes them: 𝟏, ∘, ^⊤, tr, det; no class names

    def parenthesize(self, item, level, is_neg=False, strict=False) -> str:
        if _scalar_trace(item):  # printed as its argument, so bracketed as that is
            item = item.arg
        return super().parenthesize(item, level, is_neg, strict)

    def _print_OneMatrix(self, expr) -> str:
        r"""The ones matrix: ``\mathbf{1}_{3}`` (a column), ``\mathbf{1}_{3}^{\top}`` (a row),
        ``\mathbf{1}_{m \times n}``."""
        m, n = (self._print(k) for k in expr.shape)
        if expr.shape[1] == 1:
            return rf"\mathbf{{1}}_{{{m}}}"
        if expr.shape[0] == 1:
            return rf"\mathbf{{1}}_{{{n}}}^{{\top}}"
        return rf"\mathbf{{1}}_{{{m} \times {n}}}"

    def _print_Transpose(self, expr) -> str:
        return super()._print_Transpose(expr).removesuffix("^{T}") + r"^{\top}"

    def _print_Trace(self, expr) -> str:
        if _scalar_trace(expr):
            return self._print(expr.arg)
        return rf"\operatorname{{tr}}\left({self._print(expr.arg)}\right)"

    def _print_Determinant(self, expr) -> str:
        return rf"\det\left({self._print(expr.arg)}\right)"

    def _print_MatMul(self, expr) -> str:
        first, *rest = expr.args
        if first.is_Rational and not first.is_Integer and rest:  # ½ W, not (½) W
            sign = "- " if first < 0 else ""
            tail = rest[0] if len(rest) == 1 else MatMul(*rest)
            rest_tex = self.parenthesize(tail, PRECEDENCE["Mul"], strict=True)
            return f"{sign}{self._print(abs(first))} {rest_tex}"
        return super()._print_MatMul(expr)

    def _print_ElementwiseApplyFunction(self, expr) -> str:
        return self._print(elementwise(expr.function, expr.expr))

    def _print(self, expr, **kwargs) -> str:
        if isinstance(expr, elementwise) and (named := expr._named()) and named[1]:
            slope = self._slope(named[0], expr.expr)
            if slope is not None:
                return slope
        return super()._print(expr, **kwargs)

    def _slope(self, f: type, arg) -> str | None:
        r"""``f'`` entry by entry: ``\sigma'\left(z\right)``, ``\tanh'\left(z\right)``
        (SymPy writes ``\tanh{\left(z \right)}``: the prime goes after the name, not
        inside its braces); None if ``f`` is not written as a name (``|z|``)."""
        head = super()._print(f(Symbol("PLACEHOLDER"))).partition("PLACEHOLDER")[0]
        head = head.removesuffix(r"\left(").removesuffix("{").rstrip()
        if not _NAME.fullmatch(head):
            return None
        return rf"{head}'\left({self._print(arg)}\right)"

    def terms(self, expr: Expr) -> tuple[Token, ...]:
        """``expr`` as tokens, one per term of a sum, as :meth:`_print_Add` writes them."""
        if not (expr.is_Add or isinstance(expr, MatAdd)):  # a matrix sum breaks like a sum
            return (("", self.doprint(expr)),)
        out = []
        for i, term in enumerate(self._as_ordered_terms(expr, order=None)):
            op = "" if i == 0 else "-" if _negative(term) else "+"
            t = self.doprint(-term if op == "-" else term)
            out.append((op, rf"\left({t}\right)" if self._needs_add_brackets(term) else t))
        return tuple(out)

    def product(self, left: str, factor: Expr, right: str = "") -> Token:
        """``left · factor · right`` as a signed token; a factor of 1 is left out."""
        op = "-" if _negative(factor) else "+"
        factor = -factor if op == "-" else factor
        body = "" if factor == 1 else self.parenthesize(factor, PRECEDENCE["Mul"], strict=True)
        # f̄ · ½, not f̄ ½ (nor f̄ 1 read as "f̄1")
        number = body[:1].isdigit() or (factor.is_Number and factor != 1)
        body = r"\cdot " + body if left and number else body
        return op, " ".join(p for p in (left, body, right) if p) or "1"


def _negative(term: Expr) -> bool:
    """A term written with a minus sign: ``-2 x`` and ``-W x`` alike."""
    if isinstance(term, MatMul):
        return term.args[0].is_number and term.args[0].is_negative
    return _coeff_isneg(term)


def _scalar_trace(e) -> bool:
    """A trace of a 1×1 matrix: its one entry, written as the matrix (``w^{\\top} x``)."""
    return isinstance(e, Trace) and tuple(e.arg.shape) == (1, 1)


def _greek_word(char: str) -> str:
    """``α`` -> ``alpha``, ``Λ`` -> ``Lamda``: a name SymPy typesets; '' if not Greek."""
    found = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER (\w+)", unicodedata.name(char, ""))
    if not found:
        return ""
    word = found[2].lower() if found[1] == "SMALL" else found[2].capitalize()
    return word if word in tex_greek_dictionary or word.lower() in greek_letters_set else ""


def _math_char(c: str) -> str:
    """One character of a name, escaped for math mode (and MathJax)."""
    if c.isascii():
        return _MATH.get(c, c)
    word = _greek_word(c)
    return tex_greek_dictionary.get(word, "\\" + word) + " " if word else f"U{{+}}{ord(c):04X}"


_PRINTER = Printer()


def tex(expr) -> str:
    """LaTeX of a SymPy expression (or a number) with :class:`Printer`."""
    return _PRINTER.doprint(sympy.sympify(expr))


def number(value, digits: int = 5) -> str:
    """A number for a reader: ``3``, ``17.402``, ``1.2346 \\cdot 10^{-7}``; arrays as matrices.

    >>> number(3.0), number(17.40223), number(-1.23456e-7)
    ('3', '17.402', '-1.2346 \\\\cdot 10^{-7}')
    """
    if getattr(value, "ndim", 0):
        rows = _entries(np.asarray(value, dtype=float).reshape(np.shape(value)[0], -1), digits)
        return r"\begin{bmatrix}" + r" \\ ".join(" & ".join(r) for r in rows) + r"\end{bmatrix}"
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    mantissa, _, exponent = f"{v:.{digits}g}".partition("e")
    return mantissa + (rf" \cdot 10^{{{int(exponent)}}}" if exponent else "")


def _entries(a: np.ndarray, digits: int) -> list[list[str]]:
    """A matrix's entries with one number of decimals, so its columns line up: as few as
    write every entry exactly, at most what gives the largest ``digits`` significant
    digits; each entry on its own where that would round one to 0 (or is too large).

    >>> _entries(np.array([[0.15868, 0.317372], [0.0214, -0.085448]]), 5)
    [['0.15868', '0.31737'], ['0.02140', '-0.08545']]
    >>> _entries(np.array([[0.5, -1.0], [2.0, 0.25]]), 5), _entries(np.array([[1e-9, 1.0]]), 5)
    ([['0.50', '-1.00'], ['2.00', '0.25']], [['1 \\\\cdot 10^{-9}', '1']])
    """
    size = float(np.max(np.abs(a))) if a.size and np.isfinite(a).all() else 0.0
    if not 0 < size < 10**digits:
        return [[number(v, digits) for v in row] for row in a]
    most = max(0, digits - 1 - math.floor(math.log10(size)))
    decimals = next(d for d in range(most + 1) if np.array_equal(a.round(d), a.round(most)))
    shown = a.round(decimals)
    if np.any((a != 0) & (shown == 0)):
        return [[number(v, digits) for v in row] for row in a]
    return [[f"{v + 0.0:.{decimals}f}" for v in row] for row in shown]  # + 0.0: no -0.00


# ---------------------------------------------------------------- rows and sections


def terms(expr) -> tuple[Token, ...]:
    """``expr`` as tokens, one per term of a sum (see :meth:`Printer.terms`)."""
    return _PRINTER.terms(sympy.sympify(expr))


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
        return ("+", f"{_partial(child, parent)} {dot}"), _PRINTER.product("", d, dot)
    bar = tex(naming.bar(child))
    return ("+", f"{bar} {_partial(child, parent)}"), _PRINTER.product(bar, d)


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
    rows = [
        _row(left, [terms(results[n])], _value(ev, table, n, digits)) for n, left in lhs.items()
    ]
    return Section(title, tuple(rows))


def sections(obj, at: Mapping | None = None, kink: str = "split", digits: int = 5) -> list:
    """The sections of :func:`to_latex`: traces, kinks at the point, closed forms."""
    if not isinstance(obj, Graph | Sweep):
        raise TypeError(f"to_latex takes a Graph, Forward or Reverse, not {type(obj).__name__}")
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
        :class:`~symgraph.sweep.Reverse` (with adjoints ``\bar{t}_k``).
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
    parts = sections(obj, at, kink, digits)
    if standalone:
        kind = (
            "Computation graph" if isinstance(obj, Graph) else f"{obj.mode.word.capitalize()} mode"
        )
        return document(parts, kind + ", step by step")
    return notebook(parts) if notebook_style else fragment(parts)
