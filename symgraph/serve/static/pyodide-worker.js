// The static build's Python (symgraph playground build): Pyodide in a Web Worker, so a long
// request cannot freeze the page, which ends this worker after its time budget and starts
// a new one. The runtime and the wheels come from this site's own files (no request leaves
// its origin) unless the person asks for NumPy from Pyodide's own index ({numpy: url} in).
// Messages out: {status}, {ready}, {failed}, {numpy} and {text} for each request.
"use strict";
importScripts("pyodide/pyodide.js");  // relative to this file: static/pyodide/
const here = (path) => new URL(path, self.location.href).href;
let run = null;

async function start() {
  const t0 = performance.now();
  const site = await (await fetch(here("site.json"))).json();
  py = await loadPyodide({indexURL: here("pyodide/")});
  const t1 = performance.now();
  postMessage({status: "installing symgraph, SymPy, mpmath, NetworkX"});
  await py.loadPackage(site.wheels.map((w) => here("wheels/" + w)), {messageCallback: () => {}});
  const t2 = performance.now();
  postMessage({status: "importing symgraph"});
  run = py.pyimport("symgraph.serve.api").run_json;
  const numpy = py.runPython("import importlib.util; importlib.util.find_spec('numpy') is not None");
  const phases = {runtime: (t1 - t0) / 1000, wheels: (t2 - t1) / 1000,
    import: (performance.now() - t2) / 1000};
  postMessage({ready: {python: site.python, pyodide: site.pyodide, numpy, phases}});
}

let py = null;
const ready = start().catch((e) => postMessage({failed: String(e)}));
onmessage = async (e) => {
  await ready;
  if (e.data.numpy) {  // only when the person asks: NumPy from Pyodide's own index, online
    try {
      await py.loadPackage(e.data.numpy, {messageCallback: () => {}});
      postMessage({numpy: py.runPython("import numpy; numpy.__version__")});
    } catch (err) {
      postMessage({numpy: null, error: String(err)});
    }
    return;
  }
  postMessage({text: run ? run(e.data.text) : JSON.stringify({ok: false, error: {message: "Python did not start"}})});
};
