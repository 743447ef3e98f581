"""Fine-tuning a model on one person's saved drawings, checked on drawings it never trained on and on MNIST.

One drawing in five (spread over the digits) is held out and only ever used to measure; the
rest are repeated among MNIST training images so that they make a fifth of every epoch, and the
model learns from both at a tenth of its recipe's learning rate, so that it adapts to the
handwriting without forgetting MNIST.
"""

import dataclasses
import math
import time

import numpy as np

from digitlab.cards import build_card, free_name, tuned_model_name
from digitlab.data import array_hashes
from digitlab.jobs import JobError, save_new_model
from digitlab.store import ModelError, load_matching_card, load_model
from digitlab.zoo import RECIPES

MIN_SAMPLES = 20
HELD_OUT_EVERY = 5
USER_SHARE = 0.2
LEARNING_RATE_FACTOR = 0.1
BATCH_SIZE = 64
DEFAULT_EPOCHS = 3
DEFAULT_MNIST_IMAGES = 6000


def samples_problem(user, labels):
    """Why `user`'s drawings are too few to fine-tune on, as one line; None when there are enough."""
    count = len(labels)
    if count >= MIN_SAMPLES:
        return None
    held_out = MIN_SAMPLES // HELD_OUT_EVERY
    return (
        f"Fine-tuning needs at least {MIN_SAMPLES} saved drawings ({MIN_SAMPLES - held_out} to learn from and "
        f"{held_out} kept aside to check the result); {user} has {count}, so save {MIN_SAMPLES - count} more."
    )


def split_held_out(labels, seed=0):
    """(train, held-out) indices: every fifth drawing of the list sorted by digit, so each digit gives ~20 %."""
    labels = np.asarray(labels)
    shuffled_within_digits = np.lexsort((np.random.default_rng(seed).random(len(labels)), labels))
    held_out = np.zeros(len(labels), dtype=bool)
    held_out[shuffled_within_digits[HELD_OUT_EVERY - 1 :: HELD_OUT_EVERY]] = True
    return np.flatnonzero(~held_out), np.flatnonzero(held_out)


def training_mix(mnist_train, x_user, y_user, mnist_images, seed=0):
    """Random MNIST training images plus copies of the user's drawings making USER_SHARE of the whole.

    Returns the images, the labels and how many copies of each drawing were made.
    """
    x_mnist, y_mnist = mnist_train
    chosen = np.random.default_rng(seed).choice(len(x_mnist), size=min(mnist_images, len(x_mnist)), replace=False)
    copies = max(1, round(USER_SHARE / (1 - USER_SHARE) * len(chosen) / len(x_user)))
    images = np.concatenate([x_mnist[chosen], np.repeat(x_user, copies, axis=0)])
    labels = np.concatenate([y_mnist[chosen], np.repeat(y_user, copies)])
    return images, labels, copies


def accuracy_on(model, images, labels):
    """The share of `images` (uint8, MNIST layout) that `model` reads as their label."""
    from digitlab.training import scale_pixels

    predicted = np.argmax(np.asarray(model(scale_pixels(images), training=False)), axis=1)
    return float(np.mean(predicted == np.asarray(labels)))


def base_model(path):
    """The model to start from, its card and its zoo recipe; JobError when it cannot be fine-tuned."""
    try:
        model, card = load_model(path), load_matching_card(path)
    except ModelError as error:
        raise JobError(str(error)) from None
    arch = card.get("architecture", card.get("name"))
    if arch not in RECIPES:
        raise JobError(f"{card.get('name')}: its card names no zoo architecture, so it cannot be fine-tuned.")
    return model, card, RECIPES[arch]


def fine_tune_recipe(recipe):
    """The base recipe at a tenth of its learning rate, monitored on the held-out drawings."""
    return dataclasses.replace(
        recipe,
        learning_rate=recipe.learning_rate * LEARNING_RATE_FACTOR,
        validation="held-out drawings",
        notes=[
            *recipe.notes,
            f"Fine-tuned at {LEARNING_RATE_FACTOR:g}× the recipe's learning rate on MNIST plus the user's drawings "
            f"(a {USER_SHARE:.0%} share); validated on held-out drawings it never trained on.",
        ],
    )


def fine_tune(job, base_path, user, samples, mnist, out_dir, epochs=DEFAULT_EPOCHS, mnist_images=None, seed=0):
    """Fine-tune the model at `base_path` on `user`'s `samples` (x, y) and MNIST; save it as a new model.

    Returns the new model's name, path and accuracies (held-out drawings before and after, MNIST
    test before and after), or None when the job was cancelled (then nothing is saved).
    """
    from digitlab.evaluation import evaluate
    from digitlab.training import TrainingRun, history_lists, recipe_dataset, recipe_loss

    x_user, y_user = samples
    problem = samples_problem(user, y_user)
    if problem:
        raise JobError(problem)
    mnist_images = mnist_images or DEFAULT_MNIST_IMAGES
    job.set_phase("loading the base model")
    model, base_card, recipe = base_model(base_path)
    train_index, held_index = split_held_out(y_user, seed)
    x_held, y_held = x_user[held_index], y_user[held_index]
    held_before = accuracy_on(model, x_held, y_held)
    x_fit, y_fit, copies = training_mix(mnist[0], x_user[train_index], y_user[train_index], mnist_images, seed)
    tuned = fine_tune_recipe(recipe)
    model.compile(
        optimizer=tuned.make_optimizer(math.ceil(len(x_fit) / BATCH_SIZE), epochs),
        loss=recipe_loss(tuned),
        metrics=["accuracy"],
    )
    started = time.perf_counter()
    history = model.fit(
        recipe_dataset(tuned, x_fit, y_fit, BATCH_SIZE, shuffle_seed=seed, augment=True),
        validation_data=recipe_dataset(tuned, x_held, y_held, BATCH_SIZE),
        epochs=epochs,
        shuffle=False,
        callbacks=[job.progress_callback()],
        verbose=0,
    )
    seconds = time.perf_counter() - started
    if job.cancel_requested:
        return None
    held_after = accuracy_on(model, x_held, y_held)
    (x_train, y_train), (x_test, y_test) = mnist
    job.set_phase(f"testing on the {len(x_test):,} MNIST test digits")
    metrics = evaluate(model, x_test, y_test)
    if job.cancel_requested:
        return None
    job.set_phase("saving")
    base_name = base_card.get("name", str(base_path))
    name = free_name(out_dir, tuned_model_name(recipe.name, user))
    run = TrainingRun(
        model=model,
        history=history_lists(history),
        seconds=seconds,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        train_images=len(x_fit),
        strategy="default",
        precision="float32",
    )
    hashes = array_hashes({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test})
    fine_tuning = {
        "base_model": base_name,
        "base_model_sha256": base_card.get("model_sha256"),
        "user": user,
        "samples": len(y_user),
        "trained_on_samples": len(train_index),
        "held_out_samples": len(held_index),
        "copies_of_each_sample": copies,
        "mnist_images": len(x_fit) - copies * len(train_index),
        "held_out_accuracy_before": held_before,
        "held_out_accuracy_after": held_after,
        "mnist_test_accuracy_before": base_card.get("test_accuracy"),
        "mnist_test_accuracy_after": metrics["test_accuracy"],
    }
    sources = [
        {"source": "MNIST train (random images)", "digits": fine_tuning["mnist_images"]},
        {"source": f"{user}'s drawings", "digits": len(train_index), "copies_of_each": copies},
    ]
    card = {
        **build_card(tuned, run, metrics, model, hashes, seed, mnist_images, sources),
        "name": name,
        "architecture": recipe.name,
        "seed_source": f"{base_name} fine-tuned on {user}'s drawings",
        "seed_figure": f"{base_name} before fine-tuning",
        "seed_accuracy": base_card.get("test_accuracy"),
        "trained_on": "the Train page (fine-tuning)",
        "fine_tuning": fine_tuning,
    }
    path = save_new_model(model, card, out_dir)
    return {"name": name, "path": str(path), "test_accuracy": metrics["test_accuracy"], **fine_tuning}
