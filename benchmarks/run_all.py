"""Run every benchmark, print one table and write benchmarks/results.json.

    .venv/bin/python -m benchmarks.run_all            # everything (about 10 minutes here)
    .venv/bin/python -m benchmarks.run_all scheduler cold_start   # some
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

ORDER = ["cold_start", "scheduler", "live_updates", "overhead", "cache", "memory", "interpolation", "editor", "gpu"]


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine(),
            "system": platform.system(), "when": time.strftime("%Y-%m-%d %H:%M")}


def main(names: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    results: dict[str, Any] = {"machine": machine()}
    for name in names or ORDER:
        module = importlib.import_module(f"benchmarks.{name}")
        started = time.perf_counter()
        try:
            results[name] = module.run()
        except Exception as exc:  # one broken benchmark must not hide the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results[name]["benchmark_seconds"] = round(time.perf_counter() - started, 1)
        print(f"\n## {name}")
        for key, value in results[name].items():
            print(f"  {key:<44} {value}")
        sys.stdout.flush()
    out = Path(__file__).resolve().parent / "results.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
