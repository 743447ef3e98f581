"""What label smoothing costs the default recipe's training: steps with and without it, interleaved in one process.

`bench/train.py` times the recipe against a reference, a round at a time; on a noisy host two rounds
can differ by half, too much to see a small cost. Here each round fits a fresh `cnn` for one
epoch on the same MNIST images, with the recipe's augmentation, once with sparse labels and once
with labels smoothed by the recipe's share, so that both see the same host; the median of the
rounds' ratios is the cost.

    python bench/smoothing_cost.py [--rounds N] [--images N]
"""

import argparse
import dataclasses
import statistics
import time

from common import print_table, run_benchmark, write_result

from digitlab.data import load_mnist
from digitlab.train_cli import positive_int
from digitlab.training import recipe_dataset, recipe_loss
from digitlab.zoo import DEFAULT_ARCH, RECIPES

BATCH_SIZE = 128
WARMUP_STEPS = 20


def images_per_second(recipe, images, labels):
    """Training throughput of one epoch of a fresh model built and compiled by `recipe`, after a warm-up."""
    model = recipe.build()
    steps = -(-len(images) // BATCH_SIZE)
    model.compile(optimizer=recipe.make_optimizer(steps, 1), loss=recipe_loss(recipe), metrics=["accuracy"])
    data = recipe_dataset(recipe, images, labels, BATCH_SIZE, shuffle_seed=0, augment=True)
    model.fit(data.take(WARMUP_STEPS), epochs=1, shuffle=False, verbose=0)
    started = time.perf_counter()
    model.fit(data, epochs=1, shuffle=False, verbose=0)
    return len(images) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=positive_int, default=3, help="rounds of both variants (default: 3)")
    parser.add_argument("--images", type=positive_int, default=25_600, help="MNIST images per epoch (default: 25,600)")
    args = parser.parse_args()

    (x_train, y_train), _ = load_mnist()
    images, labels = x_train[: args.images], y_train[: args.images]
    smoothed = RECIPES[DEFAULT_ARCH]
    plain = dataclasses.replace(smoothed, label_smoothing=0.0)
    rounds = []
    for number in range(1, args.rounds + 1):
        without, with_ = images_per_second(plain, images, labels), images_per_second(smoothed, images, labels)
        rounds.append({"round": number, "plain": round(without, 1), "smoothed": round(with_, 1)})
        print(f"round {number}: plain {without:.0f} images/s, smoothed {with_:.0f} images/s", flush=True)
    print()
    print_table(["round", "plain images/s", "smoothed images/s"], [list(r.values()) for r in rounds])
    cost = statistics.median(r["plain"] / r["smoothed"] for r in rounds)
    print(f"\nsmoothed step time / plain step time (median of {len(rounds)} rounds) = {cost:.3f}")
    write_result(
        "smoothing_cost",
        {"label_smoothing": smoothed.label_smoothing, "images": len(images), "rounds": rounds, "time_ratio": cost},
    )


if __name__ == "__main__":
    run_benchmark(main)
