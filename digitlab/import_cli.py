"""`python -m digitlab import PATH [--name NAME]`: copy a Keras or ONNX digit model into the model folder, measured."""

import logging
import sys
from pathlib import Path

from digitlab.conventions import LAYOUTS, PIXELS
from digitlab.data import DatasetError
from digitlab.store import ModelError, model_dir

FIGURES = [
    ("test_accuracy", "MNIST test"),
    ("canvas_mnist_accuracy", "canvas MNIST"),
    ("usps_test_accuracy", "USPS test"),
    ("drawn_test_accuracy", "drawn digits"),
]


def add_convention_flags(parser):
    """The flags that set an input convention by hand instead of detecting it (predict.py has them too)."""
    parser.add_argument("--input-layout", choices=list(LAYOUTS), help="the model's input layout (default: its shape's)")
    parser.add_argument(
        "--input-scale", choices=list(PIXELS), help="the model's pixel convention (default: the one that reads best)"
    )


def add_arguments(parser):
    parser.add_argument("path", type=Path, metavar="PATH", help="a .keras, .h5 or .onnx digit model")
    parser.add_argument("--name", help="the name in the model folder (default: the file's name)")
    parser.add_argument("--out", type=Path, help="the model folder (default: $DIGITLAB_MODEL_DIR, else model/)")
    add_convention_flags(parser)


def figures_line(card):
    """'MNIST test 97.03 %, canvas MNIST 95.10 %, USPS test —, …' from a card."""
    shown = [f"{label} {'—' if card.get(key) is None else format(card[key], '.2%')}" for key, label in FIGURES]
    return ", ".join(shown).replace("%", " %")


def run(args):
    """Import the model the flags name; prints what was found and measured, returns the exit status."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from digitlab.importing import import_model

    out = args.out or model_dir()
    print(f"Checking and measuring {args.path} …", flush=True)
    try:
        card = import_model(args.path, out, args.name, args.input_layout, args.input_scale)
    except (ModelError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nInterrupted: nothing was written to {out}.", file=sys.stderr)
        return 130
    print(f"{card['format']}, {card['parameters']:,} parameters")
    print(card["recipe"]["notes"][0])
    print(figures_line(card))
    print(f"Imported as {card['name']} → {card['path']}")
    return 0
