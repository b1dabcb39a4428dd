"""The computation graph: a hash-consed Wengert list of steps ``t1 ... tn``.

Each distinct subexpression becomes one step, numbered in topological order; a
shared subexpression is one step with several children. Numeric coefficients,
negation and division fold into the step that uses them, so steps read like the
lines a person writes (``t5 = t4 - t3``, ``t2 = exp(2*u2)``).

>>> g = graph("(x + y)*(y + 1)")
>>> print(g)
t1 = x + y
t2 = y + 1
f = t1*t2
>>> g.inputs, g.outputs
((x, y), (f,))
>>> g.expand("f")
(x + y)*(y + 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import product

import networkx as nx
import sympy
from sympy import Basic, Expr, Lambda, Symbol
from sympy.core.relational import Relational
from sympy.functions.elementary.piecewise import ExprCondPair
from sympy.logic.boolalg import Boolean
from sympy.matrices.expressions import (
    Identity,
    MatMul,
    MatrixExpr,
    MatrixSymbol,
    OneMatrix,
    Transpose,
    ZeroMatrix,
)

from . import naming
from .parse import ParseError, Program, parse, parse_expr_text
from .rules import local_partial, pullback, pushforward

Source = str | Expr | Sequence | Mapping | Program


class GraphError(ValueError):
    """A request that does not fit the graph (an unknown node name, a bad seed)."""


@dataclass(frozen=True)
class Step:
    """One line of the Wengert list: ``name = expr``, where ``expr`` uses ``parents``."""

    name: Symbol
    expr: Expr
    parents: tuple[Symbol, ...]

    @property
    def op(self) -> str:
        """The operation's name: ``Add``, ``Mul``, ``exp``, ``sigmoid``, ``Max``, ..."""
        return "identity" if _is_leaf(self.expr) else type(self.expr).__name__

    @property
    def shape(self) -> tuple[int, int] | None:
        """``(m, n)`` for a matrix step, None for a scalar."""
        return getattr(self.name, "shape", None)

    def __str__(self) -> str:
        return f"{self.name} = {self.expr}"


@dataclass(frozen=True, eq=False)
class Graph:
    """A computation graph: ``inputs``, ``steps`` (in topological order), ``outputs``."""

    inputs: tuple[Symbol, ...]
    steps: tuple[Step, ...]
    outputs: tuple[Symbol, ...]

    def __str__(self) -> str:
        return "\n".join(map(str, self.steps))

    @cached_property
    def step(self) -> dict[Symbol, Step]:
        """Step by its name (a symbol, or its name as a string)."""
        return naming.NameDict({s.name: s for s in self.steps})

    @cached_property
    def order(self) -> dict[Symbol, int]:
        """Position of every node: inputs first, then steps."""
        nodes = (*self.inputs, *(s.name for s in self.steps))
        return {n: i for i, n in enumerate(nodes)}

    @cached_property
    def children(self) -> dict[Symbol, tuple[Symbol, ...]]:
        """The steps that use each node, in order."""
        kids: dict[Symbol, list[Symbol]] = {n: [] for n in self.order}
        for s in self.steps:
            for p in s.parents:
                kids[p].append(s.name)
        return naming.NameDict({n: tuple(k) for n, k in kids.items()})

    @cached_property
    def partials(self) -> dict[tuple[Symbol, Symbol], Expr]:
        """Local partial ``∂child/∂parent`` of every scalar edge, in step names.

        A partial that recomputes a step's expression names that step instead
        (``∂cos(a)/∂a = -t4`` where ``t4 = sin(a)``): the graph's sharing reaches the
        derivatives too, and the gradient program does not compute ``sin(a)`` twice.
        """
        named: dict[Basic, Symbol] = {}
        for s in self.steps:
            if not _is_leaf(s.expr) and not isinstance(s.name, MatrixSymbol):
                named.setdefault(s.expr, s.name)
        return {edge: d.xreplace(named) for s in self.steps for edge, d in _scalar_partials(s)}

    @cached_property
    def pullbacks(self) -> dict[tuple[Symbol, Symbol], Expr]:
        """Adjoint contribution of every matrix edge, written with the child's ``tbar``."""
        return {
            (s.name, p): pullback(s.expr, p, naming.bar(s.name)).xreplace({s.expr: s.name})
            for s in self.steps
            for p in s.parents
            if is_matrix_edge(s, p)
        }

    @cached_property
    def pushforwards(self) -> dict[tuple[Symbol, Symbol], Expr]:
        """Tangent contribution of every matrix edge, written with the parent's ``tdot``."""
        return {
            (s.name, p): pushforward(s.expr, {p: naming.dot(p)}).xreplace({s.expr: s.name})
            for s in self.steps
            for p in s.parents
            if is_matrix_edge(s, p)
        }

    def symbol(self, key: str | Basic) -> Symbol:
        """The node called ``key`` (a name or a symbol); a clear error if there is none."""
        names = self._names
        found = names.get(key if isinstance(key, str) else getattr(key, "name", None))
        if found is None:
            known = ", ".join(names)
            raise GraphError(f"no node named {key!r} in this graph; its nodes are {known}")
        return found

    @cached_property
    def _names(self) -> dict[str, Symbol]:
        return {n.name: n for n in self.order}

    @cached_property
    def nx(self) -> nx.DiGraph:
        """A ``networkx.DiGraph`` view; nodes carry expr, op and kind, edges the partial."""
        view = nx.DiGraph()
        for x in self.inputs:
            view.add_node(x, expr=x, op="input", kind="input")
        for s in self.steps:
            kind = "output" if s.name in self.outputs else "step"
            view.add_node(s.name, expr=s.expr, op=s.op, kind=kind)
            for p in s.parents:
                edge = (s.name, p)
                if edge in self.partials:
                    view.add_edge(p, s.name, partial=self.partials[edge])
                else:
                    view.add_edge(p, s.name, pullback=self.pullbacks[edge])
        return view

    def expand(self, node: str | Symbol) -> Expr:
        """The node's expression in terms of the inputs."""
        target = self.symbol(node)
        closed = self._closed
        if target not in closed:
            # only the ancestors not yet expanded, in order: expanding every node one
            # by one stays linear in the graph (a scan of all steps each time was not)
            missing, stack = {target}, [target]
            while stack:
                for p in self.step[stack.pop()].parents:
                    if p not in closed and p not in missing:
                        missing.add(p)
                        stack.append(p)
            for name in sorted(missing, key=self.order.__getitem__):
                s = self.step[name]
                closed[name] = s.expr.xreplace({p: closed[p] for p in s.parents})
        return closed[target]

    def in_inputs(self, expr: Basic) -> Basic:
        """``expr``, written in step names, rewritten in the inputs."""
        return expr.xreplace({s: self.expand(s) for s in expr.free_symbols if s in self.step})

    @cached_property
    def _closed(self) -> dict[Basic, Expr]:
        return {x: x for x in self.inputs}

    def ancestors(self, node: Symbol) -> set[Symbol]:
        """``node`` and every node it depends on."""
        seen, stack = {node}, [node]
        while stack:
            s = self.step.get(stack.pop())
            for p in s.parents if s else ():
                if p not in seen:
                    seen.add(p)
                    stack.append(p)
        return seen

    # -- delegations to the stages -------------------------------------------------

    def forward(self, wrt):
        """Forward mode seeded at an input or a direction; see :func:`symgraph.forward.forward`."""
        from .forward import forward

        return forward(self, wrt)

    def reverse(self, seed=None):
        """Reverse mode seeded at an output; see :func:`symgraph.reverse.reverse`."""
        from .reverse import reverse

        return reverse(self, seed)

    def gradient(self, mode: str = "reverse") -> dict:
        """Closed-form gradient of a scalar function; see :func:`symgraph.reverse.gradient`."""
        from .reverse import gradient

        return gradient(self, mode)

    def jacobian(self, mode: str = "auto") -> sympy.Matrix:
        """Jacobian (outputs × inputs); see :func:`symgraph.reverse.jacobian`."""
        from .reverse import jacobian

        return jacobian(self, mode)

    def hessian(self, output=None) -> sympy.Matrix:
        """Hessian of a scalar output (forward over reverse); see ``reverse.hessian``."""
        from .reverse import hessian

        return hessian(self, output)

    def evaluate(self, at: Mapping, kink: str = "split"):
        """Values of every node at a point; see :func:`symgraph.evaluate.evaluate_graph`."""
        from .evaluate import evaluate_graph

        return evaluate_graph(self, at, kink)

    def _repr_latex_(self) -> str:
        """Every step in Jupyter's MathJax; see :func:`symgraph.export.latex.to_latex`."""
        from .export.latex import repr_latex

        return repr_latex(self)

    def _repr_svg_(self) -> str | None:
        """A picture of the graph in Jupyter (None, so no picture, without Graphviz)."""
        from .export.dot import repr_svg

        return repr_svg(self)


# ---------------------------------------------------------------- building


#: Sums with more terms than this are decomposed in SymPy's argument order, not its
#: print order: ``as_ordered_terms`` builds an exponent vector over all the sum's symbols
#: and generators for each term, quadratic in a long sum (Rosenbrock n = 2000 spent 5 s
#: there, and it was two thirds of building the MLP n = 16). Lecture sums are shorter.
PRINT_ORDER_MAX_TERMS = 8


def _print_order(e: Basic) -> tuple[Basic, ...]:
    if e.is_Add and len(e.args) > PRINT_ORDER_MAX_TERMS:
        return e.args
    if e.is_Add:
        return tuple(e.as_ordered_terms())
    if e.is_Mul:
        return tuple(e.as_ordered_factors())
    return e.args


def _scalar_partials(s: Step):
    """``((s, p), ∂s/∂p)`` for each scalar parent ``p`` of the step.

    A sum is linear, so only its terms holding ``p`` are differentiated; they are found in
    one pass, and a sum of n terms costs O(n) rather than O(n) for each of its n parents.
    """
    parents = [p for p in s.parents if not is_matrix_edge(s, p)]
    if s.expr.is_Add and len(s.expr.args) > 2:
        holding: dict[Basic, list[Basic]] = {p: [] for p in parents}
        for a in s.expr.args:
            for p in a.free_symbols & holding.keys():
                holding[p].append(a)
        parts = {p: sympy.Add(*terms) for p, terms in holding.items()}
    else:
        parts = dict.fromkeys(parents, s.expr)
    for p in parents:
        yield (s.name, p), local_partial(parts[p], p)


def is_matrix_edge(step: Step, parent: Basic) -> bool:
    """An edge where the child or the parent is a matrix (it carries a linear map)."""
    return isinstance(step.name, MatrixSymbol) or isinstance(parent, MatrixSymbol)


def _is_leaf(e: Basic) -> bool:
    """Symbols, numbers, matrix symbols and constants, and function bodies (``Lambda``)."""
    return e.is_Atom or isinstance(e, MatrixSymbol | Identity | ZeroMatrix | OneMatrix | Lambda)


def _is_structure(e: Basic) -> bool:
    """Conditions and containers are written inside a step, never steps themselves."""
    return isinstance(e, Boolean | Relational | ExprCondPair | sympy.Tuple)


class _Builder:
    """Hash-consing: one step per distinct subexpression, named as it is created."""

    def __init__(self, prefix: str, taken: set[str]):
        self.steps: list[Step] = []
        self.memo: dict[Basic, Symbol] = {}
        self.nodes: set[Symbol] = set()
        self.prefix, self.taken = prefix, taken
        self.generated = 0

    def value(self, e: Basic) -> Expr:
        """A node symbol (or an atom) standing for ``e``, making steps as needed."""
        if _is_leaf(e) or (isinstance(e, Expr) and e.is_number):  # constants fold in
            return e
        if e not in self.memo:
            self.memo[e] = self.add(self.form(e))
        return self.memo[e]

    def form(self, e: Basic) -> Expr:
        """``e`` as one step: its operation applied to nodes and folded arguments.

        Arguments are visited in the order SymPy prints them, so steps are numbered
        as the formula reads (``exp(a) - sin(b)`` gives ``t1 = exp(a)``, ``f = t1 - t2``).
        """
        args = e.args
        # the print order only matters when two or more arguments make new steps; it is
        # costly to find (sort keys of whole subtrees), so it is skipped otherwise
        new = sum(1 for a in args if not _is_leaf(a) and a not in self.memo)
        order, known = (_print_order(e) if new > 1 else args), set(args)
        done = {a: self.argument(a, e) for a in order if a in known}
        formed = [done[a] if a in done else self.argument(a, e) for a in args]
        if all(f is a for f, a in zip(formed, args, strict=True)):
            return e  # nothing to replace: SymPy need not rebuild (and re-evaluate) it
        return e.func(*formed)

    def argument(self, a: Basic, parent: Basic) -> Basic:
        if _is_leaf(a):
            return a
        if _is_structure(a):
            return self.form(a)
        if isinstance(a, MatMul):  # SymPy calls a MatMul is_Mul too: test it first
            if a.args[0].is_Number:
                return MatMul(a.args[0], self.argument(MatMul(*a.args[1:]).doit(), a))
            return self.value(a)
        if a.is_Mul and a.args[0].is_number:  # a coefficient (2, -1, π) folds
            constant, rest = a.as_independent(*a.free_symbols, as_Add=False)
            return constant * self.value(rest)
        if isinstance(a, Transpose):  # so does a transpose: t1 = Wᵀ x
            return Transpose(self.value(a.arg))
        if parent.is_Mul and a.is_Pow and a.exp == -1:  # division folds
            return 1 / self.value(a.base)
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
            return self.add(self.memo.get(rhs, rhs), name)
        self.memo[rhs] = self.add(self.form(rhs), name)
        return self.memo[rhs]

    def start(self, inputs: Iterable[Symbol]) -> None:
        self._rank = {x: i for i, x in enumerate(inputs)}
        self.nodes.update(self._rank)


def _as_real(e: Basic) -> Expr:
    """Give every free symbol the real assumption (so d|x|/dx = sign(x))."""
    if not isinstance(e, Expr | MatrixExpr):
        raise ParseError(f"expected a scalar expression, got {type(e).__name__}: {e}")
    if e.has(sympy.I):
        raise ParseError(f"complex numbers are not supported: {e}")
    plain = [s for s in e.free_symbols if isinstance(s, Symbol) and not s.is_real]
    return e.xreplace({s: Symbol(s.name, real=True) for s in plain})


def _lines(
    source: Source, shapes: Mapping | None = None
) -> tuple[list[tuple[Symbol | None, Expr]], list[Symbol] | None]:
    """Normalise a source into (name, rhs) lines; names None are outputs to be named."""
    if isinstance(source, str):
        source = parse(source, shapes)
    if isinstance(source, Program):
        return list(source.lines), [source.output]
    if isinstance(source, sympy.MatrixBase):  # explicit entries: one output each, f_ij
        cells = product(range(source.rows), range(source.cols))
        names = [Symbol(naming.entry_name("f", i, j), real=True) for i, j in cells]
        return list(zip(names, map(_as_real, source), strict=True)), None
    if isinstance(source, Basic):
        return [(None, _as_real(source))], None
    if isinstance(source, Mapping):
        return [(Symbol(str(k), real=True), _expr(v, shapes)) for k, v in source.items()], None
    if isinstance(source, Sequence) and len(source) > 0:
        return [(None, _expr(v, shapes)) for v in source], None
    raise ParseError(f"cannot make a graph from {type(source).__name__}: {source!r}")


def _expr(v, shapes: Mapping | None = None) -> Expr:
    return parse_expr_text(v, shapes) if isinstance(v, str) else _as_real(v)


def build(source: Source, shapes: Mapping | None = None) -> Graph:
    """Decompose ``source`` into a :class:`Graph` (see :func:`graph`)."""
    lines, program_outputs = _lines(source, shapes)
    defined = {name for name, _ in lines if name is not None}
    used = set().union(*(rhs.free_symbols for _, rhs in lines))
    inputs = tuple(sorted(used - defined, key=naming.natural_key))
    taken = {s.name for s in used | defined}
    names = iter(naming.output_names(sum(n is None for n, _ in lines), taken))
    lines = [(name or next(names), rhs) for name, rhs in lines]
    builder = _Builder(
        naming.step_prefix(x.name for x in inputs), taken | {n.name for n, _ in lines}
    )
    builder.start(inputs)
    made = {name.name: builder.line(name, rhs) for name, rhs in lines}
    outputs = [made[o.name] for o in program_outputs] if program_outputs else made.values()
    return Graph(inputs, tuple(builder.steps), tuple(outputs))


def graph(source: Source, shapes: Mapping | None = None) -> Graph:
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
    >>> print(graph("sum(sigmoid(W*x + b))", shapes={"W": (3, 2), "x": (2, 1), "b": (3, 1)}))
    t1 = W*x
    t2 = b + t1
    t3 = sigmoid(t2)
    f = sum(t3)
    """
    return build(source, shapes)
