"""``symgraph playground build DIR``: the playground as a static site (Pyodide, no server).

>>> p = argparse.ArgumentParser()
>>> add_parser(p.add_subparsers())
>>> p.parse_args(["playground", "build", "site"]).dir
'site'
"""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  symgraph playground build site                 # npm and pip fetch Pyodide and the wheels
  python -m http.server -d site                  # then open http://127.0.0.1:8000/
  symgraph playground build site --pyodide DIR --wheels DIR   # offline, from local copies
"""


def add_parser(sub, run=None) -> None:
    """``playground build DIR [--pyodide DIR] [--wheels DIR]`` on the CLI's subparsers;
    ``run(args)`` builds (``symgraph.cli``'s, which alone imports the serve layer)."""
    about = "the playground: a static site running symgraph in the browser (Pyodide)"
    top = sub.add_parser("playground", help=about, description=about)
    verbs = top.add_subparsers(dest="verb", required=True, metavar="VERB")
    build = verbs.add_parser(
        "build", help="write the static site into DIR", description=about, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    build.add_argument("dir", metavar="DIR", help="where the site goes (created)")
    build.add_argument("--pyodide", metavar="DIR", help="an unpacked pyodide npm package")
    build.add_argument("--wheels", metavar="DIR", help="wheels of sympy, mpmath, networkx")
    about = "ship sources only (slower cold start)"
    build.add_argument("--no-precompile", action="store_true", help=about)
    build.set_defaults(run=run, json=False)
