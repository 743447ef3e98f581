"""Helpers shared by the benchmark scripts: paths, percentiles, tables and JSON results."""

import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHARED_DATA = ROOT.parent / "shared" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run_benchmark(main):
    """Run a benchmark's `main`; a dataset that is missing or unreadable ends it with a one-line error (exit 1)."""
    from digitlab.data import DatasetError

    try:
        main()
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)


def timings_ms(function, repeats, warmup=20):
    """Wall-clock milliseconds of `repeats` calls of `function`, after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return np.array(samples)


def summary(samples):
    return {
        "p50_ms": round(float(np.percentile(samples, 50)), 3),
        "p95_ms": round(float(np.percentile(samples, 95)), 3),
    }


def print_table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))


def write_result(name, result):
    """Save `result` with the date and machine as bench/results/NAME.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        **result,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"\nwritten {path.relative_to(ROOT)}")


def shared_data(name, env_var):
    """A dataset's default path: the one `env_var` names, as the app and train.py read it, else ../shared/data/NAME."""
    return Path(os.environ.get(env_var) or SHARED_DATA / name)


def served_app_env():
    """The environment the benchmarks serve the app with: where MNIST is, for the pages that read it."""
    return {"MNIST_NPZ": str(shared_data("mnist.npz", "MNIST_NPZ"))}


def print_goal(goal, met):
    """One goal and whether this run met it."""
    print(f"{goal}: {'met' if met else 'NOT met'}")
