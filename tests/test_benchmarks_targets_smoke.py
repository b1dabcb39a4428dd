"""Issue 13's benchmark (``run.py --targets --quick``) runs and writes its table of targets.

No timing is asserted; this keeps the script from rotting. It runs in whatever environment
the tests run in: CasADi, SymEngine and JAX need not be installed (their rows then say
"not measured"), and nothing here imports them.
"""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_the_quick_targets_run_writes_every_target_and_the_method(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--targets", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    for heading in ("## Method", "## Targets", "## Memory", "## The profile"):
        assert heading in text
    for target in ("vs SymPy diff", "vs CasADi", "program ops ratio", "compiled one point",
                   "compiled batch", "time per node", "chain, build"):  # fmt: skip
        assert target in text, target
    assert "clear_cache()" in text and "machine:" in text
    assert "derivation vs SymPy diff" in done.stdout
