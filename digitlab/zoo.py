"""The model zoo: the five seed tutorials' models, exactly as written, and the project's own `cnn`."""

from dataclasses import dataclass, field

from digitlab.tf import keras

layers = keras.layers

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


@dataclass(frozen=True)
class Recipe:
    """How one zoo model is built and trained, and where it comes from."""

    name: str
    build: object
    optimizer: str
    learning_rate: float
    epochs: int
    batch_size: int
    seed_source: str
    seed_figure: str
    seed_accuracy: float | None
    validation: str = "test"
    augment: bool = False
    notes: list = field(default_factory=list)

    def make_optimizer(self, steps_per_epoch):
        """A fresh optimizer for this recipe; `steps_per_epoch` sizes learning-rate schedules."""
        return OPTIMIZERS[self.optimizer](self, steps_per_epoch)


def _adam(recipe, _):
    return keras.optimizers.Adam(learning_rate=recipe.learning_rate)


def _rmsprop(recipe, _):
    return keras.optimizers.RMSprop(learning_rate=recipe.learning_rate)


def _nesterov_sgd(recipe, _):
    return keras.optimizers.SGD(learning_rate=recipe.learning_rate, momentum=0.0, nesterov=True)


def _adadelta(recipe, _):
    return keras.optimizers.Adadelta(learning_rate=recipe.learning_rate)


def _adamw_cosine(recipe, steps_per_epoch):
    total_steps = recipe.epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=recipe.learning_rate / 10,
        decay_steps=total_steps - steps_per_epoch,
        warmup_target=recipe.learning_rate,
        warmup_steps=steps_per_epoch,
    )
    return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4)


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


def _conv_block(x, filters, kernel_size):
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build_cnn():
    """The project's default: batch-normalised convolutions sized to train in minutes on a CPU."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")
    x = _conv_block(inputs, 32, 5)
    x = layers.MaxPooling2D(2)(x)
    x = _conv_block(x, 64, 3)
    x = _conv_block(x, 64, 3)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(128, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="cnn")


RECIPES = {
    recipe.name: recipe
    for recipe in [
        Recipe(
            name="mlp-small",
            build=build_mlp_small,
            optimizer="adam",
            learning_rate=0.001,
            epochs=10,
            batch_size=100,
            seed_source="MLP tutorial: Dense 32 → 64 → 10, Adam, 10 epochs, batch 100",
            seed_figure="> 96 % test accuracy",
            seed_accuracy=0.96,
        ),
        Recipe(
            name="mlp-wide",
            build=build_mlp_wide,
            optimizer="rmsprop",
            learning_rate=0.001,
            epochs=5,
            batch_size=128,
            seed_source="MLP tutorial: Dense 512 → 10, RMSprop, 5 epochs, batch 128",
            seed_figure="97.99 % test accuracy",
            seed_accuracy=0.9799,
        ),
        Recipe(
            name="cnn-sgd",
            build=build_cnn_sgd,
            optimizer="sgd-nesterov",
            learning_rate=0.001,
            epochs=9,
            batch_size=32,
            seed_source="CNN tutorial: Conv 64 → Conv 32 → Dense 512 → 256 → 10, Nesterov SGD lr 0.001",
            seed_figure="94.16 % test accuracy",
            seed_accuracy=0.9416,
            notes=["The tutorial started at epoch 1 of 10, so it trained 9 epochs; so does this recipe."],
        ),
        Recipe(
            name="mlp-deep",
            build=build_mlp_deep,
            optimizer="adam",
            learning_rate=0.001,
            epochs=10,
            batch_size=32,
            seed_source="MLP tutorial: Dense 64 → 64 → 128 → 64 → 10 (71,626 parameters), Adam, batch 32",
            seed_figure="95.74 % validation accuracy (the tutorial forgot to scale pixels)",
            seed_accuracy=0.9574,
            validation="split-0.2",
            notes=["Pixels are scaled to [0, 1] here; the tutorial fed raw 0-255 values."],
        ),
        Recipe(
            name="cnn-functional",
            build=build_cnn_functional,
            optimizer="adadelta",
            learning_rate=1.0,
            epochs=12,
            batch_size=500,
            seed_source="Functional-API CNN tutorial: Conv 32 → Conv 64 → MaxPool 3 → Dense 250 sigmoid → 10",
            seed_figure="99.06 % test accuracy",
            seed_accuracy=0.9906,
            notes=[
                "The tutorial's compile line is cut off; this recipe uses Adadelta with learning "
                "rate 1.0, the Keras 2 default of its time."
            ],
        ),
        Recipe(
            name="cnn",
            build=build_cnn,
            optimizer="adamw-cosine",
            learning_rate=0.003,
            epochs=15,
            batch_size=128,
            seed_source="Digit Lab's own default model",
            seed_figure="goal ≥ 99.6 % test accuracy",
            seed_accuracy=None,
            augment=True,
            notes=[
                "AdamW (weight decay 1e-4), one epoch of linear warm-up then cosine decay.",
                "Augmented with Keras preprocessing layers in tf.data: small rotations, zooms and shifts.",
                "The test set is used only to report progress; nothing is selected on it.",
            ],
        ),
    ]
}

DEFAULT_ARCH = "cnn"
