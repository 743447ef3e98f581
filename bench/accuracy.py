"""Accuracy of every model in model/ on MNIST, on MNIST drawn onto canvases, on USPS and on drawn digits.

- MNIST test: the 10,000 raw test digits.
- Canvas MNIST: the same digits drawn onto 280×280 white canvases at random size, place and
  pen width (seed 0), then read through the app's preprocessing.
- USPS test: 2,007 digits of real US-mail handwriting, upscaled to 160×160 dark on white.
- Drawn digits: the pen strokes of UJI's held-out writers W41–W60, each digit rendered 5 times
  onto a 280×280 canvas (`data.drawn_test_set`, as `bench/drawn.py` reads them).

    python bench/accuracy.py [--models DIR] [--usps DIR] [--writers DIR]
"""

import argparse
from pathlib import Path

import numpy as np
from common import print_table, run_benchmark, shared_data, write_result

from digitlab.data import drawn_test_set, load_mnist, load_usps, usps_as_scan
from digitlab.inference import load_classifier
from digitlab.preprocess import to_mnist
from digitlab.store import MODEL_DIR, list_models
from digitlab.synthetic import render_on_canvas


def model_inputs(pictures):
    """The 28×28 inputs of many pictures (blank ones become empty frames, which count as misses)."""
    inputs = [to_mnist(picture) for picture in pictures]
    return np.stack([np.zeros((28, 28), np.float32) if x is None else x for x in inputs])


def accuracy(classifier, inputs, labels):
    return float(np.mean(np.argmax(classifier.probabilities(inputs), axis=1) == labels))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=MODEL_DIR, help="folder of NAME.keras models (default: model/)")
    parser.add_argument("--usps", type=Path, default=shared_data("usps", "USPS_DIR"))
    parser.add_argument("--writers", type=Path, default=shared_data("writers", "WRITERS_DIR"))
    args = parser.parse_args()

    (_, _), (x_test, y_test) = load_mnist()
    rng = np.random.default_rng(0)
    sets = {
        "MNIST test": (x_test.astype(np.float32) / 255.0, y_test),
        "canvas MNIST": (model_inputs([render_on_canvas(d, rng) for d in x_test]), y_test),
    }
    usps_ink, usps_labels = load_usps(args.usps / "zip.test.gz")
    sets["USPS test"] = (model_inputs([np.asarray(usps_as_scan(d)) for d in usps_ink]), usps_labels)
    drawn_images, drawn_labels, _ = drawn_test_set(args.writers)
    sets["drawn digits"] = (drawn_images.astype(np.float32) / 255.0, drawn_labels)

    table = {}
    for path in list_models(args.models):
        classifier = load_classifier(path)
        table[path.stem] = {name: accuracy(classifier, inputs, labels) for name, (inputs, labels) in sets.items()}
    print_table(["model", *sets], [[name, *(f"{row[s]:.2%}" for s in sets)] for name, row in table.items()])
    write_result("accuracy", {"sets": {name: len(labels) for name, (_, labels) in sets.items()}, "accuracy": table})


if __name__ == "__main__":
    run_benchmark(main)
