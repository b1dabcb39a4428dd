"""The command line: arguments in, facade calls, output out; no math here.

symgraph grad "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))" --at u1=1,u2=-1
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from . import graph as make_graph
from .evaluate import CONVENTIONS, KinkWarning

EXAMPLES = """examples:
  symgraph grad "(x + y)*(y + 1)"
  symgraph grad "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))" --at u1=1,u2=-1
  symgraph grad "u1*u2 + max(u1, u2)" --at u1=1,u2=1 --kink first --json
  printf 't1 = exp(u1)\\nt2 = exp(2*u2)\\nt3 = t1 + t2\\nf = exp(t3) + sigmoid(t3)' \\
      | symgraph grad - --at u1=1,u2=-1
"""


class UsageError(ValueError):
    """Bad command-line input."""


def _point(text: str | None) -> dict[str, float] | None:
    """``u1=1,u2=-1`` -> {"u1": 1.0, "u2": -1.0}."""
    if not text:
        return None
    point = {}
    for item in text.split(","):
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"--at wants name=value pairs separated by commas, not {item!r}")
        try:
            point[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"--at: {value!r} is not a number (in {item!r})") from None
    return point


def _source(text: str) -> str:
    """The expression: the argument itself, '-' for stdin, or @file."""
    if text == "-":
        return sys.stdin.read()
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                return handle.read()
        except OSError as err:
            raise UsageError(f"cannot read {text[1:]}: {err.strerror}") from None
    return text


def _grad(args) -> dict:
    g = make_graph(_source(args.expr))
    seed = args.output
    point = _point(args.at)
    result: dict = {"steps": [str(s) for s in g.steps], "mode": args.mode}
    if args.mode == "reverse":
        sweep = g.reverse(seed)
        result["derivative_steps"] = [f"{n} = {e}" for n, e in sweep.steps]
        result["gradient"] = {str(x): str(e) for x, e in sweep.gradient.items()}
    else:
        wrt = args.wrt or (g.inputs[0].name if len(g.inputs) == 1 else None)
        if wrt is None:
            raise UsageError("forward mode needs --wrt NAME (the input to seed)")
        sweep = g.forward(wrt)
        result["derivative_steps"] = [f"{n} = {e}" for n, e in sweep.steps]
        result["derivative"] = {str(o): str(e) for o, e in sweep.derivative.items()}
    if point is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KinkWarning)
            ev = sweep.evaluate(point, kink=args.kink)
        result["values"] = {str(k): v for k, v in ev.values.items()}
        numbers = ev.gradient if args.mode == "reverse" else ev.derivative
        result["at"] = {str(k): v for k, v in numbers.items()}
        result["kinks"] = [str(k) for k in ev.kinks]
        result["kink_convention"] = args.kink
    return result


def _print_grad(result: dict) -> None:
    print("steps:")
    for line in result["steps"]:
        print("  " + line)
    print(f"{result['mode']} sweep:")
    for line in result["derivative_steps"]:
        print("  " + line)
    closed = result.get("gradient") or result.get("derivative")
    print("closed form:")
    for name, expr in closed.items():
        print(f"  d/d{name} = {expr}" if "gradient" in result else f"  {name}' = {expr}")
    if "at" in result:
        print("at the point:")
        for name, value in result["at"].items():
            print(f"  {name}: {value:.10g}")
        for kink in result["kinks"]:
            print(f"  kink: {kink}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="symgraph",
        description="Computation graphs and their derivatives, step by step.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = top.add_subparsers(dest="command", required=True)
    grad = commands.add_parser("grad", help="derivatives, step by step and in closed form")
    grad.add_argument("expr", help="a formula or program; '-' reads stdin, @FILE reads a file")
    grad.add_argument("--at", help="a point, e.g. u1=1,u2=-1")
    grad.add_argument("--mode", choices=("reverse", "forward"), default="reverse")
    grad.add_argument("--wrt", help="forward mode: the input to seed")
    grad.add_argument("--output", help="reverse mode: the output to seed (vector functions)")
    grad.add_argument("--kink", choices=tuple(CONVENTIONS), default="split")
    grad.add_argument("--json", action="store_true", help="machine-readable output")
    grad.set_defaults(run=_grad, show=_print_grad)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; bad input exits 2 with one line on stderr."""
    args = parser().parse_args(argv)
    try:
        result = args.run(args)
    except ValueError as err:
        message = " ".join(str(err).split())  # one line, whatever the error held
        print(f"symgraph: error: {message}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        args.show(result)
    return 0
