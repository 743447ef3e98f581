"""Training speed: the default `cnn` recipe against the Keras "simple MNIST convnet" recipe, same run.

The reference is the keras-io example as published (two 3×3 convolutions, dropout, Adam,
batch 128, 15 epochs, 10 % of the training images held out for validation) on MNIST; the
default recipe trains on its own training set, built by `data.training_set` as train.py
builds it. Both train in the same process, one after the other, so the ratio of their
throughputs (images per second) holds on a busy machine. A neighbour on a shared host slows
the two unevenly, so `--rounds N` times both N times, alternating which goes first, and
judges the median ratio. Each is timed per epoch; the first epoch (graph tracing) is left out
of the throughput when more than one epoch runs.

Such a host also throttles a process in bursts of a few seconds (a fit's throughput then drops
to one of a few fixed levels), and a burst that falls on one recipe's fit and not the other's
moves the ratio. `--interleave` trains both at once in two threads taking turns every second,
so that both see the same bursts: the reference trains its whole 15 epochs while the default
trains its N, about as long, and only the time of each one's own turns is counted.

By default each recipe trains for a few epochs and the time to the whole default model is
projected from its throughput; `--full` trains both recipes to the end and reports their
real wall-clock time and test accuracy instead.

    python bench/train.py [--epochs N [--interleave] | --full] [--rounds N] [--conv-at-7x7 FILTERS]
                          [--filters-at-14x14 FILTERS[,FILTERS]] [--label-smoothing SHARE]
"""

import argparse
import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from common import print_table, run_benchmark, write_result

from digitlab.data import WriterDigits, load_mnist, training_set
from digitlab.evaluation import evaluate
from digitlab.tf import keras
from digitlab.train_cli import filter_counts, non_negative_int, positive_int, share
from digitlab.training import fit_recipe
from digitlab.zoo import DEFAULT_ARCH, RECIPES

REFERENCE_EPOCHS = 15
REFERENCE_BATCH = 128
REFERENCE_VALIDATION = 0.1
REFERENCE_NAME = "keras-io simple convnet (reference)"
DEFAULT_NAME = f"{DEFAULT_ARCH} (default model)"
TURN_SECONDS = 1.0
LEVERS = ("conv_at_7x7", "filters_at_14x14", "label_smoothing")  # The recipe's fields that flags of this script set.


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch, validation included."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


class Turns:
    """Fits in threads taking turns: only the holder of the turn trains; the others wait between two batches.

    A waiting fit's input pipeline may still fill its small prefetch buffer meanwhile.
    """

    def __init__(self, names, seconds):
        self.seconds = seconds
        self._running = list(names)
        self._holder = self._running[0]
        self._changed = threading.Condition()

    def take(self, name):
        with self._changed:
            self._changed.wait_for(lambda: self._holder in (None, name))
            self._holder = name

    def pass_on(self, name, finished=False):
        """Hand the turn to the next fit still running; `finished` takes `name` out of the rota."""
        with self._changed:
            following = self._running[(self._running.index(name) + 1) % len(self._running)]
            if finished:
                self._running.remove(name)
            self._holder = following if following in self._running else None
            self._changed.notify_all()


class TurnTimer(EpochTimer):
    """An EpochTimer for a fit taking turns: passes the turn on every `turns.seconds` and times its own turns only."""

    def __init__(self, turns, name):
        super().__init__()
        self.turns, self.name = turns, name

    def on_epoch_begin(self, epoch, logs=None):
        self._held = 0.0
        super().on_epoch_begin(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        turn = time.perf_counter() - self._started
        if turn >= self.turns.seconds:
            self._held += turn
            self.turns.pass_on(self.name)
            self.turns.take(self.name)
            self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(self._held + time.perf_counter() - self._started)


def in_turns(turns, name, fit):
    """Run `fit` in `name`'s turns, and leave the rota when it ends (or fails)."""
    turns.take(name)
    try:
        return fit()
    finally:
        turns.pass_on(name, finished=True)


def reference_model():
    """The keras-io "Simple MNIST convnet", layer for layer."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def train_reference(train, epochs, timer):
    """Fit the reference recipe as the example does; returns the model, the epoch timer and its images per epoch."""
    x_train, y_train = train
    keras.utils.set_random_seed(0)
    model = reference_model()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(
        x_train.astype("float32")[..., np.newaxis] / 255.0,
        keras.utils.to_categorical(y_train, 10),
        batch_size=REFERENCE_BATCH,
        epochs=epochs,
        validation_split=REFERENCE_VALIDATION,
        callbacks=[timer],
        verbose=0,
    )
    return model, timer, int(len(x_train) * (1 - REFERENCE_VALIDATION))


def train_default(recipe, train, test, epochs, timer):
    """Fit the default recipe through the project's own pipeline (its training set, tf.data, augmentation, strategy)."""
    fit_set, sources = training_set(train, recipe.usps_train, writers=WriterDigits() if recipe.writers_train else None)
    run = fit_recipe(recipe, fit_set, test, epochs=epochs, callbacks=[timer], verbose=0, sources=sources)
    return run.model, timer, run.train_images


def throughput(timer, images_per_epoch):
    """Training images per second, leaving out the first epoch (tracing) when there are more."""
    steady = timer.seconds[1:] or timer.seconds
    return images_per_epoch * len(steady) / sum(steady)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--epochs", type=positive_int, default=3, help="epochs of each recipe to time (default: 3)")
    which.add_argument("--full", action="store_true", help="train both recipes to the end")
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="train both at once, taking turns every second (the reference then trains its whole 15 epochs)",
    )
    parser.add_argument(
        "--conv-at-7x7",
        type=non_negative_int,
        metavar="FILTERS",
        help="time the default with this many filters in its extra convolution (0: none), as train.py's flag",
    )
    parser.add_argument(
        "--filters-at-14x14",
        type=filter_counts,
        metavar="FILTERS[,FILTERS]",
        help="time the default with these convolutions between its poolings, as train.py's flag",
    )
    parser.add_argument(
        "--label-smoothing",
        type=share,
        metavar="SHARE",
        help="time the default with this label smoothing (0: none), as train.py's flag",
    )
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=1,
        help="time both recipes this many times, alternating which goes first, and judge the median ratio (default: 1)",
    )
    args = parser.parse_args()
    if args.interleave and args.full:
        parser.error("--interleave times a few epochs; it cannot be combined with --full")

    train, test = load_mnist()
    overrides = {lever: getattr(args, lever) for lever in LEVERS if getattr(args, lever) is not None}
    recipe = dataclasses.replace(RECIPES[DEFAULT_ARCH], **overrides)
    rounds = [time_both(recipe, train, test, args, reference_first=number % 2 == 0) for number in range(args.rounds)]
    for number, results in enumerate(rounds, 1):
        print_round(number, results, recipe, args.full)
    ratios = [results["time_ratio"] for results in rounds]
    median = float(np.median(ratios))
    if len(rounds) > 1:
        print(
            f"\ntime to the whole recipe over {len(rounds)} rounds: "
            + ", ".join(f"{ratio:.2f}×" for ratio in ratios)
            + f"; median {median:.2f}× the reference's (goal ≤ 6×)"
        )
    timed = {lever: getattr(recipe, lever) for lever in LEVERS}
    write_result("train", {"full": args.full, "recipe": timed, "rounds": rounds, "median_time_ratio": round(median, 3)})


def time_both(recipe, train, test, args, reference_first):
    """One round: the reference and the default recipe timed one after the other (or in turns), and their ratios."""
    reference_epochs = REFERENCE_EPOCHS if args.full or args.interleave else args.epochs
    fits = {
        REFERENCE_NAME: lambda timer: (train_reference(train, reference_epochs, timer), REFERENCE_EPOCHS),
        DEFAULT_NAME: lambda timer: (
            train_default(recipe, train, test, recipe.epochs if args.full else args.epochs, timer),
            recipe.epochs,
        ),
    }
    order = [REFERENCE_NAME, DEFAULT_NAME] if reference_first else [DEFAULT_NAME, REFERENCE_NAME]
    fitted = fit_in_turns(fits, order) if args.interleave else {name: fits[name](EpochTimer()) for name in order}
    results = {name: recipe_figures(*fitted[name], test, args.full) for name in order}
    reference, default = results[REFERENCE_NAME], results[DEFAULT_NAME]
    return {
        "order": order,
        "interleaved": args.interleave,
        "recipes": results,
        "throughput_ratio": round(default["images_per_second"] / reference["images_per_second"], 3),
        "time_ratio": round(default["projected_full_seconds"] / reference["projected_full_seconds"], 3),
    }


def fit_in_turns(fits, order):
    """Run every fit in its own thread, taking turns every TURN_SECONDS in `order`; their results by name."""
    turns = Turns(order, TURN_SECONDS)
    with ThreadPoolExecutor(len(order)) as pool:
        futures = {
            name: pool.submit(in_turns, turns, name, lambda name=name: fits[name](TurnTimer(turns, name)))
            for name in order
        }
    return {name: future.result() for name, future in futures.items()}


def recipe_figures(fitted, full_epochs, test, full):
    """Throughput, time and the projected time to the whole recipe of one timed fit."""
    model, timer, images = fitted
    speed = throughput(timer, images)
    return {
        "epochs_timed": len(timer.seconds),
        "images_per_second": round(speed, 1),
        "seconds": round(sum(timer.seconds), 1),
        "projected_full_seconds": round(full_epochs * images / speed, 1),
        "full_epochs": full_epochs,
        "test_accuracy": evaluate(model, *test)["test_accuracy"] if full else None,
    }


def print_round(number, results, recipe, full):
    """One round's table and its ratios."""
    how = (
        " and ".join(results["order"]) + " in turns"
        if results["interleaved"]
        else " first, then ".join(results["order"])
    )
    print(f"\nround {number} ({how}):")
    print_table(
        ["recipe", "epochs", "images/s", "time s", f"time to {REFERENCE_EPOCHS}/{recipe.epochs} epochs", "test acc"],
        [
            [
                name,
                r["epochs_timed"],
                r["images_per_second"],
                r["seconds"],
                f"{r['projected_full_seconds'] / 60:.1f} min" + ("" if full else " (projected)"),
                "-" if r["test_accuracy"] is None else f"{r['test_accuracy']:.2%}",
            ]
            for name, r in results["recipes"].items()
        ],
    )
    print(
        f"default / reference throughput = {results['throughput_ratio']:.2f}; time to the whole recipe = "
        f"{results['time_ratio']:.2f}× the reference's (goal ≤ 6×)"
    )


if __name__ == "__main__":
    run_benchmark(main)
