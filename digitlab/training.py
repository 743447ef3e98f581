"""Fitting a zoo recipe on MNIST with a tf.data pipeline under a tf.distribute strategy."""

import contextlib
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab.architectures import model_to_save
from digitlab.data import BITMAP_SOURCES, USPS_SOURCE
from digitlab.tf import keras, tf
from digitlab.zoo import NUM_CLASSES

layers = keras.layers

AUTOTUNE = tf.data.AUTOTUNE


@dataclass
class TrainingRun:
    """What one call to `fit_recipe` produced."""

    model: keras.Model
    history: dict
    seconds: float
    epochs: int
    batch_size: int
    train_images: int
    strategy: str
    precision: str


class StopWhenAsked(keras.callbacks.Callback):
    """Ends `fit` after the current batch, skipping the rest of its validation pass, once `ask()` was called.

    `ask()` may be called from any thread or a signal handler; the stop itself happens between
    batches, never inside a TensorFlow step. `requested` tells the caller not to save the run.
    """

    def __init__(self, asked=None):
        super().__init__()
        self._asked = asked or threading.Event()

    @property
    def requested(self):
        return self._asked.is_set()

    def ask(self):
        self._asked.set()

    def _stop_if_asked(self):
        if self.requested:
            self.model.stop_training = True
            self.model.stop_evaluating = True

    def on_train_batch_end(self, batch, logs=None):
        self._stop_if_asked()

    def on_test_batch_end(self, batch, logs=None):
        self._stop_if_asked()

    def on_epoch_end(self, epoch, logs=None):
        self._stop_if_asked()


class ReportProgress(StopWhenAsked):
    """Reports a fit through `report(event, value)`, and ends it after the current batch once asked.

    Events: `fit` [epochs, batches per epoch], `epoch` n, `step` n, `phase` "validating", and
    `epoch_end` with the epoch's metrics, which an epoch cut short by the stop does not send.
    """

    def __init__(self, report, asked):
        super().__init__(asked)
        self.report = report

    def on_train_begin(self, logs=None):
        self.report("fit", [self.params["epochs"], self.params.get("steps") or 0])

    def on_epoch_begin(self, epoch, logs=None):
        self.report("epoch", epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        self.report("step", batch + 1)
        super().on_train_batch_end(batch, logs)

    def on_test_begin(self, logs=None):
        self.report("phase", "validating")

    def on_epoch_end(self, epoch, logs=None):
        if not self.requested:
            self.report("epoch_end", {key: float(value) for key, value in (logs or {}).items()})
        super().on_epoch_end(epoch, logs)


class StopOnSignal(StopWhenAsked):
    """Ctrl-C or SIGTERM while fitting ends `fit` after the current batch instead of inside TensorFlow.

    An exception raised in the middle of a training step can leave TensorFlow's input threads
    running while Python shuts down, which may abort the process. Outside `fit` the signal
    interrupts at once, as usual.
    """

    def __init__(self):
        super().__init__()
        self.fitting = False

    def handle(self, signum, frame):
        if not self.fitting:
            raise KeyboardInterrupt
        self.ask()

    def on_train_begin(self, logs=None):
        self.fitting = True

    def on_train_end(self, logs=None):
        self.fitting = False


def scale_pixels(images):
    """uint8 (N, 28, 28) → float32 (N, 28, 28, 1) in [0, 1], the input every zoo model takes."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., np.newaxis]


def choose_strategy():
    """All GPUs of the machine when there are several, else TensorFlow's default strategy."""
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def has_native_bfloat16(cpu_flags=None):
    """True when the CPU multiplies bfloat16 matrices natively (Intel AMX), where bfloat16 trains faster than float32.

    `cpu_flags` is the text of /proc/cpuinfo, read when not given; elsewhere (no such file) the answer is no.
    """
    if cpu_flags is None:
        try:
            cpu_flags = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    return "amx_bf16" in cpu_flags.split()


def choose_precision(asked):
    """The precision a recipe trains in: "float32" or "bfloat16"; "auto" is bfloat16 on a CPU with AMX."""
    if asked == "auto":
        return "bfloat16" if has_native_bfloat16() else "float32"
    return asked


@contextlib.contextmanager
def dtype_policy(precision):
    """Keras layers built inside compute in `precision` ("bfloat16": mixed, with float32 weights)."""
    saved = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(saved)


class RandomAffine(layers.Layer):
    """Random rotation, zoom, shift and (if asked) slant about the centre, applied in one resampling.

    Keras's `RandomRotation`, `RandomZoom` and `RandomTranslation` in a row resample each image
    three times, and three bilinear interpolations blur a 28×28 digit noticeably: training
    images then look softer than MNIST's test digits and the app's drawings. One matrix for
    all three moves keeps strokes as sharp as one interpolation allows. `rotation` is a
    fraction of a full turn, `zoom` and `shift` fractions of the image, as in those layers;
    `shear` the most a column moves sideways per row, to slant the digit like another writer;
    `stretch` the most its width changes against its height (0.2: 0.8–1.2 times), as a scanned
    digit's does when its form or dataset normalised it to fill a box; `elastic` the most, in
    pixels, that each point of a 5×5 grid over the image moves on its own, the pixels between
    following smoothly, like another hand's wobble (Simard et al., 2003, "elastic distortions").
    """

    def __init__(self, rotation, zoom, shift, shear=0.0, stretch=0.0, elastic=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rotation, self.zoom, self.shift, self.shear, self.stretch = rotation, zoom, shift, shear, stretch
        self.elastic = elastic
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, count, limit):
        return keras.random.uniform((count,), -limit, limit, seed=self.seed_generator)

    def call(self, images, training=True):
        if not training:
            return images
        ops = keras.ops
        count, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        angle = self._uniform(count, self.rotation * 2 * math.pi)
        scale = 1.0 + self._uniform(count, self.zoom)
        shift_x, shift_y = self._uniform(count, self.shift) * width, self._uniform(count, self.shift) * height
        # The slant is drawn only when asked, so that recipes without it keep their random stream.
        shear = self._uniform(count, self.shear) if self.shear else ops.zeros_like(angle)
        narrowing = 1.0 + self._uniform(count, self.stretch) if self.stretch else ops.ones_like(angle)
        # Each output pixel (x, y) reads the input at
        # narrowing (of x only) · scale · rotation · shear · ((x, y) − centre) + centre − shift.
        cos, sin = ops.cos(angle) * scale, ops.sin(angle) * scale
        row_x, row_y = cos * shear - sin, sin * shear + cos
        cos, row_x = cos * narrowing, row_x * narrowing
        centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
        offset_x = centre_x - cos * centre_x - row_x * centre_y - shift_x
        offset_y = centre_y - sin * centre_x - row_y * centre_y - shift_y
        if self.elastic:
            return self._resample_wobbled(images, [cos, row_x, offset_x, sin, row_y, offset_y])
        zeros = ops.zeros_like(cos)
        transform = ops.stack([cos, row_x, offset_x, sin, row_y, offset_y, zeros, zeros], axis=1)
        return ops.image.affine_transform(images, transform, fill_mode="constant", fill_value=0)

    def _resample_wobbled(self, images, affine):
        """`images` read at the affine map's points plus a smooth random displacement, in one bilinear resampling."""
        ops = keras.ops
        count, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        cos, row_x, offset_x, sin, row_y, offset_y = (value[:, None, None] for value in affine)
        columns = ops.arange(width, dtype="float32")[None, None, :]
        rows = ops.arange(height, dtype="float32")[None, :, None]
        grid_moves = keras.random.uniform((count, 5, 5, 2), -self.elastic, self.elastic, seed=self.seed_generator)
        wobble = ops.image.resize(grid_moves, (height, width), interpolation="bicubic")
        source_x = cos * columns + row_x * rows + offset_x + wobble[..., 0]
        source_y = sin * columns + row_y * rows + offset_y + wobble[..., 1]
        return bilinear_read(images, source_x, source_y)

    def get_config(self):
        config = super().get_config()
        config.update(
            rotation=self.rotation,
            zoom=self.zoom,
            shift=self.shift,
            shear=self.shear,
            stretch=self.stretch,
            elastic=self.elastic,
            seed=self.seed,
        )
        return config


def bilinear_read(images, source_x, source_y):
    """Each (N, H, W, 1) image read at its own (N, H, W) grid of points by bilinear interpolation, black outside.

    `keras.ops.image.map_coordinates` does this for a batch of known size only, and tf.data's
    batches have none; so the four neighbours are gathered from the flattened batch here.
    """
    ops = keras.ops
    count, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    pixels = ops.reshape(images, (-1,))
    first_pixel = (ops.arange(count) * height * width)[:, None, None]
    left, top = ops.floor(source_x), ops.floor(source_y)

    def read(row, column):
        inside = (row >= 0) & (row <= height - 1) & (column >= 0) & (column <= width - 1)
        index = ops.cast(ops.clip(row, 0, height - 1) * width + ops.clip(column, 0, width - 1), "int32")
        return ops.where(inside, ops.take(pixels, first_pixel + index), 0.0)

    right_share, bottom_share = source_x - left, source_y - top
    upper = (1 - right_share) * read(top, left) + right_share * read(top, left + 1)
    lower = (1 - right_share) * read(top + 1, left) + right_share * read(top + 1, left + 1)
    return ((1 - bottom_share) * upper + bottom_share * lower)[..., None]


class RandomPenWidth(layers.Layer):
    """Strokes made up to `change` of a pixel thicker, or half that thinner, on each side, at random, like another pen.

    Each digit is blended with its 3×3 dilation (a pixel thicker all round) or erosion (a pixel
    thinner) by a random weight in [−change/2, change]: drawings reach the model with strokes from
    thin to bold, depending on the pen and on how large the drawing was. Thinning is held to half
    because a blend with the erosion fades a thin stroke rather than narrowing it.
    """

    def __init__(self, change, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.change, self.seed = change, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        ops = keras.ops
        weight = keras.random.uniform(
            (ops.shape(images)[0], 1, 1, 1), -self.change / 2, self.change, seed=self.seed_generator
        )
        thicker = ops.max_pool(images, pool_size=3, strides=1, padding="same")
        thinner = -ops.max_pool(-images, pool_size=3, strides=1, padding="same")
        return images + ops.relu(weight) * (thicker - images) + ops.relu(-weight) * (thinner - images)

    def get_config(self):
        config = super().get_config()
        config.update(change=self.change, seed=self.seed)
        return config


def augmentation(pen_width=0.0, shear=0.0, stretch=0.0, elastic=0.0):
    """Small random rotations (±11°), zooms (±10 %) and shifts (±8 %), filling with background (black).

    With `pen_width` > 0, the strokes are first made thicker or thinner by up to that share of a pixel;
    with `shear` > 0, the digit is also slanted by up to that much either way; with `stretch` > 0, made
    up to that share narrower or wider; with `elastic` > 0, wobbled by up to that many pixels.
    """
    moves = RandomAffine(
        rotation=0.03, zoom=0.1, shift=0.08, shear=shear, stretch=stretch, elastic=elastic, name="augmentation"
    )
    if not pen_width:
        return moves
    return keras.Sequential([RandomPenWidth(pen_width, name="pen_width"), moves], name="augmentation")


def recipe_augmentation(recipe):
    """The augmentation `recipe` trains with, or None for a recipe without one."""
    return augmentation(recipe.pen_width, recipe.shear, recipe.stretch, recipe.elastic) if recipe.augment else None


def recipe_loss(recipe):
    """The loss `recipe` trains with: cross-entropy, against labels smoothed by its `label_smoothing` share if any."""
    if recipe.label_smoothing or recipe.mix_up:
        return keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)
    return "sparse_categorical_crossentropy"


def mixing(alpha, seed=None):
    """Keras's `MixUp` for a batch of (images, one-hot labels[, weights]): each digit blended with another.

    The blend's share comes from Beta(alpha, alpha), so with a small `alpha` most digits stay
    nearly as they were and a few become a half-and-half of two, their labels mixed alike.
    """
    mix_up = layers.MixUp(alpha=alpha, seed=seed)

    def mix(images, labels, *weights):
        mixed = mix_up({"images": images, "labels": labels}, training=True)
        return (mixed["images"], mixed["labels"], *weights)

    return mix


def make_dataset(
    images, labels, batch_size, shuffle_seed=None, augmenter=None, one_hot=False, weights=None, mixer=None
):
    """A batched tf.data pipeline; shuffled when a seed is given, put through `augmenter` on the fly if given.

    With `one_hot`, labels come as one-hot rows (what a loss with label smoothing needs) instead of class numbers;
    with `weights` (one per image), each batch also carries them, and Keras weighs each digit's loss by its own;
    `mixer` (`mixing`'s, one-hot labels only) then blends each augmented batch's digits.
    """
    labels = labels.astype(np.int32)
    if one_hot:
        labels = np.eye(NUM_CLASSES, dtype=np.float32)[labels]
    columns = (scale_pixels(images), labels) if weights is None else (scale_pixels(images), labels, weights)
    dataset = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augmenter is not None:

        def augment(x, *labels_and_weights):
            return (augmenter(x, training=True), *labels_and_weights)

        dataset = dataset.map(augment, num_parallel_calls=AUTOTUNE)
    if mixer is not None:
        dataset = dataset.map(mixer, num_parallel_calls=AUTOTUNE)
    return dataset.prefetch(AUTOTUNE)


def recipe_dataset(recipe, images, labels, batch_size, shuffle_seed=None, augment=False, weights=None):
    """`make_dataset` as `recipe` trains: through its augmentation and mixing if `augment`, labels as its loss needs."""
    augmenter = recipe_augmentation(recipe) if augment else None
    mixer = mixing(recipe.mix_up) if augment and recipe.mix_up else None
    one_hot = bool(recipe.label_smoothing or recipe.mix_up)
    return make_dataset(
        images,
        labels,
        batch_size,
        shuffle_seed=shuffle_seed,
        augmenter=augmenter,
        one_hot=one_hot,
        weights=weights,
        mixer=mixer,
    )


def source_weight(recipe, source):
    """The loss weight of one training source's digits: USPS's `recipe.usps_weight`, the bitmaps' `bitmap_weight`."""
    if source.startswith(USPS_SOURCE):
        return recipe.usps_weight
    if source.startswith(BITMAP_SOURCES):
        return recipe.bitmap_weight
    return 1.0


def source_weights(recipe, sources):
    """One loss weight per training digit, by its source (`training_set`'s list), as `source_weight` gives.

    None when every digit counts once, so that such a recipe trains exactly as before weights existed.
    """
    if not sources or all(source_weight(recipe, part["source"]) == 1 for part in sources):
        return None
    weights = [np.full(part["digits"], source_weight(recipe, part["source"]), np.float32) for part in sources]
    return np.concatenate(weights)


def split_validation(recipe, train, test):
    """The training and monitoring sets: a recipe's own split, or the test set (monitoring only)."""
    (x_train, y_train), (x_test, y_test) = train, test
    if recipe.validation.startswith("split-"):
        cut = int(len(x_train) * (1 - float(recipe.validation.removeprefix("split-"))))
        return (x_train[:cut], y_train[:cut]), (x_train[cut:], y_train[cut:])
    return (x_train, y_train), (x_test, y_test)


def history_lists(history):
    """A Keras `History`'s metrics as plain lists of floats, ready for a JSON model card."""
    return {key: [float(value) for value in values] for key, values in history.history.items()}


def fit_recipe(recipe, train, test, epochs=None, batch_size=None, seed=0, callbacks=(), verbose=1, sources=None):
    """Build, compile and fit `recipe` from scratch; returns the model as saved, its history and the time.

    `sources` (`training_set`'s list of what `train` holds) lets the recipe weigh its sources' digits.
    """
    keras.utils.set_random_seed(seed)
    epochs = epochs or recipe.epochs
    batch_size = batch_size or recipe.batch_size
    (x_fit, y_fit), (x_val, y_val) = split_validation(recipe, train, test)
    steps_per_epoch = -(-len(x_fit) // batch_size)
    strategy, precision = choose_strategy(), choose_precision(recipe.precision)
    with strategy.scope(), dtype_policy(precision):
        model = recipe.build()
        model.compile(
            optimizer=recipe.make_optimizer(steps_per_epoch, epochs),
            loss=recipe_loss(recipe),
            metrics=["accuracy"],
        )
    weights = source_weights(recipe, sources)
    weights = None if weights is None else weights[: len(x_fit)]
    fit_data = recipe_dataset(recipe, x_fit, y_fit, batch_size, shuffle_seed=seed, augment=True, weights=weights)
    val_data = recipe_dataset(recipe, x_val, y_val, max(batch_size, 500))
    started = time.perf_counter()
    history = model.fit(
        fit_data, validation_data=val_data, epochs=epochs, shuffle=False, callbacks=list(callbacks), verbose=verbose
    )
    seconds = time.perf_counter() - started
    return TrainingRun(
        model=model_to_save(model),
        history=history_lists(history),
        seconds=seconds,
        epochs=epochs,
        batch_size=batch_size,
        train_images=len(x_fit),
        strategy=type(strategy).__name__,
        precision=precision,
    )
