"""The Keras code of the zoo: one builder per recipe, exactly as its tutorial wrote it, and the optimizers."""

from digitlab.tf import keras, tf
from digitlab.zoo import INPUT_SHAPE, NUM_CLASSES

layers = keras.layers


def _adam(recipe, *_):
    return keras.optimizers.Adam(learning_rate=recipe.learning_rate)


def _rmsprop(recipe, *_):
    return keras.optimizers.RMSprop(learning_rate=recipe.learning_rate)


def _nesterov_sgd(recipe, *_):
    return keras.optimizers.SGD(learning_rate=recipe.learning_rate, momentum=0.0, nesterov=True)


def _adadelta(recipe, *_):
    return keras.optimizers.Adadelta(learning_rate=recipe.learning_rate)


def _adamw_cosine(recipe, total_steps, steps_per_epoch):
    # One epoch of warm-up (half of a one-epoch run), then cosine decay to zero at the last step.
    warmup_steps = min(steps_per_epoch, total_steps // 2)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=recipe.learning_rate / 10,
        decay_steps=total_steps - warmup_steps,
        warmup_target=recipe.learning_rate,
        warmup_steps=warmup_steps,
    )
    # With `ema_momentum`, training ends on a moving average of the weights instead of their last values.
    return keras.optimizers.AdamW(
        learning_rate=schedule,
        weight_decay=recipe.weight_decay,
        use_ema=bool(recipe.ema_momentum),
        ema_momentum=recipe.ema_momentum or 0.99,
    )


OPTIMIZERS = {
    "adam": _adam,
    "rmsprop": _rmsprop,
    "sgd-nesterov": _nesterov_sgd,
    "adadelta": _adadelta,
    "adamw-cosine": _adamw_cosine,
}


def _flat_input():
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")
    return inputs, layers.Flatten()(inputs)


def _dense_stack(name, widths):
    inputs, x = _flat_input()
    for width in widths:
        x = layers.Dense(width, activation="relu")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def build_mlp_small():
    return _dense_stack("mlp-small", [32, 64])


def build_mlp_wide():
    return _dense_stack("mlp-wide", [512])


def build_mlp_deep():
    return _dense_stack("mlp-deep", [64, 64, 128, 64])


def build_cnn_sgd():
    return keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE, name="pixels"),
            layers.Conv2D(64, 3, padding="valid"),
            layers.MaxPooling2D(2),
            layers.ReLU(),
            layers.Dropout(0.25),
            layers.Conv2D(32, 3),
            layers.MaxPooling2D(2),
            layers.ReLU(),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(512, activation="relu"),
            layers.Dropout(0.25),
            layers.Dense(256, activation="relu"),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="cnn-sgd",
    )


def build_cnn_functional():
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=3)(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(250, activation="sigmoid")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="cnn-functional")


@keras.saving.register_keras_serializable(package="digitlab")
class Deskew(layers.Layer):
    """Straighten each digit's slant, the classic deskew by the ink's second moments.

    Each row moves sideways by `slant × (row − the ink's centre row)`, with `slant = cov(x, y) /
    var(y)`, so that a digit leaning right or left reaches the next layer upright; the shift is
    linearly interpolated and limited to `max_slant` columns per row.
    """

    def __init__(self, max_slant=1.0, **kwargs):
        super().__init__(**kwargs)
        self.max_slant = max_slant

    def call(self, images):
        ops = keras.ops
        ink = images[..., 0]
        height, width = ink.shape[1], ink.shape[2]
        rows = ops.cast(ops.arange(height), ink.dtype)[:, None]
        columns = ops.cast(ops.arange(width), ink.dtype)
        mass = ops.sum(ink, axis=(1, 2)) + keras.config.epsilon()
        centre_row = ops.sum(ink * rows, axis=(1, 2)) / mass
        centre_column = ops.sum(ink * columns, axis=(1, 2)) / mass
        row_offsets = rows[None] - centre_row[:, None, None]
        column_offsets = columns[None, None] - centre_column[:, None, None]
        covariance = ops.sum(ink * row_offsets * column_offsets, axis=(1, 2)) / mass
        variance = ops.sum(ink * row_offsets**2, axis=(1, 2)) / mass + keras.config.epsilon()
        slant = ops.clip(covariance / variance, -self.max_slant, self.max_slant)
        # Output column x of a row reads the input at x + slant × (row − centre row).
        sources = columns[None, None, :] + slant[:, None, None] * row_offsets
        weights = ops.relu(1.0 - ops.abs(sources[..., None] - columns))
        return ops.einsum("brxc,brc->brx", weights, ink)[..., None]

    def get_config(self):
        return {**super().get_config(), "max_slant": self.max_slant}


@keras.saving.register_keras_serializable(package="digitlab")
class FusedBatchNormalization(layers.BatchNormalization):
    """Keras's `BatchNormalization`, trained on images with TensorFlow's fused kernel.

    Keras 3 normalises a training batch op by op (`tf.nn.moments`, then `tf.nn.batch_normalization`),
    slowly on a CPU; `fused_batch_norm` computes the same in one kernel (`bench/step_cost.py --change
    fused-batch-norm` times the two). Inference and inputs other than (batch, height, width, channels) run
    Keras's own code, and `model_to_save` puts Keras's layer back before a model is saved.
    """

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or len(inputs.shape) != 4 or mask is not None:
            return super().call(inputs, training=training, mask=mask)
        outputs, mean, unbiased_variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, self.gamma, self.beta, epsilon=self.epsilon, is_training=True
        )
        # The kernel returns the batch's variance with Bessel's correction; Keras averages the plain one.
        count = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), unbiased_variance.dtype)
        variance = unbiased_variance * (count - 1) / count
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1 - self.momentum))
        return outputs


def _keras_float32_layer(layer):
    """A fresh copy of `layer` computing in float32, Keras's own `BatchNormalization` in place of a fused one."""
    kind = layers.BatchNormalization if isinstance(layer, FusedBatchNormalization) else type(layer)
    return kind.from_config({**layer.get_config(), "dtype": "float32"})


def model_to_save(model):
    """A copy of `model` with the same weights, as saved: Keras's `BatchNormalization`, float32 throughout.

    The fused layer and a mixed-precision policy are ways to train faster; the copy's file loads in
    any Keras without Digit Lab's classes and reads digits in float32, whatever precision trained it.
    """
    copy = keras.models.clone_model(model, clone_function=_keras_float32_layer)
    copy.set_weights(model.get_weights())
    return copy


def _conv_block(x, filters, kernel_size):
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False)(x)
    x = FusedBatchNormalization()(x)
    return layers.ReLU()(x)


def build_cnn(conv_at_7x7=0, filters_at_14x14=(64, 64), deskew=False, dropout=0.4):
    """The project's default: batch-normalised convolutions sized to train in minutes on a CPU.

    `filters_at_14x14` gives the filters of each convolution between the two poolings,
    `conv_at_7x7` those of one more convolution after the second pooling (levers; 0: none),
    `deskew` puts a `Deskew` layer before the first convolution, and `dropout` is the rate of the
    dropout before and after the dense layer.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")
    x = Deskew()(inputs) if deskew else inputs
    x = _conv_block(x, 32, 5)
    x = layers.MaxPooling2D(2)(x)
    for filters in filters_at_14x14:
        x = _conv_block(x, filters, 3)
    x = layers.MaxPooling2D(2)(x)
    if conv_at_7x7:
        x = _conv_block(x, conv_at_7x7, 3)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(dropout)(x)
    # The probabilities are computed in float32 even when the rest trains in bfloat16.
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn")


BUILDERS = {
    "mlp-small": build_mlp_small,
    "mlp-wide": build_mlp_wide,
    "cnn-sgd": build_cnn_sgd,
    "mlp-deep": build_mlp_deep,
    "cnn-functional": build_cnn_functional,
    "cnn": build_cnn,
}
