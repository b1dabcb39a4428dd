"""``symgraph playground build DIR``: the playground as a static site, symgraph itself
running in the browser with Pyodide (CPython compiled to WebAssembly); no server needed.

The site is the page of ``symgraph serve`` plus ``static/pyodide-backend.js``, which starts
``static/pyodide-worker.js`` (a Web Worker, so a slow formula cannot freeze the page: past
its time budget the worker is ended and restarted); the worker loads the Pyodide runtime
and the wheels of symgraph, SymPy, mpmath and NetworkX from the site's own files (no
request leaves its origin) and answers the page with :func:`symgraph.serve.api.run_json`.
Where the pieces come from:

- the runtime: the npm package ``pyodide`` (``npm pack``; it ships no wheels), cached in
  ``$XDG_CACHE_HOME/symgraph`` (``~/.cache``), or ``pyodide=`` an unpacked copy;
- the wheels: ``pip download`` of the versions installed here (cached too), or ``wheels=``
  a folder of them; symgraph's own wheel is written from its installed files.

The Python files are precompiled (unchecked hash-based ``.pyc``: the browser never reads
the source to validate them) when this interpreter's Python is Pyodide's, which cuts the
cold start; the wheels' test folders are left out. NumPy has no wheel outside Pyodide's
own index, so the site runs without it and its page says which panes need it.

>>> import tempfile
>>> try:
...     build_site(tempfile.mkdtemp(), pyodide=tempfile.mkdtemp())
... except BuildError as err:
...     print(str(err).split(" has ")[1][:13])
no pyodide.js
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import marshal
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import symgraph

from ..errors import SymgraphError

#: Pyodide 0.25.1 runs CPython 3.11.3: the pure-Python wheels fit, and so does the
#: bytecode of a CPython 3.11 here (the .pyc magic number changes only between 3.x's).
PYODIDE_VERSION = "0.25.1"
PYODIDE_FILES = (
    "pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json",
)  # fmt: skip
#: The wheels symgraph needs, each with the versions Pyodide's SymPy accepts.
REQUIREMENTS = {"sympy": "", "mpmath": "<1.4", "networkx": ""}
STATIC = Path(__file__).parent / "static"
TIMEOUT = 600  # seconds for one npm or pip run: a slow mirror, not a hung one


class BuildError(SymgraphError):
    """The static site cannot be built: a tool or a file is missing (the message says which)."""


def build_site(directory, *, pyodide=None, wheels=None, precompile: bool = True) -> dict:
    """Write the static playground into ``directory``; return what went into it.

    Parameters
    ----------
    directory : str or Path
        Where the site goes (created; files of an earlier build are overwritten).
    pyodide : str or Path, optional
        An unpacked ``pyodide`` npm package (its ``package/`` folder or the folder above);
        default: ``npm pack pyodide@PYODIDE_VERSION`` into the cache.
    wheels : str or Path, optional
        A folder with the wheels of sympy, mpmath and networkx; default: ``pip download``
        of the installed versions into the cache.
    precompile : bool
        Ship ``.pyc`` files next to the sources (only if this Python is Pyodide's).

    Examples
    --------
    >>> info = build_site("site")  # doctest: +SKIP
    >>> info["pyodide"], sorted(info["wheels"])[0]  # doctest: +SKIP
    ('0.25.1', 'mpmath-1.3.0-py3-none-any.whl')
    """
    out = Path(directory)
    runtime = _runtime(pyodide)
    python = json.loads((runtime / "pyodide-lock.json").read_text())["info"]["python"]
    found = _wheels(Path(wheels) if wheels is not None else None)
    compiled = precompile and python.split(".")[:2] == [str(v) for v in sys.version_info[:2]]
    _page(out)
    (out / "static" / "pyodide").mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        shutil.copyfile(runtime / name, out / "static" / "pyodide" / name)
    shelf = out / "static" / "wheels"
    shelf.mkdir(parents=True, exist_ok=True)
    names = [_repack(path, shelf, compiled) for path in found.values()]
    names.append(_own_wheel(shelf, compiled))
    info = {"pyodide": PYODIDE_VERSION, "python": python, "wheels": names, "precompiled": compiled}
    (out / "static" / "site.json").write_text(json.dumps(info, indent=1) + "\n")
    return info


# ---------------------------------------------------------------- the page


def _page(out: Path) -> None:
    """The server's page files, and an index.html whose backend is Pyodide's."""
    shutil.copytree(STATIC, out / "static", dirs_exist_ok=True)
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    marker = '<script src="static/app.js"></script>'
    if marker not in page:  # a changed page: better to fail here than ship a dead site
        raise BuildError("symgraph/serve/static/index.html no longer loads static/app.js")
    script = '<script src="static/pyodide-backend.js"></script>\n'
    (out / "index.html").write_text(page.replace(marker, script + marker), encoding="utf-8")
    (out / "static" / "index.html").unlink()  # the site's page is the one at its root


# ---------------------------------------------------------------- the runtime


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/symgraph`` (default ``~/.cache/symgraph``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "symgraph"


def _runtime(given) -> Path:
    """The folder with Pyodide's files: the one given, or the cached npm package."""
    if given is not None:
        folder = Path(given)
        folder = folder / "package" if (folder / "package" / "pyodide.js").is_file() else folder
        for name in PYODIDE_FILES:
            if not (folder / name).is_file():
                raise BuildError(
                    f"--pyodide {given} has no {name}: give an unpacked pyodide npm "
                    f"package (npm pack pyodide@{PYODIDE_VERSION}; tar xzf)"
                )
        return folder
    folder = cache_dir() / "pyodide" / PYODIDE_VERSION
    if all((folder / name).is_file() for name in PYODIDE_FILES):
        return folder
    if shutil.which("npm") is None:
        raise BuildError(
            "needs npm to fetch the Pyodide runtime (apt-get install npm), "
            "or --pyodide DIR: an unpacked pyodide npm package"
        )
    folder.mkdir(parents=True, exist_ok=True)
    spec = f"pyodide@{PYODIDE_VERSION}"
    _tool(
        ["npm", "pack", spec, "--pack-destination", str(folder)],
        f"npm pack {spec}",
        "--pyodide DIR: an unpacked pyodide npm package",
    )
    tgz = folder / f"pyodide-{PYODIDE_VERSION}.tgz"
    with tarfile.open(tgz) as tar:  # only the files named: nothing else leaves the archive
        for name in PYODIDE_FILES:
            part = folder / f"{name}.part"  # renamed when whole: an interrupted fetch redoes
            part.write_bytes(tar.extractfile(f"package/{name}").read())
            part.replace(folder / name)
    tgz.unlink()
    return folder


def _tool(cmd: list[str], what: str, instead: str) -> None:
    """Run npm or pip; its failure (offline, say) as one line that says what to do."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise BuildError(f"{what} failed ({err}); pass {instead}") from None
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        last = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise BuildError(f"{what} failed (offline?): {last[:200]}; pass {instead}")


# ---------------------------------------------------------------- the wheels


def _pin(name: str) -> str:
    """The installed version (what symgraph is tested with), else the constraint."""
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return ""
    if name == "mpmath" and not version.startswith(("0.", "1.0", "1.1", "1.2", "1.3")):
        return ""  # sympy 1.14 refuses mpmath 1.4: take the constraint's newest instead
    return version


def _find(folder: Path, name: str, version: str) -> Path | None:
    hits = sorted(folder.glob(f"{name}-{version or '*'}-py3-none-any.whl"))
    return hits[-1] if hits else None


def _wheels(given: Path | None) -> dict[str, Path]:
    """Each requirement's wheel: from the folder given, else the cache (pip downloads)."""
    folder = given if given is not None else cache_dir() / "wheels"
    pins = {name: _pin(name) for name in REQUIREMENTS}
    found = {name: _find(folder, name, pins[name]) for name in REQUIREMENTS}
    if given is not None:  # the folder's own versions, if not those installed here
        found = {name: hit or _find(folder, name, "") for name, hit in found.items()}
    missing = [
        f"{name}=={pins[name]}" if pins[name] else name + REQUIREMENTS[name]
        for name, hit in found.items()
        if hit is None
    ]
    if missing and given is not None:
        raise BuildError(
            f"--wheels {given} has no wheel of {', '.join(missing)} "
            "(pip download --only-binary=:all: --no-deps ...)"
        )
    if missing:
        _download(folder, missing)
        found = {name: _find(folder, name, pins[name]) for name in REQUIREMENTS}
        if not all(found.values()):
            raise BuildError(f"pip download left no wheel of {', '.join(missing)} in {folder}")
    return found


def _download(folder: Path, specs: list[str]) -> None:
    """``pip download`` the pure-Python wheels of ``specs`` into ``folder``."""
    instead = "--wheels DIR with the wheels of sympy, mpmath, networkx"
    if importlib.util.find_spec("pip") is None:
        raise BuildError(f"needs pip to fetch the wheels (python -m ensurepip), or {instead}")
    folder.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    _tool([*pip, "--no-deps", "--dest", str(folder), *specs], "pip download", instead)


def _repack(path: Path, shelf: Path, compiled: bool) -> str:
    """A downloaded wheel without its tests, with bytecode if ``compiled``."""
    with zipfile.ZipFile(path) as whl:
        files = {n: whl.read(n) for n in whl.namelist() if not n.endswith("/") and not _dropped(n)}
    dist = next(n.split("/")[0] for n in files if n.split("/")[0].endswith(".dist-info"))
    _write_wheel(shelf / path.name, files, dist, compiled)
    return path.name


def _dropped(name: str) -> bool:
    """Tests, old bytecode (made anew if at all) and the RECORD (written anew)."""
    return "/tests/" in name or "__pycache__/" in name or name.endswith(".dist-info/RECORD")


def _own_wheel(shelf: Path, compiled: bool) -> str:
    """symgraph's wheel, written from its installed files (not the page: the site has it)."""
    package = Path(symgraph.__file__).resolve().parent
    version = symgraph.__version__
    files = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package.parent).as_posix()
        skip = "__pycache__" in path.parts or rel.startswith("symgraph/serve/static/")
        if path.is_file() and not skip and path.suffix != ".pyc":
            files[rel] = path.read_bytes()
    dist = f"symgraph-{version}.dist-info"
    files[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: symgraph\nVersion: {version}\n"
    files[f"{dist}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: symgraph.serve.static_build\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n"
    )
    name = f"symgraph-{version}-py3-none-any.whl"
    _write_wheel(shelf / name, files, dist, compiled)
    return name


def _write_wheel(path: Path, files: dict, dist: str, compiled: bool) -> None:
    """A wheel of ``files`` (name -> bytes or text), bytecode added, and its RECORD."""
    files = {n: d.encode() if isinstance(d, str) else d for n, d in files.items()}
    if compiled:
        for name, data in list(files.items()):
            if name.endswith(".py"):
                pyc = _bytecode(name, data)
                if pyc is not None:
                    files[importlib.util.cache_from_source(name)] = pyc
    record = [f"{n},sha256={_digest(d)},{len(d)}" for n, d in files.items()]
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,", ""]).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for name, data in files.items():
            whl.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def _bytecode(name: str, source: bytes) -> bytes | None:
    """An unchecked hash-based .pyc (PEP 552): used without reading or dating the source."""
    try:
        code = compile(source, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):  # a file this Python cannot read: left to its source
        return None
    flags = (0b01).to_bytes(4, "little")  # hash-based, not checked against the source
    header = importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(source)
    return header + marshal.dumps(code)


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def check_site(directory) -> list[str]:
    """The files a built site needs that are missing from ``directory`` (none: complete).

    >>> check_site("/nonexistent")[:1]
    ['index.html']
    """
    root = Path(directory)
    need = ["index.html", "static/app.js", "static/site.json"]
    need += ["static/pyodide-backend.js", "static/pyodide-worker.js"]
    need += [f"static/pyodide/{n}" for n in PYODIDE_FILES]
    missing = [n for n in need if not (root / n).is_file()]
    if not missing:
        info = json.loads((root / "static" / "site.json").read_text())
        missing = [
            f"static/wheels/{w}"
            for w in info["wheels"]
            if not (root / "static" / "wheels" / w).is_file()
        ]
    return missing
