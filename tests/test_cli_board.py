"""The command line's new front: exact numbers in --at, vector functions (a program's
--outputs, --output, the Jacobian and the mode that computed it), each command's own
examples, and the board's labels in every mode.

Oracles: Python's math for the constants, sympy.diff of the program written out for the
Jacobian, the library's own sweeps for the numbers the CLI carries, and forward against
reverse mode.
"""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import sympy

import symgraph as sg
from symgraph.cli import main

PROGRAM = "t = x*y\nf1 = sin(t)\nf2 = t + x"
VECTOR = ["grad", PROGRAM, "--outputs", "f1,f2"]


def run(argv, capsys, code=0) -> str:
    assert main(argv) == code
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def failing(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("symgraph: error: ")
    return err


# ---------------------------------------------------------------- --at: exact numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pi", math.pi),
        ("1/2", 0.5),
        ("e", math.e),
        ("sqrt(2)", math.sqrt(2)),
        ("-1/3", -1 / 3),
        ("pi/6", math.pi / 6),
        ("2*e**2", 2 * math.e**2),
        ("1e-3", 1e-3),
    ],
)
def test_at_takes_constants_and_exact_numbers(text, expected, capsys):
    data = json.loads(run(["grad", "x**2", "--at", f"x={text}", "--json"], capsys))
    assert data["values"]["x"] == pytest.approx(expected, rel=1e-15)
    assert data["gradient"]["x"] == pytest.approx(2 * expected, rel=1e-15)


def test_exact_numbers_in_every_command(capsys):
    """sin at π/6: ∂(sin x · y)/∂x = cos(π/6)/2 = √3/4."""
    out = json.loads(run(["grad", "sin(x)*y", "--at", "x=pi/6,y=1/2", "--json"], capsys))
    assert out["gradient"]["x"] == pytest.approx(math.sqrt(3) / 4, rel=1e-14)
    fd = json.loads(
        run(["fd", "sin(x)", "--at", "x=pi/4", "--scheme", "central", "--json"], capsys)
    )
    assert fd["exact"]["x"] == pytest.approx(math.sqrt(2) / 2, rel=1e-14)
    argv = ["check", "x**2", "--claim", "x=1", "--at", "x=1/2"]
    assert "right" in run(argv, capsys)


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("x=1,x=2", "--at gives x twice"),
        ("x=pi,x=e", "--at gives x twice"),
        ("x=two", "'two' is not a number (it names two)"),
        ("x=y+1", "it names y"),
        ("x=sqrt(-1)", "complex"),
        ("x=log(0)", "x"),
        ("x=9**9**9**9", "exponent too large"),
        ("x=__import__('os')", "not a number"),
        ("x=(1", "a '(' without its ')'"),
        ("x=1)", "a ')' without its '('"),
        ("x=1/0", "x"),
        ("x=oo", "x"),
    ],
)
def test_bad_exact_numbers_exit_2_with_one_line(at, says, capsys):
    assert says in failing(["grad", "x", "--at", at], capsys)


# ---------------------------------------------------------------- vector functions


def jacobian_oracle(x: float, y: float) -> np.ndarray:
    """sympy.diff of f1 = sin(xy), f2 = xy + x, written out."""
    xs, ys = sympy.symbols("x y")
    fs = [sympy.sin(xs * ys), xs * ys + xs]
    rows = [[sympy.diff(f, v).subs({xs: x, ys: y}) for v in (xs, ys)] for f in fs]
    return np.array(rows, dtype=float)


def test_a_program_with_several_outputs_prints_its_jacobian(capsys):
    out = run([*VECTOR, "--at", "x=1,y=2"], capsys)
    g = sg.graph(PROGRAM)  # f2 alone: the parser's own graph; the CLI's has f1 too
    assert g.outputs == (g.symbol("f2"),)
    reason = sg.graph(["sin(x*y)", "x*y + x"]).jacobian(mode="auto").mode_choice.reason
    assert f"mode: reverse (auto: {reason})" in out
    assert "Jacobian (2 outputs × 2 inputs), in closed form:" in out
    expected = jacobian_oracle(1, 2)
    for i, o in enumerate(("f1", "f2")):
        for j, x in enumerate("xy"):
            (row,) = [r for r in out.splitlines() if r.strip().startswith(f"∂{o}/∂{x} = ")]
            assert float(row.rsplit(" = ", 1)[1]) == pytest.approx(expected[i, j], rel=1e-9)
    assert "f1 = sin(t) = 0.9092974268" in out and "f2 = t + x  = 3" in out


def test_the_jacobian_in_json_by_either_mode(capsys):
    expected = jacobian_oracle(1, 2)
    for mode in ("auto", "reverse", "forward"):
        data = json.loads(run([*VECTOR, "--at", "x=1,y=2", "--mode", mode, "--json"], capsys))
        np.testing.assert_allclose(data["jacobian"]["value"], expected, rtol=1e-12)
        assert data["outputs"] == ["f1", "f2"] and data["inputs"] == ["x", "y"]
        assert data["jacobian"]["closed_form"][0][0] == "y*cos(x*y)"
        assert data["mode"] == ("reverse" if mode == "auto" else mode)
        assert data["values"]["f2"] == 3.0
    forward = json.loads(run([*VECTOR, "--mode", "forward", "--json"], capsys))
    assert "requested; auto would take reverse" in forward["mode_choice"]["reason"]
    assert forward["mode_choice"]["sweeps"] == 2


def test_auto_takes_forward_for_one_input_and_two_outputs(capsys):
    program = "f1 = sin(x)\nf2 = x**2"
    out = run(["grad", program, "--outputs", "f1,f2", "--at", "x=1"], capsys)
    assert "mode: forward (auto: 1 input < 2 outputs" in out
    assert "∂f1/∂x = cos(x) = 0.5403023059" in out and "∂f2/∂x = 2*x    = 2" in out


def test_auto_for_one_output_is_reverse_mode(capsys):
    data = json.loads(run(["grad", "x*y", "--mode", "auto", "--at", "x=1,y=2", "--json"], capsys))
    assert data["mode"] == "reverse" and data["gradient"] == {"x": 2.0, "y": 1.0}


def test_output_picks_one_for_its_reverse_sweep(capsys):
    out = run([*VECTOR, "--output", "f2", "--at", "x=1,y=2"], capsys)
    assert "reverse sweep (adjoints t̄ = ∂f2/∂t):" in out
    assert "∂f2/∂x = y + 1 = 3" in out and "∂f2/∂y = x     = 1" in out
    data = json.loads(run([*VECTOR, "--output", "f1", "--at", "x=1,y=2", "--json"], capsys))
    g = sg.graph({"f1": "sin(x*y)", "f2": "x*y + x"})
    ev = g.reverse("f1").evaluate({"x": 1, "y": 2})
    assert data["output"] == "f1" and data["gradient"] == pytest.approx(
        {str(k): v for k, v in ev.gradient.items()}
    )
    assert data["derivatives"][0]["label"] == "∂f1/∂x"


def test_forward_mode_of_a_vector_function_is_a_column(capsys):
    out = run([*VECTOR, "--mode", "forward", "--wrt", "x", "--at", "x=1,y=2"], capsys)
    expected = jacobian_oracle(1, 2)
    assert f"∂f1/∂x = y*cos(x*y) = {expected[0, 0]:.10g}" in out
    assert "∂f2/∂x = y + 1      = 3" in out


def test_output_in_check_fd_graph_and_latex(capsys):
    check = ["check", PROGRAM, "--outputs", "f1,f2", "--output", "f2", "--claim", "x=y + 1"]
    assert "✓ ∂f2/∂x = y + 1: right" in run(check, capsys)
    fd = ["fd", PROGRAM, "--outputs", "f1,f2", "--output", "f1", "--at", "x=1,y=2", "--json"]
    exact = json.loads(run([*fd, "--scheme", "central"], capsys))["exact"]
    np.testing.assert_allclose([exact["x"], exact["y"]], jacobian_oracle(1, 2)[0], rtol=1e-12)
    graph = ["graph", PROGRAM, "--outputs", "f1,f2", "--output", "f1", "--at", "x=1,y=2"]
    assert "tbar = fbar_1*cos(t) = cos(t) = -0.4161468365" in run(graph, capsys)
    latex = ["latex", PROGRAM, "--outputs", "f1,f2", "--output", "f2"]
    assert r"\bar{f}_{2}" in run(latex, capsys) or "f_{2}" in run(latex, capsys)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["grad", "x*y", "--outputs", "f"], "--outputs names lines of a program"),
        ([*VECTOR[:3], "f1,q"], "outputs names 'q', which no line assigns"),
        ([*VECTOR[:3], "f1,f1"], "outputs names 'f1' twice"),
        ([*VECTOR, "--output", "q"], "q"),
        ([*VECTOR, "--mode", "forward", "--output", "f1"], "--output picks the output of a"),
        (["grad", "x*y", "--output", "f"], "this function has one, f"),
        (["graph", PROGRAM, "--outputs", "f1,f2"], "pick one with --output NAME"),
        ([*VECTOR, "--hessian"], "--hessian is of one output; pick one of f1, f2"),
        (["fd", PROGRAM, "--outputs", "f1,f2", "--at", "x=1,y=2"], "pick one with --output"),
        (["check", PROGRAM, "--outputs", "f1,f2", "--claim", "x=1"], "pick one with --output"),
        (["grad", "t1 = W*x\nf1 = sum(t1)\nf2 = sum(sigmoid(t1))", "--shapes", "W=3x2,x=2x1",
          "--outputs", "f1,f2"], "W, x are matrices: the Jacobian on the command line"),
    ],
)  # fmt: skip
def test_bad_vector_input_exits_2_with_one_line(argv, says, capsys):
    assert says in failing(argv, capsys)


# ---------------------------------------------------------------- forward mode's seeds


def test_a_matrix_direction(capsys):
    """Forward mode along a matrix direction V: the library's own number, and against
    reverse mode, ⟨∂f/∂W, V⟩."""
    net = ["grad", "sum(sigmoid(W*x + b))", "--shapes", "W=3x2,x=2x1,b=3x1"]
    at = ["--at", "W=[[1,2],[3,4],[5,6]],x=[1,2],b=[0,0,0]"]
    v = np.array([[1.0, 0], [0, -1], [0.5, 0]])
    argv = [*net, *at, "--mode", "forward", "--wrt", "W=" + json.dumps(v.tolist()), "--json"]
    data = json.loads(run(argv, capsys))
    gradient = np.array(json.loads(run([*net, *at, "--json"], capsys))["gradient"]["W"])
    assert data["derivative"]["f"] == pytest.approx(float(np.sum(gradient * v)), rel=1e-10)
    assert data["derivatives"][0]["label"].startswith("fdot along (W: [[1, 0], [0, -1]")
    assert "--wrt 'W=[[1,0],[0,0],[0,0]]'" in failing([*net, *at, "--mode", "forward",
                                                       "--wrt", "W"], capsys)  # fmt: skip
    symbolic = run([*net, "--mode", "forward", "--wrt", "W"], capsys)
    assert "fdot along Wdot = sum((Wdot*x) ∘ sigmoid'(W*x + b))" in symbolic


def test_hessian_labels(capsys):
    out = run([*VECTOR, "--output", "f1", "--at", "x=1,y=2", "--hessian"], capsys)
    assert "∂²f1/∂v∂vᵀ = [[-y**2*sin(x*y), " in out  # of the output picked
    out = run(["grad", "x**2*y", "--at", "x=1,y=2", "--hessian"], capsys)
    assert "Hessian (2×2, v = (x, y)), in closed form:" in out
    assert "∂²f/∂v∂vᵀ = [[2*y, 2*x], [2*x, 0]] = [[4. 2.]" in out


# ---------------------------------------------------------------- help


@pytest.mark.parametrize(
    ("command", "shows"),
    [
        ("grad", ["--hessian", "--shapes", '"[x*y, sin(x)]"', "--outputs f1,f2", "--wrt u1",
                  "x=pi/6", "--output f2", "@point.json"]),
        ("check", ["--claim", "--shapes", "--tol", "--outputs"]),
        ("fd", ["--sweep", "--scheme central", "--wrt W", "x=pi/4"]),
        ("graph", ["--png", "--dot", "--mode forward"]),
        ("latex", ["--standalone -o steps.tex", "--mode forward"]),
    ],
)  # fmt: skip
def test_every_command_has_its_own_examples(command, shows, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    examples = out[out.index("examples:") :]
    assert f"symgraph {command} " in examples
    for text in shows:
        assert text in examples, text


def test_an_ascii_terminal_spells_the_accents(capsys):
    from symgraph.cli import io as cli_io

    class Stream:
        encoding = "ascii"
        written = ""

        def write(self, text):
            text.encode("ascii")
            self.written += text

    stream = Stream()
    cli_io.write(stream, "reverse sweep (adjoints t̄ = ∂f/∂t), tangents ṫ")
    assert stream.written == "reverse sweep (adjoints tbar = df/dt), tangents tdot"


# ---------------------------------------------------------------- the examples run


def _examples() -> list[str]:
    """Every example command of every --help, continuation lines joined."""
    from symgraph.cli import examples

    found = []
    for text in (examples.TOP, examples.GRAD, examples.CHECK, examples.FD, examples.GRAPH,
                 examples.LATEX):  # fmt: skip
        body = text.split("\n\n")[0].replace("\\\n", " ")
        for row in body.splitlines()[1:]:
            command = row.split("  #")[0].strip()
            if command.startswith(("symgraph ", "printf ")) and "COMMAND" not in command:
                found.append(command)
    return found


@pytest.mark.parametrize("command", _examples())
def test_every_example_runs(command, tmp_path, monkeypatch, capsys):
    import io
    import shlex

    monkeypatch.chdir(tmp_path)
    (tmp_path / "point.json").write_text(
        '{"W": [[1, 2], [3, 4], [5, 6]], "x": [1, 2], "b": [0, 0, 0]}'
    )
    np.savez(tmp_path / "point.npz", W=np.ones((3, 2)), x=np.ones(2), b=np.zeros(3))
    if command.startswith("printf "):
        program, _, command = command.partition(" | ")
        text = shlex.split(program)[1].replace("\\n", "\n")
        monkeypatch.setattr("sys.stdin", io.StringIO(text))
    argv = shlex.split(command)[1:]
    drawn = any(f"--{fmt} " in command for fmt in ("png", "svg", "pdf"))
    if drawn and shutil.which("dot") is None:
        assert main(argv) in (0, 2) and "Traceback" not in capsys.readouterr().err
        return
    assert main(argv) == 0, capsys.readouterr().err


def test_a_list_is_a_vector_function_and_a_program_picks_its_outputs(capsys):
    """``"[x*y, sin(x)]"``: the Jacobian, labelled and against sympy.diff's numbers; a
    program's --outputs with a rebound name (its final version)."""
    assert main(["grad", "[x*y, sin(x)]", "--at", "x=1,y=2"]) == 0
    out = capsys.readouterr().out
    assert "∂f2/∂x = cos(x)" in out and f"{math.cos(1):.10g}" in out
    assert "∂f1/∂y = x" in out and "mode: " in out
    program = "c = x*y\nc += x\nd = c*y"
    assert main(["grad", program, "--outputs", "c,d", "--at", "x=1,y=2", "--json"]) == 0
    jacobian = json.loads(capsys.readouterr().out)["jacobian"]
    assert jacobian["closed_form"] == [["y + 1", "x"], ["y*(y + 1)", "x*(2*y + 1)"]]
    assert jacobian["value"] == [[3.0, 1.0], [6.0, 5.0]]  # c_2 = xy + x, d = c_2 y at (1, 2)
