// The static build's backend (symgraph playground build): symgraph runs in the browser, in
// Pyodide in a Web Worker (static/pyodide-worker.js). Loaded before app.js, which calls
// window.SYMGRAPH_BACKEND(req); requests take turns, each within a time budget, as with
// symgraph serve: past it the worker is ended (the page stays responsive) and restarted.
"use strict";
(() => {
  const base = new URL("static/", document.baseURI);
  const status = document.createElement("p");
  status.id = "status"; status.className = "status";
  document.querySelector("h1").after(status);
  const NEEDS_NUMPY = "NumPy is not available in this build: the compiled NumPy code, " +
    "“check my derivation” and the finite differences need it (symgraph serve has them).";
  window.SYMGRAPH_BUDGET = 10;  // seconds a request may take (symgraph serve's TIME_BUDGET)
  let worker = null, ready = null, answer = null, queue = Promise.resolve();

  function boot(what) {
    const t0 = performance.now();
    status.textContent = what; status.classList.remove("error");
    worker = new Worker(new URL("pyodide-worker.js", base));
    ready = new Promise((resolve, reject) => {
      worker.onmessage = (e) => {
        const m = e.data;
        if (m.text !== undefined) { if (answer) answer(JSON.parse(m.text)); }
        else if (m.status) status.textContent = what + " " + m.status;
        else if (m.ready) { started(m.ready, (performance.now() - t0) / 1000); resolve(); }
        else if ("numpy" in m) numpyLoaded(m);
        else if (m.failed) reject(new Error(m.failed));
      };
      worker.onerror = (e) => reject(new Error(e.message || "the worker failed"));
    });
    ready.catch((e) => { status.textContent = "Python failed to load: " + e.message; status.classList.add("error"); });
  }

  function started(info, seconds) {
    window.SYMGRAPH_STARTED = seconds;  // benchmarks/playground.py reads these two
    window.SYMGRAPH_PHASES = info.phases;
    status.textContent = `Python ${info.python} in the browser (Pyodide ${info.pyodide}), ` +
      `ready in ${seconds.toFixed(1)} s.` + (info.numpy ? "" : " " + NEEDS_NUMPY);
    status.dataset.numpy = info.numpy ? "yes" : "no";
    window.SYMGRAPH_PYODIDE = info.pyodide;
    if (!info.numpy && wantNumpy) loadNumpy();
    else if (!info.numpy) status.append(" ", numpyButton());
  }

  // NumPy has no wheel this site can ship: Pyodide's own index has one. Fetched only when
  // the person asks (the site makes no request off its origin otherwise), and again after
  // a restart once asked for.
  let wantNumpy = false;
  function numpyButton() {
    const button = document.createElement("button");
    button.id = "load-numpy"; button.type = "button";
    button.textContent = "load NumPy from Pyodide's CDN (needs the internet)";
    button.onclick = () => { wantNumpy = true; loadNumpy(); };
    return button;
  }

  async function loadNumpy() {
    status.textContent = "loading NumPy from Pyodide's CDN…"; status.classList.remove("error");
    const lock = await (await fetch(new URL("pyodide/pyodide-lock.json", base))).json();
    const version = window.SYMGRAPH_PYODIDE;
    const url = `https://cdn.jsdelivr.net/pyodide/v${version}/full/${lock.packages.numpy.file_name}`;
    worker.postMessage({numpy: url});
  }

  function numpyLoaded(m) {
    if (m.numpy) {
      status.textContent = `NumPy ${m.numpy} loaded from Pyodide's CDN: every pane works.`;
      status.dataset.numpy = "yes";
    } else {
      status.textContent = `NumPy could not be loaded (${m.error}). ` + NEEDS_NUMPY;
      status.classList.add("error");
      status.append(" ", numpyButton());
    }
  }

  function ask(text) {
    return new Promise((resolve) => {
      const budget = window.SYMGRAPH_BUDGET;
      const timer = setTimeout(() => {
        answer = null; worker.terminate(); boot("restarting Python…");
        resolve({ok: false, error: {message: `this formula took longer than ${budget} s: stopped`}});
      }, budget * 1000);
      answer = (out) => { clearTimeout(timer); answer = null; resolve(out); };
      worker.postMessage({text});
    });
  }

  boot("loading Python…");
  window.SYMGRAPH_BACKEND = (req) => {
    const turn = queue.then(() => ready).then(() => ask(JSON.stringify(req)));
    queue = turn.catch(() => {});
    return turn;
  };
})();
