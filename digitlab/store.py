"""The model folder: saving a model and its card atomically, listing and loading them safely."""

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent.parent / "model"
MODEL_DIR_ENV = "DIGITLAB_MODEL_DIR"
MODEL_SUFFIXES = (".keras", ".h5", ".onnx")  # Zoo models are .keras; imported ones keep their own format.

log = logging.getLogger(__name__)


class ModelError(RuntimeError):
    """A model or its card is missing, corrupt or unusable; the message says how to fix it."""


def model_dir():
    """The folder the app reads models from: $DIGITLAB_MODEL_DIR, else the project's model/."""
    return Path(os.environ.get(MODEL_DIR_ENV) or MODEL_DIR)


def file_version(path):
    """A value that changes whenever the file is replaced, to key caches on."""
    return Path(path).stat().st_mtime_ns


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def without_optimizer(model):
    """A copy of `model` with the same weights and no optimizer state: a third of the file size for Adam."""
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def save_model_and_card(model, card, out_dir):
    """Write `NAME.keras` and `NAME.json` into `out_dir` so that an interruption never leaves half a file.

    Each file is written under a temporary name in the same folder and moved into place with
    `os.replace`; the card records the model file's SHA-256, so a card always names its model.
    """
    return _save_with_card(model.save, ".keras", card, out_dir)


def save_file_and_card(source, card, out_dir):
    """Copy a model file into `out_dir` as NAME plus its own suffix, with its card, as save_model_and_card does."""
    return _save_with_card(lambda path: shutil.copyfile(source, path), Path(source).suffix.lower(), card, out_dir)


def _save_with_card(write_model, suffix, card, out_dir):
    """Write the model (`write_model(path)`) and its card under temporary names, then move both into place."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = card["name"]
    model_tmp = _temporary_path(out_dir, name, suffix)
    card_tmp = _temporary_path(out_dir, name, ".json")
    try:
        write_model(model_tmp)
        card = {**card, "model_sha256": file_sha256(model_tmp)}
        card_tmp.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(model_tmp, out_dir / f"{name}{suffix}")
        os.replace(card_tmp, out_dir / f"{name}.json")
    finally:
        model_tmp.unlink(missing_ok=True)
        card_tmp.unlink(missing_ok=True)
    return out_dir / f"{name}{suffix}"


def _temporary_path(out_dir, name, suffix):
    handle, path = tempfile.mkstemp(prefix=f".{name}.", suffix=f".tmp{suffix}", dir=out_dir)
    os.close(handle)
    os.chmod(path, 0o644)
    return Path(path)


def list_models(model_dir=MODEL_DIR):
    """The model files (MODEL_SUFFIXES) of a folder that have a card beside them, sorted by name."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(
        p
        for p in model_dir.iterdir()
        if p.suffix in MODEL_SUFFIXES and not p.name.startswith(".") and p.with_suffix(".json").is_file()
    )


def load_card(model_path):
    """The card (`NAME.json`) of a model file, or ModelError if it is missing or unreadable."""
    card_path = Path(model_path).with_suffix(".json")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(
            f"{card_path}: model card missing or unreadable ({error}). Retrain with: python train.py"
        ) from None
    if not isinstance(card, dict) or "test_accuracy" not in card:
        raise ModelError(f"{card_path}: not a Digit Lab model card. Retrain with: python train.py")
    return card


def load_matching_card(model_path):
    """The card of a model file, checked to describe exactly that file (by its SHA-256)."""
    card = load_card(model_path)
    if card.get("model_sha256") != file_sha256(model_path):
        raise ModelError(
            f"{Path(model_path).with_suffix('.json')}: this card describes a different model file than "
            f"{Path(model_path).name}. Retrain with: python train.py --arch {card.get('name', Path(model_path).stem)}"
        )
    return card


def load_model(model_path):
    """Load a `.keras` file with `safe_mode=True`, checking that it takes 28×28 digits and gives 10 scores."""
    from digitlab import architectures  # noqa: F401 (registers the project's own layers for loading)
    from digitlab.tf import keras

    model_path = Path(model_path)
    if not model_path.is_file():
        raise ModelError(f"{model_path}: no such model. Train one with: python train.py")
    try:
        model = keras.models.load_model(model_path, safe_mode=True, compile=False)
    except Exception as error:
        log.debug("loading %s failed", model_path, exc_info=True)
        raise ModelError(
            f"{model_path}: not a loadable Keras model ({type(error).__name__}). Retrain with: python train.py"
        ) from None
    if tuple(model.input_shape[1:]) != (28, 28, 1) or tuple(model.output_shape[1:]) != (10,):
        raise ModelError(
            f"{model_path}: takes {model.input_shape} and gives {model.output_shape}; a digit model takes "
            "(None, 28, 28, 1) and gives (None, 10). Retrain with: python train.py"
        )
    return model
