"""Digit models brought from elsewhere: Keras 3 (.keras), legacy Keras (.h5) and ONNX (.onnx) files, opened safely.

Loading never runs code from the file: Keras files load with `safe_mode=True` (a Lambda layer,
which is Python code, is refused; Keras ≥ 3.11.3 applies this to .h5 files too, CVE-2025-9905),
and ONNX files run through onnxruntime, which runs only the standard operators of the graph.
Runs in the model server and the command line, never in the app's process.
"""

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab.conventions import InputConvention, as_probabilities, check_shapes, model_inputs, shape_text
from digitlab.inference import Classifier, Reader
from digitlab.store import ModelError, load_matching_card

FORMATS = {".keras": "Keras 3", ".h5": "legacy Keras (HDF5)", ".onnx": "ONNX"}
MAX_MODEL_MB = 50  # A million parameters with Adam's state is about 12 MB; the largest zoo model is 4 MB.

log = logging.getLogger(__name__)


@dataclass
class OpenedModel:
    """A model file opened for reading: its format, shapes (batch first, None when free), size and `run`."""

    path: Path
    format: str
    input_shape: tuple
    output_shape: tuple
    parameters: int
    layers: list
    run: object
    keras_model: object = None


def check_file(path):
    """Refuse a file that is missing, of an unknown kind or over MAX_MODEL_MB, in one line naming what was found."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ModelError(f"{path.name}: a {path.suffix or 'suffix-less'} file; a model is {', '.join(FORMATS)}")
    if not path.is_file():
        raise ModelError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_MODEL_MB * 2**20:
        raise ModelError(f"{path.name}: {size / 2**20:.0f} MB, over the {MAX_MODEL_MB} MB limit for a digit model")
    return path


def open_model(path):
    """An OpenedModel for a .keras, .h5 or .onnx file; ModelError with a one-line reason when it cannot be used."""
    path = check_file(path)
    opener = open_onnx if path.suffix.lower() == ".onnx" else open_keras
    return opener(path)


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:160]


def open_keras(path):
    """A Keras 3 or legacy HDF5 file loaded with safe_mode=True, refused when it holds code or is damaged."""
    from digitlab.tf import keras

    kind = FORMATS[path.suffix.lower()]
    if path.suffix.lower() == ".keras" and not zipfile.is_zipfile(path):
        raise ModelError(f"{path.name}: truncated or corrupt: not a complete {kind} archive")
    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as error:
        log.debug("loading %s failed", path, exc_info=True)
        if "Lambda" in str(error):
            raise ModelError(
                f"{path.name}: refused: it holds a Lambda layer (Python code), and Digit Lab never runs code from a "
                "model file"
            ) from None
        raise ModelError(
            f"{path.name}: not a loadable {kind} model, truncated or corrupt ({_first_line(error)})"
        ) from None
    if isinstance(model.input_shape, list) or isinstance(model.output_shape, list):
        raise ModelError(f"{path.name}: a model with several inputs or outputs; a digit model has one of each")

    def run(batch):
        return model.predict_on_batch(batch)

    layers = [
        {"name": layer.name, "type": type(layer).__name__, "parameters": layer.count_params()} for layer in model.layers
    ]
    return OpenedModel(
        path, kind, tuple(model.input_shape), tuple(model.output_shape), model.count_params(), layers, run, model
    )


def open_onnx(path):
    """An ONNX file run by onnxruntime; its parameters and operators are read by the onnx package."""
    import onnx
    import onnxruntime

    try:
        graph = onnx.load(path, load_external_data=False).graph
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:
        log.debug("loading %s failed", path, exc_info=True)
        raise ModelError(
            f"{path.name}: not a loadable ONNX model, truncated or corrupt ({_first_line(error)})"
        ) from None
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1:
        raise ModelError(f"{path.name}: takes {len(inputs)} inputs; a digit model takes one")
    if inputs[0].type != "tensor(float)":
        raise ModelError(f"{path.name}: takes {inputs[0].type}; a digit model takes tensor(float)")
    sizes = {init.name: int(np.prod(init.dims)) for init in graph.initializer}
    layers = [
        {
            "name": node.name or node.op_type,
            "type": node.op_type,
            "parameters": sum(sizes.get(i, 0) for i in node.input),
        }
        for node in graph.node
    ]

    def run(batch):
        return session.run([outputs[0].name], {inputs[0].name: batch})[0]

    return OpenedModel(
        path, FORMATS[".onnx"], _shape(inputs[0].shape), _shape(outputs[0].shape), sum(sizes.values()), layers, run
    )


def _shape(dims):
    """An ONNX shape with its named or unknown sizes as None."""
    return tuple(size if isinstance(size, int) and size > 0 else None for size in dims)


def checked(opened, layout=None):
    """The layout of an opened model's input; ModelError when its shapes are no digit classifier's."""
    try:
        return check_shapes(opened.input_shape, opened.output_shape, layout)
    except ModelError as error:
        raise ModelError(f"{opened.path.name}: {error}") from None


class OnnxClassifier(Reader):
    """An ONNX digit model read through onnxruntime under its input convention; it has no saliency or feature maps."""

    def __init__(self, opened, convention, card, path):
        super().__init__(card, path)
        self.opened, self.convention = opened, convention

    def probabilities(self, model_inputs_):
        batch = np.asarray(model_inputs_, dtype=np.float32).reshape(-1, 28, 28)
        if not len(batch):
            return np.zeros((0, 10), np.float32)
        outputs = [
            self.opened.run(model_inputs(batch[i : i + 256], self.convention)) for i in range(0, len(batch), 256)
        ]
        return as_probabilities(np.concatenate(outputs), self.convention.output)

    def saliency(self, model_input, target):
        return None

    def feature_maps(self, model_input):
        return None


def as_digit_lab_model(opened, convention):
    """A Keras model wrapping `opened` that takes Digit Lab's (28, 28, 1) [0, 1] pixels and gives probabilities.

    The conversion is made of Keras's own layers (Rescaling, Reshape, Softmax), so that the app's
    Classifier and its saliency and feature maps work on it unchanged.
    """
    from digitlab.conventions import LAYOUTS, PIXELS
    from digitlab.tf import keras

    scale, offset = PIXELS[convention.pixels]
    layers = [
        keras.Input((28, 28, 1)),
        keras.layers.Rescaling(scale, offset),
        keras.layers.Reshape(LAYOUTS[convention.layout]),
        opened.keras_model,
    ]
    if convention.output == "logits":
        layers.append(keras.layers.Softmax())
    return keras.Sequential(layers, name=opened.path.stem)


def reader_for(opened, convention, card, path):
    """A Reader of an opened model under `convention`: a Classifier for Keras, an OnnxClassifier for ONNX."""
    if opened.keras_model is None:
        return OnnxClassifier(opened, convention, card, path)
    return Classifier(as_digit_lab_model(opened, convention), card, path)


def load_imported(path):
    """The Reader of an imported model file, under the input convention its card records."""
    opened = open_model(path)
    card = load_matching_card(path)
    if "input_convention" not in card:
        raise ModelError(f"{card.get('name', opened.path.stem)}: its card records no input convention; import it again")
    convention = InputConvention.from_dict(card["input_convention"])
    checked(opened, convention.layout)
    return reader_for(opened, convention, card, path)


def describe_shapes(opened):
    """'takes (None, 1, 28, 28), gives (None, 10)'."""
    return f"takes {shape_text(opened.input_shape)}, gives {shape_text(opened.output_shape)}"
