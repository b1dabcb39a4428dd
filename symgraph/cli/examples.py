"""The examples each ``--help`` ends with: the top level's tour, and each command's own."""

from __future__ import annotations

LECTURE = '"exp(exp(u1) + exp(2*u2)) + sigmoid(exp(u1) + exp(2*u2))"'
NET = '"sum(sigmoid(W*x + b))" --shapes W=3x2,x=2x1,b=3x1'
NET_AT = '--at "W=[[1,2],[3,4],[5,6]],x=[1,2],b=[0,0,0]"'
PROGRAM = "printf 't1 = exp(u1)\\nt2 = exp(2*u2)\\nt3 = t1 + t2\\nf = exp(t3) + sigmoid(t3)'"
VECTOR = "printf 't = x*y\\nf1 = sin(t)\\nf2 = t + x'"

ABOUT_EXPR = """EXPR is a formula, a list of formulas "[x*y, sin(x)]" (a vector function), or a
program (one `name = expr` a line; --outputs names its outputs, else its last line is);
'-' reads standard input, @FILE a file (at most 100,000 characters of UTF-8 text).
--at takes numbers, constants and exact numbers (x=pi, x=1/2, x=sqrt(2)), matrices as
[[..],..] rows, and @point.json / @point.npz pieces; each name once.
exit status: 0 done, 1 a wrong claim or line (check), 2 bad input, 70 a bug (--debug shows it)."""

GRAD = f"""examples:
  symgraph grad "(x + y)*(y + 1)"
  symgraph grad {LECTURE} --at u1=1,u2=-1
      # steps with their values, the adjoints with theirs, then ∂f/∂u1 = ... = 47.30340959
  symgraph grad {LECTURE} \\
      --at u1=1,u2=-1 --mode forward --wrt u1   # the tangents along u1, then ∂f/∂u1
  symgraph grad "x**2*y" --mode forward --wrt x=1,y=2 --at x=1,y=3   # along a direction
  symgraph grad "sin(x)*y" --at x=pi/6,y=1/2          # constants and exact numbers
  symgraph grad "u1*u2 + max(u1, u2)" --at u1=1,u2=1 --kink first --json
  symgraph grad {NET} \\
      {NET_AT}   # or --at @point.json / @point.npz
  symgraph grad "sum(softplus(-hadamard(y, X*w)))" --shapes X=4x2,w=2x1,y=4x1 --hessian w
  symgraph grad "x**2*y" --at x=1,y=2 --hessian      # over every scalar input
  symgraph grad "[x*y, sin(x)]" --at x=1,y=2         # a vector function: the Jacobian
  {VECTOR} \\
      | symgraph grad - --outputs f1,f2 --mode forward   # the Jacobian by forward sweeps
  {VECTOR} \\
      | symgraph grad - --outputs f1,f2 --output f2 --at x=1,y=2   # f2's reverse sweep
  {PROGRAM} \\
      | symgraph grad - --at u1=1,u2=-1

{ABOUT_EXPR}"""

CHECK = f"""examples:
  symgraph check "x**2*sin(x)" --claim "x=2*x*sin(x) + x**2*cos(x)"
  symgraph check {LECTURE} \\
      --claim u1=47.3 --claim u2=4.71 --at u1=1,u2=-1 --tol 0.01
  symgraph check {NET} --claim "W=tbar_2*x.T"
  symgraph check {NET} {NET_AT} \\
      --claim "b=[0.0066,0.0000167,0.00000004]" --tol 1e-4
  {VECTOR} \\
      | symgraph check - --outputs f1,f2 --output f2 --claim "x=y + 1"
  printf 't1 = exp(u1)\\nt3 = t1 + exp(2*u2)\\ndf/du1 = t1*(exp(t3) + t5*(1 - t5))' \\
      | symgraph check {LECTURE} --derivation -   # a derivation, line by line (or FILE.tex)

{ABOUT_EXPR}"""

FD = f"""examples:
  symgraph fd {LECTURE} --at u1=1,u2=-1
  symgraph fd {LECTURE} --at u1=1,u2=-1 --sweep   # h = 1e-1 ... 1e-12
  symgraph fd "sin(x)" --at x=pi/4 --scheme central --h 1e-4
  symgraph fd {NET} --wrt W \\
      {NET_AT} --scheme central
  {VECTOR} \\
      | symgraph fd - --outputs f1,f2 --output f1 --at x=1,y=2

{ABOUT_EXPR}"""

GRAPH = f"""examples:
  symgraph graph "(x + y)*(y + 1)" --at x=1,y=2        # the steps, their values, the adjoints
  symgraph graph "(x + y)*(y + 1)" --mode forward --wrt y --at x=1,y=2
  symgraph graph "(x + y)*(y + 1)" --at x=1,y=2 --png graph.png
  symgraph graph {NET} {NET_AT} --dot
  {VECTOR} \\
      | symgraph graph - --outputs f1,f2 --output f1 --svg f1.svg

{ABOUT_EXPR}"""

LATEX = f"""examples:
  symgraph latex "(x + y)*(y + 1)" --at x=1,y=2 --standalone -o steps.tex
  symgraph latex {LECTURE} --mode forward --wrt u1
  symgraph latex {NET} {NET_AT}
  {PROGRAM} \\
      | symgraph latex - --at u1=1,u2=-1

{ABOUT_EXPR}"""

TOP = f"""examples:
  symgraph grad {LECTURE} --at u1=1,u2=-1
  symgraph grad "[x*y, sin(x)]" --at x=1,y=2
  symgraph grad {NET} {NET_AT}
  symgraph check "x**2*sin(x)" --claim "x=2*x*sin(x) + x**2*cos(x)"
  symgraph fd {LECTURE} --at u1=1,u2=-1 --sweep
  symgraph graph "(x + y)*(y + 1)" --at x=1,y=2 --png graph.png
  symgraph latex "(x + y)*(y + 1)" --at x=1,y=2 --standalone -o steps.tex
  symgraph COMMAND --help shows the command's own examples

{ABOUT_EXPR}"""
