r"""Values, tangents and local partials in a derivation (:mod:`symgraph.verify.derivation`).

A value line ``t_3 = ...`` names a step by the graph's name or by a name of one's own,
matched to the node of that value (:func:`_match`); a tangent ``\dot t_3 = ...`` is
judged against the forward sweep the lines seed; a local partial ``∂t_4/∂t_3`` against
its edge. Each is compared at the samples :func:`symgraph.check` draws, with the
person's wrong values standing in for the nodes they got wrong, so that a line right
*given* them follows from their line; a wrong one names its slip where it can (a sign,
a factor, a missing term).
"""

from __future__ import annotations

from typing import NamedTuple

from sympy import Add, Basic, Symbol, count_ops

from .. import naming
from ..closed import ClosedFormTooLarge
from ..lazynp import np as numpy
from .claims import Misfit, parse_claim
from .derivation_judge import (
    Part,
    _cheap,
    _needs_point,
    _node,
    _same,
    _tolerance,
    _typeset,
    _unknown,
    _unread,
    _verdict,
)
from .derivation_report import LineVerdict
from .sampling import _real
from .state import MIN_AGREEING, _matches
from .verdicts import Counterexample, proven_equal

_ABBREVIATION = (
    "a name of your own: no node of the graph has this value; later lines use it as written"
)
_RESERVED = {"e", "pi", "exp", "log", "sin", "cos", "tan", "sigmoid", "sum", "max", "min"}


class Spec(NamedTuple):
    """What a value, a tangent or a local partial is judged against."""

    key: str | None  # the name its wrong values go under (t3, tdot_3); None: not kept
    exact: numpy.ndarray  # the right values at the samples
    board: Basic  # the right form in step names
    closed: Basic | None  # the right form in the inputs, if known
    given: Basic | None  # the right form over the person's values: right given them


# ---------------------------------------------------------------- values, tangents, partials


def _at(ctx, seen, expr) -> numpy.ndarray:
    """``expr`` at the samples, the person's wrong values standing in for the right ones."""
    out = []
    for i, env in enumerate(ctx.envs):
        local = {**env, **{k: v[i] for k, v in seen.wrong.items()}}
        out.append(_real(expr, local))
    return numpy.array(out)


def _per_sample(mask) -> numpy.ndarray:
    return mask.reshape(len(mask), -1).all(axis=1)


def judge_values(ctx, seen, p, spec: Spec, expr, raw: str) -> tuple[Part, object]:
    """A value, tangent or local partial: at the point (a number) or at every sample."""
    if (unread := _needs_point(ctx, raw)) is not None:
        return unread, seen
    if isinstance(expr, Misfit):
        return Part("wrong", spec.board, "shapes", reason=expr.message), seen
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in ctx.envs[0])
    if unknown:
        return Part("not_understood", reason=_unknown(ctx, seen, unknown[0])), seen
    claimed = _at(ctx, seen, expr)
    if ctx.st.at is not None and expr.is_Number:
        q, v = float(expr), float(spec.exact[0])
        if abs(q - v) <= _tolerance(ctx, raw, v):
            return Part("right"), seen
        bad = numpy.array([True] + [False] * (len(spec.exact) - 1))
    else:
        finite = _per_sample(numpy.isfinite(claimed))
        bad = finite & ~_per_sample(_same(claimed, spec.exact) | ~numpy.isfinite(spec.exact))
        if not bad.any():  # a right formula replaces a wrong one of the same name
            wrong = {k: v for k, v in seen.wrong.items() if k != spec.key}
            lines = {k: v for k, v in seen.lines.items() if k != spec.key}
            return _right(ctx, spec, expr, int(finite.sum())), seen._replace(
                wrong=wrong, lines=lines
            )
    i = int(numpy.flatnonzero(bad)[0])
    slip, follows, note = _value_slip(ctx, seen, spec, expr, claimed, bad)
    if spec.key is not None:
        mine = claimed if not expr.is_Number else numpy.full(len(claimed), numpy.nan)
        if expr.is_Number:
            mine[0] = float(expr)
        seen = seen._replace(wrong={**seen.wrong, spec.key: mine},
                             lines={**seen.lines, spec.key: p.line_no})  # fmt: skip
    counter = Counterexample(ctx.st.samples[i].point, claimed[i], spec.exact[i])
    should = float(spec.exact[0]) if expr.is_Number else spec.board
    return Part("wrong", should, slip, counter, follows, note or "wrong"), seen


def _right(ctx, spec: Spec, expr, n: int) -> Part:
    inputs = _expanded(ctx, expr)
    if _cheap(expr, spec.board) or _cheap(inputs, spec.closed):
        return Part("right")
    if not getattr(expr, "shape", None) and (
        proven_equal(inputs, spec.closed) or proven_equal(expr, spec.board)
    ):
        return Part("right_other_form", reason="equal to it, symbolically")
    if n >= MIN_AGREEING:
        return Part("right_other_form", reason=f"agrees numerically at {n} points, not proven")
    return Part("not_understood", reason=f"undecided: not proven, defined at only {n} points")


def _expanded(ctx, expr):
    """``expr`` in the inputs: tangent names (``tdot_3``) by their tangents, step names
    by their expressions; None if that cannot be done."""
    g = ctx.st.g
    try:
        if ctx.tangents is not None:
            dots = {naming.dot(n): t for n, t in ctx.tangents.items()}
            for _ in range(len(g.order)):  # a tangent is in its parents' tangents
                if not expr.free_symbols & set(dots):
                    break
                expr = expr.xreplace(dots)
        return expr.xreplace({s: g.expand(s) for s in expr.free_symbols if s.name in g._names})
    except (ValueError, TypeError):
        return None


def _value_slip(ctx, seen, spec: Spec, expr, claimed, bad) -> tuple:
    """(the slip, the line it follows from, a note) of a wrong value."""
    mask = numpy.flatnonzero(bad)
    pick = lambda a: a[mask]  # noqa: E731 - judged where the line is wrong
    same = lambda a, b: _matches(pick(a), pick(b), _same)  # noqa: E731
    used = [k for k in seen.wrong if spec.given is not None and k in _names(spec.given)]
    if used and same(claimed, _at(ctx, seen, spec.given)):
        follows = min(seen.lines[k] for k in used)
        return None, follows, f"right given your {', '.join(used)} (line {follows}), which is wrong"
    if same(claimed, -spec.exact):
        return "sign", None, "the sign is wrong"
    with numpy.errstate(all="ignore"):
        ratio = pick(claimed) / pick(spec.exact)
    ratio = numpy.unique(numpy.round(ratio[numpy.isfinite(ratio)], 9))
    if ratio.size == 1 and ratio[0] not in (0, 1) and len(mask) > 1:
        return f"factor {ratio[0]:g}", None, f"off by a constant factor {ratio[0]:g}"
    return _term_slip(ctx, seen, spec, expr, claimed, same)


def _term_slip(ctx, seen, spec: Spec, expr, claimed, same) -> tuple:
    """A sum with one term left out, or one term wrong and the others right."""
    if not isinstance(spec.board, Add):
        return None, None, None
    mine = Add.make_args(expr) if isinstance(expr, Add) else ()
    for term in spec.board.args:
        rest = spec.exact - _at(ctx, seen._replace(wrong={}), term)
        if same(claimed, rest):
            return "missing term", None, f"missing the term {term}"
        for c in mine:
            if same(claimed - _at(ctx, seen, c), rest):
                return "wrong term", None, f"the term {term} is wrong: {c} in its place"
    return None, None, None


def _names(expr) -> set[str]:
    return {s.name for s in expr.free_symbols}


def _values_line(ctx, seen, p, name: str, rhs, raws) -> tuple[LineVerdict, object]:
    """``name = ...``: a step by its name, or a name of one's own matched by value."""
    g = ctx.st.g
    if name in _RESERVED:
        return _unread(p, f"{name} is a constant or a function, not a name to define"), seen
    node, parts, note = _node(ctx, seen, name), [], ""
    first = name not in seen.lines and name not in seen.names  # not defined before
    for text, raw in zip(rhs, raws, strict=True):
        expr = parse_claim(name, text, ctx.shapes)
        if node is None and not isinstance(expr, Misfit):
            node, note = _match(ctx, seen, expr)
            note = f"your {name} {note}" if note.startswith("is ") else note
            if node is None:  # no node has this value: an abbreviation
                seen = seen._replace(abbrev={**seen.abbrev, name: text})
                reason = _ABBREVIATION
                return LineVerdict(True, "right", p.line_no, p.text, name, reason=reason,
                                   read=_typeset(ctx, p)), seen  # fmt: skip
            seen = seen._replace(names={**seen.names, name: node})
        if node is None:
            return _unread(p, expr.message), seen
        if node in g.inputs and ctx.st.at is None and getattr(expr, "is_Number", False):
            return _unread(p, f"{node} = {raw.strip()} is a point: give it as at="), seen
        part, seen = judge_values(ctx, seen, p, _value_spec(ctx, node), expr, raw)
        if part.kind == "wrong" and name in g._names and not note and first:
            part, seen = _renumbered(ctx, seen, p, name, node, expr, part)
            node, first = seen.names.get(name, node), False
        parts.append(part._replace(reason="; ".join(filter(None, [note, part.reason]))))
    if node is not None and name not in seen.names:  # the graph's name, now the person's
        seen = seen._replace(names={**seen.names, name: node})
    return _verdict(ctx, p, "value", seen.names.get(name, node), parts), seen


def _value_spec(ctx, node: Symbol) -> Spec:
    g = ctx.st.g
    exact = numpy.array([s.values[node] for s in ctx.st.samples], dtype=float)
    if node in g.inputs:
        return Spec(node.name, exact, node, node, None)
    board = g.step[node].expr
    return Spec(node.name, exact, board, _closed(g, node), board)


def _fits(a, b) -> bool:
    return numpy.shape(a) == numpy.shape(b)


def _match(ctx, seen, expr) -> tuple[Symbol | None, str]:
    """The node a name of one's own stands for: by value, by value given the person's
    wrong ones, or by the same operation on the same inputs; None if none."""
    g, bound = ctx.st.g, set(seen.names.values())
    ranked = sorted(g.order, key=lambda n: (n in bound, n in g.inputs, g.order[n]))
    claimed = _at(ctx, seen, expr)
    for n in ranked:
        spec = _value_spec(ctx, n)
        if _fits(claimed, spec.exact) and _matches(claimed, spec.exact, _same):
            return n, "" if n in g.inputs else f"is {n} = {g.step[n].expr}"
        fits = spec.given is not None and _fits(claimed, spec.exact) and seen.wrong
        if fits and _matches(claimed, _at(ctx, seen, spec.given), _same):
            return n, ""
    inputs = _expanded(ctx, expr)
    if inputs is None or getattr(expr, "shape", None):
        return None, ""
    alike = [
        n for n in ranked if n not in g.inputs and n not in bound and _alike(_closed(g, n), inputs)
    ]
    if not alike:
        return None, ""
    n = min(alike, key=lambda n: abs(count_ops(g.expand(n)) - count_ops(inputs)))
    return n, f"read as {n} = {g.step[n].expr} (the same operation on the same inputs)"


def _alike(a, b) -> bool:
    """The same operation on the same inputs."""
    return a is not None and type(a) is type(b) and a.free_symbols == b.free_symbols


def _closed(g, node: Symbol):
    """The node's expression in the inputs; None if too large to write out."""
    try:
        return g.expand(node)
    except ClosedFormTooLarge:
        return None


def _renumbered(ctx, seen, p, name, node, expr, part) -> tuple[Part, object]:
    """A step named by the graph's name but numbered otherwise: the node of that value."""
    other, note = _match(
        ctx, seen._replace(names={k: v for k, v in seen.names.items() if k != name}), expr
    )
    taken = {v for k, v in seen.names.items() if k != name}  # nodes the person named already
    g = ctx.st.g
    steps = any(s in g.order and s not in g.inputs for s in expr.free_symbols)
    if not steps:  # in the inputs alone it may as well be a slip: only a Wengert list renumbers
        return part, seen
    if other is None or other == node or other in taken or not note.startswith("is "):
        return part, seen
    wrong = {k: v for k, v in seen.wrong.items() if k != node.name}
    lines = {k: v for k, v in seen.lines.items() if k != node.name}
    seen = seen._replace(names={**seen.names, name: other}, wrong=wrong, lines=lines)
    return Part(
        "right", reason=f"your {name} is the graph's {other} = {ctx.st.g.step[other].expr}"
    ), seen


def _tangent_line(ctx, seen, p, node: Symbol, rhs, raws) -> tuple[LineVerdict, object]:
    if ctx.tangents is None:
        reason = ("tangents need the seed: lines \\dot u_1 = 1 and \\dot u_2 = 0, say "
                  "(scalar inputs)")  # fmt: skip
        return _unread(p, reason), seen
    key = naming.dot(node).name
    exact = numpy.array([env[key] for env in ctx.envs], dtype=float)
    board = ctx.tangents[node]
    spec = Spec(key, exact, board, _expanded(ctx, board), board)
    return _judged_line(ctx, seen, p, "tangent", node, spec, rhs, raws)


def _local_line(ctx, seen, p, child: Symbol, x: Symbol, rhs, raws) -> tuple[LineVerdict, object]:
    """``∂t4/∂t3``: the local partial of a step by one of its arguments."""
    edge = [d for c, d in ctx.st.rv.terms[x] if c == child]
    if not edge or getattr(edge[0], "shape", None):
        reason = (
            f"{child} is not computed from {x} directly (a local partial ∂{child}/∂{x} is asked)"
        )
        return _unread(p, reason), seen
    exact = _at(ctx, seen._replace(wrong={}), edge[0])
    spec = Spec(None, exact, edge[0], _expanded(ctx, edge[0]), None)
    verdict, seen = _judged_line(ctx, seen, p, "value", child, spec, rhs, raws)
    return verdict.__class__(**{**verdict.__dict__, "about": f"∂{child}/∂{x}"}), seen


def _judged_line(ctx, seen, p, kind, node, spec, rhs, raws) -> tuple[LineVerdict, object]:
    parts = []
    for text, raw in zip(rhs, raws, strict=True):
        expr = parse_claim(node.name, text, ctx.shapes)
        part, seen = judge_values(ctx, seen, p, spec, expr, raw)
        parts.append(part)
    return _verdict(ctx, p, kind, node, parts), seen
