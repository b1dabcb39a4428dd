"""The command line, driven end to end with its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symgraph.cli import main

F1 = "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"


def test_grad_prints_steps_and_numbers(capsys):
    assert main(["grad", F1, "--at", "u1=1,u2=-1"]) == 0
    out = capsys.readouterr().out
    assert "t3 = t1 + t2" in out and "ubar_2 = 2*t2*tbar_3" in out
    assert "u1: 47.3034" in out and "u2: 4.7101" in out


def test_grad_json_with_a_kink(capsys):
    assert (
        main(["grad", "u1*u2 + max(u1, u2)", "--at", "u1=1,u2=1", "--kink", "first", "--json"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["at"] == {"u1": 2.0, "u2": 1.0}
    assert result["kink_convention"] == "first" and "Max(u1, u2)" in result["kinks"][0]


def test_forward_mode_and_program_from_stdin(monkeypatch, capsys):
    program = "t1 = exp(u1)\nt2 = exp(2*u2)\nt3 = t1 + t2\nf = exp(t3) + sigmoid(t3)"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(program))
    assert (
        main(["grad", "-", "--mode", "forward", "--wrt", "u2", "--at", "u1=1,u2=-1", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["at"]["f"] == pytest.approx(4.7102, abs=1e-4)


@pytest.mark.parametrize(
    "argv",
    [
        ["grad", "__import__('os')"],
        ["grad", "x*y", "--at", "x=1"],
        ["grad", "log(x)", "--at", "x=-1"],
        ["grad", "x*y", "--at", "x=1,y=two"],
        ["grad", "x*y", "--mode", "forward"],
        ["grad", "@/nonexistent/file"],
    ],
)
def test_bad_input_exits_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symgraph: error: ") and err.count("\n") == 1


def test_console_entry_points():
    done = subprocess.run(
        [sys.executable, "-m", "symgraph", "--help"], capture_output=True, text=True, check=True
    )
    assert "grad" in done.stdout and "examples:" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "symgraph", "grad", "lambda: 1"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
