"""The command line: arguments in, facade calls, output out; no math here.

Each command turns its arguments into calls of the public API and returns a
:class:`Result`: ``--json`` prints its data, otherwise its text is printed. Warnings the
library issues (kinks) become ``note:`` lines of the output (and ``"notes"`` in JSON).

Exit status: 0 success; 1 ``check`` found a wrong claim; 2 bad input or an I/O problem,
one line on stderr; 70 an internal error (a bug), one line (``--debug``: the traceback);
130 interrupted; 141 the reader of the output went away (a broken pipe), silently.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
import warnings
from pathlib import Path

import numpy as np

import symgraph as sg

from ..evaluation.evaluate import CONVENTIONS, SweepEvaluation
from ..linear_maps import value
from ..printing import text
from ..sweep import Mode
from . import io
from .common import Result, _graph, _point
from .io import Once, UsageError
from .verify import cmd_check, cmd_fd

EXIT_WRONG, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE = 1, 2, 70, 130, 141

EXAMPLES = """examples:
  symgraph grad "(x + y)*(y + 1)"
  symgraph grad "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))" --at u1=1,u2=-1
  symgraph grad "u1*u2 + max(u1, u2)" --at u1=1,u2=1 --kink first --json
  symgraph grad "sum(sigmoid(W*x + b))" --shapes W=3x2,x=2x1,b=3x1 \\
      --at "W=[[1,2],[3,4],[5,6]],x=[1,2],b=[0,0,0]"   # or --at @point.json / @point.npz
  symgraph grad "sum(softplus(-hadamard(y, X*w)))" --shapes X=4x2,w=2x1,y=4x1 --hessian w
  symgraph check "x**2*sin(x)" --claim "x=2*x*sin(x) + x**2*cos(x)"
  symgraph check "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))" \\
      --claim u1=47.3 --claim u2=4.71 --at u1=1,u2=-1 --tol 0.01
  symgraph fd "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))" --at u1=1,u2=-1 --sweep
  symgraph check "sum(sigmoid(W*x + b))" --shapes W=3x2,x=2x1,b=3x1 --claim "W=tbar_2*x.T"
  symgraph fd "sum(sigmoid(W*x + b))" --shapes W=3x2,x=2x1,b=3x1 --wrt W \\
      --at "W=[[1,2],[3,4],[5,6]],x=[1,2],b=[0,0,0]" --scheme central
  symgraph graph "(x + y)*(y + 1)" --at x=1,y=2 --png graph.png
  symgraph latex "(x + y)*(y + 1)" --at x=1,y=2 --standalone -o steps.tex
  printf 't1 = exp(u1)\\nt2 = exp(2*u2)\\nt3 = t1 + t2\\nf = exp(t3) + sigmoid(t3)' \\
      | symgraph grad - --at u1=1,u2=-1

EXPR is a formula or a program (one `name = expr` a line), '-' for standard input,
or @FILE to read a file (at most 100,000 characters of UTF-8 text).
exit status: 0 done, 1 a wrong claim (check), 2 bad input, 70 a bug (--debug shows it).
"""


# ---------------------------------------------------------------- arguments to API calls


def _refuse_idle(args) -> None:
    """Refuse an option that would change nothing with the others given."""
    mode = getattr(args, "mode", None)
    if getattr(args, "wrt", None) is not None and mode in ("reverse", "none"):
        raise UsageError(
            f"--wrt seeds forward mode; --mode {mode} does not take it "
            "(reverse mode gives every input's partial; add --mode forward to seed one input)"
        )
    if getattr(args, "kink", None) is not None and args.at is None:
        raise UsageError("--kink chooses the derivative at a kink of the point: give --at too")


def _sweep(args, g: sg.Graph):
    """The forward or reverse sweep the arguments ask for."""
    if Mode(args.mode) is Mode.FORWARD:  # one input to seed
        wrt = args.wrt or (g.inputs[0].name if len(g.inputs) == 1 else None)
        if wrt is None:
            names = ", ".join(x.name for x in g.inputs)
            raise UsageError(f"forward mode needs --wrt NAME, the input to seed (one of {names})")
        return g.forward(wrt)
    return g.reverse()


def _kink(args) -> str:
    return args.kink or "split"


def _fmt(v, prefix: str = "") -> str:
    """A number as 10 digits; an array as NumPy prints it, its rows aligned after ``prefix``."""
    if isinstance(v, np.ndarray):
        return np.array2string(v, precision=8, prefix=prefix, max_line_width=100)
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def _sweep_lines(sweep) -> list[str]:
    return [f"{sweep.mode.word} sweep:", *(f"  {n} = {text(e)}" for n, e in sweep.steps)]


#: How ``grad`` labels a closed form: ∂f/∂x at each input, or each output's f'.
_EVERY_INPUT = ""  # --hessian without a name: over every (scalar) input
_LABELS = {Mode.REVERSE: "d/d{}", Mode.FORWARD: "{}'"}


# ---------------------------------------------------------------- commands


def cmd_grad(args) -> Result:
    g = _graph(args)
    sweep = _sweep(args, g)
    closed = sweep.results
    data: dict = {
        "steps": [str(s) for s in g.steps],
        "mode": args.mode,
        "sweep": [f"{n} = {text(e)}" for n, e in sweep.steps],
        "closed_form": {str(k): text(v) for k, v in closed.items()},
    }
    lines = ["steps:", *(f"  {s}" for s in data["steps"]), *_sweep_lines(sweep)]
    label = _LABELS[sweep.mode]
    lines += [
        "closed form:",
        *(f"  {label.format(k)} = {v}" for k, v in data["closed_form"].items()),
    ]
    point = _point(args, g)
    if point is not None:
        ev = sweep.evaluate(point, kink=_kink(args))  # a kink warns: a note of the output
        numbers = ev.results
        data.update(values=dict(ev.values), at=dict(numbers), kink_convention=_kink(args))
        data["kinks"] = [str(k) for k in ev.kinks]
        lines += ["at the point:", *(f"  {k}: {_fmt(v, f'  {k}: ')}" for k, v in numbers.items())]
    if args.hessian is not None:
        lines += _hessian(args, g, point, data)
    return Result(data, "\n".join(lines))


def _hessian(args, g: sg.Graph, point, data: dict) -> list[str]:
    """``--hessian [NAME]``: the Hessian in matrix form (all scalar inputs without NAME),
    and its numbers at the point."""
    wrt = None if args.hessian == _EVERY_INPUT else args.hessian
    h = g.hessian(wrt=wrt)
    shape = "×".join(map(str, h.shape))
    over = f"∂²f/∂{wrt}²" if wrt else "∂²f/∂x∂xᵀ over " + ", ".join(map(str, g.inputs))
    entry = {"wrt": wrt, "shape": [int(k) for k in h.shape], "closed_form": text(h)}
    lines = [f"Hessian ({over}, {shape}):", f"  {text(h)}"]
    if point is not None:
        numbers = value(h, point)
        entry["at"] = np.asarray(numbers, dtype=float)
        lines += ["  at the point:", "    " + _fmt(entry["at"], "    ")]
    data["hessian"] = entry
    return lines


def _at_point_lines(obj, point, kink: str) -> list[str]:
    """Every node's value (and tangent or adjoint) at the point, for ``graph``'s text."""
    ev = obj.evaluate(point, kink)
    lines = ["at the point:", *(f"  {n} = {_fmt(v, f'  {n} = ')}" for n, v in ev.values.items())]
    if isinstance(ev, SweepEvaluation):
        for n, v in ev.carried.items():
            lines.append(f"  {ev.mode.accent(n)} = {_fmt(v, f'  {ev.mode.accent(n)} = ')}")
    return lines


def cmd_graph(args) -> Result:
    g = _graph(args)
    obj = g if args.mode == "none" else _sweep(args, g)
    point, kink = _point(args, g), _kink(args)
    dot = sg.to_dot(obj, at=point, kink=kink)
    written = []
    for path, fmt in ((args.png, "png"), (args.svg, "svg"), (args.pdf, "pdf")):
        if path:
            written.append(str(sg.render(dot, path, format=fmt, dpi=args.dpi)))
    data = {**json.loads(sg.to_json(obj, at=point, kink=kink)), "written": written}
    if args.dot:
        data["dot"] = dot
        return Result(data, dot.rstrip("\n"), document=True)
    lines = [str(g)]
    lines += _sweep_lines(obj) if args.mode != "none" else []
    lines += _at_point_lines(obj, point, kink) if point is not None else []
    return Result(data, "\n".join(lines + [f"wrote {p}" for p in written]))


def cmd_latex(args) -> Result:
    g = _graph(args)
    obj = g if args.mode == "none" else _sweep(args, g)
    tex = sg.to_latex(obj, at=_point(args, g), standalone=args.standalone, kink=_kink(args))
    if args.out is None:
        return Result({"latex": tex}, tex.rstrip("\n"), document=True)
    try:
        Path(args.out).write_text(tex, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {args.out}: {err.strerror}") from None
    return Result({"latex": tex, "written": args.out}, f"wrote {args.out}")


# ---------------------------------------------------------------- the parser


def _number_type(low: float, strict: bool):
    """An argparse type: a finite float above ``low`` (or at least ``low``)."""

    def convert(text: str) -> float:
        value = io.number(text, "value")
        if value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"{text} is not {'>' if strict else '>='} {low:g}")
        return value

    convert.__name__ = "positive number" if strict else "non-negative number"
    return convert


def _common(p: argparse.ArgumentParser, modes=None, wrt=True, kink=True) -> None:
    """The options a command shares; each command takes only those it uses.

    No ``--output``: a formula or program has one output, so there is nothing to choose.
    """
    p.add_argument("expr", help="a formula or program; '-' reads stdin, @FILE reads a file")
    p.add_argument("--at", action=Once, help="a point, e.g. u1=1,u2=-1 (once)")
    if modes:
        about = "the sweep (default reverse)" + ("; none: no sweep" if "none" in modes else "")
        p.add_argument("--mode", action=Once, choices=modes, default="reverse", help=about)
    if wrt:
        about = "the input to difference" if modes is None else "the input to seed (forward mode)"
        p.add_argument("--wrt", action=Once, help=about)
    p.add_argument("--shapes", action=Once, help="matrix inputs, e.g. W=3x2,x=2x1")
    if kink:
        about = "the derivative at a kink of --at (default split)"
        p.add_argument("--kink", action=Once, choices=tuple(CONVENTIONS), help=about)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show a bug's traceback"
    )


def parser() -> argparse.ArgumentParser:
    top = io.Parser(
        prog="symgraph",
        description="Computation graphs and their derivatives, step by step.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"symgraph {sg.__version__}")
    top.add_argument("--debug", action="store_true", help="show the traceback of a bug")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    both, three = ("reverse", "forward"), ("reverse", "forward", "none")
    grad = sub.add_parser("grad", help="derivatives, step by step and in closed form")
    _common(grad, both)
    about = "the Hessian too: in matrix form for the input NAME, or over all scalar inputs"
    grad.add_argument(
        "--hessian", action=Once, nargs="?", const=_EVERY_INPUT, metavar="NAME", help=about
    )
    check = sub.add_parser("check", help="check your own derivatives, formulas or numbers")
    _common(check, both, wrt=False, kink=False)
    about = "NAME=FORMULA, NAME=NUMBER, or a matrix's numbers NAME=[[..],..] (repeat)"
    check.add_argument("--claim", action="append", help=about)
    check.add_argument(
        "--tol",
        action=Once,
        type=_number_type(0, False),
        help="absolute tolerance of numbers claimed at --at (1e-6)",
    )
    check.add_argument(
        "--rtol", action=Once, type=_number_type(0, False), help="relative tolerance instead"
    )
    fd = sub.add_parser("fd", help="finite differences against the exact derivative")
    _common(fd, kink=False)
    fd.add_argument("--h", action=Once, type=_number_type(0, True), help="the step (0.01)")
    schemes = ("forward", "backward", "central")
    fd.add_argument("--scheme", action=Once, choices=schemes, default="forward")
    fd.add_argument("--sweep", action="store_true", help="h = 1e-1 ... 1e-12: order and floor")
    graph = sub.add_parser("graph", help="the graph: steps, DOT, or a picture (Graphviz)")
    _common(graph, three)
    graph.add_argument("--dot", action="store_true", help="print Graphviz DOT")
    for fmt in ("png", "svg", "pdf"):
        graph.add_argument(f"--{fmt}", action=Once, help=f"render a {fmt.upper()} to this file")
    dpi = "the PNG's dots per inch (150: sharp on a projector)"
    graph.add_argument("--dpi", action=Once, type=_number_type(0, True), default=150, help=dpi)
    latex = sub.add_parser("latex", help="LaTeX of every step")
    _common(latex, three)
    latex.add_argument("--standalone", action="store_true", help="a document for pdflatex")
    latex.add_argument("-o", "--out", action=Once, help="write to this file")
    for p, run in ((grad, cmd_grad), (check, cmd_check), (fd, cmd_fd), (graph, cmd_graph),
                   (latex, cmd_latex)):  # fmt: skip
        p.set_defaults(run=run)
    return top


# ---------------------------------------------------------------- running


def _run(args) -> tuple[Result, list[str]]:
    """Run the command, the warnings it issues collected as notes (one line each)."""
    _refuse_idle(args)
    with warnings.catch_warnings(record=True) as caught:  # the CLI's own process: no threads
        warnings.simplefilter("always")
        result = args.run(args)
    notes = [
        io.one_line([str(w.message)])
        for w in caught
        if issubclass(w.category, UserWarning | RuntimeWarning)  # not library deprecations
    ]
    return result, list(dict.fromkeys(notes))


def _error(message: str) -> None:
    if sys.stderr is None:  # started with stderr closed: no one to tell
        return
    with contextlib.suppress(OSError, ValueError):
        io.write(sys.stderr, f"symgraph: {message}\n")


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null, so the exit's flush cannot fail."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _print(result: Result, notes: list[str], as_json: bool) -> None:
    if sys.stdout is None:  # started with stdout closed
        raise UsageError("cannot write the output: standard output is closed")
    try:
        _write_out(result, notes, as_json)
    except BrokenPipeError:
        raise
    except OSError as err:  # a full disk, say
        _quiet_stdout()
        raise UsageError(f"cannot write the output: {err.strerror or err}") from None


def _write_out(result: Result, notes: list[str], as_json: bool) -> None:
    if as_json:
        io.write(sys.stdout, io.dumps({**result.data, "notes": notes}) + "\n")
    else:
        loud = [] if result.document else [f"note: {n}" for n in notes]
        io.write(sys.stdout, "\n".join([result.text, *loud]) + "\n")
        for n in notes if result.document else []:
            _error(f"note: {n}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; the exit status is described in this module's docstring."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        args = parser().parse_args(argv)
        result, notes = _run(args)
        _print(result, notes, args.json)
    except SystemExit as done:  # --help and --version, printed already
        return done.code if isinstance(done.code, int) else 0
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as err:  # bad input, a file that cannot be read or written
        if debug:
            traceback.print_exc()
        _error("error: " + io.one_line([str(err) or type(err).__name__]))
        return EXIT_USAGE
    except Exception as err:  # anything else is a bug: one line, the traceback on request
        if debug:
            traceback.print_exc()
        what = io.one_line([f"{type(err).__name__}: {err}"], limit=300)
        hint = "" if debug else "; run again with --debug to see the traceback"
        _error(f"internal error (a bug in symgraph, please report it): {what}{hint}")
        return EXIT_BUG
    return EXIT_WRONG if result.data.get("ok") is False else 0
