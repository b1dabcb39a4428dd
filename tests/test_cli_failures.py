"""Every way the command line can fail ends in one line and a meaningful exit status.

2: bad input or an I/O problem; 1: a wrong claim; 70: a bug (``--debug`` shows the
traceback); 141: a broken pipe, silently. Never a traceback without ``--debug``. Cases
that could hang, exhaust memory or depend on the process's streams run in a subprocess.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import symgraph as sg
from symgraph.cli import io as cli_io
from symgraph.cli import main
from symgraph.parse import MAX_TEXT_CHARS

ROOT = Path(__file__).resolve().parent.parent


def failing(argv, capsys, code=2) -> str:
    """Run ``argv``; assert the exit status and exactly one stderr line; that line."""
    assert main(argv) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert captured.err.count("\n") == 1 and captured.err.startswith("symgraph: "), captured.err
    return captured.err


def ok(argv, capsys, code=0) -> str:
    assert main(argv) == code
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def symgraph(*argv, timeout=120, **options) -> subprocess.CompletedProcess:
    """The CLI in a fresh process (the timeout only keeps a regression from hanging CI)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **options.pop("env", {})}
    command = [sys.executable, "-m", "symgraph", *argv]
    streams = {"stdout": options.pop("stdout", subprocess.PIPE), "stderr": subprocess.PIPE}
    return subprocess.run(command, timeout=timeout, env=env, **streams, **options)


def one_line(done: subprocess.CompletedProcess, code: int = 2) -> str:
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == code, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


# ---------------------------------------------------------------- bad input: exit 2


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["fd", "x**2", "--at", "x=1", "--h", "0"], "--h: 0 is not > 0"),
        (["fd", "x**2", "--at", "x=1", "--h=-1e-3"], "not > 0"),
        (["fd", "x**2", "--at", "x=1", "--h", "nan"], "--h"),
        (["check", "x", "--claim", "x=1", "--at", "x=1", "--tol", "-1"], "not >= 0"),
        (["grad", "x", "--at", "x=inf"], "not a finite number"),
        (["grad", "x", "--at", "x=1e999"], "not a finite number"),
        (["check", "x", "--claim", "x=nan", "--at", "x=1"], "not a finite number"),
        (["grad", "x*y", "--shapes", "x=0x2"], "ROWSxCOLS"),
        (["grad", "x*y", "--shapes", "x=²x2"], "ROWSxCOLS"),
    ],
)
def test_bad_numbers_are_refused(argv, says, capsys):
    assert says in failing(argv, capsys)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["grad", "x*y", "--at", "x=1,y=1", "--at", "x=2"], "--at given twice"),
        (["grad", "x*y", "--at", "x=1,x=2,y=1"], "gives x twice"),
        (["grad", "x*y", "--shapes", "x=2x1", "--shapes", "y=2x1"], "--shapes given twice"),
        (["grad", "x*y", "--mode", "forward", "--wrt", "x", "--wrt", "y"], "--wrt given twice"),
        (["fd", "x", "--at", "x=1", "--h", "0.1", "--h", "0.2"], "--h given twice"),
        (["latex", "x", "-o", "a.tex", "--out", "b.tex"], "given twice"),
        (["check", "x*y", "--claim", "x=y", "--claim", "x=2"], "two claims for x"),
        (["check", "x*y", "--claim", "x=y", "--claim", " x =y"], "two claims for x"),
    ],
)
def test_a_repeated_option_or_name_is_refused(argv, says, capsys):
    assert says in failing(argv, capsys)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["grad"],
        ["grad", "x", "--bogus"],
        ["grad", "x", "--mode", "sideways"],
        ["frobnicate", "x"],
        ["fd", "x", "--at", "x=1", "--h", "small"],
    ],
)
def test_argparse_errors_take_one_line(argv, capsys):
    assert "--help" in failing(argv, capsys)


def test_io_problems_writing(tmp_path, capsys):
    missing = tmp_path / "missing" / "x.tex"
    assert "No such file or directory" in failing(["latex", "x*y", "-o", str(missing)], capsys)
    assert "Is a directory" in failing(["latex", "x*y", "-o", str(tmp_path)], capsys)


def test_io_problems_reading(tmp_path, capsys):
    big = tmp_path / "big.txt"
    big.write_text("x" * (MAX_TEXT_CHARS + 1))
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"x" * (cli_io.MAX_BYTES + 1))
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00x")
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"x\x00+ 1")
    cases = {
        big: "more than 100,000 characters",
        huge: "too long for a formula",
        binary: "not UTF-8 text",
        nul: "NUL",
        tmp_path: "not a regular file",
        tmp_path / "absent": "No such file",
    }
    for path, says in cases.items():
        assert says in failing(["grad", f"@{path}"], capsys)


def test_stdin_is_bounded_too(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("x + " * MAX_TEXT_CHARS))
    assert "standard input" in failing(["grad", "-"], capsys)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_not_read(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    assert "not a regular file" in one_line(symgraph("grad", f"@{device}"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in one_line(symgraph("grad", f"@{fifo}"))


def test_endless_stdin_is_cut_off():
    with open(os.devnull if not os.path.exists("/dev/zero") else "/dev/zero", "rb") as zero:
        done = symgraph("grad", "-", stdin=zero)
    assert done.returncode == 2 and "Traceback" not in done.stderr.decode()


# ---------------------------------------------------------------- options that do nothing


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["grad", "x*y", "--wrt", "x"], "--wrt seeds forward mode"),
        (["graph", "x*y", "--mode", "none", "--wrt", "x"], "--wrt seeds forward mode"),
        (["grad", "x*y", "--output", "f"], "--output"),  # one output: nothing to choose
        (["check", "x*y", "--claim", "x=y", "--output", "f"], "--output"),
        (["grad", "max(x, y)", "--kink", "first"], "give --at too"),
        (["latex", "max(x, y)", "--kink", "zero"], "give --at too"),
        (["check", "max(x, y)", "--claim", "x=1", "--at", "x=1,y=1", "--kink", "first"], "--kink"),
        (["check", "x*y", "--claim", "x=y", "--wrt", "x"], "--wrt"),
        (["fd", "x*y", "--at", "x=1,y=2", "--mode", "forward"], "--mode"),
        (["fd", "max(x, y)", "--at", "x=1,y=1", "--kink", "first"], "--kink"),
        (["fd", "x*y", "--at", "x=1,y=2", "--sweep", "--h", "0.1"], "drop --h"),
        (["check", "x*y", "--claim", "x=y", "--tol", "0.1"], "give --at too"),
        (["check", "x", "--claim", "x=1", "--at", "x=1", "--tol", "1", "--rtol", "1"], "not both"),
    ],
)
def test_an_option_that_would_change_nothing_is_refused(argv, says, capsys):
    assert says in failing(argv, capsys)


def spy(monkeypatch, name: str) -> dict:
    """Record the keywords the CLI passes to ``sg.<name>``, which still runs."""
    seen, real = {}, getattr(sg, name)

    def call(*args, **kwargs):
        seen.clear()
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(sg, name, call)
    return seen


def test_check_passes_mode_and_tolerance(monkeypatch, capsys):
    seen = spy(monkeypatch, "check")
    argv = ["check", "x*y", "--claim", "x=2.05", "--at", "x=1,y=2", "--mode", "forward"]
    assert "right" in ok([*argv, "--tol", "0.1"], capsys)
    assert seen["mode"] == "forward" and seen["tol"] == 0.1
    assert "wrong" in ok([*argv, "--rtol", "0.01"], capsys, code=1)
    assert seen["rtol"] == 0.01 and "tol" not in seen


def test_fd_passes_scheme_step_and_wrt(monkeypatch, capsys):
    seen = spy(monkeypatch, "finite_difference")
    argv = ["fd", "x**3 + y", "--at", "x=1,y=3", "--json"]
    out = json.loads(ok([*argv, "--scheme", "central", "--h", "0.5", "--wrt", "x"], capsys))
    assert seen == {"h": 0.5, "scheme": "central", "wrt": "x"}
    assert list(out["estimates"]) == ["x"] and out["estimates"]["x"] == pytest.approx(3.25)


def test_graph_text_shows_the_sweep_and_the_point(capsys):
    out = ok(["graph", "x*y", "--mode", "forward", "--wrt", "x", "--at", "x=2,y=3"], capsys)
    assert "forward sweep (tangents ṫ = ∂t/∂x):" in out and "  f = x*y = 6" in out
    assert "  fdot = y*xdot = y = 3" in out and "steps, and their values at the point:" in out
    reverse = ok(["graph", "x*y", "--at", "x=2,y=3", "--dot", "--json"], capsys)
    assert json.loads(reverse)["dot"].startswith("digraph")


# ---------------------------------------------------------------- warnings, JSON, bugs


def test_a_kink_is_a_note_of_the_output_not_a_warning(capsys):
    argv = ["check", "max(x, y)", "--claim", "x=0.5", "--at", "x=1,y=1"]
    out = ok(argv, capsys)
    note = "note: f = Max(x, y) at a tie of max (x = 1, y = 1): derivatives split evenly"
    assert note in out.splitlines() and "KinkWarning" not in out and ".py" not in out
    assert json.loads(ok([*argv, "--json"], capsys))["notes"] == [note[len("note: ") :]]
    assert "note:" in ok(["fd", "max(x, y)", "--at", "x=1,y=1"], capsys)


def test_a_document_gets_no_note_in_it(capsys):
    out = ok(["latex", "max(x, y)", "--at", "x=1,y=1"], capsys)
    assert "note:" not in out and "Kinks at this point" in out


def test_json_is_strict_json(capsys):
    def refuse(name):
        raise AssertionError(f"{name} is not JSON")

    out = ok(["fd", "x**2", "--at", "x=0", "--json"], capsys)  # the relative error is 0/0
    data = json.loads(out, parse_constant=refuse)
    assert data["rel_error"] == {"x": None} and data["exact"] == {"x": 0.0}


def test_jsonable_maps_non_finite_numbers_to_null():
    import numpy

    data = {"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c": numpy.array([1.0, numpy.nan])}
    assert cli_io.jsonable(data) == {"a": None, "b": [None, None, 1.5], "c": [1.0, None]}


def test_an_internal_error_is_one_line_saying_it_is_a_bug(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise TypeError("something inside went wrong")

    monkeypatch.setattr(sg, "graph", broken)
    err = failing(["grad", "x*y"], capsys, code=70)
    assert "bug" in err and "TypeError: something inside went wrong" in err and "--debug" in err
    assert main(["--debug", "grad", "x*y"]) == 70
    captured = capsys.readouterr().err
    assert "Traceback" in captured and captured.rstrip().endswith("something inside went wrong")
    assert main(["grad", "x*y", "--debug"]) == 70
    assert "Traceback" in capsys.readouterr().err


def test_a_closed_form_that_crashes_is_not_a_traceback(capsys):
    argv = ["grad", "sum(sigmoid(W*x+b))/2", "--shapes", "W=3x2,x=2x1,b=3x1"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 70) and "Traceback" not in err
    assert code == 0 or err.count("\n") == 1


# ---------------------------------------------------------------- streams


def test_a_broken_pipe_ends_quietly():
    command = [sys.executable, "-m", "symgraph", "grad", "x*y", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    child.stdout.close()  # the reader goes away before the output is written
    err = child.stderr.read()
    assert child.wait(timeout=120) == 141 and err == b""


def test_an_ascii_terminal_gets_ascii_notation():
    env = {"PYTHONIOENCODING": "ascii"}
    done = symgraph("check", "x**2", "--claim", "x=2*x", env=env)
    assert done.returncode == 0 and done.stderr == b""
    assert "ok df/dx = 2*x" in done.stdout.decode("ascii")
    bad = symgraph("grad", "x + ∂", env=env)  # an error naming a non-ASCII character
    assert "invalid character" in one_line(bad)


def test_write_falls_back_to_ascii_notation():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    cli_io.write(stream, "∂f/∂x ≈ 2 ✓ ☃")
    stream.flush()
    assert stream.buffer.getvalue() == b"df/dx ~ 2 ok ?"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_a_full_disk_is_one_line():
    with open("/dev/full", "wb") as full:
        done = symgraph("grad", "x*y", stdout=full)
    assert "cannot write the output: No space left on device" in one_line(done)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file descriptors")
def test_a_closed_stdout_is_one_line():
    done = symgraph("grad", "x*y", preexec_fn=lambda: os.close(1))
    assert "standard output is closed" in one_line(done)


def test_every_claim_is_judged(capsys):
    argv = ["check", "x*y", "--claim", "x=y", "--claim", "y=2*x", "--json"]
    results = json.loads(ok(argv, capsys, code=1))["results"]
    assert {r["name"]: r["ok"] for r in results} == {"x": True, "y": False}


def test_help_and_interrupts(monkeypatch, capsys):
    assert main(["--help"]) == 0 and main(["grad", "--help"]) == 0
    assert "usage: symgraph" in capsys.readouterr().out

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sg, "graph", interrupted)
    assert failing(["grad", "x"], capsys, code=130) == "symgraph: interrupted\n"
