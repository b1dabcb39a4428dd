"""The package's layers: no import cycle (imports inside functions count too), the core
imports no export, and the Jupyter displays reach the core classes from ``export/``."""

import ast
import pathlib

import networkx as nx

import symgraph as sg

PACKAGE = pathlib.Path(sg.__file__).parent


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("symgraph", *path.relative_to(PACKAGE).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports() -> nx.DiGraph:
    """Module -> module it imports anywhere in its text (the facade itself left out)."""
    modules, edges = _modules(), nx.DiGraph()
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges.add_node(name)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                head = base if node.level else node.module
                if node.level and node.module:
                    head = f"{base}.{node.module}"
                targets = [head, *(f"{head}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for t in targets:
                if t in modules and t not in (name, "symgraph"):
                    edges.add_edge(name, t)
    return edges


def _outer(name: str) -> bool:
    return ".export" in name or name.startswith("symgraph.cli") or ".serve" in name


def test_no_import_cycle():
    cycles = [c for c in nx.strongly_connected_components(_imports()) if len(c) > 1]
    assert cycles == []


def test_the_core_imports_no_outer_layer():
    edges = _imports()
    core = [m for m in edges if not _outer(m) and m not in ("symgraph", "symgraph.__main__")]
    assert [(m, t) for m in core for t in edges[m] if _outer(t)] == []


def test_graph_imports_no_stage():
    # the graph is structure only: its edges' derivatives come from symgraph.edges, its
    # closed forms from symgraph.closed, each attached to Graph by its own module
    assert set(_imports()["symgraph.graph"]) <= {"symgraph.naming", "symgraph.errors"}


def test_stages_attach_the_methods_and_export_the_displays():
    g = sg.graph("x*y")
    assert sg.Graph.forward is sg.forward and sg.Graph.reverse is sg.reverse
    assert sg.Graph.jacobian.__module__ == "symgraph.derivatives"
    for obj in (g, g.forward("x"), g.reverse()):
        assert type(obj)._repr_latex_.__module__ == "symgraph.export.jupyter"
        assert obj._repr_latex_().startswith("$$")
