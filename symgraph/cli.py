"""The command line: arguments in, facade calls, output out; no math here.

Each command turns its arguments into calls of the public API and returns a
``(data, text)`` pair: ``--json`` prints the data, otherwise the text is printed.
Bad input of any kind exits with status 2 and one line on stderr; ``check`` exits
with status 1 when a claim is wrong, so scripts can rely on it.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import symgraph as sg

from .evaluate import CONVENTIONS

EXAMPLES = """examples:
  symgraph grad "(x + y)*(y + 1)"
  symgraph grad "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))" --at u1=1,u2=-1
  symgraph grad "u1*u2 + max(u1, u2)" --at u1=1,u2=1 --kink first --json
  symgraph grad "sum(sigmoid(W*x + b))" --shapes W=3x2,x=2x1,b=3x1
  symgraph check "x**2*sin(x)" --claim "x=2*x*sin(x) + x**2*cos(x)"
  symgraph check "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))" \\
      --claim u1=47.3 --claim u2=4.71 --at u1=1,u2=-1 --tol 0.01
  symgraph fd "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))" --at u1=1,u2=-1 --sweep
  symgraph graph "(x + y)*(y + 1)" --at x=1,y=2 --png graph.png
  symgraph latex "(x + y)*(y + 1)" --at x=1,y=2 --standalone -o steps.tex
  printf 't1 = exp(u1)\\nt2 = exp(2*u2)\\nt3 = t1 + t2\\nf = exp(t3) + sigmoid(t3)' \\
      | symgraph grad - --at u1=1,u2=-1

EXPR is a formula or a program (one `name = expr` a line), '-' for standard input,
or @FILE to read a file.
"""


class UsageError(ValueError):
    """Bad command-line input."""


# ---------------------------------------------------------------- reading arguments


def _pairs(text: str | None, option: str) -> list[tuple[str, str]]:
    """``a=1,b=2`` -> [("a", "1"), ("b", "2")]."""
    pairs = []
    for item in (text or "").split(","):
        name, eq, value = item.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise UsageError(f"{option} wants name=value pairs separated by commas, not {item!r}")
        pairs.append((name.strip(), value.strip()))
    return pairs


def _point(text: str | None) -> dict[str, float] | None:
    """``u1=1,u2=-1`` -> {"u1": 1.0, "u2": -1.0}."""
    if not text:
        return None
    point = {}
    for name, value in _pairs(text, "--at"):
        try:
            point[name] = float(value)
        except ValueError:
            raise UsageError(f"--at: {value!r} is not a number (for {name})") from None
    return point


def _shapes(text: str | None) -> dict[str, tuple[int, int]] | None:
    """``W=3x2,x=2x1`` -> {"W": (3, 2), "x": (2, 1)}."""
    if not text:
        return None
    shapes = {}
    for name, value in _pairs(text, "--shapes"):
        rows, x, cols = value.lower().partition("x")
        if not (x and rows.isdigit() and cols.isdigit()):
            raise UsageError(
                f"--shapes: write a shape as ROWSxCOLS, e.g. {name}=3x2, not {value!r}"
            )
        shapes[name] = (int(rows), int(cols))
    return shapes


def _claims(items: list[str] | None) -> dict[str, object]:
    """``--claim x=2*x`` (a formula) or ``--claim u1=47.3`` (a number)."""
    if not items:
        raise UsageError('check needs at least one --claim, e.g. --claim "x=2*x"')
    claims: dict[str, object] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise UsageError(f"--claim wants NAME=FORMULA or NAME=NUMBER, not {item!r}")
        try:
            claims[name.strip()] = float(value)
        except ValueError:
            claims[name.strip()] = value.strip()
    return claims


def _source(text: str) -> str:
    """The expression: the argument itself, '-' for stdin, or @FILE."""
    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_text(encoding="utf-8")
        except OSError as err:
            raise UsageError(f"cannot read {text[1:]}: {err.strerror}") from None
    return text


def _graph(args) -> sg.Graph:
    shapes = _shapes(args.shapes)
    source = _source(args.expr)
    return sg.graph(source, shapes=shapes) if shapes else sg.graph(source)


def _sweep(args, g: sg.Graph):
    """The forward or reverse sweep the arguments ask for."""
    if args.mode == "forward":
        wrt = args.wrt or (g.inputs[0].name if len(g.inputs) == 1 else None)
        if wrt is None:
            names = ", ".join(x.name for x in g.inputs)
            raise UsageError(f"forward mode needs --wrt NAME, the input to seed (one of {names})")
        return g.forward(wrt)
    return g.reverse(args.output)


def _quietly(call, *args, **kwargs):
    """Run ``call`` with kink warnings silenced: the output lists the kinks itself."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.KinkWarning)
        return call(*args, **kwargs)


def _numbers(values: dict) -> dict[str, object]:
    return {str(k): v.tolist() if hasattr(v, "tolist") else v for k, v in values.items()}


# ---------------------------------------------------------------- commands


def cmd_grad(args) -> tuple[dict, str]:
    g = _graph(args)
    sweep = _sweep(args, g)
    closed = sweep.gradient if args.mode == "reverse" else sweep.derivative
    data: dict = {
        "steps": [str(s) for s in g.steps],
        "mode": args.mode,
        "sweep": [f"{n} = {e}" for n, e in sweep.steps],
        "closed_form": {str(k): str(v) for k, v in closed.items()},
    }
    lines = ["steps:", *(f"  {s}" for s in data["steps"]), f"{args.mode} sweep:"]
    lines += [f"  {s}" for s in data["sweep"]]
    label = "d/d{}" if args.mode == "reverse" else "{}'"
    lines += [
        "closed form:",
        *(f"  {label.format(k)} = {v}" for k, v in data["closed_form"].items()),
    ]
    point = _point(args.at)
    if point is not None:
        ev = _quietly(sweep.evaluate, point, kink=args.kink)
        numbers = ev.gradient if args.mode == "reverse" else ev.derivative
        data.update(values=_numbers(ev.values), at=_numbers(numbers), kink_convention=args.kink)
        data["kinks"] = [str(k) for k in ev.kinks]
        lines += ["at the point:", *(f"  {k}: {_fmt(v)}" for k, v in data["at"].items())]
        lines += [f"  kink: {k}" for k in data["kinks"]]
    return data, "\n".join(lines)


def cmd_check(args) -> tuple[dict, str]:
    report = sg.check(
        _graph(args), _claims(args.claim), at=_point(args.at), tol=args.tol, rtol=args.rtol
    )
    results = [
        {"name": r.name, "ok": r.ok, "verdict": r.verdict, "correct": str(r.correct),
         "departure": r.departure}
        for r in report.results
    ]  # fmt: skip
    return {"ok": report.ok, "results": results}, str(report)


def cmd_fd(args) -> tuple[dict, str]:
    point = _point(args.at)
    if point is None:
        raise UsageError("fd needs a point: --at name=value,...")
    g = _graph(args)
    if args.sweep:
        sweep = sg.finite_difference_sweep(g, point, scheme=args.scheme, wrt=args.wrt)
        return {"order": _numbers(sweep.order), "floor": _numbers(sweep.floor)}, str(sweep)
    fd = sg.finite_difference(g, point, h=args.h, scheme=args.scheme, wrt=args.wrt)
    data = {
        "scheme": fd.scheme,
        "h": fd.h,
        "estimates": _numbers(fd.estimates),
        "exact": _numbers(fd.exact),
        "abs_error": _numbers(fd.abs_error),
        "rel_error": _numbers(fd.rel_error),
    }
    return data, str(fd)


def cmd_graph(args) -> tuple[dict, str]:
    g = _graph(args)
    obj = g if args.mode == "none" else _sweep(args, g)
    point = _point(args.at)
    dot = _quietly(sg.to_dot, obj, at=point, kink=args.kink)
    written = []
    for path, fmt in ((args.png, "png"), (args.svg, "svg"), (args.pdf, "pdf")):
        if path:
            written.append(str(sg.render(dot, path, format=fmt)))
    data = json.loads(_quietly(sg.to_json, obj, at=point, kink=args.kink))
    text = dot if args.dot else str(g)
    return {**data, "written": written}, text + "".join(f"\nwrote {p}" for p in written)


def cmd_latex(args) -> tuple[dict, str]:
    g = _graph(args)
    obj = g if args.mode == "none" else _sweep(args, g)
    tex = _quietly(sg.to_latex, obj, at=_point(args.at), standalone=args.standalone, kink=args.kink)
    if args.out:
        Path(args.out).write_text(tex, encoding="utf-8")
        return {"latex": tex, "written": args.out}, f"wrote {args.out}"
    return {"latex": tex}, tex


def _fmt(v) -> str:
    return f"{v:.10g}" if isinstance(v, float) else str(v)


# ---------------------------------------------------------------- the parser


def _common(p: argparse.ArgumentParser, modes=("reverse", "forward")) -> None:
    p.add_argument("expr", help="a formula or program; '-' reads stdin, @FILE reads a file")
    p.add_argument("--at", help="a point, e.g. u1=1,u2=-1")
    p.add_argument("--mode", choices=modes, default="reverse")
    p.add_argument("--wrt", help="the input to seed in forward mode (or to differentiate)")
    p.add_argument("--output", help="the output to seed in reverse mode (vector functions)")
    p.add_argument("--shapes", help="matrix inputs, e.g. W=3x2,x=2x1")
    p.add_argument("--kink", choices=tuple(CONVENTIONS), default="split")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="symgraph",
        description="Computation graphs and their derivatives, step by step.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"symgraph {sg.__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    grad = sub.add_parser("grad", help="derivatives, step by step and in closed form")
    _common(grad)
    check = sub.add_parser("check", help="check your own derivatives, formulas or numbers")
    _common(check)
    check.add_argument("--claim", action="append", help="NAME=FORMULA or NAME=NUMBER (repeat)")
    check.add_argument("--tol", type=float, default=1e-6, help="absolute tolerance for numbers")
    check.add_argument("--rtol", type=float, help="relative tolerance for numbers")
    fd = sub.add_parser("fd", help="finite differences against the exact derivative")
    _common(fd)
    fd.add_argument("--h", type=float, default=1e-2, help="the step (default 0.01)")
    fd.add_argument("--scheme", choices=("forward", "backward", "central"), default="forward")
    fd.add_argument("--sweep", action="store_true", help="h = 1e-1 ... 1e-12: order and floor")
    graph = sub.add_parser("graph", help="the graph: steps, DOT, or a picture (Graphviz)")
    _common(graph, modes=("reverse", "forward", "none"))
    graph.add_argument("--dot", action="store_true", help="print Graphviz DOT")
    graph.add_argument("--png", help="render a PNG to this file")
    graph.add_argument("--svg", help="render an SVG to this file")
    graph.add_argument("--pdf", help="render a PDF to this file")
    latex = sub.add_parser("latex", help="LaTeX of every step")
    _common(latex, modes=("reverse", "forward", "none"))
    latex.add_argument("--standalone", action="store_true", help="a document for pdflatex")
    latex.add_argument("-o", "--out", help="write to this file")
    for p, run in ((grad, cmd_grad), (check, cmd_check), (fd, cmd_fd), (graph, cmd_graph),
                   (latex, cmd_latex)):  # fmt: skip
        p.set_defaults(run=run)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the CLI: 0 on success, 1 when ``check`` finds a wrong claim, 2 on bad input."""
    args = parser().parse_args(argv)
    try:
        data, text = args.run(args)
    except ValueError as err:
        message = " ".join(str(err).split())  # one line, whatever the error held
        print(f"symgraph: error: {message}", file=sys.stderr)
        return 2
    print(json.dumps(data, indent=2, default=str) if args.json else text)
    return 1 if data.get("ok") is False else 0
