"""The notebooks run top to bottom in a fresh kernel, and are committed with their outputs.

Each notebook in ``notebooks/`` is executed with nbclient in a new kernel running this very
interpreter (so the kernel sees the symgraph under test, in CI's fresh virtualenv as on a
laptop with other Jupyter kernels installed); any error in any cell fails the test. The
committed copy must hold the outputs of one top-to-bottom run, with an output wherever a
fresh run produces one, so the repository never shows an empty or half-run notebook.

Cells tagged ``graphviz`` draw a picture with Graphviz's ``dot`` where it is installed and
show a text form where it is not (a result's display: its LaTeX and text; or the DOT
text), so the notebooks run on any machine. Their outputs depend on the machine: they are
checked to be the picture (with ``dot``) or a text form (without), not compared with the
committed ones. Cells tagged ``optional`` use an optional extra where it is installed
(matplotlib) and print instead where it is not: their outputs are not compared either.

To refresh the committed outputs after changing a notebook or the library::

    SYMGRAPH_UPDATE_NOTEBOOKS=1 python -m pytest -q tests/test_notebooks.py

Refreshed on a machine without Graphviz, a ``graphviz`` cell keeps its committed picture.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds; each notebook takes a few seconds in all
UPDATE = os.environ.get("SYMGRAPH_UPDATE_NOTEBOOKS") == "1"
GRAPHVIZ = "graphviz"  # the tag of cells whose output is a picture only with Graphviz
OPTIONAL = "optional"  # the tag of cells whose output depends on an optional extra


@pytest.fixture
def kernel(tmp_path, monkeypatch) -> str:
    """A ``python3`` kernelspec for this interpreter, found before any other one."""
    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))  # searched before user and system dirs
    return "python3"


def _code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _mime_types(cell) -> list[tuple[str, ...]]:
    return [
        (out.output_type, out.get("name", ""), *sorted(out.get("data", {}))) for out in cell.outputs
    ]


def _draws(cell) -> bool:
    return GRAPHVIZ in cell.metadata.get("tags", [])


def _picture(cell) -> bool:
    return any("image/svg+xml" in out.get("data", {}) for out in cell.outputs)


def _check_picture(path: Path, cell) -> None:
    """A ``graphviz`` cell: the picture with ``dot``, its DOT text without."""
    if shutil.which("dot"):
        assert _picture(cell), f"{path.name}: cell {cell.id!r} drew no picture"
    else:
        text = "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")
        shown = any("text/plain" in out.get("data", {}) for out in cell.outputs)  # its text form
        assert "digraph" in text or shown, f"{path.name}: cell {cell.id!r} showed no text form"


def _keep_pictures(committed, nb) -> None:
    """Refreshing without Graphviz: the committed pictures stay (they need ``dot``)."""
    for old, new in zip(_code_cells(committed), _code_cells(nb), strict=True):
        if _draws(new) and _picture(old) and not _picture(new):
            new.outputs = old.outputs
            for out in new.outputs:
                if "execution_count" in out:
                    out.execution_count = new.execution_count


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 6, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_has_the_outputs_of_one_run(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name} is not run top to bottom"
    assert sum(bool(cell.outputs) for cell in cells) >= len(cells) // 2, f"{path.name} is bare"
    errors = [out for cell in cells for out in cell.outputs if out.output_type == "error"]
    assert not errors, f"{path.name} was committed with an error: {errors[0].ename}"
    rich = {"image/svg+xml", "text/latex", "text/html", "text/markdown"}
    assert any(rich & set(out.get("data", {})) for cell in cells for out in cell.outputs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, kernel):
    committed = nbformat.read(path, as_version=4)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=CELL_TIMEOUT,
        record_timing=False,
        coalesce_streams=True,  # one stdout output a cell, however the kernel chunks it
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    for cell in filter(_draws, _code_cells(nb)):
        _check_picture(path, cell)
    if UPDATE:
        _keep_pictures(committed, nb)
        nbformat.write(nb, path)
        return
    for old, new in zip(_code_cells(committed), _code_cells(nb), strict=True):
        if _draws(new) or OPTIONAL in new.metadata.get("tags", []):
            continue  # the machine decides: checked above
        assert _mime_types(old) == _mime_types(new), (
            f"{path.name}: the committed outputs of cell {new.id!r} are stale; "
            "refresh them with SYMGRAPH_UPDATE_NOTEBOOKS=1 (see this module's docstring)"
        )
