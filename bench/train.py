"""Training speed: the default `cnn` recipe against the Keras "simple MNIST convnet" recipe, same run.

The reference is the keras-io example as published (two 3×3 convolutions, dropout, Adam,
batch 128, 15 epochs, 10 % of the training images held out for validation) on MNIST; the
default recipe trains on its own training set, built by `data.training_set` as train.py
builds it. Both train in the same process, one after the other, so the ratio of their
throughputs (images per second) holds on a busy machine. A neighbour on a shared host slows
the two unevenly, so `--rounds N` times both N times, alternating which goes first, and
judges the median ratio. Each is timed per epoch; the first epoch (graph tracing) is left out
of the throughput when more than one epoch runs.

By default each recipe trains for a few epochs and the time to the whole default model is
projected from its throughput; `--full` trains both recipes to the end and reports their
real wall-clock time and test accuracy instead.

    python bench/train.py [--epochs N | --full] [--rounds N] [--conv-at-7x7 FILTERS]
                          [--filters-at-14x14 FILTERS[,FILTERS]] [--label-smoothing SHARE]
"""

import argparse
import dataclasses
import time

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


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch, validation included."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._started)


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


def train_reference(train, epochs):
    """Fit the reference recipe as the example does; returns the model, the epoch timer and its images per epoch."""
    x_train, y_train = train
    keras.utils.set_random_seed(0)
    model = reference_model()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    timer = EpochTimer()
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


def train_default(recipe, train, test, epochs):
    """Fit the default recipe through the project's own pipeline (its training set, tf.data, augmentation, strategy)."""
    fit_set, sources = training_set(train, recipe.usps_train, writers=WriterDigits() if recipe.writers_train else None)
    timer = EpochTimer()
    run = fit_recipe(recipe, fit_set, test, epochs=epochs, callbacks=[timer], verbose=0, sources=sources)
    return run.model, timer, run.train_images


def throughput(timer, images_per_epoch):
    """Training images per second, leaving out the first epoch (tracing) when there are more."""
    steady = timer.seconds[1:] or timer.seconds
    return images_per_epoch * len(steady) / sum(steady)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--epochs", type=int, default=3, help="epochs of each recipe to time (default: 3)")
    which.add_argument("--full", action="store_true", help="train both recipes to the end")
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

    train, test = load_mnist()
    recipe = RECIPES[DEFAULT_ARCH]
    if args.conv_at_7x7 is not None:
        recipe = dataclasses.replace(recipe, conv_at_7x7=args.conv_at_7x7)
    if args.filters_at_14x14 is not None:
        recipe = dataclasses.replace(recipe, filters_at_14x14=args.filters_at_14x14)
    if args.label_smoothing is not None:
        recipe = dataclasses.replace(recipe, label_smoothing=args.label_smoothing)
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
    timed = {
        "conv_at_7x7": recipe.conv_at_7x7,
        "filters_at_14x14": list(recipe.filters_at_14x14),
        "label_smoothing": recipe.label_smoothing,
    }
    write_result("train", {"full": args.full, "recipe": timed, "rounds": rounds, "median_time_ratio": round(median, 3)})


def time_both(recipe, train, test, args, reference_first):
    """One round: the reference and the default recipe timed one after the other, and their ratios."""
    fits = {
        REFERENCE_NAME: lambda: (
            train_reference(train, REFERENCE_EPOCHS if args.full else args.epochs),
            REFERENCE_EPOCHS,
        ),
        DEFAULT_NAME: lambda: (
            train_default(recipe, train, test, recipe.epochs if args.full else args.epochs),
            recipe.epochs,
        ),
    }
    order = [REFERENCE_NAME, DEFAULT_NAME] if reference_first else [DEFAULT_NAME, REFERENCE_NAME]
    results = {name: recipe_figures(*fits[name](), test, args.full) for name in order}
    reference, default = results[REFERENCE_NAME], results[DEFAULT_NAME]
    return {
        "order": order,
        "recipes": results,
        "throughput_ratio": round(default["images_per_second"] / reference["images_per_second"], 3),
        "time_ratio": round(default["projected_full_seconds"] / reference["projected_full_seconds"], 3),
    }


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
    print(f"\nround {number} ({' first, then '.join(results['order'])}):")
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
