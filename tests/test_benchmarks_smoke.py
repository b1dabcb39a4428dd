"""The benchmark script runs (its --quick mode, in seconds) and writes its tables.

No timing is asserted: benchmarks are measurements, not tests; this only keeps the
script from rotting.
"""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_the_quick_benchmark_writes_a_table_for_every_family(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    for heading in ("## Targets", "## Derivation", "## Program size", "## Compiled", "## Linear"):
        assert heading in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    for family in ("lecture", "MLP 4", "chain 6", "Rosenbrock 10"):
        assert sum(row.startswith(f"| {family} |") for row in rows) == 3, family
    assert "machine:" in text and "sympy" in text
