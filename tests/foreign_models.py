"""Digit models as people bring them from elsewhere, built from the shipped mlp-small's weights (no training needed).

mlp-small is Flatten → Dense 32 → Dense 64 → Dense 10 (softmax) on (28, 28, 1) pixels in [0, 1]. Each
builder below gives the same network another input convention, so a correct detection reads MNIST as
well as mlp-small does (96.95 %).
"""

import numpy as np

from digitlab.conventions import MNIST_MEAN, MNIST_STD
from digitlab.store import MODEL_DIR

MLP_SMALL = MODEL_DIR / "mlp-small.keras"


def mlp_small_weights():
    """The three (kernel, bias) pairs of the shipped mlp-small."""
    from digitlab.tf import keras

    model = keras.models.load_model(MLP_SMALL, safe_mode=True, compile=False)
    weights = model.get_weights()
    return list(zip(weights[::2], weights[1::2]))


def dense_stack(keras, logits):
    """mlp-small's dense layers, the last one without softmax when `logits`."""
    layers = keras.layers
    return [
        layers.Dense(32, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation=None if logits else "softmax"),
    ]


def keras_mlp(path, input_shape, scale, offset, logits=False):
    """mlp-small taking `input_shape` pixels `scale * x + offset` (x in [0, 1], ink bright), saved to `path`."""
    from digitlab.tf import keras

    inputs = keras.Input(input_shape)
    x = keras.layers.Rescaling(1 / scale, -offset / scale)(inputs)
    x = keras.layers.Flatten()(x)
    stack = dense_stack(keras, logits)
    for layer in stack:
        x = layer(x)
    model = keras.Model(inputs, x)
    for layer, (kernel, bias) in zip(stack, mlp_small_weights()):
        layer.set_weights([kernel, bias])
    model.save(path)
    return path


def flat_bytes_keras(path):
    """A Keras model that takes flat 784 pixels in [0, 255]."""
    return keras_mlp(path, (784,), 255.0, 0.0)


def logits_keras(path):
    """A Keras model that takes (28, 28) pixels in [0, 1] and gives logits."""
    return keras_mlp(path, (28, 28), 1.0, 0.0, logits=True)


def pytorch_style_onnx(path):
    """An ONNX model as PyTorch exports one: (N, 1, 28, 28) standardised with MNIST's mean and std, logits out."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    (k1, b1), (k2, b2), (k3, b3) = mlp_small_weights()
    constants = {
        "std": np.array(MNIST_STD, np.float32),
        "mean": np.array(MNIST_MEAN, np.float32),
        "flat": np.array([-1, 784], np.int64),
        "k1": k1,
        "b1": b1,
        "k2": k2,
        "b2": b2,
        "k3": k3,
        "b3": b3,
    }
    nodes = [
        helper.make_node("Mul", ["input", "std"], ["scaled"]),
        helper.make_node("Add", ["scaled", "mean"], ["pixels"]),
        helper.make_node("Reshape", ["pixels", "flat"], ["flat_pixels"]),
        helper.make_node("Gemm", ["flat_pixels", "k1", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["a1"]),
        helper.make_node("Gemm", ["a1", "k2", "b2"], ["h2"]),
        helper.make_node("Relu", ["h2"], ["a2"]),
        helper.make_node("Gemm", ["a2", "k3", "b3"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mnist_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def cifar_keras(path):
    """A CIFAR-100-shaped Keras model: 32×32×3 in, 100 out."""
    from digitlab.tf import keras

    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(100)])
    model.save(path)
    return path


def lambda_keras(path):
    """A digit-shaped Keras model holding a Lambda layer (Python code), saved as .keras or .h5 by `path`'s suffix."""
    from digitlab.tf import keras

    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.save(path)
    return path


def truncated(source, path):
    """The first half of a model file: a download cut short."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path
