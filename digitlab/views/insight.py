"""How the model sees a drawing: the pixels that pushed its answer, and its first convolutions' feature maps."""

import streamlit as st

from digitlab.explain import feature_grid, overlay
from digitlab.views.prediction import LOW_CONFIDENCE, PREVIEW_SIZE, upscaled

FEATURE_GRID_WIDTH = 480
# An ONNX model runs in onnxruntime, which computes no gradients and shows no inner layers.
NOT_EXPLAINED = (
    "This ONNX model is run by onnxruntime, which gives no saliency or feature maps: "
    "how it sees is shown for Keras models."
)
LAYER_CAPTIONS = [
    "First convolution: {filters} filters, each lights up where it finds its own small pattern",
    "Second convolution: {filters} filters, each combining the first layer's patterns into bigger ones",
]


def how_it_sees(classifier, prediction):
    """The saliency of the reading on the left, the feature maps on the right."""
    saliency_column, maps_column = st.columns([1, 2], gap="medium")
    with saliency_column:
        saliency_view(classifier, prediction)
    with maps_column:
        feature_maps_view(classifier, prediction.model_input)


def saliency_view(classifier, prediction):
    """The model's input with the pixels that pushed the answer painted hot; the runner-up's too when unsure."""
    (digit, confidence), (runner_up, _) = prediction.ranked[:2]
    for target in [digit, runner_up] if confidence < LOW_CONFIDENCE else [digit]:
        saliency = classifier.saliency(prediction.model_input, target)
        if saliency is None:
            st.caption(NOT_EXPLAINED)
            return
        st.image(
            overlay(prediction.model_input, saliency, PREVIEW_SIZE),
            caption=f"Red pixels pushed the answer towards {target}; yellow pushed hardest",
        )


def feature_maps_view(classifier, model_input):
    """What each filter of the first convolutions found in the drawing, as grids of small maps."""
    layers = classifier.feature_maps(model_input)
    if layers is None:
        return
    if not layers:
        st.caption("This model has no convolutions: it weighs all 784 pixels at once, so it has no feature maps.")
        return
    for layer, caption in zip(layers, LAYER_CAPTIONS):
        st.image(
            upscaled(feature_grid(layer.maps), FEATURE_GRID_WIDTH),
            caption=caption.format(filters=layer.maps.shape[-1]),
        )
