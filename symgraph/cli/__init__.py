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

import symgraph as sg

from ..evaluation.evaluate import CONVENTIONS, SweepEvaluation
from . import board, examples, grad, io, playground
from .common import Result, _graph, _point
from .grad import cmd_grad
from .io import Once, UsageError
from .verify import cmd_check, cmd_fd

EXIT_WRONG, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE = 1, 2, 70, 130, 141

# ---------------------------------------------------------------- arguments to API calls


def _refuse_idle(args) -> None:
    """Refuse an option that would change nothing with the others given."""
    mode = getattr(args, "mode", "forward")  # fd has no --mode: its --wrt is its own
    if getattr(args, "wrt", None) is not None and mode != "forward":
        given = f"--mode {mode} does not take it" if mode else "add --mode forward"
        raise UsageError(
            f"--wrt seeds forward mode; {given} "
            "(reverse mode gives every input's partial; --mode forward seeds one input)"
        )
    if getattr(args, "kink", None) is not None and args.at is None:
        raise UsageError("--kink chooses the derivative at a kink of the point: give --at too")


def _kink(args) -> str:
    return args.kink or "split"


def _sweep_of(args, g: sg.Graph):
    """The graph itself (``--mode none``) or the sweep asked for, and its seed's words."""
    if args.mode == "none":
        return g, ""
    sw, _, words = grad.sweep(args, g)
    return sw, words


def _board_lines(obj, words: str, point, kink: str) -> list[str]:
    """The steps with their values, the sweep with its numbers (``graph``'s text)."""
    ev = obj.evaluate(point, kink) if point is not None else None
    g = obj if isinstance(obj, sg.Graph) else obj.graph
    heading = "steps:" if point is None else "steps, and their values at the point:"
    lines = [heading, *board.aligned(board.step_rows(g, ev and ev.values))]
    if isinstance(obj, sg.Graph):
        return lines
    carried = ev.carried if isinstance(ev, SweepEvaluation) else None
    return [*lines, board.sweep_heading(obj, words), *board.aligned(board.sweep_rows(obj, carried))]


def cmd_graph(args) -> Result:
    g = _graph(args)
    obj, words = _sweep_of(args, g)
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
    lines = _board_lines(obj, words, point, kink)
    return Result(data, "\n".join(lines + [f"wrote {p}" for p in written]))


def cmd_latex(args) -> Result:
    g = _graph(args)
    obj, _ = _sweep_of(args, g)
    tex = sg.to_latex(obj, at=_point(args, g), standalone=args.standalone, kink=_kink(args))
    if args.out is None:
        return Result({"latex": tex}, tex.rstrip("\n"), document=True)
    try:
        Path(args.out).write_text(tex, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {args.out}: {err.strerror}") from None
    return Result({"latex": tex, "written": args.out}, f"wrote {args.out}")


def cmd_playground_build(args) -> Result:
    """Build the static site; one line says what went in and how to serve it."""
    from ..serve.static_build import build_site  # only this command needs it

    info = build_site(
        args.dir, pyodide=args.pyodide, wheels=args.wheels, precompile=not args.no_precompile
    )
    wheels = ", ".join(w.split("-py3")[0].replace("-", " ") for w in info["wheels"])
    compiled = "precompiled" if info["precompiled"] else "not precompiled"
    text = (
        f"wrote {args.dir}: Pyodide {info['pyodide']} (Python {info['python']}), {wheels} "
        f"({compiled}); serve it with: python -m http.server -d {args.dir}"
    )
    return Result(info, text)


def cmd_serve(args) -> Result:
    from ..serve.server import serve  # only this command needs the server

    serve(args.host, args.port, args.open)
    return Result({}, "stopped")


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
    """The options a command shares; each command takes only those it uses."""
    p.add_argument("expr", help="a formula, a [..] list of formulas, or a program; '-' reads "
                   "stdin, @FILE reads a file")  # fmt: skip
    p.add_argument("--at", action=Once, help="a point, e.g. u1=1,u2=-1 or x=pi/4 (once)")
    if modes:
        default = "auto" if "auto" in modes else "reverse"
        about = f"the sweep (default {default})" + ("; none: no sweep" if "none" in modes else "")
        about += "; auto: for several outputs, the cheaper" if "auto" in modes else ""
        p.add_argument("--mode", action=Once, choices=modes, default=None, help=about)
    if wrt:
        about = (
            "the input to difference"
            if modes is None
            else "forward mode's seed: an input, or a direction u1=1,u2=0.5"
        )
        p.add_argument("--wrt", action=Once, help=about)
    p.add_argument("--shapes", action=Once, help="matrix inputs, e.g. W=3x2,x=2x1")
    p.add_argument("--latex", action="store_true", help="read EXPR as one LaTeX formula")
    about = "a program's outputs: the lines named (default: its last line)"
    p.add_argument("--outputs", action=Once, metavar="F1,F2", help=about)
    about = "of several outputs, the one to differentiate (its reverse sweep)"
    p.add_argument("--output", action=Once, metavar="NAME", help=about)
    if kink:
        about = "the derivative at a kink of --at (default split)"
        p.add_argument("--kink", action=Once, choices=tuple(CONVENTIONS), help=about)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show a bug's traceback"
    )


def _command(sub, name: str, about: str, epilog: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name, help=about, description=about, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip


def parser() -> argparse.ArgumentParser:
    top = io.Parser(
        prog="symgraph",
        description="Computation graphs and their derivatives, step by step.",
        epilog=examples.TOP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"symgraph {sg.__version__}")
    top.add_argument("--debug", action="store_true", help="show the traceback of a bug")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    both, three = ("reverse", "forward"), ("reverse", "forward", "none")
    about = "derivatives, step by step and in closed form, with their numbers at --at"
    grad_ = _command(sub, "grad", about, examples.GRAD)
    _common(grad_, ("reverse", "forward", "auto"))
    about = "the Hessian too: in matrix form for the input NAME, or over all scalar inputs"
    grad_.add_argument(
        "--hessian", action=Once, nargs="?", const=grad.EVERY_INPUT, metavar="NAME", help=about
    )
    check = _command(sub, "check", "check your own derivatives, formulas or numbers",
                     examples.CHECK)  # fmt: skip
    _common(check, both, wrt=False, kink=False)
    about = "NAME=FORMULA, NAME=NUMBER, or a matrix's numbers NAME=[[..],..] (repeat)"
    check.add_argument("--claim", action="append", help=about)
    about = "a derivation to check line by line: a .tex, .md or .txt file, '-' for stdin"
    check.add_argument("--derivation", action=Once, metavar="FILE", help=about)
    check.add_argument(
        "--tol",
        action=Once,
        type=_number_type(0, False),
        help="absolute tolerance of numbers claimed at --at (1e-6)",
    )
    check.add_argument(
        "--rtol", action=Once, type=_number_type(0, False), help="relative tolerance instead"
    )
    fd = _command(sub, "fd", "finite differences against the exact derivative", examples.FD)
    _common(fd, kink=False)
    fd.add_argument("--h", action=Once, type=_number_type(0, True), help="the step (0.01)")
    schemes = ("forward", "backward", "central")
    fd.add_argument("--scheme", action=Once, choices=schemes, default="forward")
    fd.add_argument("--sweep", action="store_true", help="h = 1e-1 ... 1e-12: order and floor")
    graph = _command(sub, "graph", "the graph: steps, DOT, or a picture (Graphviz)",
                     examples.GRAPH)  # fmt: skip
    _common(graph, three)
    graph.add_argument("--dot", action="store_true", help="print Graphviz DOT")
    for fmt in ("png", "svg", "pdf"):
        graph.add_argument(f"--{fmt}", action=Once, help=f"render a {fmt.upper()} to this file")
    dpi = "the PNG's dots per inch (150: sharp on a projector)"
    graph.add_argument("--dpi", action=Once, type=_number_type(0, True), default=150, help=dpi)
    latex = _command(sub, "latex", "LaTeX of every step", examples.LATEX)
    _common(latex, three)
    latex.add_argument("--standalone", action="store_true", help="a document for pdflatex")
    latex.add_argument("-o", "--out", action=Once, help="write to this file")
    # ---- the playground (issue 14): a compact block; `playground build` goes next to it
    about = "the playground: a page and a JSON API on this machine"
    serve = sub.add_parser("serve", help=about, description=about)
    serve.add_argument("--port", type=int, default=8000, help="the port (8000; 0: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="the address (127.0.0.1: local)")
    serve.add_argument("--open", action="store_true", help="open the page in a browser")
    serve.set_defaults(run=cmd_serve, json=False)
    playground.add_parser(sub, cmd_playground_build)  # `playground build DIR`: the static site
    for p, run in ((grad_, cmd_grad), (check, cmd_check), (fd, cmd_fd), (graph, cmd_graph),
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
