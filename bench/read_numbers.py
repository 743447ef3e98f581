"""How often whole numbers are read right: MNIST test digits drawn side by side, read by Classifier.read_number.

Each set draws random MNIST test digits next to each other on an 840×280 white canvas
(`synthetic.render_number`, seed 0) and reads the picture as a number:

- separated: 4 digits with 10-60 px between their ink;
- boxes overlap: 2 or 4 digits whose boxes overlap by 2-8 px (their ink mostly still apart);
- touching: 2 digits whose ink forms one blob (boxes overlapping by 2-25 px, kept only when joined);
- broken: 4 digits, each with a 6-row band cut through its strokes;
- one digit and 8 digits, well separated.

"right" is the whole number read right, "count" the right number of digits found, "digits" the
share of digits read right among numbers with the right count; time is read_number's wall clock.

    python bench/read_numbers.py [--model PATH] [--count N]
"""

import argparse
import time

import numpy as np
from common import ROOT, print_table, run_benchmark, write_result

from digitlab.data import load_mnist
from digitlab.inference import load_classifier
from digitlab.segment import blobs
from digitlab.synthetic import render_number

SETS = {
    "separated, 4 digits": (4, {}, False),
    "one digit": (1, {}, False),
    "separated, 8 digits": (8, {"gap": (8, 30)}, False),
    "boxes overlap 2-8 px, 2 digits": (2, {"gap": (-8, -2)}, False),
    "boxes overlap 2-8 px, 4 digits": (4, {"gap": (-8, -2)}, False),
    "touching (one blob), 2 digits": (2, {"gap": (-25, -2)}, True),
    "broken strokes, 4 digits": (4, {"cut": 6}, False),
}


def measure(classifier, images, labels, length, options, one_blob, count, rng):
    """Read `count` synthetic numbers of one set; returns the scores and the reading times in ms."""
    right = counted = digits_right = 0
    times = []
    while len(times) < count:
        chosen = rng.integers(0, len(images), length)
        picture, _ = render_number(images[chosen], rng, **options)
        if one_blob and len(blobs(picture)) > 1:
            continue
        started = time.perf_counter()
        text = classifier.read_number(picture).text
        times.append((time.perf_counter() - started) * 1000)
        truth = "".join(map(str, labels[chosen]))
        right += text == truth
        if len(text) == length:
            counted += 1
            digits_right += sum(a == b for a, b in zip(text, truth))
    return {
        "numbers": count,
        "right": right / count,
        "count_right": counted / count,
        "digits_right_when_counted": digits_right / max(1, counted * length),
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "model" / "cnn.keras"))
    parser.add_argument("--count", type=int, default=500, help="numbers per set")
    args = parser.parse_args()

    classifier = load_classifier(args.model)
    (_, _), (x_test, y_test) = load_mnist()
    rng = np.random.default_rng(0)
    results = {
        name: measure(classifier, x_test, y_test, length, options, one_blob, args.count, rng)
        for name, (length, options, one_blob) in SETS.items()
    }
    header = ["set", "numbers", "right", "count", "digits", "p50 ms", "p95 ms"]
    rows = [
        [
            name,
            r["numbers"],
            f"{r['right']:.1%}",
            f"{r['count_right']:.1%}",
            f"{r['digits_right_when_counted']:.1%}",
            r["p50_ms"],
            r["p95_ms"],
        ]
        for name, r in results.items()
    ]
    print_table(header, rows)
    write_result("numbers", {"model": args.model, "seed": 0, "sets": results})


if __name__ == "__main__":
    run_benchmark(main)
