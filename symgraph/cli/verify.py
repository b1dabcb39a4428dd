"""``symgraph check`` and ``symgraph fd``: claims and finite differences, matrices too.

``check --derivation FILE`` checks a whole derivation, a line per step (a ``.tex`` file is
LaTeX: ``align*`` rows, ``\\\\`` breaks; ``.md`` its math; ``.txt`` plain lines; ``-`` stdin)
with :func:`symgraph.check_derivation`: a verdict a line, exit 1 when one is not right.

A matrix input takes ``--shapes`` and a matrix ``--at`` as ``grad`` does; a claim for a
matrix is a formula in the graph's shapes (``--claim "W=tbar_2*x.T"``) or numbers
(``--claim "W=[[0.1,0.2],[0.3,0.4],[0.5,0.6]]"``, a flat list for a column). In
``--json`` output arrays are nested lists, one list a row.
"""

from __future__ import annotations

import sympy

import symgraph as sg

from ..printing import text
from .common import Result, _graph, _point
from .io import UsageError, _assignment, number, read_file, source
from .points import _json, _nested


def _shown(value):
    """A claim or a derivative for JSON: an expression as text, numbers as they are."""
    if isinstance(value, sympy.Basic):
        return text(value)
    return value if isinstance(value, float) or hasattr(value, "tolist") else str(value)


def _result(r) -> dict:
    data = {"name": r.name, "ok": r.ok, "verdict": r.verdict, "claim": _shown(r.claim),
            "correct": _shown(r.correct), "departure": r.departure}  # fmt: skip
    if r.counterexample is not None:
        at, claimed, correct = r.counterexample
        data["counterexample"] = {"at": dict(at), "claimed": claimed, "correct": correct}
    return data


def _claims(items: list[str] | None) -> dict[str, object]:
    """``--claim x=2*x`` (a formula), ``--claim u1=47.3`` (a number) or, for a matrix,
    ``--claim "W=[[1,2],[3,4]]"`` (its numbers, a flat list for a column), one per node;
    ``NAME: VALUE`` is read as ``NAME=VALUE``."""
    if not items:
        raise UsageError('check needs at least one --claim, e.g. --claim "x=2*x"')
    out: dict[str, object] = {}
    for item in items:
        colon, eq = item.find(":"), item.find("=")
        if colon >= 0 and (eq < 0 or colon < eq):  # "W: tbar_2*x.T", as on the board
            item = item[:colon] + "=" + item[colon + 1 :]
        name, value = _assignment(item, "--claim wants NAME=FORMULA or NAME=NUMBER")
        if name in out:
            raise UsageError(f"two claims for {name}: give one --claim a node")
        if value.startswith("["):  # numbers for a matrix: JSON, never eval
            out[name] = _nested(_json(value, f"--claim {name}"), f"--claim {name}")
            continue
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = value  # a formula, parsed by check
        else:
            out[name] = number(value, f"--claim {name}")
    return out


def _scalar_output(g: sg.Graph, command: str, output: str | None) -> None:
    """The output to differentiate: ``--output`` (one of several) or the only one; the
    command line has no seed, so a matrix-valued output must be reduced in the formula."""
    if output is not None and len(g.outputs) == 1:
        raise UsageError(
            f"--output picks one of several outputs; this function has one, {g.outputs[0]}: "
            "drop --output"
        )
    if output is None and len(g.outputs) > 1:
        names = ", ".join(map(str, g.outputs))
        raise UsageError(
            f"this function has {len(g.outputs)} outputs ({names}): pick one with --output NAME"
        )
    for o in [g.symbol(output)] if output is not None else g.outputs:
        shape = getattr(o, "shape", None)
        if shape:
            raise UsageError(
                f"{o} is a {shape[0]}×{shape[1]} matrix: {command} differentiates a scalar; "
                f"reduce it in the formula, e.g. sum(...), or weight it: sum(hadamard(Y, ...)) "
                f"with Y={shape[0]}x{shape[1]} in --shapes and its entries in --at"
            )


def cmd_derivation(args) -> Result:
    """``check FORMULA --derivation FILE``: the derivation's lines, judged."""
    if args.claim:
        raise UsageError("give --claim or --derivation, not both")
    if args.expr == "-" and args.derivation == "-":
        raise UsageError("only one of FORMULA and --derivation can be '-' (stdin)")
    if args.mode not in (None, "reverse"):
        raise UsageError("--derivation takes its tangents' seed from its own lines: drop --mode")
    path = args.derivation
    text = source("-") if path == "-" else read_file(path)
    latex = True if path.endswith(".tex") else None  # .md, .txt, stdin: told by the lines
    g = _graph(args)
    _scalar_output(g, "check", args.output)
    report = sg.check_derivation(
        g, text, at=_point(args, g), latex=latex or (True if args.latex else None),
        tol=args.tol, rtol=args.rtol, seed=args.output,
    )  # fmt: skip
    return Result(report.as_dict(), str(report))


def cmd_check(args) -> Result:
    if getattr(args, "derivation", None) is not None:
        if args.tol is not None and args.rtol is not None:
            raise UsageError("give --tol (absolute) or --rtol (relative), not both")
        return cmd_derivation(args)
    if args.tol is not None and args.rtol is not None:
        raise UsageError("give --tol (absolute) or --rtol (relative), not both")
    if (args.tol is not None or args.rtol is not None) and args.at is None:
        raise UsageError("--tol and --rtol judge numbers claimed at a point: give --at too")
    tolerance = {"tol": args.tol} if args.tol is not None else {}
    claims = _claims(args.claim)
    g = _graph(args)
    _scalar_output(g, "check", args.output)
    if args.at is None and any(hasattr(v, "shape") for v in claims.values()):
        raise UsageError("numbers claimed for a matrix hold at a point: give --at too")
    report = sg.check(
        g, claims, at=_point(args, g), rtol=args.rtol, mode=args.mode or "reverse",
        seed=args.output, **tolerance,
    )  # fmt: skip
    results = [_result(r) for r in report.results]
    return Result({"ok": report.ok, "results": results}, str(report))


def cmd_fd(args) -> Result:
    if args.at is None:
        raise UsageError("fd needs a point: --at name=value,...")
    if args.sweep and args.h is not None:
        raise UsageError("--sweep tries every h from 1e-1 to 1e-12: drop --h, or drop --sweep")
    g = _graph(args)
    _scalar_output(g, "fd", args.output)
    point = _point(args, g)
    options = {"scheme": args.scheme, "wrt": args.wrt}
    options.update({"output": args.output} if args.output is not None else {})
    if args.sweep:
        sweep = sg.finite_difference_sweep(g, point, **options)
        data = {"order": dict(sweep.order), "floor": dict(sweep.floor), "hs": sweep.hs,
                "errors": dict(sweep.errors), "worst": dict(sweep.worst)}  # fmt: skip
        return Result(data, str(sweep))
    fd = sg.finite_difference(g, point, h=1e-2 if args.h is None else args.h, **options)
    data = {
        "scheme": fd.scheme,
        "h": fd.h,
        "estimates": dict(fd.estimates),
        "exact": dict(fd.exact),
        "abs_error": dict(fd.abs_error),
        "rel_error": dict(fd.rel_error),
        "worst": dict(fd.worst),
    }
    return Result(data, str(fd))
