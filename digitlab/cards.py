"""Model cards (where a model comes from, how it was trained, what it measures) and names for new models."""

import datetime
import platform
import re
import unicodedata
from pathlib import Path


def layer_rows(model):
    """Every layer of `model` with its type, output shape and parameter count."""
    return [
        {
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": str(layer.output.shape),
            "parameters": layer.count_params(),
        }
        for layer in model.layers
    ]


def build_card(recipe, run, metrics, model, hashes, seed, limit, sources):
    """The model card of a training run of `recipe` (a TrainingRun), with its test `metrics`.

    `hashes` are MNIST's array hashes; `sources` says which training digits went in (`data.training_set`).
    """
    from digitlab.tf import keras, tf

    return {
        "name": recipe.name,
        "seed_source": recipe.seed_source,
        "seed_figure": recipe.seed_figure,
        "seed_accuracy": recipe.seed_accuracy,
        "parameters": model.count_params(),
        "layers": layer_rows(model),
        "recipe": {
            "optimizer": recipe.optimizer,
            "learning_rate": recipe.learning_rate,
            "epochs": run.epochs,
            "batch_size": run.batch_size,
            "augment": recipe.augment,
            "pen_width": recipe.pen_width,
            "shear": recipe.shear,
            "stretch": recipe.stretch,
            "elastic": recipe.elastic,
            "mix_up": recipe.mix_up,
            "label_smoothing": recipe.label_smoothing,
            "usps_weight": recipe.usps_weight,
            "bitmap_weight": recipe.bitmap_weight,
            "ema_momentum": recipe.ema_momentum,
            "weight_decay": recipe.weight_decay,
            "conv_at_7x7": recipe.conv_at_7x7,
            "filters_at_14x14": list(recipe.filters_at_14x14),
            "deskew": recipe.deskew,
            "dropout": recipe.dropout,
            "precision": run.precision,
            "validation": recipe.validation,
            "notes": recipe.notes,
        },
        "history": run.history,
        **metrics,
        "training_seconds": round(run.seconds, 1),
        "train_images": run.train_images,
        "training_data": sources,
        "limit": limit,
        "strategy": run.strategy,
        "dataset_sha256": hashes,
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "random_seed": seed,
    }


def timestamp(now=None):
    """UTC time as `20261121-024631`, for model names that sort by date."""
    return (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%d-%H%M%S")


def name_part(text, fallback="someone", max_length=20):
    """`text` as lowercase ASCII letters, digits and single dashes, safe in a file name: 'Zoë B.' → 'zoe-b'."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    part = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")
    return part or fallback


def live_model_name(arch, now=None):
    """The name of a zoo model trained on the Train page: `mlp-small-live-20261121-024631`."""
    return f"{arch}-live-{timestamp(now)}"


def tuned_model_name(arch, user, now=None):
    """The name of a model fine-tuned on someone's drawings: `cnn-tuned-zoe-20261121-024631`."""
    return f"{arch}-tuned-{name_part(user)}-{timestamp(now)}"


def free_name(folder, name):
    """`name`, or `name-2`, `name-3`…: the first that is no zoo model's name nor taken in `folder` (model or card)."""
    from digitlab.zoo import RECIPES

    candidate, number = name, 1
    while candidate in RECIPES or any(
        (Path(folder) / f"{candidate}{suffix}").exists() for suffix in (".keras", ".json")
    ):
        number += 1
        candidate = f"{name}-{number}"
    return candidate
