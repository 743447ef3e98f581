"""`python train.py`: fit zoo models on their training digits and save each with its model card."""

import argparse
import contextlib
import dataclasses
import logging
import signal
import sys
from pathlib import Path

from digitlab.cards import build_card
from digitlab.data import (
    UJI_TEST_WRITERS,
    UJI_TRAINING_RENDERS,
    UJI_TRAINING_WRITERS,
    DatasetError,
    WriterDigits,
    array_hashes,
    held_out_bitmaps,
    load_mnist,
    mnist_validation_digits,
    training_set,
)
from digitlab.store import MODEL_DIR, save_model_and_card, without_optimizer
from digitlab.synthetic import CURL_RADIUS
from digitlab.zoo import DEFAULT_ARCH, RECIPES

log = logging.getLogger("digitlab.train")


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def number_within(low, high, unit="", name="number"):
    """A parser for `type=`: a number within `low`–`high` (`unit` names it in the message), as `name`."""

    def parse(text):
        value = float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must lie within {low:g}-{high:g}{unit}, got {value}")
        return value

    parse.__name__ = name  # argparse names the type in its "invalid ... value" message.
    return parse


share = number_within(0.0, 1.0, name="share")
pixel_distance = number_within(0.0, 5.0, " pixels", name="pixel_distance")  # --elastic's moves.
loss_weight = number_within(0.1, 10.0, name="loss_weight")  # One source's weight in the loss.
dropout_rate = number_within(0.0, 0.9, name="rate")


def filter_counts(text):
    """'48,48' → (48, 48): one to three convolutions' filters, each at least 1."""
    counts = tuple(positive_int(part) for part in text.split(","))
    if len(counts) > 3:
        raise argparse.ArgumentTypeError(f"give one to three filter counts, got {len(counts)}")
    return counts


def curl_radius(text):
    """'0.2,0.4' → (0.2, 0.4): the limits of a curled tail's radius, shares of the drawing's height within 0–0.5."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH, e.g. 0.1,0.22, got {text!r}") from None
    if not 0.0 < low <= high <= 0.5:
        raise argparse.ArgumentTypeError(f"need 0 < LOW <= HIGH <= 0.5, got {text!r}")
    return low, high


def training_writers(text):
    """'1-30' → range(1, 31), refusing any writer outside UJI's training writers W01–W40."""
    first, _, last = text.partition("-")
    try:
        writers = range(int(first), int(last or first) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST, e.g. 1-40, got {text!r}") from None
    if not writers or writers[0] < UJI_TRAINING_WRITERS[0] or writers[-1] > UJI_TRAINING_WRITERS[-1]:
        raise argparse.ArgumentTypeError(
            f"training writers must lie within 1-{UJI_TRAINING_WRITERS[-1]}; "
            f"W{UJI_TEST_WRITERS[0]}–W{UJI_TEST_WRITERS[-1]} are the held-out test"
        )
    return writers


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Train Digit Lab's zoo models on MNIST (cnn also on USPS's training digits)."
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--arch", choices=sorted(RECIPES), default=DEFAULT_ARCH, help="model to train (default: cnn)")
    which.add_argument("--all", action="store_true", help="train every zoo model in turn")
    parser.add_argument("--epochs", type=positive_int, help="override the recipe's epochs")
    parser.add_argument("--batch-size", type=positive_int, help="override the recipe's batch size")
    parser.add_argument(
        "--out", type=Path, default=MODEL_DIR, help="folder for NAME.keras and NAME.json (default: model/)"
    )
    parser.add_argument("--data", type=Path, help="path to mnist.npz (default: $MNIST_NPZ, then Keras's download)")
    parser.add_argument(
        "--usps", type=Path, help="folder holding USPS's zip.train.gz (default: $USPS_DIR, then Keras's download)"
    )
    parser.add_argument(
        "--writers",
        type=Path,
        help="folder of the other writers' digits (uji/, optdigits/, semeion/; default: $WRITERS_DIR)",
    )
    parser.add_argument(
        "--uji-writers",
        type=training_writers,
        default=UJI_TRAINING_WRITERS,
        help="UJI writers to train on (default: 1-40); the rest of W01–W40 then measure as validation",
    )
    parser.add_argument(
        "--uji-renders",
        type=positive_int,
        default=UJI_TRAINING_RENDERS,
        help="renders of each UJI drawing (default: 8)",
    )
    parser.add_argument(
        "--distort", action="store_true", help="redraw each UJI copy by a randomly distorted hand (a lever, off)"
    )
    parser.add_argument(
        "--join-strokes",
        type=share,
        default=0.0,
        metavar="SHARE",
        help="draw this share of the UJI copies without lifting the pen between strokes (a lever, default 0)",
    )
    parser.add_argument(
        "--curl-tails",
        type=share,
        default=0.0,
        metavar="SHARE",
        help="end this share of the UJI copies of 9s in a curled tail (a lever, default 0)",
    )
    parser.add_argument(
        "--curl-radius",
        type=curl_radius,
        default=CURL_RADIUS,
        metavar="LOW,HIGH",
        help="radius of those tails as a share of the drawing's height, drawn within LOW-HIGH "
        f"(default: {CURL_RADIUS[0]},{CURL_RADIUS[1]})",
    )
    parser.add_argument(
        "--overshoot",
        type=share,
        default=0.0,
        metavar="SHARE",
        help="run the last stroke of this share of the UJI copies on past its end (a lever, default 0)",
    )
    parser.add_argument(
        "--mnist-holdout",
        type=positive_int,
        help="leave MNIST's last N training digits out and measure them as validation (screening runs)",
    )
    parser.add_argument(
        "--usps-holdout",
        type=positive_int,
        help="leave USPS's last N training digits out and measure them as validation (screening runs)",
    )
    parser.add_argument(
        "--hold-out-bitmaps",
        action="store_true",
        help="leave optdigits' .windep and Semeion out and measure them as validation (screening runs)",
    )
    parser.add_argument(
        "--usps-weight",
        type=loss_weight,
        metavar="WEIGHT",
        help="override the recipe's weight of USPS's training digits in the loss (the recipe's: 1, as any other digit)",
    )
    parser.add_argument(
        "--bitmap-weight",
        type=loss_weight,
        metavar="WEIGHT",
        help="override the recipe's weight of optdigits' and Semeion's training digits in the loss (the recipe's: 1)",
    )
    parser.add_argument(
        "--pen-width",
        type=share,
        help="override the recipe's pen-width augmentation: strokes up to this share of a pixel thicker (0-1)",
    )
    parser.add_argument(
        "--shear",
        type=share,
        help="override the recipe's slant augmentation: columns moved up to this share of a row sideways (0-1)",
    )
    parser.add_argument(
        "--stretch",
        type=share,
        help="override the recipe's stretch augmentation: width made up to this share narrower or wider (0-1)",
    )
    parser.add_argument(
        "--elastic",
        type=pixel_distance,
        metavar="PIXELS",
        help="override the recipe's elastic distortion: a 5x5 grid's points moved up to PIXELS each (0: off)",
    )
    parser.add_argument(
        "--mix-up",
        type=share,
        metavar="ALPHA",
        help="override the recipe's MixUp: blend training digits and labels by Beta(ALPHA, ALPHA) shares (0: off)",
    )
    parser.add_argument(
        "--label-smoothing",
        type=share,
        metavar="SHARE",
        help="override the recipe's label smoothing: train against targets that give this share to all classes (0-1)",
    )
    parser.add_argument(
        "--ema",
        type=share,
        metavar="MOMENTUM",
        help="cnn only: end training on a moving average of the weights with this momentum (e.g. 0.999; 0: off)",
    )
    parser.add_argument(
        "--weight-decay",
        type=share,
        metavar="DECAY",
        help="cnn only: AdamW's decoupled weight decay (the recipe's: 0.0001)",
    )
    parser.add_argument(
        "--conv-at-7x7",
        type=non_negative_int,
        metavar="FILTERS",
        help="cnn only: filters of the extra convolution after the second pooling (the recipe's: 64; 0: none)",
    )
    parser.add_argument(
        "--filters-at-14x14",
        type=filter_counts,
        metavar="FILTERS[,FILTERS]",
        help="cnn only: filters of each convolution between the two poolings (the recipe's: 64,64)",
    )
    parser.add_argument(
        "--dropout",
        type=dropout_rate,
        metavar="RATE",
        help="cnn only: dropout rate before and after the dense layer (the recipe's: 0.2)",
    )
    parser.add_argument(
        "--deskew",
        action=argparse.BooleanOptionalAction,
        help="cnn only: straighten each digit's slant in a layer before the first convolution (the recipe's: off)",
    )
    parser.add_argument(
        "--precision",
        choices=("auto", "float32", "bfloat16"),
        help="arithmetic of training: bfloat16 with float32 weights, float32, or auto (bfloat16 on a CPU with AMX); "
        "models are saved in float32 (the recipe's: float32; cnn's: auto)",
    )
    parser.add_argument("--no-writers", action="store_true", help="train cnn without the other writers' digits")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--limit", type=positive_int, help="train on the first N training images only (MNIST's, then USPS's)"
    )
    parser.add_argument("--verbose", action="store_true", help="log details")
    return parser.parse_args(argv)


def train_one(recipe, training, test, args, hashes, stopper):
    """Fit `recipe` on `training` (a `data.training_set` result) and save it with its card, unless stopped."""
    from digitlab.evaluation import evaluate
    from digitlab.training import fit_recipe

    train, sources = training
    print(f"Training {recipe.name} ({recipe.seed_source})", flush=True)
    run = fit_recipe(
        recipe,
        train,
        test,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        callbacks=[stopper],
        verbose=1 if sys.stdout.isatty() else 2,
        sources=sources,
    )
    if stopper.requested:
        raise KeyboardInterrupt
    metrics = evaluate(run.model, *test)
    card = build_card(recipe, run, metrics, run.model, hashes, args.seed, args.limit, sources)
    card.update(other_figures(run.model, args))
    path = save_model_and_card(without_optimizer(run.model), card, args.out)
    figures = "".join(
        f", {name.replace('_', ' ')} {card[name]:.2%}" for name in OTHER_FIGURES if card.get(name) is not None
    )
    print(
        f"{recipe.name}: test accuracy {metrics['test_accuracy']:.2%} (seed: {recipe.seed_figure}){figures}, "
        f"trained in {run.seconds:.0f} s → {path}",
        flush=True,
    )


OTHER_FIGURES = [
    "mnist_validation_accuracy",
    "usps_test_accuracy",
    "drawn_test_accuracy",
    "usps_validation_accuracy",
    "drawn_validation_accuracy",
    "bitmap_validation_accuracy",
]


def other_figures(model, args):
    """Accuracy on USPS's test digits, on the drawn digits of W41–W60 and on the validation digits left out.

    The validation digits are MNIST's and USPS's last training digits, the UJI training writers not
    trained on and the held-out bitmaps (optdigits' `.windep` and Semeion), as the flags left them out.

    Each figure only reports; a figure whose data is not on this machine is None.
    """
    from digitlab.evaluation import accuracy, drawn_accuracy, usps_test_accuracy, usps_validation_accuracy

    figures = dict.fromkeys(OTHER_FIGURES)
    if args.mnist_holdout:
        train, _ = load_mnist(args.data)
        figures["mnist_validation_accuracy"] = accuracy(model, *mnist_validation_digits(train, args.mnist_holdout))
    with contextlib.suppress(DatasetError):
        figures["usps_test_accuracy"] = usps_test_accuracy(model, args.usps)
        if args.usps_holdout:
            figures["usps_validation_accuracy"] = usps_validation_accuracy(model, args.usps, args.usps_holdout)
    with contextlib.suppress(DatasetError):
        figures["drawn_test_accuracy"] = drawn_accuracy(model, args.writers, UJI_TEST_WRITERS)
        left_out = [w for w in UJI_TRAINING_WRITERS if w not in args.uji_writers]
        if left_out:
            figures["drawn_validation_accuracy"] = drawn_accuracy(model, args.writers, left_out)
            figures["drawn_validation_writers"] = f"W{left_out[0]:02d}–W{left_out[-1]:02d}"
        if args.hold_out_bitmaps:
            figures["bitmap_validation_accuracy"] = accuracy(model, *held_out_bitmaps(args.writers))
    return figures


# Flags that override a recipe's field, by flag name: for every recipe, and for `cnn` only.
RECIPE_FLAGS = {
    field: field
    for field in (
        "pen_width",
        "shear",
        "stretch",
        "elastic",
        "mix_up",
        "usps_weight",
        "bitmap_weight",
        "label_smoothing",
        "precision",
    )
}
CNN_FLAGS = {
    "ema": "ema_momentum",
    **{field: field for field in ("weight_decay", "conv_at_7x7", "filters_at_14x14", "deskew", "dropout")},
}


def with_overrides(recipe, args):
    """`recipe` with the augmentation and architecture flags that were given."""
    flags = {**RECIPE_FLAGS, **(CNN_FLAGS if recipe.name == "cnn" else {})}
    given = {field: getattr(args, flag) for flag, field in flags.items() if getattr(args, flag) is not None}
    return dataclasses.replace(recipe, **given)


def data_sources(recipe, args):
    """(USPS?, other writers?) for `recipe`: what it trains on beyond MNIST."""
    return recipe.usps_train, recipe.writers_train and not args.no_writers


def writer_digits(with_writers, args):
    """The `WriterDigits` that the flags ask for, or None for a recipe without them."""
    if not with_writers:
        return None
    return WriterDigits(
        args.writers,
        args.uji_writers,
        args.uji_renders,
        distort=args.distort,
        joined=args.join_strokes,
        curled=args.curl_tails,
        curl_radius=args.curl_radius,
        overshot=args.overshoot,
        bitmaps_held_out=args.hold_out_bitmaps,
    )


def raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    signal.signal(signal.SIGTERM, raise_keyboard_interrupt)
    names = list(RECIPES) if args.all else [args.arch]
    try:
        train, test = load_mnist(args.data)
        training_sets = {
            sources: training_set(
                train,
                sources[0],
                args.limit,
                args.usps,
                writer_digits(sources[1], args),
                args.usps_holdout or 0,
                args.mnist_holdout or 0,
            )
            for sources in {data_sources(RECIPES[name], args) for name in names}
        }
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    hashes = array_hashes({"x_train": train[0], "y_train": train[1], "x_test": test[0], "y_test": test[1]})
    current = names[0]
    try:
        from digitlab.training import StopOnSignal

        stopper = StopOnSignal()
        signal.signal(signal.SIGINT, stopper.handle)
        signal.signal(signal.SIGTERM, stopper.handle)
        for current in names:
            recipe = with_overrides(RECIPES[current], args)
            train_one(recipe, training_sets[data_sources(recipe, args)], test, args, hashes, stopper)
    except KeyboardInterrupt:
        print(f"\nInterrupted: {args.out / current}.keras and its card are unchanged.", file=sys.stderr)
        return 130
    except OSError as error:
        log.debug("saving failed", exc_info=True)
        print(f"error: could not save {current} into {args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0
