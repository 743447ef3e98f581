"""`python train.py`: fit zoo models on their training digits and save each with its model card."""

import argparse
import logging
import signal
import sys
from pathlib import Path

from digitlab.cards import build_card
from digitlab.data import DatasetError, array_hashes, load_mnist, training_set
from digitlab.store import MODEL_DIR, save_model_and_card, without_optimizer
from digitlab.zoo import DEFAULT_ARCH, RECIPES

log = logging.getLogger("digitlab.train")


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


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
    )
    if stopper.requested:
        raise KeyboardInterrupt
    metrics = evaluate(run.model, *test)
    card = build_card(recipe, run, metrics, run.model, hashes, args.seed, args.limit, sources)
    path = save_model_and_card(without_optimizer(run.model), card, args.out)
    print(
        f"{recipe.name}: test accuracy {metrics['test_accuracy']:.2%} (seed: {recipe.seed_figure}), "
        f"trained in {run.seconds:.0f} s → {path}",
        flush=True,
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
            with_usps: training_set(train, with_usps, args.limit, args.usps)
            for with_usps in {RECIPES[name].usps_train for name in names}
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
            recipe = RECIPES[current]
            train_one(recipe, training_sets[recipe.usps_train], test, args, hashes, stopper)
    except KeyboardInterrupt:
        print(f"\nInterrupted: {args.out / current}.keras and its card are unchanged.", file=sys.stderr)
        return 130
    except OSError as error:
        log.debug("saving failed", exc_info=True)
        print(f"error: could not save {current} into {args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0
