"""The Number page: write several digits on a wide canvas and the selected model reads the whole number."""

import streamlit as st
from PIL import Image, ImageDraw, ImageFont

from digitlab.preprocess import to_bytes
from digitlab.views.canvas import clear_button, drawing_canvas, pen_width_slider
from digitlab.views.models import selected_classifier
from digitlab.views.prediction import LOW_CONFIDENCE, upscaled

CANVAS_WIDTH, CANVAS_HEIGHT = 800, 280
NUMBER_PROMPT = "Write a number: several digits side by side, with a little space between them"
TILES_PER_ROW = 6
TILE_SIZE = 112
BOX_COLOUR = (230, 60, 60)
PREVIEW_WIDTH = 420


def number_verdict(reading):
    """The number as a metric, how sure the model is of all of it, and a warning for each doubtful digit."""
    st.metric(label="Number", value=reading.text)
    st.caption(f"{reading.confidence:.1%} sure of the whole number (every digit's confidence multiplied)")
    for position, digit in enumerate(reading.digits, start=1):
        (_, top), (runner_up, second) = digit.ranked[:2]
        if top < LOW_CONFIDENCE:
            st.warning(f"Not sure of digit {position}: {digit.digit} or {runner_up}? ({top:.0%} against {second:.0%})")


def boxed_drawing(drawing, reading):
    """A copy of the drawing with a box and the digit read around each digit found."""
    picture = Image.fromarray(to_bytes(drawing)).convert("RGB")
    pen = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=28)
    for digit, (x0, y0, x1, y1) in zip(reading.digits, reading.boxes):
        pen.rectangle((x0 - 4, y0 - 4, x1 + 4, y1 + 4), outline=BOX_COLOUR, width=3)
        pen.text((x0, max(0, y0 - 34)), str(digit.digit), fill=BOX_COLOUR, font=font)
    st.image(picture, caption="Where the digits were found", width=PREVIEW_WIDTH)


def digit_tiles(reading):
    """Each digit as the model sees it (28×28, enlarged), with the digit read and the model's confidence."""
    digits = list(reading.digits)
    for row in range(0, len(digits), TILES_PER_ROW):
        for column, digit in zip(st.columns(TILES_PER_ROW), digits[row : row + TILES_PER_ROW]):
            column.image(upscaled(digit.model_input, TILE_SIZE), caption=f"{digit.digit} · {digit.confidence:.1%}")


def live_reading(classifier, drawing):
    """What the model reads in the drawing: the number, each digit as the model sees it, and where they are."""
    reading = classifier.read_number(drawing) if drawing is not None else None
    if reading is None or not reading.digits:
        st.info(NUMBER_PROMPT)
        return
    verdict_column, digits_column = st.columns([1, 3], gap="large")
    with verdict_column:
        number_verdict(reading)
    with digits_column:
        digit_tiles(reading)
    boxed_drawing(drawing, reading)


def render():
    """The Number page."""
    st.title("Read a whole number")
    st.caption(
        "Write several digits side by side; the model finds each digit, reads it and puts the number together "
        "each time you lift the pen. Digits that touch are harder to tell apart: leave a little space."
    )
    classifier = selected_classifier()
    drawing = drawing_canvas("number", pen_width_slider("number"), CANVAS_WIDTH, CANVAS_HEIGHT)
    clear_button("number")
    if classifier is not None:
        live_reading(classifier, drawing)
