"""Loading the datasets: MNIST (an explicit file, the MNIST_NPZ environment variable, or Keras's
cache), USPS (an explicit folder, the USPS_DIR environment variable, or Keras's cache) and the
other writers' digits (an explicit folder or the WRITERS_DIR environment variable).

USPS is real handwriting from US mail, 16×16 pixels; the default `cnn` trains on its
training file as well as on MNIST, and its test file only ever measures how well models read it.
The writers' folder holds UJI Pen Characters v2 (pen strokes of 60 writers: W01–W40 may be
trained on, W41–W60 are the held-out test of drawn digits), optdigits (32×32 bitmaps) and
Semeion (16×16 bitmaps); the default `cnn` trains on all of it except UJI's W41–W60.
"""

import gzip
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from digitlab.synthetic import CURL_RADIUS, curl_tail, join_strokes, overshoot_end, render_strokes

ENV_VAR = "MNIST_NPZ"
MNIST_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_FILE_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
USPS_ENV_VAR = "USPS_DIR"
USPS_TRAIN_FILE = "zip.train.gz"
USPS_TEST_FILE = "zip.test.gz"
USPS_ORIGIN = "https://hastie.su.domains/ElemStatLearn/datasets/zip.train.gz"
USPS_SIDE = 16
USPS_SOURCE = "USPS train"  # How a training set names USPS's digits among its sources.
BITMAP_SOURCES = ("optdigits", "Semeion")  # How it names the other writers' scanned bitmaps.
WRITERS_ENV_VAR = "WRITERS_DIR"
UJI_FILE = "uji/ujipenchars2-digits.json"
OPTDIGITS_FILES = [f"optdigits/optdigits-orig.{part}.gz" for part in ("tra", "cv", "windep")]
OPTDIGITS_OTHER_WRITERS_FILE = OPTDIGITS_FILES[-1]  # The 13 writers of neither `.tra` nor `.cv`.
OPTDIGITS_SIDE = 32
SEMEION_FILE = "semeion/semeion.data.gz"
SEMEION_SIDE = 16
SCAN_MARGIN = 0.25  # Paper around a bitmap digit read as a scan, as a share of the digit's side.
UJI_TRAINING_WRITERS = range(1, 41)  # W01–W40; W41–W60 are the held-out test of drawn digits.
UJI_TEST_WRITERS = range(41, 61)
UJI_TRAINING_RENDERS = 8  # Each training writer's digit is drawn this many times, each differently.
DRAWN_TEST_RENDERS = 5
DRAWN_TEST_SEED = 2026

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


def usps_test_file(folder=None):
    """USPS's test file in `folder`, else in $USPS_DIR; a DatasetError when neither is given."""
    folder = folder or os.environ.get(USPS_ENV_VAR)
    if not folder:
        raise DatasetError(f"USPS's test digits are not on this machine. Set {USPS_ENV_VAR} to their folder.")
    return Path(folder) / USPS_TEST_FILE


def usps_test_digits(folder=None):
    """USPS's 2,007 test digits in MNIST form `(images, labels)`, as the app reads a scan of each."""
    ink, labels = load_usps(usps_test_file(folder))
    return bitmaps_in_mnist_form(ink), labels


def usps_as_scan(ink, side=160):
    """A USPS (or any bitmap) digit as a scan: upscaled to `side`×`side` pixels, dark ink on white paper all round.

    The bitmaps' makers cropped each digit to its frame, so ink touches their edges; a scan of
    one has paper around it. Without that margin the app's preprocessing would read the ink on
    the border as a photo's uneven lighting, or as a dark board (and invert the digit).
    """
    digit = Image.fromarray((255 * (1.0 - ink)).astype(np.uint8)).resize((side, side), Image.Resampling.BICUBIC)
    margin = round(SCAN_MARGIN * side)
    scan = Image.new("L", (side + 2 * margin, side + 2 * margin), 255)
    scan.paste(digit, (margin, margin))
    return scan


def bitmaps_in_mnist_form(ink):
    """Bitmap digits (USPS, optdigits, Semeion) as MNIST-style uint8 (N, 28, 28), normalised like a scan."""
    return np.stack([_mnist_bytes(usps_as_scan(digit)) for digit in ink])


def usps_training_digits(folder=None, held_out=0):
    """USPS's training digits in MNIST form, without the last `held_out` ones (left for validation)."""
    ink, labels = load_usps(usps_train_file(folder))
    kept = len(labels) - held_out
    if kept < 1:
        raise DatasetError(f"cannot hold out {held_out} of USPS's {len(labels)} training digits; hold out fewer.")
    return bitmaps_in_mnist_form(ink[:kept]), labels[:kept]


def usps_validation_digits(folder, held_out):
    """The last `held_out` of USPS's training digits in MNIST form, which `training_set(usps_held_out=…)` leaves out."""
    ink, labels = load_usps(usps_train_file(folder))
    return bitmaps_in_mnist_form(ink[len(labels) - held_out :]), labels[len(labels) - held_out :]


def mnist_training_digits(train, held_out=0):
    """MNIST's training digits without the last `held_out` ones (left for validation)."""
    images, labels = train
    kept = len(labels) - held_out
    if kept < 1:
        raise DatasetError(f"cannot hold out {held_out} of MNIST's {len(labels)} training digits; hold out fewer.")
    return images[:kept], labels[:kept]


def mnist_validation_digits(train, held_out):
    """The last `held_out` of MNIST's training digits, which `training_set(mnist_held_out=…)` leaves out."""
    images, labels = train
    return images[len(labels) - held_out :], labels[len(labels) - held_out :]


def training_set(train, with_usps, limit=None, usps_folder=None, writers=None, usps_held_out=0, mnist_held_out=0):
    """The digits a recipe trains on: MNIST's `train`, then USPS's and the other writers' if asked, cut to `limit`.

    `writers` is a `WriterDigits` or None; `usps_held_out` and `mnist_held_out` leave USPS's and
    MNIST's last training digits out (a screening run's validation). Returns `(x, y)` and a list of
    `{"source", "digits", "sha256"}` (of the images) saying what went in. USPS and the writers are
    left unread when `limit` keeps MNIST digits only.
    """
    train = mnist_training_digits(train, mnist_held_out)
    source = f"MNIST train (the last {mnist_held_out} held out)" if mnist_held_out else "MNIST train"
    parts = [(source, *train)]
    beyond_mnist = limit is None or limit > len(train[0])
    if with_usps and beyond_mnist:
        source = f"{USPS_SOURCE} (the last {usps_held_out} held out)" if usps_held_out else USPS_SOURCE
        parts.append((source, *usps_training_digits(usps_folder, usps_held_out)))
    if writers is not None and beyond_mnist:
        parts.extend(writer_parts(writers))
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


def writers_folder(folder=None):
    """The folder of the other writers' digits: `folder`, else $WRITERS_DIR; a DatasetError when neither holds them."""
    folder = folder or os.environ.get(WRITERS_ENV_VAR)
    if not folder:
        raise DatasetError(
            f"The other writers' digits are not on this machine. Set {WRITERS_ENV_VAR} to their folder, e.g. "
            f"{WRITERS_ENV_VAR}=../shared/data/writers (train.py also takes --writers DIR)."
        )
    return Path(folder)


def _open_text(path, missing_advice):
    """The text of a (gzipped when named .gz) dataset file, or a DatasetError naming it."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file. {missing_advice}")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt") as file:
                return file.read()
        return path.read_text()
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: not readable ({error}). Copy a fresh one.") from None


def _missing_writers_file():
    return f"Set {WRITERS_ENV_VAR} to the folder holding uji/, optdigits/ and semeion/."


def load_uji(path):
    """UJI Pen Characters v2 digits: a list of drawings (each a list of (K, 2) float stroke arrays), labels, writers.

    Samples of each digit come in writer order, two per writer: writer = index // 2 + 1.
    """
    path = Path(path)
    try:
        raw = json.loads(_open_text(path, _missing_writers_file()))["rawData"]
        drawings, labels, writers = [], [], []
        for digit in range(10):
            for index, sample in enumerate(raw[str(digit)]):
                drawings.append([np.asarray(stroke, dtype=np.float32).reshape(-1, 2) for stroke in sample])
                labels.append(digit)
                writers.append(index // 2 + 1)
    except (ValueError, KeyError, TypeError) as error:
        raise DatasetError(f"{path}: not UJI pen digits ({type(error).__name__}: {error}).") from None
    if not drawings or any(not len(stroke) for drawing in drawings for stroke in drawing):
        raise DatasetError(f"{path}: not UJI pen digits (empty drawings or strokes).")
    return drawings, np.array(labels, np.uint8), np.array(writers, np.int32)


def load_optdigits(path):
    """optdigits' 32×32 bitmaps from one file: (N, 32, 32) ink in {0, 1} and labels."""
    path = Path(path)
    rows, bitmaps, labels = [], [], []
    for line in _open_text(path, _missing_writers_file()).splitlines():
        line = line.strip()
        if len(line) == OPTDIGITS_SIDE and set(line) <= {"0", "1"}:
            rows.append([int(c) for c in line])
        elif rows:
            if len(rows) != OPTDIGITS_SIDE or line not in {str(d) for d in range(10)}:
                raise DatasetError(f"{path}: expected {OPTDIGITS_SIDE} rows of 0/1 then a label 0-9 per digit.")
            bitmaps.append(rows)
            labels.append(int(line))
            rows = []
    if rows or not bitmaps:
        raise DatasetError(f"{path}: expected {OPTDIGITS_SIDE} rows of 0/1 then a label 0-9 per digit.")
    return np.array(bitmaps, np.float32), np.array(labels, np.uint8)


def load_semeion(path):
    """Semeion's 16×16 bitmaps: (N, 16, 16) ink in {0, 1} and labels (read from the one-hot columns)."""
    path = Path(path)
    text = _open_text(path, _missing_writers_file())
    try:
        rows = np.loadtxt(text.splitlines(), dtype=np.float32, ndmin=2)
    except ValueError as error:
        raise DatasetError(f"{path}: not a readable Semeion file ({error}).") from None
    pixels = SEMEION_SIDE * SEMEION_SIDE
    if rows.shape[1] != pixels + 10 or not np.all(rows[:, pixels:].sum(axis=1) == 1):
        raise DatasetError(f"{path}: expected lines of {pixels} pixel values and a one-hot label of 10.")
    return rows[:, :pixels].reshape(-1, SEMEION_SIDE, SEMEION_SIDE), rows[:, pixels:].argmax(axis=1).astype(np.uint8)


def uji_digits(folder, writers):
    """UJI's drawings of `writers`: the drawings, their labels, writers and places in the file."""
    drawings, labels, all_writers = load_uji(Path(folder) / UJI_FILE)
    chosen = np.flatnonzero(np.isin(all_writers, list(writers)))
    return [drawings[i] for i in chosen], labels[chosen], all_writers[chosen], chosen


def uji_training_digits(folder, writers=UJI_TRAINING_WRITERS):
    """`uji_digits` of `writers`, refusing any writer of the held-out test (W41–W60)."""
    if set(writers) & set(UJI_TEST_WRITERS):
        raise ValueError(f"writers W{UJI_TEST_WRITERS[0]}–W{UJI_TEST_WRITERS[-1]} are held out; never train on them")
    digits = uji_digits(folder, writers)
    assert digits[2].max() < UJI_TEST_WRITERS[0], "a held-out writer slipped into the training digits"
    return digits


def drawn_digits(
    drawings,
    ids,
    renders,
    seed,
    distort=False,
    joined=0.0,
    curled=0.0,
    labels=None,
    overshot=0.0,
    curl_radius=CURL_RADIUS,
):
    """Each drawing rendered `renders` times onto a canvas and read by `to_mnist`: uint8 (N·renders, 28, 28).

    Copy k of the drawing numbered `ids[i]` (its place in the UJI file) is drawn from its own
    random stream (seed, id, k), so it looks the same whichever other drawings are rendered.
    A share `joined` of the copies is drawn without lifting the pen between strokes (`join_strokes`),
    a share `curled` of the copies of 9s (by `labels`) ends in a curled tail (`curl_tail`, its radius
    a share of the height within `curl_radius`), and a share `overshot` of the copies has its last
    stroke run on past its end (`overshoot_end`).
    """
    nines = np.zeros(len(drawings), bool) if labels is None else np.asarray(labels) == 9

    def copy_of(drawing, number, copy, nine):
        if joined and np.random.default_rng([seed, int(number), copy, 1]).random() < joined:
            drawing = join_strokes(drawing)
        curl = np.random.default_rng([seed, int(number), copy, 2])
        if nine and curled and curl.random() < curled:
            drawing = curl_tail(drawing, curl, curl_radius)
        overshoot = np.random.default_rng([seed, int(number), copy, 3])
        if overshot and overshoot.random() < overshot:
            drawing = overshoot_end(drawing, overshoot)
        return render_strokes(drawing, np.random.default_rng([seed, int(number), copy]), distort=distort)

    return np.stack(
        [
            _mnist_bytes(copy_of(drawing, number, copy, nine))
            for drawing, number, nine in zip(drawings, ids, nines, strict=True)
            for copy in range(renders)
        ]
    )


def _mnist_bytes(picture):
    from digitlab.preprocess import to_mnist

    return np.rint(to_mnist(picture) * 255).astype(np.uint8)


def drawn_test_set(
    folder=None, writers=UJI_TEST_WRITERS, renders=DRAWN_TEST_RENDERS, seed=DRAWN_TEST_SEED, curled_nines=False
):
    """The test of drawn digits: UJI's writers (W41–W60) each rendered `renders` times; inputs, labels, writers.

    With `curled_nines`, only the writers' 9s, every copy ending in a curled tail (`curl_tail`).
    """
    drawings, labels, drawn_writers, ids = uji_digits(writers_folder(folder), writers)
    if curled_nines:
        nines = np.flatnonzero(labels == 9)
        drawings = [drawings[i] for i in nines]
        labels, drawn_writers, ids = labels[nines], drawn_writers[nines], ids[nines]
    images = drawn_digits(drawings, ids, renders, seed, curled=float(curled_nines), labels=labels)
    return images, np.repeat(labels, renders), np.repeat(drawn_writers, renders)


@dataclass(frozen=True)
class WriterDigits:
    """Which of the other writers' digits a training set takes, and how UJI's drawings are rendered."""

    folder: Path | None = None
    uji_writers: range = UJI_TRAINING_WRITERS
    uji_renders: int = UJI_TRAINING_RENDERS
    distort: bool = False
    joined: float = 0.0
    curled: float = 0.0
    curl_radius: tuple[float, float] = CURL_RADIUS
    overshot: float = 0.0
    bitmaps_held_out: bool = False
    seed: int = 1


def _rendering_words(spec):
    """How UJI's training drawings were rendered, in words for the card: renders and every lever on."""
    words = [f"{spec.uji_renders} renders each"]
    if spec.distort:
        words.append("by a distorted hand")
    if spec.joined:
        words.append(f"{spec.joined:.0%} with strokes joined")
    if spec.curled:
        low, high = spec.curl_radius
        words.append(f"{spec.curled:.0%} of 9s' copies with a curled tail of radius {low:.0%}–{high:.0%} of the height")
    if spec.overshot:
        words.append(f"{spec.overshot:.0%} with the last stroke run on")
    return words


def writer_parts(spec):
    """(source, images, labels) of UJI's rendered training writers, optdigits and Semeion, in MNIST form."""
    folder = writers_folder(spec.folder)
    drawings, uji_labels, _, ids = uji_training_digits(folder, spec.uji_writers)
    first, last = spec.uji_writers[0], spec.uji_writers[-1]
    parts = [
        (
            f"UJI pen digits W{first:02d}–W{last:02d} ({', '.join(_rendering_words(spec))})",
            drawn_digits(
                drawings,
                ids,
                spec.uji_renders,
                spec.seed,
                distort=spec.distort,
                joined=spec.joined,
                curled=spec.curled,
                labels=uji_labels,
                curl_radius=spec.curl_radius,
                overshot=spec.overshot,
            ),
            np.repeat(uji_labels, spec.uji_renders),
        )
    ]
    held_out = {OPTDIGITS_OTHER_WRITERS_FILE} if spec.bitmaps_held_out else set()
    optdigits = [load_optdigits(folder / name) for name in OPTDIGITS_FILES if name not in held_out]
    optdigits_ink = np.concatenate([ink for ink, _ in optdigits])
    optdigits_source, semeion_source = BITMAP_SOURCES
    source = f"{optdigits_source} (.tra and .cv; .windep held out)" if held_out else optdigits_source
    parts.append((source, bitmaps_in_mnist_form(optdigits_ink), np.concatenate([y for _, y in optdigits])))
    if not spec.bitmaps_held_out:
        semeion_ink, semeion_labels = load_semeion(folder / SEMEION_FILE)
        parts.append((semeion_source, bitmaps_in_mnist_form(semeion_ink), semeion_labels))
    return parts


def held_out_bitmaps(folder=None):
    """optdigits' `.windep` and Semeion in MNIST form `(images, labels)`: bitmaps by writers of no other file.

    `WriterDigits(bitmaps_held_out=True)` leaves them out of training, so that a screening run can
    measure how it reads new writers' scanned digits (USPS's test file may not be chosen on).
    """
    folder = writers_folder(folder)
    optdigits_ink, optdigits_labels = load_optdigits(folder / OPTDIGITS_OTHER_WRITERS_FILE)
    semeion_ink, semeion_labels = load_semeion(folder / SEMEION_FILE)
    return (
        np.concatenate([bitmaps_in_mnist_form(optdigits_ink), bitmaps_in_mnist_form(semeion_ink)]),
        np.concatenate([optdigits_labels, semeion_labels]),
    )
