"""Loading the datasets: MNIST (an explicit file, the MNIST_NPZ environment variable, or Keras's
cache) and USPS (an explicit folder, the USPS_DIR environment variable, or Keras's cache).

USPS is real handwriting from US mail, 16×16 pixels; the default `cnn` trains on its
training file as well as on MNIST, and its test file only ever measures how well models read it.
"""

import gzip
import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ENV_VAR = "MNIST_NPZ"
MNIST_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_FILE_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
USPS_ENV_VAR = "USPS_DIR"
USPS_TRAIN_FILE = "zip.train.gz"
USPS_ORIGIN = "https://hastie.su.domains/ElemStatLearn/datasets/zip.train.gz"
USPS_SIDE = 16

# SHA-256 of each array's raw bytes in the official MNIST files (see ../shared/data/README.md).
MNIST_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
EXPECTED_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}


class DatasetError(RuntimeError):
    """The dataset could not be found or is not MNIST; the message says what to do."""


def load_mnist(path=None):
    """Return `(x_train, y_train), (x_test, y_test)` as `keras.datasets.mnist.load_data()` does.

    The file is taken from `path`, else from the `MNIST_NPZ` environment variable, else from
    Keras's own download cache (which needs internet the first time).
    """
    arrays = _read_npz(Path(path)) if path else _read_from_env_or_keras()
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def array_hashes(arrays):
    """SHA-256 of each array's raw bytes, keyed by name."""
    return {name: hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() for name, a in arrays.items()}


def _read_from_env_or_keras():
    env_path = os.environ.get(ENV_VAR)
    if env_path:
        return _read_npz(Path(env_path))
    return _read_npz(
        _download_with_keras(
            "mnist.npz",
            MNIST_ORIGIN,
            MNIST_FILE_SHA256,
            "MNIST is not on this machine",
            f"Set {ENV_VAR} to the path of a copy of mnist.npz, e.g. {ENV_VAR}=../shared/data/mnist.npz "
            "(train.py also takes --data PATH).",
        )
    )


def _download_with_keras(file_name, origin, file_hash, missing, advice):
    """Keras's cached copy of `origin`, downloaded when online; else a DatasetError: `missing` (why). `advice`."""
    from digitlab.tf import keras

    try:
        return Path(keras.utils.get_file(file_name, origin=origin, file_hash=file_hash))
    except Exception as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise DatasetError(f"{missing} and could not be downloaded ({reason}). {advice}") from None


def _read_npz(path):
    if not path.is_file():
        raise DatasetError(f"{path}: no such file. Set {ENV_VAR} or --data to the path of mnist.npz.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in EXPECTED_SHAPES if name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DatasetError(f"{path}: not a readable .npz file ({error}). Download a fresh mnist.npz.") from None
    _validate(path, arrays)
    return arrays


def _validate(path, arrays):
    missing = sorted(set(EXPECTED_SHAPES) - set(arrays))
    if missing:
        raise DatasetError(f"{path}: missing arrays {', '.join(missing)}; expected the layout of Keras's mnist.npz.")
    for name, shape in EXPECTED_SHAPES.items():
        array = arrays[name]
        if array.dtype != np.uint8 or array.shape[1:] != shape[1:]:
            raise DatasetError(
                f"{path}: {name} is {array.dtype} {array.shape}, expected uint8 (N, {', '.join(map(str, shape[1:]))})."
            )
    if len(arrays["x_train"]) != len(arrays["y_train"]) or len(arrays["x_test"]) != len(arrays["y_test"]):
        raise DatasetError(f"{path}: image and label counts differ.")
    if max(arrays["y_train"].max(), arrays["y_test"].max()) > 9:
        raise DatasetError(f"{path}: labels outside 0-9.")
    if all(arrays[name].shape == shape for name, shape in EXPECTED_SHAPES.items()):
        _check_hashes(path, arrays)


def _check_hashes(path, arrays):
    """A file shaped like full MNIST must be MNIST, byte for byte."""
    differing = [name for name, digest in array_hashes(arrays).items() if digest != MNIST_SHA256[name]]
    if differing:
        raise DatasetError(
            f"{path}: has MNIST's shapes but {', '.join(differing)} differ from the official MNIST "
            "(SHA-256 mismatch); the file is corrupt or modified. Download a fresh mnist.npz."
        )


def load_usps(path):
    """USPS digits from a `zip.train.gz` or `zip.test.gz` file: (N, 16, 16) ink in [0, 1] and labels."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file. Set {USPS_ENV_VAR} to the folder holding USPS's zip.train.gz.")
    try:
        with gzip.open(path, "rt") as file:
            rows = np.loadtxt(file, dtype=np.float32, ndmin=2)
    except (OSError, ValueError, EOFError) as error:
        raise DatasetError(f"{path}: not a readable USPS file ({error}). Download a fresh copy.") from None
    if rows.shape[1] != 1 + USPS_SIDE * USPS_SIDE or not np.isin(rows[:, 0], np.arange(10)).all():
        raise DatasetError(f"{path}: expected lines of a label 0-9 and {USPS_SIDE * USPS_SIDE} pixel values.")
    ink = (rows[:, 1:].reshape(-1, USPS_SIDE, USPS_SIDE) + 1.0) / 2.0
    return np.clip(ink, 0.0, 1.0), rows[:, 0].astype(np.uint8)


def usps_train_file(folder=None):
    """USPS's training file in `folder`, else in $USPS_DIR, else in Keras's download cache."""
    folder = folder or os.environ.get(USPS_ENV_VAR)
    if folder:
        return Path(folder) / USPS_TRAIN_FILE
    return _download_with_keras(
        f"usps-{USPS_TRAIN_FILE}",
        USPS_ORIGIN,
        None,
        "USPS's training digits are not on this machine",
        f"Set {USPS_ENV_VAR} to the folder holding {USPS_TRAIN_FILE}, e.g. {USPS_ENV_VAR}=../shared/data/usps "
        "(train.py also takes --usps DIR, or --limit 60000 to train on MNIST alone).",
    )


def usps_as_scan(ink, side=160):
    """A USPS digit upscaled to `side`×`side` pixels, dark ink on white, as an 8-bit grey image."""
    image = Image.fromarray((255 * (1.0 - ink)).astype(np.uint8))
    return image.resize((side, side), Image.Resampling.BICUBIC)


def usps_in_mnist_form(ink):
    """USPS digits as MNIST-style uint8 (N, 28, 28) arrays, normalised by `to_mnist` like any drawing."""
    from digitlab.preprocess import to_mnist

    return np.stack([np.rint(to_mnist(usps_as_scan(digit)) * 255).astype(np.uint8) for digit in ink])


def training_set(train, with_usps, limit=None, usps_folder=None):
    """The digits a recipe trains on: MNIST's `train`, then USPS's training file if asked, cut to `limit`.

    Returns `(x, y)` and a list of `{"source", "digits", "sha256"}` (of the images) saying what went in.
    USPS is left unread when `limit` keeps MNIST digits only.
    """
    parts = [("MNIST train", *train)]
    if with_usps and (limit is None or limit > len(train[0])):
        ink, labels = load_usps(usps_train_file(usps_folder))
        parts.append(("USPS train", usps_in_mnist_form(ink), labels))
    left = sum(len(images) for _, images, _ in parts) if limit is None else limit
    kept, sources = [], []
    for source, images, labels in parts:
        images, labels = images[:left], labels[:left]
        left -= len(images)
        if len(images):
            kept.append((images, labels))
            sources.append({"source": source, "digits": len(images), "sha256": array_hashes({"x": images})["x"]})
    x, y = (np.concatenate(arrays) for arrays in zip(*kept, strict=True))
    return (x, y), sources
