"""Building the graph: hash-consing a formula, a program or SymPy objects into steps.

Each distinct subexpression becomes one step ``t_k``, numbered in the order the formula
reads; coefficients, constants, negation, division and transposes fold into the step
that uses them. Programs keep the person's own names for their lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise

import sympy
from sympy import Basic, Expr, Symbol
from sympy.core.relational import Relational
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import Boolean
from sympy.matrices.expressions import MatMul, MatrixExpr, MatrixSymbol, Transpose

from . import canonical, naming, ops
from .graph import Graph, Step, _is_leaf
from .parse import ParseError
from .parse.domain import (
    CANONICAL_ORDER,
    real_twins,
    replaced,
    scaled,
    split_constant,
    swappable,
    unevaluated,
)
from .parse.guards import SPLIT
from .sources import Outputs, Source, chosen_outputs, from_latex, lines_of

#: A name printed with a subscript, like a generated step's: ``t_2`` (as ``t2``).
_SUBSCRIPTED = re.compile(r"[A-Za-z]+_\d+")


#: Sums with more terms than this are decomposed in SymPy's argument order, not its
#: print order: ``as_ordered_terms`` builds an exponent vector over all the sum's symbols
#: and generators for each term, quadratic in a long sum (Rosenbrock n = 2000 spent 5 s
#: there, and it was two thirds of building the MLP n = 16). Lecture sums are shorter.
PRINT_ORDER_MAX_TERMS = 8


#: Products with more factors than this are split into steps of at most this many: the
#: local partials of an n-factor step hold n - 1 factors each, so a 1,000-factor step
#: would cost 10⁶ nodes to differentiate and evaluate. Lecture products are shorter.
MAX_STEP_FACTORS = 32


def _chunked(e: Expr) -> Expr:
    """A long product as a product of sub-products, each one step (at most
    :data:`MAX_STEP_FACTORS` factors each, nested as deep as needed)."""
    args, n = e.args, MAX_STEP_FACTORS
    while len(args) > n:
        args = tuple(sympy.Mul(*args[i : i + n], evaluate=False) for i in range(0, len(args), n))
    return sympy.Mul(*args, evaluate=False)


def _print_order(e: Basic) -> tuple[Basic, ...]:
    if e.is_Add and len(e.args) > PRINT_ORDER_MAX_TERMS:
        return e.args
    if e.is_Add:
        return tuple(e.as_ordered_terms())
    if e.is_Mul:
        return tuple(e.as_ordered_factors())
    return e.args


def _is_structure(e: Basic) -> bool:
    """Conditions and containers are written inside a step, never steps themselves."""
    return isinstance(e, Boolean | Relational | ExprCondPair | sympy.Tuple)


def _reformed(e: Basic, formed: list) -> Basic:
    """``e``'s operation on the formed arguments, unevaluated where SymPy would cancel a
    parent away (``t1 - t1`` is not 0 where ``t1`` is undefined) or change the operation
    (a step is one operation: ``sin(-t1)`` is not ``-sin(t1)``)."""
    if isinstance(e, MatrixExpr) or not isinstance(e, Expr):
        return e.func(*formed)
    made = canonical.node(e.func, formed)  # the common forms, made without evaluating
    if made is not None:
        return made
    made = e.func(*formed)
    parents = set().union(*(getattr(f, "free_symbols", ()) for f in formed))
    if made.func is e.func and parents <= made.free_symbols:
        return made
    return unevaluated(e.func, formed)


class _Builder:
    """Hash-consing: one step per distinct subexpression, named as it is created.

    ``twins`` maps plain symbols to their real twins (``domain.real_twins``): they are
    swapped in at the leaves as the tree is walked, so the input is never rebuilt whole.
    """

    def __init__(self, prefix: str, taken: set[str], twins: Mapping[Symbol, Symbol]):
        self.steps: list[Step] = []
        self.memo: dict[Basic, Symbol] = {}
        self.nodes: set[Symbol] = set()
        self.prefix, self.taken = prefix, taken
        self.generated = 0
        self.twins = twins
        #: subtrees whose only change is their symbols made real -> that real version
        self.realised: dict[Basic, Basic] = {}

    def value(self, e: Basic) -> Expr:
        """A node symbol (or an atom) standing for ``e``, making steps as needed."""
        if _is_leaf(e) or (isinstance(e, Expr) and e.is_number):  # constants fold in
            return self.leaf(e)
        if e not in self.memo:
            self.memo[e] = self.add(self.form(e))
        return self.memo[e]

    def leaf(self, a: Basic) -> Basic:
        """A leaf with its plain symbols made real (a ``Lambda`` or shape may hold some)."""
        twins = self.twins
        if not twins or a.is_Atom:
            return twins.get(a, a) if twins else a
        if a not in self.realised:
            inside = a.free_symbols & twins.keys()
            self.realised[a] = replaced(a, twins) if inside else a
        return self.realised[a]

    def form(self, e: Basic) -> Expr:
        """``e`` as one step: its operation applied to nodes and folded arguments.

        Arguments are visited in the order SymPy prints them, so steps are numbered
        as the formula reads (``exp(a) - sin(b)`` gives ``t1 = exp(a)``, ``f = t1 - t2``).
        """
        given, e = e, self._ordered(e)
        if e.is_Mul and not isinstance(e, MatrixExpr) and len(e.args) > MAX_STEP_FACTORS:
            e = _chunked(e)
        args = e.args
        # the print order only matters when two or more arguments make new steps; it is
        # costly to find (sort keys of whole subtrees), so it is skipped otherwise
        new = sum(1 for a in args if not _is_leaf(a) and a not in self.memo)
        order, known = (_print_order(e) if new > 1 else args), set(args)
        done = {a: self.argument(a, e) for a in order if a in known}
        formed = [done[a] if a in done else self.argument(a, e) for a in args]
        if all(f is a for f, a in zip(formed, args, strict=True)):
            return e  # nothing to replace: SymPy need not rebuild (and re-evaluate) it
        if self._only_made_real(formed, args):  # built as it stands, never evaluated again
            made = canonical.node(e.func, formed) if isinstance(e, Expr) else None
            if made is None:
                made = unevaluated(e.func, formed)
            self.realised[given] = made
            return made
        return _reformed(e, formed)

    def _only_made_real(self, formed: Sequence[Basic], args: Sequence[Basic]) -> bool:
        """Whether each formed argument is the argument itself or it with real symbols."""
        if not self.twins:
            return False
        real, realised = self.twins.get, self.realised.get
        pairs = zip(formed, args, strict=True)
        return all(f is a or real(a) is f or realised(a) is f for f, a in pairs)

    def _ordered(self, e: Basic) -> Basic:
        """``e``, or a long sum or product with plain symbols in SymPy's canonical order:
        its terms are visited (and chunked) in that order, as if it were built anew with
        real symbols (SymPy's own sums and products are in that order already)."""
        if not self.twins or not (e.is_Add or e.is_Mul) or isinstance(e, MatrixExpr):
            return e
        args, most = e.args, PRINT_ORDER_MAX_TERMS if e.is_Add else MAX_STEP_FACTORS
        if len(args) <= most or all(
            CANONICAL_ORDER(a) <= CANONICAL_ORDER(b) for a, b in pairwise(args)
        ):
            return e
        return unevaluated(e.func, args) if e.free_symbols & self.twins.keys() else e

    def argument(self, a: Basic, parent: Basic) -> Basic:
        if _is_leaf(a):
            return self.leaf(a)
        if _is_structure(a):
            return self.form(a)
        if isinstance(a, MatMul):  # SymPy calls a MatMul is_Mul too: test it first
            if a.args[0].is_Number:
                return MatMul(a.args[0], self.argument(MatMul(*a.args[1:]).doit(), a))
            return self.value(a)
        if a.is_Mul and a.args[0].is_number:  # a coefficient (2, -1, π) folds
            constant, rest = split_constant(a)
            return scaled(constant, self.value(rest))
        if isinstance(a, Transpose):  # so does a transpose: t1 = Wᵀ x
            return Transpose(self.value(a.arg))
        if parent.is_Mul and a.is_Pow and a.exp == -1:  # division folds
            return canonical.reciprocal(self.value(a.base))
        return self.value(a)

    def add(self, expr: Expr, name: Symbol | None = None) -> Symbol:
        if name is None:
            self.generated += 1
            name = next(naming.fresh(self.prefix, self.taken, start=self.generated))
        if isinstance(expr, MatrixExpr) and not isinstance(name, MatrixSymbol):
            name = MatrixSymbol(name.name, *expr.shape)
        self.taken.add(name.name)
        nodes = self.nodes
        parents = tuple(sorted(expr.free_symbols & nodes, key=lambda n: self._rank[n]))
        self.steps.append(Step(name, expr, parents))
        self._rank[name] = len(self._rank)
        nodes.add(name)
        return name

    def line(self, name: Symbol, rhs: Expr) -> Symbol:
        """A named step (a program line or an output) whose top is ``rhs``."""
        if _is_leaf(rhs) or rhs in self.memo:
            return self.add(self.memo[rhs] if rhs in self.memo else self.leaf(rhs), name)
        self.memo[rhs] = self.add(self.form(rhs), name)
        return self.memo[rhs]

    def start(self, inputs: Iterable[Symbol]) -> None:
        self._rank = {x: i for i, x in enumerate(inputs)}
        self.nodes.update(self._rank)


def build(
    source: Source, shapes: Mapping | None = None, outputs: Outputs = None, latex: bool = False
) -> Graph:
    """Decompose ``source`` into a :class:`Graph` (see :func:`graph`)."""
    if latex:
        source = from_latex(source, shapes)
    try:
        return _build(source, shapes, outputs)
    except RecursionError:  # a safety net: the limits of parse.guards come first
        raise ParseError("expression nested too deeply to build", hint=SPLIT) from None


def _build(source: Source, shapes: Mapping | None, outputs: Outputs) -> Graph:
    lines, program = lines_of(source, shapes)
    defined = {name for name, _ in lines if name is not None}
    used = set().union(*(rhs.free_symbols for _, rhs in lines))
    twins = real_twins(used)
    if twins and not swappable(used, twins):  # rare: rebuild the input with real symbols
        lines = [(name, replaced(rhs, twins)) for name, rhs in lines]
        twins = {}
    used = {twins.get(s, s) for s in used}
    clash = sorted(n.name for n in defined & used) if program is None else []
    if clash:  # an output named like an input would make a cycle
        raise ParseError(f"an output is named like an input: {clash[0]}", hint="rename it")
    chosen = [program.output] if program is not None else None
    if outputs is not None:
        chosen = chosen_outputs(outputs, lines, program)
    return _assemble(lines, chosen, ops.snapshot(), twins)


def build_program(
    lines: Iterable[tuple[Symbol, Expr]], outputs: Sequence[Symbol], rule_table: Mapping
) -> Graph:
    """The graph of a straight-line program of SymPy objects, without the parser.

    ``lines`` are ``(name, rhs)`` pairs in order (a name used and never defined is an
    input), ``outputs`` names some of them, and ``rule_table`` is the rule table the
    graph keeps (``ops.snapshot()``, or the graph's the program was derived from).

    Examples
    --------
    >>> from sympy import Symbol, exp
    >>> from symgraph import ops
    >>> x, y, a, f = (Symbol(n, real=True) for n in "xyaf")
    >>> print(build_program([(a, exp(x)), (f, y * exp(x) + 1)], [f], ops.snapshot()))
    a = exp(x)
    t1 = a*y
    f = t1 + 1
    """
    try:
        return _assemble(list(lines), list(outputs), rule_table)
    except RecursionError:  # a safety net, as in build()
        raise ParseError("expression nested too deeply to build", hint=SPLIT) from None


def _assemble(
    lines: list[tuple[Symbol | None, Expr]],
    outputs: list[Symbol] | None,
    rule_table: Mapping,
    twins: Mapping[Symbol, Symbol] | None = None,
) -> Graph:
    """Hash-cons the lines (names None are outputs to be named) into a Graph; the
    outputs are ``outputs`` (program lines), else every line. ``twins`` are the real
    symbols that stand for the plain ones of the lines (``domain.real_twins``)."""
    twins = twins or {}
    if twins:  # a line's name used later is made real like its uses: it is no input
        lines = [(twins.get(name, name) if name is not None else None, rhs) for name, rhs in lines]
    defined = {name for name, _ in lines if name is not None}
    used = {twins.get(s, s) for _, rhs in lines for s in rhs.free_symbols}
    inputs = tuple(sorted(used - defined, key=naming.natural_key))
    taken = {s.name for s in used | defined}
    names = iter(naming.output_names(sum(n is None for n, _ in lines), taken))
    lines = [(name or next(names), rhs) for name, rhs in lines]  # as chosen_outputs names them
    # t_2 (a version of t) and a generated t2 would both be printed t₂: such line names
    # count for the prefix, and their twins without the underscore are taken
    subscripted = [n.name for n, _ in lines if _SUBSCRIPTED.fullmatch(n.name)]
    prefix = naming.step_prefix([*(x.name for x in inputs), *subscripted])
    taken |= {n.name for n, _ in lines} | {n.replace("_", "") for n in subscripted}
    builder = _Builder(prefix, taken, twins)
    builder.start(inputs)
    made = {name.name: builder.line(name, rhs) for name, rhs in lines}
    made_outputs = [made[o.name] for o in outputs] if outputs else made.values()
    return Graph(inputs, tuple(builder.steps), tuple(made_outputs), rule_table)


def graph(
    source: Source, shapes: Mapping | None = None, outputs: Outputs = None, latex: bool = False
) -> Graph:
    """Parse ``source`` safely and decompose it into a computation graph.

    Parameters
    ----------
    source
        A formula (``"exp(x)*y"``), a program (one ``name = expr`` a line; the
        last line is the output), a SymPy expression, a list of them (outputs
        ``f1 ... fm``) or a dict ``name -> expression``.
    shapes
        For text: names that are matrices, ``{"W": (3, 2), "x": (2, 1)}`` (rows,
        columns). They take ``*`` or ``@`` products, ``W.T``, ``hadamard``, ``sum``,
        ``trace``, ``inverse`` and scalar functions entry by entry; a program line
        whose value is a matrix is a matrix for the lines after it. SymPy sources
        carry their own ``MatrixSymbol`` shapes, and ignore this.
    outputs
        The outputs, by name, in order: lines of a program (a rebound name means its
        final version), or some of a list's ``f1 ... fm`` or a dict's keys. By default a
        program's output is its last line, and every entry of a list or dict is one.
    latex
        Read a text ``source`` as one LaTeX formula (:mod:`symgraph.parse.latex`).

    Examples
    --------
    >>> g = graph("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))")
    >>> print(g)
    t1 = exp(u1)
    t2 = exp(2*u2)
    t3 = t1 + t2
    t4 = exp(t3)
    t5 = sigmoid(t3)
    f = t4 + t5
    >>> g.children[g.symbol("t3")]
    (t4, t5)
    >>> graph("[x*y, sin(x)]").outputs
    (f1, f2)
    >>> graph("c = x*y\\nc += sin(x)\\nd = 2*c", outputs=["c", "d"]).outputs
    (c_2, d)
    >>> print(graph("sum(sigmoid(W*x + b))", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)}))
    t1 = W*x
    t2 = b + t1
    t3 = sigmoid(t2)
    f = sum(t3)
    >>> graph(r"u_1 \\sin\\left(u_2\\right)", latex=True).inputs
    (u1, u2)
    """
    return build(source, shapes, outputs, latex)
