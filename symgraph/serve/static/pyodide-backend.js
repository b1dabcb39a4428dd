// The static build's backend (symgraph playground build): symgraph itself runs in the
// browser with Pyodide; the runtime and the wheels come from this site's own files, so no
// request leaves its origin. Loaded before app.js, which calls window.SYMGRAPH_BACKEND.
"use strict";
(() => {
  const base = new URL("static/", document.baseURI);
  const status = document.createElement("p");
  status.id = "status"; status.className = "status"; status.textContent = "loading Python…";
  document.querySelector("h1").after(status);
  const NEEDS_NUMPY = "NumPy is not available in this build: the compiled NumPy code, " +
    "“check my derivation” and the finite differences need it (symgraph serve has them).";

  async function start() {
    const t0 = performance.now();
    const site = await (await fetch(new URL("site.json", base))).json();
    const py = await loadPyodide({indexURL: new URL("pyodide/", base).href});
    const t1 = performance.now();
    status.textContent = "loading Python… installing symgraph, SymPy, mpmath, NetworkX";
    const urls = site.wheels.map((w) => new URL("wheels/" + w, base).href);
    await py.loadPackage(urls, {messageCallback: () => {}});
    const t2 = performance.now();
    status.textContent = "loading Python… importing symgraph";
    const api = py.pyimport("symgraph.serve.api");
    const numpy = py.runPython("import importlib.util; importlib.util.find_spec('numpy') is not None");
    const seconds = (performance.now() - t0) / 1000;
    // benchmarks/playground.py reads these: seconds to ready, and of each phase
    window.SYMGRAPH_STARTED = seconds;
    window.SYMGRAPH_PHASES = {runtime: (t1 - t0) / 1000, wheels: (t2 - t1) / 1000,
      import: (performance.now() - t2) / 1000};
    status.textContent = `Python ${site.python} in the browser (Pyodide ${site.pyodide}), ` +
      `ready in ${seconds.toFixed(1)} s.` + (numpy ? "" : " " + NEEDS_NUMPY);
    status.dataset.numpy = numpy ? "yes" : "no";
    return api.run_json;
  }

  const ready = start();
  ready.catch((e) => { status.textContent = "Python failed to load: " + e; status.className += " error"; });
  // Pyodide runs on this thread: one request at a time, in order
  window.SYMGRAPH_BACKEND = async (req) => JSON.parse((await ready)(JSON.stringify(req)));
})();
