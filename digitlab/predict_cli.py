"""`python predict.py PATH...`: classify image files and folders of images, in batches."""

import argparse
import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import islice
from pathlib import Path

from digitlab.data import DatasetError
from digitlab.images import ImageReadError, find_images, open_image
from digitlab.import_cli import add_convention_flags
from digitlab.store import ModelError

BATCH = 256
log = logging.getLogger("digitlab.predict")


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Read handwritten digits in image files with a Digit Lab model.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files (PNG, JPEG, BMP, GIF, WebP) or folders")
    parser.add_argument(
        "--model", help="a .keras, .h5 or .onnx digit model (default: the shipped model/cnn.keras); see README"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--top", type=int, default=1, metavar="K", help="also show the K most likely digits (1-10)")
    parser.add_argument("--number", action="store_true", help="read each image as a whole number of several digits")
    parser.add_argument("--verbose", action="store_true", help="log details")
    add_convention_flags(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.top <= 10:
        parser.error(f"--top must be between 1 and 10, got {args.top}")
    if args.number and args.top > 1:
        parser.error("--top is for single digits; with --number, --json shows each digit's probabilities")
    return args


def read_batch(pool, entries):
    """Decode a batch of (path, error) entries in the pool; returns (path, pixels or error) pairs."""

    def decode(entry):
        path, error = entry
        if error is not None:
            return path, error
        try:
            return path, open_image(path)
        except ImageReadError as read_error:
            return path, read_error

    return list(pool.map(decode, entries))


def format_human(path, prediction, top):
    if prediction.digit is None:
        return f"{path}: no digit found"
    line = f"{path}: {prediction.digit} ({prediction.confidence:.1%})".replace("%", " %")
    if top > 1:
        others = ", ".join(f"{digit} ({p:.1%})".replace("%", " %") for digit, p in prediction.ranked[1:top])
        line += f"  next: {others}"
    return line


def format_json(path, prediction, top):
    record = {"file": str(path), **prediction.to_dict()}
    if top > 1:
        record["top"] = [{"digit": digit, "probability": p} for digit, p in prediction.ranked[:top]]
    return json.dumps(record)


def format_number_human(path, reading):
    if not reading.digits:
        return f"{path}: no number found"
    digits = ", ".join(f"{digit.digit} ({digit.confidence:.1%})" for digit in reading.digits)
    return f"{path}: {reading.text} ({reading.confidence:.1%})  digits: {digits}".replace("%", " %")


def format_number_json(path, reading):
    return json.dumps({"file": str(path), **reading.to_dict()})


def classify(classifier, paths, write, top, as_json, number=False):
    """Classify every image under `paths` (as a whole number with `number`), one line each; returns the failures."""
    if number:
        read = partial(map, classifier.read_number)
        describe = format_number_json if as_json else format_number_human
    else:
        read = classifier.predict_many
        describe = partial(format_json if as_json else format_human, top=top)
    entries = iter(find_images(paths))
    failures = 0
    with ThreadPoolExecutor() as pool:
        while batch := list(islice(entries, BATCH)):
            decoded = read_batch(pool, batch)
            readable = [pixels for _, pixels in decoded if not isinstance(pixels, ImageReadError)]
            predictions = iter(read(readable))
            for path, pixels in decoded:
                if isinstance(pixels, ImageReadError):
                    failures += 1
                    write(
                        json.dumps({"file": str(path), "error": str(pixels)}) if as_json else f"{path}: error: {pixels}"
                    )
                else:
                    write(describe(path, next(predictions)))
    return failures


def load_reader(args):
    """The model to read with: a model with its card as it is, any other model file with its convention detected.

    The detected (or set) convention is shown on standard error, so that standard output stays the readings.
    """
    from digitlab.inference import default_model_path, load_classifier

    path = Path(args.model) if args.model else default_model_path()
    if path.with_suffix(".json").is_file() and not (args.input_layout or args.input_scale):
        return load_classifier(path)
    from digitlab.importing import open_reader

    reader, detection = open_reader(path, args.input_layout, args.input_scale)
    print(f"{path.name}: {detection.summary()}", file=sys.stderr, flush=True)
    return reader


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        classifier = load_reader(args)
    except (ModelError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    failures = classify(classifier, args.paths, lambda line: print(line, flush=True), args.top, args.json, args.number)
    return 1 if failures else 0
