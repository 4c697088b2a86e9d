"""`python -m bench`: run every benchmark and gather their figures in bench/results/latest.json.

`python -m bench --collect` only gathers the figures already in bench/results (after running one
benchmark again on its own)."""

from __future__ import annotations

import json
import subprocess
import sys

from bench.harness import RESULTS, machine

BENCHMARKS = ["planner", "reminders", "offline", "simulate", "pages", "payments"]


def main() -> int:
    failed = []
    for name in [] if "--collect" in sys.argv[1:] else BENCHMARKS:
        print(f"--- bench.{name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False).returncode:
            failed.append(name)
    latest = {"machine": machine()}
    for name in BENCHMARKS:
        path = RESULTS / f"{name}.json"
        if path.exists():
            latest[name] = json.loads(path.read_text())
    (RESULTS / "latest.json").write_text(json.dumps(latest, indent=2) + "\n")
    print(json.dumps({name: latest.get(name, {}) for name in BENCHMARKS}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
