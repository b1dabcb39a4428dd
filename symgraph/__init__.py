"""symgraph: computation graphs and symbolic forward/reverse-mode derivatives, step by step.

>>> import symgraph as sg
>>> g = sg.graph("exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))")
>>> rv = g.reverse()
>>> rv.adjoints["u2"]
2*t2*tbar_3
>>> ev = rv.evaluate({"u1": 1, "u2": -1})
>>> round(ev.values["f"], 3), round(ev.gradient["u1"], 2), round(ev.gradient["u2"], 2)
(18.296, 47.3, 4.71)
"""

from .bridge import entrywise
from .build import build, graph
from .closed import ClosedFormTooLarge
from .codegen import CompiledFunction, compile
from .derivatives import ModeChoice, choose_mode
from .errors import SymgraphError
from .evaluation.evaluate import (
    CONVENTIONS,
    EvaluationError,
    Kink,
    KinkError,
    KinkWarning,
    UndefinedPartialWarning,
)
from .export import JSONFormatError, RenderError, from_json, render, to_dot, to_json, to_latex
from .functions import relu, sigmoid, softplus
from .graph import Graph, GraphError, Step
from .parse import ParseError, parse
from .register import register_function
from .rules import UnsupportedOperationError, register_partial
from .simplify import thorough, tidy
from .sweep import Forward, Reverse, forward, reverse
from .verify.check import CheckReport, ClaimResult, Counterexample, check
from .verify.derivation import DerivationReport, LineVerdict, check_derivation
from .verify.finite import (
    FiniteDifference,
    FiniteDifferenceSweep,
    finite_difference,
    finite_difference_sweep,
)

__version__ = "0.1.0"

__all__ = [
    "CONVENTIONS",
    "CheckReport",
    "ClaimResult",
    "ClosedFormTooLarge",
    "CompiledFunction",
    "Counterexample",
    "DerivationReport",
    "EvaluationError",
    "FiniteDifference",
    "FiniteDifferenceSweep",
    "Forward",
    "Graph",
    "GraphError",
    "JSONFormatError",
    "Kink",
    "KinkError",
    "KinkWarning",
    "LineVerdict",
    "ModeChoice",
    "ParseError",
    "RenderError",
    "Reverse",
    "Step",
    "SymgraphError",
    "UndefinedPartialWarning",
    "UnsupportedOperationError",
    "build",
    "check",
    "check_derivation",
    "choose_mode",
    "compile",
    "entrywise",
    "finite_difference",
    "finite_difference_sweep",
    "forward",
    "from_json",
    "graph",
    "parse",
    "register_function",
    "register_partial",
    "relu",
    "render",
    "reverse",
    "sigmoid",
    "softplus",
    "thorough",
    "tidy",
    "to_dot",
    "to_json",
    "to_latex",
]
