"""Cold start of ``deskline --help`` against its 0.3 s budget (issue: foundation).

Runs the installed console script (or ``python -m tui.cli``) N times in fresh
processes and prints the median, the ratio to the 0.3 s budget, and the ratio
to a bare ``python -c pass`` measured in the same run (the floor no CLI can
beat).  Usage: ``python bench/cli_startup_bench.py [--runs 20]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET_S = 0.3
REPO = Path(__file__).resolve().parent.parent


def _time(cmd: list[str], runs: int) -> float:
    # this checkout's code, even when the venv's console script was installed from another one
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    script = shutil.which("deskline", path=str(Path(sys.executable).parent))
    cmd = [script, "--help"] if script else [sys.executable, "-m", "tui.cli", "--help"]
    bare = _time([sys.executable, "-c", "pass"], args.runs)
    help_ = _time(cmd, args.runs)
    print(f"command               : {' '.join(cmd)}")
    print(f"python -c pass        : {bare * 1000:7.1f} ms (median of {args.runs})")
    print(f"deskline --help       : {help_ * 1000:7.1f} ms (median of {args.runs})")
    print(f"ratio to 0.3 s budget : {help_ / BUDGET_S:.2f}x  ({'OK' if help_ < BUDGET_S else 'OVER BUDGET'})")
    print(f"ratio to bare python  : {help_ / bare:.2f}x")
    return 0 if help_ < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
