"""Classifying pictures of digits: one code path for the app, the CLI and the Python API."""

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab.preprocess import to_mnist
from digitlab.segment import blobs
from digitlab.store import MODEL_DIR, ModelError, load_card, load_matching_card, load_model
from digitlab.zoo import DEFAULT_ARCH

BATCH_SIZE = 256


@dataclass(frozen=True)
class Prediction:
    """What the model read. `digit` is None (and the rest empty) when the picture holds no ink."""

    digit: int | None
    confidence: float | None
    probabilities: list | None
    model_input: np.ndarray | None

    @property
    def ranked(self):
        """(digit, probability) pairs, most likely first."""
        if self.probabilities is None:
            return []
        order = np.argsort(self.probabilities)[::-1]
        return [(int(d), float(self.probabilities[d])) for d in order]

    def to_dict(self):
        return {"digit": self.digit, "confidence": self.confidence, "probabilities": self.probabilities}


NO_DIGIT = Prediction(None, None, None, None)


@dataclass(frozen=True)
class NumberReading:
    """A handwritten number read digit by digit, left to right; empty ("", no digits) when there is no ink.

    `boxes` holds each digit's ink box (x0, y0, x1, y1) in the picture. `confidence` is the
    product of the digits' confidences, the model's chance that the whole number is right
    (None for an empty reading).
    """

    text: str
    digits: tuple[Prediction, ...]
    boxes: tuple[tuple[int, int, int, int], ...]
    confidence: float | None

    def to_dict(self):
        return {
            "number": self.text,
            "confidence": self.confidence,
            "digits": [{**digit.to_dict(), "box": list(box)} for digit, box in zip(self.digits, self.boxes)],
        }


class Reader(ABC):
    """Reading pictures with a model, given its `probabilities`: the part that needs no TensorFlow.

    Subclasses hold the model: `Classifier` in this process, `digitlab.model_server.RemoteClassifier`
    in the model server beside the app. Both have `name`, `card`, `path` and the same methods.
    """

    def __init__(self, card, path):
        self.card, self.path = card, Path(path)
        self.name = card.get("name", self.path.stem)

    @abstractmethod
    def probabilities(self, model_inputs):
        """Softmax scores (N, 10) for a stack of (28, 28) inputs."""

    @abstractmethod
    def saliency(self, model_input, target):
        """How strongly each pixel pushed the answer towards `target`: (28, 28) in [0, 1]; see digitlab.explain."""

    @abstractmethod
    def feature_maps(self, model_input):
        """The first convolutions' responses to one (28, 28) input, as FeatureMaps; see digitlab.explain."""

    def predict(self, image):
        """Read one picture: a PIL image or an (H, W), (H, W, 3) or (H, W, 4) array of any size."""
        return self.predict_many([image])[0]

    def predict_model_input(self, model_input):
        """Read an already normalised 28×28 input (as from `to_mnist`); None gives NO_DIGIT."""
        return self.predict_model_inputs([model_input])[0]

    def predict_many(self, images):
        """Read many pictures with one model call per batch."""
        return self.predict_model_inputs([to_mnist(image) for image in images])

    def predict_model_inputs(self, inputs):
        """Read many normalised 28×28 inputs (None where there was no ink) with one model call per batch."""
        found = [i for i, model_input in enumerate(inputs) if model_input is not None]
        scores = self.probabilities([inputs[i] for i in found])
        results = [NO_DIGIT] * len(inputs)
        for i, row in zip(found, scores):
            results[i] = _prediction(row, inputs[i])
        return results

    def read_number(self, image):
        """Read a picture of a handwritten number of any length: a NumberReading (see digitlab.segment).

        Ink wide enough to hold touching digits can be cut in several ways; every candidate digit
        is read in one batched call and the way whose digits the model is surest of wins (the
        highest product of confidences, weighed by how plausible each piece's shape is).
        """
        found = blobs(image)
        candidates = [piece for blob in found for piece in blob.pieces.values()]
        read = dict(zip(candidates, self.predict_model_inputs([to_mnist(piece.picture) for piece in candidates])))
        chosen = [piece for blob in found for piece in blob.best_chain(lambda piece: read[piece].confidence or 0.0)]
        digits = tuple(read[piece] for piece in chosen if read[piece].digit is not None)
        boxes = tuple(piece.box for piece in chosen if read[piece].digit is not None)
        return NumberReading(
            text="".join(str(digit.digit) for digit in digits),
            digits=digits,
            boxes=boxes,
            confidence=float(np.prod([digit.confidence for digit in digits])) if digits else None,
        )


class Classifier(Reader):
    """A loaded Keras model with its card, read in this process; safe to share between threads."""

    def __init__(self, model, card, path):
        from digitlab.tf import tf

        super().__init__(card, path)
        self.model = model
        self._lock = threading.Lock()
        self._explainer = None
        self._forward = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)],
        )
        # A single drawing, the app's case, takes a path compiled by XLA for exactly one input:
        # fused kernels make it about a third faster than the general graph (bench/latency.py).
        self._forward_one = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([1, 28, 28, 1], tf.float32)],
            jit_compile=True,
        )

    def probabilities(self, model_inputs):
        """Softmax scores (N, 10) for a stack of (28, 28) inputs."""
        batch = np.asarray(model_inputs, dtype=np.float32).reshape(-1, 28, 28, 1)
        if not len(batch):
            return np.zeros((0, 10), np.float32)
        with self._lock:
            if len(batch) == 1:
                return self._forward_one(batch).numpy()
            return np.concatenate(
                [self._forward(batch[i : i + BATCH_SIZE]).numpy() for i in range(0, len(batch), BATCH_SIZE)]
            )

    @property
    def explainer(self):
        """The model's Explainer (saliency and feature maps), built on first use."""
        from digitlab.explain import Explainer

        with self._lock:
            if self._explainer is None:
                self._explainer = Explainer(self.model)
            return self._explainer

    def saliency(self, model_input, target):
        return self.explainer.saliency(model_input, target)

    def feature_maps(self, model_input):
        return self.explainer.feature_maps(model_input)


def _prediction(scores, model_input):
    probabilities = (scores / scores.sum()).astype(float)
    digit = int(np.argmax(probabilities))
    return Prediction(digit, float(probabilities[digit]), probabilities.tolist(), model_input)


def default_model_path():
    return MODEL_DIR / f"{DEFAULT_ARCH}.keras"


def load_classifier(path=None):
    """Load a model (default: the shipped `model/cnn.keras`) and its card as a Reader that runs in this process.

    A zoo model is a Classifier; an imported one (a .h5 or .onnx file, or a card that records an
    input convention, see digitlab.importing) is read under its convention by digitlab.imported.
    """
    path = Path(path) if path else default_model_path()
    if path.suffix != ".keras" or _imported(path):
        from digitlab.imported import load_imported

        return load_imported(path)
    model = load_model(path)
    return Classifier(model, load_matching_card(path), path)


def _imported(path):
    """Whether a model's card records an input convention, as the cards of imported models do."""
    try:
        return "input_convention" in load_card(path)
    except ModelError:
        return False
