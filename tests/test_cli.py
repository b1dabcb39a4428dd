"""The command line, driven end to end with its exit codes."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

import symgraph as sg
from symgraph.cli import main
from symgraph.sweep import Mode

F1 = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"
PROGRAM = "t1 = exp(u1)\nt2 = exp(2*u2)\nt3 = t1 + t2\nf = exp(t3) + sigmoid(t3)"


def run(argv, capsys, code=0):
    assert main(argv) == code
    return capsys.readouterr()


def line(out: str, start: str) -> str:
    """The one line of ``out`` that starts with ``start`` (after its indent)."""
    (found,) = [r.strip() for r in out.splitlines() if r.strip().startswith(start)]
    return found


def number_after(out: str, start: str) -> float:
    """The number a line ends with (``... = 47.30340959``), or the next line's."""
    rows = [r.strip() for r in out.splitlines()]
    (i,) = [k for k, r in enumerate(rows) if r.startswith(start)]
    head = rows[i].rsplit(" = ", 1)[-1]
    try:
        return float(head)
    except ValueError:  # a closed form: its number on the next line, "= 47.30340959"
        return float(rows[i + 1].removeprefix("= "))


def test_grad_reads_like_the_board(capsys):
    """The lecture's example: f = 18.296, ∂f/∂u1 = 47.30, ∂f/∂u2 = 4.71 at (1, -1)."""
    out = run(["grad", F1, "--at", "u1=1,u2=-1"], capsys).out
    heads = ["steps, and their values at the point:", "reverse sweep (adjoints t̄ = ∂f/∂t):",
             "gradient, in closed form:"]  # fmt: skip
    assert [out.index(h) for h in heads] == sorted(out.index(h) for h in heads)
    assert line(out, "t3 = t1 + t2").endswith("= 2.853617112")
    assert round(number_after(out, "f = t4 + t5"), 3) == 18.296
    assert line(out, "ubar_2 = tbar_2*2*t2 = 2*t2*tbar_3").endswith("= 4.710196175")
    assert round(number_after(out, "∂f/∂u1 = "), 2) == 47.30
    assert round(number_after(out, "∂f/∂u2 = "), 2) == 4.71
    assert "at the point:\n  u1: " not in out  # the gradient is never shown as the point
    ev = sg.graph(F1).reverse().evaluate({"u1": 1, "u2": -1})
    for node, adjoint in ev.adjoints.items():
        bar = str(Mode.REVERSE.accent(node))
        assert number_after(out, f"{bar} = ") == pytest.approx(adjoint, rel=1e-9)
    for node, v in ev.values.items():
        assert number_after(out, f"{node} ") == pytest.approx(v, rel=1e-9)


def test_grad_json_says_what_it_holds(capsys):
    data = json.loads(run(["grad", F1, "--at", "u1=1,u2=-1", "--json"], capsys).out)
    ev = sg.graph(F1).reverse().evaluate({"u1": 1, "u2": -1})
    assert data["gradient"] == pytest.approx({str(k): v for k, v in ev.gradient.items()})
    assert data["values"] == pytest.approx({str(k): v for k, v in ev.values.items()})
    assert data["adjoints"] == pytest.approx({str(k): v for k, v in ev.adjoints.items()})
    assert "at" not in data and data["mode"] == "reverse" and data["output"] == "f"
    assert round(data["values"]["f"], 3) == 18.296
    first = data["derivatives"][0]
    assert first["label"] == "∂f/∂u1" and first["of"] == "f" and first["wrt"] == "u1"
    assert round(first["value"], 2) == 47.30 and first["closed_form"] == data["closed_form"]["u1"]


def test_grad_json_with_a_kink(capsys):
    argv = ["grad", "u1*u2 + max(u1, u2)", "--at", "u1=1,u2=1", "--kink", "first", "--json"]
    result = json.loads(run(argv, capsys).out)
    assert result["gradient"] == {"u1": 2.0, "u2": 1.0}
    assert result["kink_convention"] == "first" and "Max(u1, u2)" in result["kinks"][0]


def test_forward_mode_names_its_seed(capsys):
    """Seeded at u1: f's value 18.296 and ∂f/∂u1 = 47.30, labelled so (not f: 47.303)."""
    argv = ["grad", F1, "--mode", "forward", "--wrt", "u1", "--at", "u1=1,u2=-1"]
    out = run(argv, capsys).out
    assert "forward sweep (tangents ṫ = ∂t/∂u1):" in out and "derivative, in closed form:" in out
    assert round(number_after(out, "f = t4 + t5"), 3) == 18.296
    assert round(number_after(out, "∂f/∂u1 = "), 2) == 47.30
    assert line(out, "fdot = tdot_4 + tdot_5").endswith("= 47.30340959")
    assert "f: " not in out and "f' = " not in out
    data = json.loads(run([*argv, "--json"], capsys).out)
    assert data["wrt"] == "u1" and round(data["derivative"]["f"], 2) == 47.30
    assert data["tangents"]["t1"] == pytest.approx(math.e) and data["tangents"]["u2"] == 0
    assert data["derivatives"][0]["label"] == "∂f/∂u1"


def test_forward_mode_along_a_direction(capsys):
    """fdot along (x: 1, y: 2) of x²y at (1, 3): 2xy·1 + x²·2 = 6 + 2 = 8."""
    argv = ["grad", "x**2*y", "--mode", "forward", "--wrt", "x=1,y=2", "--at", "x=1,y=3"]
    out = run(argv, capsys).out
    assert "forward sweep (tangents along (x: 1, y: 2)):" in out
    assert number_after(out, "fdot along (x: 1, y: 2) = ") == 8
    data = json.loads(run([*argv, "--json"], capsys).out)
    assert data["wrt"] == {"x": 1.0, "y": 2.0} and data["derivative"] == {"f": 8.0}


def test_forward_mode_and_program_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PROGRAM))
    argv = ["grad", "-", "--mode", "forward", "--wrt", "u2", "--at", "u1=1,u2=-1", "--json"]
    data = json.loads(run(argv, capsys).out)
    assert data["derivative"]["f"] == pytest.approx(4.7102, abs=1e-4)
    assert data["values"]["f"] == pytest.approx(18.2959, abs=1e-4)


def test_program_from_a_file(tmp_path, capsys):
    path = tmp_path / "f1.txt"
    path.write_text(PROGRAM)
    assert "t4 = exp(t3)" in run(["grad", f"@{path}"], capsys).out


def test_check_right_and_wrong_with_exit_codes(capsys):
    right = run(["check", "x**2*sin(x)", "--claim", "x=2*x*sin(x) + x**2*cos(x)"], capsys)
    assert "✓" in right.out
    argv = ["check", F1, "--claim", "u1=48.19", "--at", "u1=1,u2=-1", "--tol", "0.01", "--json"]
    wrong = json.loads(run(argv, capsys, code=1).out)
    assert wrong["ok"] is False and "forward difference" in wrong["results"][0]["departure"]


def test_fd_and_its_sweep(capsys):
    fd = json.loads(run(["fd", F1, "--at", "u1=1,u2=-1", "--json"], capsys).out)
    assert round(fd["estimates"]["u1"], 2) == 48.19 and round(fd["exact"]["u1"], 2) == 47.30
    sweep = json.loads(run(["fd", F1, "--at", "u1=1,u2=-1", "--sweep", "--json"], capsys).out)
    assert round(sweep["order"]["u1"]) == 1


def needs(program: str) -> None:
    """Skip without ``program``, except under CI (``CI`` set), where it must be installed."""
    if shutil.which(program) is None:
        message = f"the {program!r} program is not installed"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)


def test_graph_dot(capsys):
    out = run(["graph", "(x + y)*(y + 1)", "--at", "x=1,y=2", "--dot"], capsys).out
    assert out.startswith("digraph") and "sum over 2 children" in out


def test_graph_picture(tmp_path, capsys):
    needs("dot")
    png = tmp_path / "g.png"
    run(["graph", "(x + y)*(y + 1)", "--png", str(png)], capsys)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_latex_standalone_to_a_file(tmp_path, capsys):
    out = tmp_path / "steps.tex"
    run(["latex", F1, "--at", "u1=1,u2=-1", "--standalone", "-o", str(out)], capsys)
    text = out.read_text()
    assert text.startswith("\\documentclass") and "\\bar{t}_{3}" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["grad", "__import__('os')"],
        ["grad", "x*y", "--at", "x=1"],
        ["grad", "log(x)", "--at", "x=-1"],
        ["grad", "x*y", "--at", "x=1,y=two"],
        ["grad", "x*y", "--at", "x"],
        ["grad", "x*y", "--mode", "forward"],
        ["grad", "@/nonexistent/file"],
        ["grad", "x*y", "--shapes", "x=three"],
        ["check", "x*y"],
        ["check", "x*y", "--claim", "x=y+"],
        ["fd", "x*y"],
        ["graph", "x*y", "--svg", "/nonexistent/dir/g.svg"],
    ],
)
def test_bad_input_exits_2_with_one_line(argv, capsys):
    err = run(argv, capsys, code=2).err
    assert err.startswith("symgraph: error: ") and err.count("\n") == 1


def test_console_entry_points():
    done = subprocess.run(
        [sys.executable, "-m", "symgraph", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("grad", "check", "fd", "graph", "latex", "examples:"):
        assert command in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "symgraph", "grad", "lambda: 1"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_matrix_shapes_on_the_command_line(capsys):
    argv = ["grad", "sum(sigmoid(W*x + b))", "--shapes", "W=3x2,x=2x1,b=3x1"]
    out = run(argv, capsys).out
    assert "Wbar = tbar_1*x.T = tbar_2*x.T" in out and "∂f/∂W = sigmoid'(W*x + b)*x.T" in out
    argv += ["--at", "W=1,x=1,b=1"]  # a matrix point is not a number on the command line
    assert "W has shape (3, 2)" in run(argv, capsys, code=2).err
