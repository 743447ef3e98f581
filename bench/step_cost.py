"""What a change costs the default recipe's training step: the recipe with and without it, fitted in turn.

`bench/train.py` times the recipe against a reference, a round at a time; on a noisy host two rounds
can differ by half, too much to see a small cost. Here each round fits a fresh `cnn` for one
epoch on the same MNIST images, with the recipe's augmentation, once without the change and once
with it, so that both see the same host; the median of the rounds' ratios is the cost.

- `label-smoothing`: sparse labels, then labels smoothed by the recipe's share.
- `fused-batch-norm`: Keras's own `BatchNormalization`, then the fused one the recipe trains with.
- `bfloat16`: float32 arithmetic, then bfloat16 with float32 weights (Keras's mixed precision).

    python bench/step_cost.py --change {label-smoothing,fused-batch-norm,bfloat16} [--rounds N] [--images N]
"""

import argparse
import dataclasses
import statistics
import time

from common import print_table, run_benchmark, write_result

from digitlab.architectures import model_to_save
from digitlab.data import load_mnist
from digitlab.train_cli import positive_int
from digitlab.training import choose_precision, dtype_policy, recipe_dataset, recipe_loss
from digitlab.zoo import DEFAULT_ARCH, RECIPES

BATCH_SIZE = 128
WARMUP_STEPS = 20
RECIPE = RECIPES[DEFAULT_ARCH]
FLOAT32_RECIPE = dataclasses.replace(RECIPE, precision="float32")

# Each change: (recipe, builder) without it, then with it.
CHANGES = {
    "label-smoothing": (
        (dataclasses.replace(RECIPE, label_smoothing=0.0), RECIPE.build),
        (RECIPE, RECIPE.build),
    ),
    # The copy with Keras's layer computes in float32, so both sides do.
    "fused-batch-norm": (
        (FLOAT32_RECIPE, lambda: model_to_save(RECIPE.build())),
        (FLOAT32_RECIPE, RECIPE.build),
    ),
    "bfloat16": (
        (FLOAT32_RECIPE, RECIPE.build),
        (dataclasses.replace(RECIPE, precision="bfloat16"), RECIPE.build),
    ),
}


def images_per_second(recipe, build, images, labels):
    """Training throughput of one epoch of a fresh model from `build`, compiled by `recipe`, after a warm-up."""
    with dtype_policy(choose_precision(recipe.precision)):
        model = build()
    steps = -(-len(images) // BATCH_SIZE)
    model.compile(optimizer=recipe.make_optimizer(steps, 1), loss=recipe_loss(recipe), metrics=["accuracy"])
    data = recipe_dataset(recipe, images, labels, BATCH_SIZE, shuffle_seed=0, augment=True)
    model.fit(data.take(WARMUP_STEPS), epochs=1, shuffle=False, verbose=0)
    started = time.perf_counter()
    model.fit(data, epochs=1, shuffle=False, verbose=0)
    return len(images) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--change", choices=sorted(CHANGES), required=True, help="the change to time")
    parser.add_argument("--rounds", type=positive_int, default=3, help="rounds of both variants (default: 3)")
    parser.add_argument("--images", type=positive_int, default=25_600, help="MNIST images per epoch (default: 25,600)")
    args = parser.parse_args()

    (x_train, y_train), _ = load_mnist()
    images, labels = x_train[: args.images], y_train[: args.images]
    without_change, with_change = CHANGES[args.change]
    rounds = []
    for number in range(1, args.rounds + 1):
        before = images_per_second(*without_change, images, labels)
        after = images_per_second(*with_change, images, labels)
        rounds.append({"round": number, "without": round(before, 1), "with": round(after, 1)})
        print(f"round {number}: without {before:.0f} images/s, with {after:.0f} images/s", flush=True)
    print()
    print_table(["round", "without images/s", "with images/s"], [list(r.values()) for r in rounds])
    cost = statistics.median(r["without"] / r["with"] for r in rounds)
    print(f"\nstep time with {args.change} / without (median of {len(rounds)} rounds) = {cost:.3f}")
    write_result(
        f"step_cost_{args.change}",
        {"change": args.change, "images": len(images), "rounds": rounds, "time_ratio": cost},
    )


if __name__ == "__main__":
    run_benchmark(main)
