"""Bringing a digit model from elsewhere: checking it, detecting its input convention, measuring it and importing it.

`inspect` opens a .keras, .h5 or .onnx file (digitlab.imported), checks that its shapes are a
digit classifier's and detects its input convention on MNIST test digits (digitlab.conventions).
`import_model` copies the file into a model folder with a card written by measuring it, so that
it appears in the app like any zoo model. Runs in the model server and the command line.
"""

import contextlib
import datetime
import logging
import platform

import numpy as np

from digitlab.cards import free_name, name_part
from digitlab.conventions import DETECTION_DIGITS, detect
from digitlab.data import DatasetError
from digitlab.evaluation import confusion_matrix, per_class_scores
from digitlab.imported import checked, describe_shapes, open_model, reader_for
from digitlab.mnist_test import load_test_split
from digitlab.store import ModelError, file_sha256, save_file_and_card

CANVAS_DIGITS = 2000  # MNIST test digits drawn onto canvases for the card (all 10,000 take a minute).
CANVAS_SEED = 0

log = logging.getLogger(__name__)


def detection_sample():
    """The first DETECTION_DIGITS MNIST test digits as bright-ink [0, 1] inputs, with their labels."""
    images, labels = load_test_split()
    return images[:DETECTION_DIGITS].astype(np.float32) / 255.0, labels[:DETECTION_DIGITS]


def inspect(path, layout=None, pixels=None):
    """The opened model and its Detection; ModelError with one line naming what was found when it is no digit model."""
    opened = open_model(path)
    layout = checked(opened, layout)
    digits, labels = detection_sample()
    try:
        detection = detect(opened.run, layout, digits, labels, pixels)
    except ModelError as error:
        raise ModelError(f"{opened.path.name}: {error}") from None
    except Exception as error:
        log.debug("running %s failed", path, exc_info=True)
        raise ModelError(
            f"{opened.path.name}: {describe_shapes(opened)} but fails on digits ({type(error).__name__})"
        ) from None
    return opened, detection


def open_reader(path, layout=None, pixels=None):
    """A Reader of any digit model file, its convention detected (or set), and the Detection to show."""
    opened, detection = inspect(path, layout, pixels)
    return reader_for(opened, detection.convention, {"name": opened.path.stem}, opened.path), detection


def accuracy(reader, inputs, labels):
    """The share of bright-ink [0, 1] (N, 28, 28) `inputs` that `reader` reads as their `labels`."""
    return float(np.mean(reader.probabilities(inputs).argmax(axis=1) == labels))


def mnist_figures(reader, images, labels):
    """Loss, accuracy, confusion matrix and per-class scores on MNIST's test digits, as the zoo's cards have them."""
    probabilities = reader.probabilities(images.astype(np.float32) / 255.0)
    confusion = confusion_matrix(labels, probabilities.argmax(axis=1))
    picked = np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)
    return {
        "test_loss": float(-np.mean(np.log(picked))),
        "test_accuracy": float(np.trace(confusion) / len(labels)),
        "confusion_matrix": confusion.tolist(),
        "per_class": per_class_scores(confusion),
    }


def canvas_figures(reader, images, labels):
    """Accuracy on the first CANVAS_DIGITS test digits drawn onto canvases as bench/accuracy.py draws them."""
    from digitlab.preprocess import to_mnist
    from digitlab.synthetic import render_on_canvas

    rng = np.random.default_rng(CANVAS_SEED)
    inputs = [to_mnist(render_on_canvas(digit, rng)) for digit in images[:CANVAS_DIGITS]]
    blank = np.zeros((28, 28), np.float32)
    stacked = np.stack([blank if x is None else x for x in inputs])
    return {
        "canvas_mnist_accuracy": accuracy(reader, stacked, labels[:CANVAS_DIGITS]),
        "canvas_mnist_digits": CANVAS_DIGITS,
    }


def other_writers_figures(reader):
    """Accuracy on USPS's test digits and on the drawn digits of W41–W60; None for data not on this machine."""
    from digitlab.data import drawn_test_set, usps_test_digits

    figures = {"usps_test_accuracy": None, "drawn_test_accuracy": None}
    with contextlib.suppress(DatasetError):
        images, labels = usps_test_digits()
        figures["usps_test_accuracy"] = accuracy(reader, images / 255.0, labels)
    with contextlib.suppress(DatasetError):
        images, labels, _ = drawn_test_set()
        figures["drawn_test_accuracy"] = accuracy(reader, images / 255.0, labels)
    return figures


def measure(reader, everything=True):
    """A card's figures for `reader`: MNIST test, and with `everything` canvas MNIST, USPS test and drawn digits."""
    images, labels = load_test_split()
    figures = mnist_figures(reader, images, labels)
    if everything:
        figures.update(canvas_figures(reader, images, labels))
        figures.update(other_writers_figures(reader))
    return figures


def build_card(name, opened, detection, figures):
    """The card of an imported model: where it comes from, its layers, input convention and measurements."""
    from digitlab.tf import keras

    return {
        "name": name,
        "imported_from": opened.path.name,
        "format": opened.format,
        "source_sha256": file_sha256(opened.path),
        "seed_source": f"imported from {opened.path.name} ({opened.format})",
        "seed_figure": "imported model",
        "seed_accuracy": None,
        "parameters": opened.parameters,
        "layers": [{**layer, "output_shape": ""} for layer in opened.layers],
        "input_convention": detection.to_dict(),
        "recipe": {"source": "imported", "notes": [f"{detection.summary()}."]},
        "history": {},
        **figures,
        "versions": {"python": platform.python_version(), "keras": keras.__version__, "onnxruntime": _ort_version()},
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _ort_version():
    import onnxruntime

    return onnxruntime.__version__


def chosen_name(out_dir, source, name=None):
    """The imported model's name: `name` (refused when taken), else the file's own name made safe and free."""
    if name is None:
        return free_name(out_dir, name_part(source.stem, fallback="imported", max_length=40))
    safe = name_part(name, fallback="", max_length=40)
    if safe != name:
        raise ModelError(f"{name!r}: a model name is lowercase letters, digits and dashes, e.g. {safe or 'my-model'!r}")
    if free_name(out_dir, name) != name:
        raise ModelError(f"a model named {name!r} already exists in {out_dir}; choose another --name")
    return name


def import_model(path, out_dir, name=None, layout=None, pixels=None, everything=True):
    """Check, detect, measure and copy a model file into `out_dir` with its card; returns the card and the new path."""
    opened, detection = inspect(path, layout, pixels)
    name = chosen_name(out_dir, opened.path, name)
    reader = reader_for(opened, detection.convention, {"name": name}, opened.path)
    card = build_card(name, opened, detection, measure(reader, everything))
    target = save_file_and_card(opened.path, card, out_dir)
    return {**card, "path": str(target)}
