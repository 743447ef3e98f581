"""Why a model read what it read: which pixels pushed the answer, and what its first convolutions see.

Saliency is integrated gradients (Sundararajan et al., 2017), computed with `tf.GradientTape`:
the gradient of the class's probability is averaged along the straight path from a blank
(all-black) input to the drawing, in one batched call, and multiplied by the pixels. It was
chosen over Grad-CAM and gradient×input because it works the same for every model in the zoo
(Grad-CAM needs a convolution, which the MLPs lack, and would be a coarse 14×14, 11×11 or
24×24 map depending on the CNN), it is sharp at the 28×28 pixels a student sees, and its
attributions add up to the rise in the class's probability from a blank input to the drawing
(gradient×input alone does not, once the softmax is saturated). A pixel left black gets no
credit: the map shows which strokes counted, not where missing ink would have mattered.
"""

import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from digitlab.preprocess import to_bytes

# Points on the path. With 32, the attributions add up to the probability rise within 0.03
# (median over MNIST test digits; the default cnn, whose output turns sharply along the path,
# is the least exact: 0.1 at the 90th percentile). More points are more exact and slower.
SALIENCY_STEPS = 32
FEATURE_LAYERS = 2  # How many of the first Conv2D layers show their feature maps.
# Heat colours from faint to strong: dark red, red, yellow, pale yellow.
HEAT_STOPS = np.array([0.0, 0.4, 0.8, 1.0])
HEAT_RGB = np.array([[0.45, 0.0, 0.0], [1.0, 0.1, 0.0], [1.0, 0.85, 0.0], [1.0, 1.0, 0.6]])
INK_SHADE = 0.45  # How bright the input's ink shows under the heat map.
GRID_GAP_SHADE = 0.35
GRID_PERCENTILE = 99


@dataclass(frozen=True)
class FeatureMaps:
    """One convolution layer's response to an input: `maps` is (height, width, filters), after its activation."""

    layer: str
    maps: np.ndarray


class Explainer:
    """Saliency and feature maps for one model, with their compiled TensorFlow functions; safe to share."""

    def __init__(self, model, steps=SALIENCY_STEPS):
        from digitlab.tf import keras, tf

        self.model = model
        self._lock = threading.Lock()
        alphas = (tf.range(steps, dtype=tf.float32) + 0.5) / steps  # Midpoints of `steps` equal segments.

        def integrated_gradients(image, target):
            path = alphas[:, None, None, None] * image[None, :, :, None]
            with tf.GradientTape() as tape:
                tape.watch(path)
                scores = model(path, training=False)[:, target]
            gradients = tape.gradient(scores, path)[..., 0]
            return image * tf.reduce_mean(gradients, axis=0)

        self._integrated_gradients = tf.function(
            integrated_gradients,
            input_signature=[tf.TensorSpec([28, 28], tf.float32), tf.TensorSpec([], tf.int32)],
        )
        convolutions = first_convolutions(model)
        self._layer_names = [layer.name for layer in convolutions]
        if convolutions:
            feature_model = keras.Model(model.inputs[0], [activated_output(model, layer) for layer in convolutions])
            self._features = tf.function(
                lambda x: feature_model(x, training=False),
                input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)],
            )

    def attributions(self, model_input, target):
        """Each pixel's share (28, 28) of the rise in `target`'s probability from a blank input to this one."""
        image = np.asarray(model_input, dtype=np.float32).reshape(28, 28)
        with self._lock:
            return self._integrated_gradients(image, np.int32(target)).numpy()

    def saliency(self, model_input, target):
        """How strongly each pixel pushed the answer towards `target`: (28, 28) in [0, 1], 1 for the strongest."""
        attributions = self.attributions(model_input, target)
        strongest = float(np.abs(attributions).max())
        if strongest == 0.0:
            return np.zeros((28, 28), np.float32)
        return np.clip(attributions / strongest, 0.0, 1.0)

    def feature_maps(self, model_input):
        """The first convolution layers' activations for one (28, 28) input; empty for a model without any."""
        if not self._layer_names:
            return []
        batch = np.asarray(model_input, dtype=np.float32).reshape(1, 28, 28, 1)
        with self._lock:
            outputs = self._features(batch)
        return [FeatureMaps(name, output.numpy()[0]) for name, output in zip(self._layer_names, outputs)]


def first_convolutions(model, count=FEATURE_LAYERS):
    """The model's first `count` Conv2D layers, in order (none for an MLP)."""
    from digitlab.tf import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][:count]


def activated_output(model, convolution):
    """A Conv2D layer's output after its non-linearity: its own, or the activation layer that follows it.

    Normalisation, pooling and dropout layers between the two are passed (max pooling and a
    rising activation commute, so this is the same response the network passes on).
    """
    from digitlab.tf import keras

    layers = keras.layers
    activations = (layers.ReLU, layers.Activation, layers.LeakyReLU, layers.ELU, layers.PReLU)
    between = (layers.BatchNormalization, layers.MaxPooling2D, layers.AveragePooling2D, layers.Dropout)
    if convolution.activation is not keras.activations.linear:
        return convolution.output
    for layer in model.layers[model.layers.index(convolution) + 1 :]:
        if isinstance(layer, activations):
            return layer.output
        if not isinstance(layer, between):
            break
    return convolution.output


def heat_colours(strength):
    """RGB floats for strengths in [0, 1], from dark red through red and yellow to pale yellow."""
    return np.stack([np.interp(strength, HEAT_STOPS, HEAT_RGB[:, channel]) for channel in range(3)], axis=-1)


def overlay(model_input, saliency, size=168):
    """The input's ink in grey with the saliency as a heat map over it: RGB uint8, size×size pixels."""
    ink = INK_SHADE * np.asarray(model_input, dtype=np.float32)[..., None]
    weight = saliency[..., None]
    blended = (1.0 - weight) * ink + weight * heat_colours(saliency)
    image = Image.fromarray(to_bytes(blended.astype(np.float32)))
    return np.asarray(image.resize((size, size), Image.Resampling.NEAREST))


def feature_grid(maps, rows=4):
    """A layer's (height, width, filters) maps tiled into one grey picture in [0, 1], in `rows` rows.

    Every map is scaled by the same level, the layer's 99th-percentile response (so that one
    hot pixel does not darken the rest): a dim map is a filter that found little.
    """
    height, width, filters = maps.shape
    columns = -(-filters // min(rows, filters))
    rows = -(-filters // columns)
    level = float(np.percentile(maps, GRID_PERCENTILE))
    scaled = np.clip(maps / level, 0.0, 1.0) if level > 0 else np.zeros_like(maps)
    grid = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), GRID_GAP_SHADE, np.float32)
    for index in range(filters):
        top, left = (index // columns) * (height + 1), (index % columns) * (width + 1)
        grid[top : top + height, left : left + width] = scaled[..., index]
    return grid
