"""Showing one prediction: the digit and its confidence, the ten probabilities, and the model's input."""

import numpy as np
import streamlit as st
from PIL import Image

from digitlab.views.charts import probability_chart

LOW_CONFIDENCE = 0.6
PREVIEW_SIZE = 168
DRAW_PROMPT = "Draw a digit (0–9)"


def upscaled(picture, size=PREVIEW_SIZE):
    """A [0, 1] grey picture as a PIL image `size` pixels wide, enlarged without smoothing."""
    pixels = (np.clip(picture, 0.0, 1.0) * 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    height = max(1, round(size * image.height / image.width))
    return image.resize((size, height), Image.Resampling.NEAREST)


def verdict(prediction):
    """The predicted digit as a metric, its confidence, and a warning naming the runner-up when unsure."""
    st.metric(label="Prediction", value=prediction.digit)
    (_, top), (runner_up, second) = prediction.ranked[:2]
    if top < LOW_CONFIDENCE:
        st.warning(f"Not sure: {prediction.digit} or {runner_up}? ({top:.0%} against {second:.0%})")
    else:
        st.caption(f"{top:.1%} confident")


def probabilities(prediction):
    """The probability bar chart of all ten digits."""
    st.altair_chart(probability_chart(prediction.probabilities), width="stretch")


def model_view(model_input, caption="What the model sees: 28×28"):
    """The 28×28 picture the model reads, enlarged pixel for pixel."""
    st.image(upscaled(model_input), caption=caption)


def prediction_row(prediction, no_ink_message=DRAW_PROMPT):
    """Verdict, probabilities and the model's view side by side; `no_ink_message` when there is no ink."""
    if prediction.digit is None:
        st.info(no_ink_message)
        return
    verdict_column, chart_column, view_column = st.columns([1, 2, 1], vertical_alignment="center")
    with verdict_column:
        verdict(prediction)
    with chart_column:
        probabilities(prediction)
    with view_column:
        model_view(prediction.model_input)
