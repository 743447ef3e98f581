"""USPS test digits (real handwriting from US mail, not MNIST) read through predict.py.

Each of the 2007 test digits is upscaled to 160×160 dark on white, saved as PNG and classified
by `predict.py --json`, exactly as a user would. Prints the accuracy and writes JSON.

    python bench/usps.py [--usps DIR] [--model PATH] [--out bench/results/usps.json]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, run_benchmark, shared_data

from digitlab.data import load_usps, usps_as_scan


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usps", type=Path, default=shared_data("usps", "USPS_DIR"), help="folder holding zip.test.gz")
    parser.add_argument("--model", type=Path, default=ROOT / "model" / "cnn.keras")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "usps.json")
    args = parser.parse_args()
    ink, labels = load_usps(args.usps / "zip.test.gz")
    with tempfile.TemporaryDirectory() as folder:
        for index, digit in enumerate(ink):
            usps_as_scan(digit).save(Path(folder) / f"{index:05d}.png")
        started = time.perf_counter()
        process = subprocess.run(
            [sys.executable, str(ROOT / "predict.py"), "--json", "--model", str(args.model), folder],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    records = [json.loads(line) for line in process.stdout.splitlines()]
    read = [record.get("digit") for record in records]
    correct = sum(int(digit == label) for digit, label in zip(read, labels, strict=True))
    result = {
        "model": str(args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model),
        "digits": len(labels),
        "correct": correct,
        "accuracy": correct / len(labels),
        "predict_py_seconds": round(seconds, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(
        f"USPS test through predict.py: {correct}/{len(labels)} = {result['accuracy']:.2%} "
        f"({result['model']}, predict.py took {seconds:.1f} s)"
    )


if __name__ == "__main__":
    run_benchmark(main)
