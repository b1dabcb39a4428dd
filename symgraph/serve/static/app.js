// The playground page: fields <-> URL, one request per change, every pane from its answer.
"use strict";
const FIELDS = ["f", "at", "mode", "seed", "shapes", "claims", "d"];
const EXAMPLES = [  // the lecture's examples (symgraph/cli/examples.py)
  ["lecture", {f: "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))", at: "u1=1,u2=-1"}],
  ["program", {f: "t1 = exp(u1)\nt2 = exp(2*u2)\nt3 = t1 + t2\nf = exp(t3) + sigmoid(t3)", at: "u1=1,u2=-1"}],
  ["forward", {f: "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))", at: "u1=1,u2=-1", mode: "forward", seed: "u1"}],
  ["kink", {f: "u1*u2 + max(u1, u2)", at: "u1=1,u2=1"}],
  ["product", {f: "(x + y)*(y + 1)", at: "x=1,y=2"}],
  ["check", {f: "x**2*sin(x)", claims: "x=2*x*sin(x) + x**2*cos(x)"}],
  ["derivation", {f: "exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))", at: "u1=1,u2=-1",
    d: "t_3 = e^{u_1} + e^{2u_2}\n\\bar t_3 = e^{t_3} + \\sigma(t_3)(1 - \\sigma(t_3))\n\\bar u_2 = e^{2u_2} \\bar t_3\n\\frac{\\partial f}{\\partial u_1} = 47.30"}],
];
const $ = (id) => document.getElementById(id);
let last = null, timer = null, viz = null;

function request() { const r = {}; for (const k of FIELDS) r[k] = $(k).value; return r; }

async function backend(req) {
  if (window.SYMGRAPH_BACKEND) return window.SYMGRAPH_BACKEND(req);  // the static build
  const res = await fetch("api/run", {method: "POST", body: JSON.stringify(req)});
  return res.json();
}

function toUrl() {
  const q = new URLSearchParams();
  for (const k of FIELDS) if ($(k).value) q.set(k, $(k).value);
  history.replaceState(null, "", "?" + q.toString());
}

function fromUrl() {
  const q = new URLSearchParams(location.search);
  for (const k of FIELDS) if (q.has(k)) $(k).value = q.get(k);
}

function num(v) { return v === null || v === undefined ? "" : "  = " + (typeof v === "number" ? +v.toPrecision(10) : JSON.stringify(v)); }

function pane(id, value, show) {
  if (value === null || value === undefined) $(id).textContent = "";
  else if (value.unavailable) $(id).textContent = "unavailable here: " + value.unavailable;
  else if (value.error) $(id).textContent = "error: " + value.error;
  else $(id).textContent = show(value);
}

function cell(row, text, tex) {  // a table cell; LaTeX through KaTeX, text as text
  const td = row.insertCell();
  if (tex && window.katex) katex.render(text, td, {throwOnError: false});
  else td.textContent = text;
  return td;
}

function showDerivation(d) {  // one row a line: mark, line, verdict, slip, should be, follows from
  const table = $("derivation"); table.replaceChildren();
  $("dsummary").textContent = "";
  if (d === null || d === undefined) return;
  if (d.unavailable || d.error) { $("dsummary").textContent = d.unavailable ? "unavailable here: " + d.unavailable : "error: " + d.error; return; }
  $("dsummary").textContent = d.ok ? "every line is right" : `first wrong line: ${d.first_wrong + 1}`;
  for (const [i, v] of d.lines.entries()) {
    const row = table.insertRow();
    row.className = (v.ok ? "right" : "wrong") + (i === d.first_wrong ? " first" : "");
    cell(row, v.ok ? "✓" : "✗").className = "mark";
    cell(row, v.text.replace(/^\$+|\$+$/g, ""), v.ok || v.kind !== "not_understood").className = "line";
    cell(row, v.kind);
    cell(row, v.slip || v.reason || "").className = "slip";
    cell(row, v.should_be === null ? "" : "should be " + (typeof v.should_be === "string" ? v.should_be : JSON.stringify(v.should_be)));
    cell(row, v.follows_from ? "follows from line " + v.follows_from : "");
  }
}

function showError(err) {
  const box = $("error");
  let text = err.message;
  if (err.column) {
    const line = $("f").value.split("\n")[(err.line || 1) - 1] || "";
    text = line + "\n" + " ".repeat(err.column - 1) + "^ " + err.message;
  }
  box.textContent = text; box.hidden = false;
  box.dataset.line = err.line || ""; box.dataset.column = err.column || "";
}

async function drawGraph(out) {
  const div = $("graph");
  if (typeof out.dot !== "string") { div.textContent = out.dot && out.dot.error || ""; return; }
  viz = viz || await Viz.instance();
  const svg = viz.renderSVGElement(out.dot);
  div.replaceChildren(svg);
  for (const g of svg.querySelectorAll("g.node")) {
    g.addEventListener("click", () => {
      const n = out.nodes[g.querySelector("title").textContent];
      if (n) $("node").textContent = n.step + num(n.value) + "\n" + (n.sum || "") + num(n.carried);
    });
  }
}

function show(out) {
  last = out;
  if (!out.ok) { showError(out.error); return; }
  $("error").hidden = true;
  $("derivatives").textContent = out.derivatives.map((d) => `${d.label} = ${d.closed_form}${num(d.value)}`).join("\n");
  const t = out.trace;
  $("trace").textContent = [...t.primal.map((r) => r.formula + num(r.value)), "", `${t.carried}:`,
    ...t.sweep.map((r) => r.formula + num(r.value))].join("\n");
  pane("fd", out.fd, (v) => v.text);
  pane("check", out.check, (v) => v.text);
  showDerivation(out.derivation);
  pane("code", out.code, (v) => v);
  if (out.latex && out.latex.katex) katex.render(out.latex.katex, $("latex"), {throwOnError: false, displayMode: true});
  if (out.notes && out.notes.length) $("derivatives").textContent += "\nnote: " + out.notes.join("\nnote: ");
  drawGraph(out);
}

async function update() {
  toUrl();
  try { show(await backend(request())); }
  catch (e) { showError({message: "no answer: " + e}); }
}

function later() { clearTimeout(timer); timer = setTimeout(update, 300); }

function download(name, text, kind) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], {type: kind})); a.download = name; a.click();
}

for (const [name, ex] of EXAMPLES) {
  const b = document.createElement("button"); b.textContent = name;
  b.onclick = () => { for (const k of FIELDS) $(k).value = ex[k] || (k === "mode" ? "reverse" : ""); update(); };
  $("examples").append(b, " ");
}
for (const k of FIELDS) $(k).addEventListener("input", later);
$("copytex").onclick = () => last && last.latex && navigator.clipboard.writeText(last.latex.katex);
$("tex").onclick = () => last && last.latex && download("symgraph.tex", last.latex.document, "text/x-tex");
$("svg").onclick = () => { const s = $("graph").querySelector("svg"); if (s) download("symgraph.svg", s.outerHTML, "image/svg+xml"); };
fromUrl();
if (!$("f").value) { $("f").value = EXAMPLES[0][1].f; $("at").value = EXAMPLES[0][1].at; }
update();
