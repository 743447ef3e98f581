"""Input conventions of a digit model brought from elsewhere: its input layout, its pixel scale and its outputs.

Digit Lab's own models take (28, 28, 1) pixels in [0, 1] with bright ink and give probabilities.
A model trained elsewhere may take the same digit flat (784), without the channel (28, 28) or
channel-first (1, 28, 28) as PyTorch exports it; its pixels may be in [0, 1], in [0, 255] or
standardised with MNIST's mean and standard deviation, with the ink bright or dark; and it may
give logits rather than probabilities. The layout is read from the model's input shape; the
pixel convention is the candidate under which the model reads a sample of MNIST's test digits
best; logits are told from probabilities by whether every row is a distribution. This module
needs only NumPy: the models themselves are run by the caller.
"""

from dataclasses import asdict, dataclass

import numpy as np

from digitlab.store import ModelError

LAYOUTS = {"28x28": (28, 28), "28x28x1": (28, 28, 1), "1x28x28": (1, 28, 28), "784": (784,)}
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
# Each pixel convention maps Digit Lab's bright-ink [0, 1] pixels x to `scale * x + offset`.
PIXELS = {
    "0-1": (1.0, 0.0),
    "0-1-dark": (-1.0, 1.0),
    "0-255": (255.0, 0.0),
    "0-255-dark": (-255.0, 255.0),
    "mnist-std": (1 / MNIST_STD, -MNIST_MEAN / MNIST_STD),
    "mnist-std-dark": (-1 / MNIST_STD, (1 - MNIST_MEAN) / MNIST_STD),
}
PIXEL_NAMES = {
    "0-1": "[0, 1], ink bright",
    "0-1-dark": "[0, 1], ink dark",
    "0-255": "[0, 255], ink bright",
    "0-255-dark": "[0, 255], ink dark",
    "mnist-std": "standardised (mean 0.1307, std 0.3081), ink bright",
    "mnist-std-dark": "standardised (mean 0.1307, std 0.3081), ink dark",
}
OUTPUTS = ("probabilities", "logits")
DETECTION_DIGITS = 500  # MNIST test digits read under each candidate pixel convention.
UNSURE_POINTS = 0.02  # The two best candidates closer than this leave the detection unsure.
MIN_ACCURACY = 0.5  # A model whose best candidate reads fewer of the digits is no MNIST digit classifier.
NUM_CLASSES = 10


@dataclass(frozen=True)
class InputConvention:
    """How a model wants its input and what it gives: a LAYOUTS key, a PIXELS key and an OUTPUTS entry."""

    layout: str = "28x28x1"
    pixels: str = "0-1"
    output: str = "probabilities"

    def describe(self):
        """'(1, 28, 28), standardised (…), ink bright; logits': one line for people."""
        return f"{LAYOUTS[self.layout]}, {PIXEL_NAMES[self.pixels]}; {self.output}"

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, fields):
        """The convention recorded in a card, checked to name known layouts, pixels and outputs."""
        convention = cls(**{key: fields[key] for key in ("layout", "pixels", "output")})
        if convention.layout not in LAYOUTS or convention.pixels not in PIXELS or convention.output not in OUTPUTS:
            raise ModelError(f"unknown input convention {fields}")
        return convention


DIGIT_LAB = InputConvention()


@dataclass(frozen=True)
class Detection:
    """The chosen convention, each candidate pixel convention's accuracy on the sample, and whether it is unsure."""

    convention: InputConvention
    scores: dict
    digits: int
    unsure: bool
    overridden: bool

    def to_dict(self):
        return {
            **self.convention.to_dict(),
            "scores": self.scores,
            "digits": self.digits,
            "unsure": self.unsure,
            "overridden": self.overridden,
        }

    def summary(self):
        """One line: the chosen convention, how well it read, and the runner-up when unsure."""
        best = self.scores[self.convention.pixels]
        how = "set by hand" if self.overridden else "detected"
        line = f"Input {self.convention.describe()} ({how}: reads {best:.1%} of {self.digits} MNIST test digits)"
        if self.unsure:
            runner_up = sorted(self.scores, key=self.scores.get, reverse=True)[1]
            line += f"; unsure: {PIXEL_NAMES[runner_up]} reads {self.scores[runner_up]:.1%}"
        return line


def shape_text(shape):
    """A shape as people read it, unknown sizes as None: '(None, 32, 32, 3)'."""
    return "(" + ", ".join("None" if size is None else str(size) for size in shape) + ")"


def fits(input_shape, layout):
    """Whether a model's input shape (batch first, sizes None when free) takes one digit in `layout`."""
    per_digit, wanted = tuple(input_shape[1:]), LAYOUTS[layout]
    return len(per_digit) == len(wanted) and all(size in (None, want) for size, want in zip(per_digit, wanted))


def layout_of(input_shape):
    """The first LAYOUTS key that a model's input shape fits, or None."""
    return next((name for name in LAYOUTS if fits(input_shape, name)), None)


def check_shapes(input_shape, output_shape, layout=None):
    """The layout for a model's shapes (`layout` when given); ModelError naming what was found when they do not fit."""
    found = layout_of(input_shape) if layout is None else layout if fits(input_shape, layout) else None
    if found is None:
        wanted = ", ".join(shape_text((None, *LAYOUTS[name])) for name in ([layout] if layout else LAYOUTS))
        raise ModelError(
            f"not an MNIST digit classifier: it takes {shape_text(input_shape)}, and a digit model takes one 28×28 "
            f"digit as {wanted}"
        )
    if tuple(output_shape[1:]) != (NUM_CLASSES,):
        raise ModelError(
            f"not an MNIST digit classifier: it gives {shape_text(output_shape)}, and a digit model gives "
            f"{NUM_CLASSES} scores, (None, {NUM_CLASSES})"
        )
    return found


def model_inputs(digits, convention):
    """Digit Lab's (N, 28, 28) bright-ink [0, 1] inputs as the model wants them."""
    scale, offset = PIXELS[convention.pixels]
    batch = np.asarray(digits, dtype=np.float32).reshape(-1, 28, 28)
    return (scale * batch + offset).astype(np.float32).reshape(-1, *LAYOUTS[convention.layout])


def softmax(logits):
    """Probabilities from logits, row by row, without overflow."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def as_probabilities(outputs, output):
    """A model's (N, 10) outputs as probabilities: softmax applied to logits."""
    outputs = np.asarray(outputs, dtype=np.float32)
    return softmax(outputs) if output == "logits" else outputs


def output_kind(outputs):
    """'probabilities' when every row is a distribution (non-negative, summing to 1), else 'logits'."""
    outputs = np.asarray(outputs, dtype=np.float64)
    is_distribution = np.all(outputs >= -1e-6) and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
    return "probabilities" if is_distribution else "logits"


def detect(run, layout, digits, labels, pixels=None):
    """The Detection for a model `run` (model inputs → (N, 10) outputs) that takes `layout`.

    Every pixel convention is tried on `digits` (bright-ink [0, 1]) and scored against `labels`;
    `pixels` overrides the choice. A model whose best candidate reads under MIN_ACCURACY of them
    is refused: ModelError.
    """
    outputs, scores = {}, {}
    for name in PIXELS:
        outputs[name] = np.asarray(run(model_inputs(digits, InputConvention(layout, name))))
        scores[name] = float(np.mean(outputs[name].argmax(axis=1) == labels))
    ranked = sorted(scores, key=scores.get, reverse=True)
    if scores[ranked[0]] < MIN_ACCURACY:
        raise ModelError(
            f"not an MNIST digit classifier: under its best input convention ({PIXEL_NAMES[ranked[0]]}) it reads "
            f"only {scores[ranked[0]]:.1%} of {len(labels)} MNIST test digits (at least {MIN_ACCURACY:.0%} needed)"
        )
    chosen = pixels or ranked[0]
    convention = InputConvention(layout, chosen, output_kind(outputs[chosen]))
    unsure = scores[ranked[0]] - scores[ranked[1]] < UNSURE_POINTS
    return Detection(convention, scores, len(labels), unsure, overridden=pixels is not None)
