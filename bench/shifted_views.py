"""Test-time augmentation: each digit read as it is and as the average over copies shifted by a pixel.

A lever that costs no training time (issue #16's sixth round): the probabilities of a digit and
of its copies moved one pixel up, down, left and right (5 views), or to every neighbouring pixel
(9 views), are averaged. It is judged on the validation digits of screening runs (the last
1,000 of USPS's training digits and UJI's writers W21–W40, which such runs leave out) with
MNIST's test as a guard; USPS's test file and UJI's W41–W60 are printed as reported only.

    python bench/shifted_views.py --model PATH [--model PATH ...] [--usps-holdout N]
"""

import argparse
from pathlib import Path

import numpy as np
from common import print_table, run_benchmark, shared_data, write_result

from digitlab.data import drawn_test_set, load_mnist, usps_test_digits, usps_validation_digits
from digitlab.store import load_model
from digitlab.train_cli import positive_int
from digitlab.training import scale_pixels

VIEWS = {
    "as drawn": [(0, 0)],
    "5 views": [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)],
    "9 views": [(down, right) for down in (-1, 0, 1) for right in (-1, 0, 1)],
}
VALIDATION_WRITERS = range(21, 41)


def digit_sets(usps_holdout):
    """The sets read, by name: validation first, then the reported test sets."""
    _, mnist_test = load_mnist()
    usps_folder = shared_data("usps", "USPS_DIR")
    writers_folder = shared_data("writers", "WRITERS_DIR")
    return {
        "MNIST test": mnist_test,
        "USPS validation": usps_validation_digits(usps_folder, usps_holdout),
        "drawn W21–W40": drawn_test_set(writers_folder, VALIDATION_WRITERS)[:2],
        "USPS test (reported)": usps_test_digits(usps_folder),
        "drawn W41–W60 (reported)": drawn_test_set(writers_folder)[:2],
    }


def averaged_reading(model, images, shifts):
    """The class each image is read as when its probabilities are averaged over copies moved by `shifts`."""
    inputs = scale_pixels(images)
    total = sum(model.predict(np.roll(inputs, shift, axis=(1, 2)), batch_size=1000, verbose=0) for shift in shifts)
    return np.argmax(total, axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", required=True, help="a screening run's .keras file")
    parser.add_argument(
        "--usps-holdout", type=positive_int, default=1000, help="USPS digits the runs held out (default: 1000)"
    )
    args = parser.parse_args()
    sets = digit_sets(args.usps_holdout)
    rows, results = [], []
    for path in args.model:
        model = load_model(path)
        for views, shifts in VIEWS.items():
            misses = {name: int(np.sum(averaged_reading(model, x, shifts) != y)) for name, (x, y) in sets.items()}
            results.append({"model": str(path), "views": views, "misses": misses})
            rows.append(
                [path.parent.name, views]
                + [f"{1 - misses[name] / len(y):.2%} ({misses[name]})" for name, (_, y) in sets.items()]
            )
    print_table(["run", "views", *sets], rows)
    write_result("shifted_views", {"sets": {name: len(y) for name, (_, y) in sets.items()}, "runs": results})


if __name__ == "__main__":
    run_benchmark(main)
