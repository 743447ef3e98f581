"""The model zoo: the five seed tutorials' recipes, exactly as written, and the project's own `cnn`.

A recipe says how a model is built and trained and where it comes from; the Keras code that
builds it lives in `digitlab.architectures`, which is imported only when a model is built, so
that reading the zoo (the app's menus, the CLI's choices) does not wait for TensorFlow.
"""

from dataclasses import dataclass, field

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


@dataclass(frozen=True)
class Recipe:
    """How one zoo model is built and trained, and where it comes from."""

    name: str
    optimizer: str
    learning_rate: float
    epochs: int
    batch_size: int
    seed_source: str
    seed_figure: str
    seed_accuracy: float | None
    validation: str = "test"
    augment: bool = False
    pen_width: float = 0.0
    shear: float = 0.0
    stretch: float = 0.0
    elastic: float = 0.0
    mix_up: float = 0.0
    label_smoothing: float = 0.0
    ema_momentum: float = 0.0
    weight_decay: float = 0.0
    usps_train: bool = False
    usps_weight: float = 1.0
    bitmap_weight: float = 1.0
    writers_train: bool = False
    conv_at_7x7: int = 0
    filters_at_14x14: tuple = ()
    deskew: bool = False
    dropout: float | None = None  # cnn only; None: the builder's own.
    precision: str = "float32"  # "float32", "bfloat16" (mixed, float32 weights), or "auto" (bfloat16 on AMX).
    notes: list = field(default_factory=list)

    def build(self):
        """A fresh, untrained Keras model for this recipe."""
        from digitlab import architectures

        options = {}
        if self.conv_at_7x7:
            options["conv_at_7x7"] = self.conv_at_7x7
        if self.filters_at_14x14:
            options["filters_at_14x14"] = self.filters_at_14x14
        if self.deskew:
            options["deskew"] = True
        if self.dropout is not None:
            options["dropout"] = self.dropout
        return architectures.BUILDERS[self.name](**options)

    def make_optimizer(self, steps_per_epoch, epochs=None):
        """A fresh optimizer for this recipe; learning-rate schedules span `epochs` (default: the recipe's)."""
        from digitlab import architectures

        total_steps = steps_per_epoch * (epochs or self.epochs)
        return architectures.OPTIMIZERS[self.optimizer](self, total_steps, steps_per_epoch)


RECIPES = {
    recipe.name: recipe
    for recipe in [
        Recipe(
            name="mlp-small",
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
            optimizer="adamw-cosine",
            learning_rate=0.003,
            epochs=16,
            batch_size=128,
            seed_source="Digit Lab's own default model",
            seed_figure="goal ≥ 99.6 % test accuracy",
            seed_accuracy=None,
            augment=True,
            usps_train=True,
            writers_train=True,
            conv_at_7x7=64,
            filters_at_14x14=(64, 64),
            dropout=0.2,
            label_smoothing=0.1,
            precision="auto",
            weight_decay=1e-4,
            notes=[
                "AdamW (weight decay 1e-4), one epoch of linear warm-up then cosine decay.",
                "Cross-entropy against labels smoothed by 0.1, chosen on UJI's writers W21–W40 (+0.30 and +0.05 "
                "points over two seeds) and USPS validation digits (+0.1 and +0.2).",
                "One more batch-normalised 3×3 convolution of 64 filters after the second pooling, chosen on UJI's "
                "writers W21–W40 (+0.35 and +0.40 points over two seeds).",
                "Dropout of 0.2 before and after the dense layer (0.4 before), chosen on held-out scans by other "
                "writers (optdigits' .windep and Semeion: 28 fewer misses of 13,560 over four seeds) with the USPS "
                "and drawn validation digits within their margins.",
                "16 epochs in bfloat16 with float32 weights (Keras's mixed precision) on a CPU with AMX, float32 "
                "elsewhere; saved in float32. Chosen on full-length runs over four seeds: MNIST's last 5,000 "
                "training digits 60 misses against 66 for 12 epochs in float32, the other validation digits within "
                "their margins, in 0.68 of the time.",
                "Augmented in tf.data: a small random rotation, zoom and shift of each digit, in one resampling.",
                "Trains on MNIST's 60,000 training digits and USPS's 7,291 (other writers, brought to MNIST form "
                "by the same normalisation as drawings); USPS's test file is never trained on.",
                "Also trains on other writers' digits: UJI pen strokes of writers W01–W40, each drawn 8 times onto a "
                "canvas at a random pen width, size and place, optdigits and Semeion (bitmaps brought to MNIST form); "
                "UJI's W41–W60 are never trained on and only measure drawn digits.",
                "The test set is used only to report progress; nothing is selected on it.",
            ],
        ),
    ]
}

DEFAULT_ARCH = "cnn"
