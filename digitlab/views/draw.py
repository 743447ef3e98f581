"""The Draw page: a canvas read live by the selected model, and a section for uploaded pictures."""

import streamlit as st
from PIL import Image

from digitlab.images import ImageReadError, open_image
from digitlab.inference import NO_DIGIT
from digitlab.preprocess import normalisation_steps, to_bytes
from digitlab.views.canvas import clear_button, drawing_canvas, pen_width_slider
from digitlab.views.class_join import join_section
from digitlab.views.compare import side_by_side
from digitlab.views.feedback import right_or_wrong
from digitlab.views.insight import how_it_sees
from digitlab.views.models import compared_classifier, selected_classifier
from digitlab.views.prediction import DRAW_PROMPT, model_view, prediction_row, probabilities, verdict

CANVAS_SIZE = 280
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]
MAX_IMAGE_MB = 5  # Per picture; the server's limit (.streamlit/config.toml) is the larger one for models.
THUMBNAIL_SIZE = 240
STEP_SIZE = 104
STEP_MAT = (96, 96, 96)  # The grey around a stage that is not square, so that its box shows.


def live_reading(classifier, drawing, compared=None):
    """What the model reads in the drawing: the verdict, the model's view and the probabilities.

    With a `compared` model, both readings are shown side by side (one more model call).
    Returns the normalisation steps and the prediction, or None when there is no digit to read.
    """
    steps = normalisation_steps(drawing) if drawing is not None else None
    prediction = classifier.predict_model_input(steps.centred) if steps is not None else NO_DIGIT
    if prediction.digit is None:
        st.info(DRAW_PROMPT)
        return None
    if compared is not None:
        side_by_side(classifier, prediction, compared, compared.predict_model_input(steps.centred))
        right_or_wrong(drawing, prediction, classifier.name)
        model_view(prediction.model_input)
        return steps, prediction
    verdict_column, view_column = st.columns(2)
    with verdict_column:
        verdict(prediction)
        right_or_wrong(drawing, prediction, classifier.name)
    with view_column:
        model_view(prediction.model_input)
    probabilities(prediction)
    return steps, prediction


def how_it_sees_section(classifier, drawing, steps, prediction):
    """The full-width explanation under the canvas: the normalisation steps, the saliency and the feature maps."""
    st.subheader("How it sees")
    normalisation_explained(drawing, steps)
    how_it_sees(classifier, prediction)


def normalisation_explained(drawing, steps):
    """The five stages from the drawing to the model's input, side by side, each with a one-line caption."""
    stages = [
        (drawing, "1. The drawing"),
        (steps.ink, "2. Ink inverted"),
        (steps.cropped, "3. Cropped to its box"),
        (steps.fitted, "4. Fitted into 20×20"),
        (steps.centred, "5. Centred by centre of mass in 28×28"),
    ]
    for column, (picture, caption) in zip(st.columns(len(stages), gap="xsmall"), stages):
        column.image(step_picture(picture), caption=caption)


def step_picture(picture, size=STEP_SIZE):
    """A stage scaled to fit a size×size square (pixels kept sharp when enlarged) on a grey mat."""
    image = Image.fromarray(to_bytes(picture)).convert("RGB")
    scale = size / max(image.size)
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.BOX
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), resample)
    mat = Image.new("RGB", (size, size), STEP_MAT)
    mat.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    return mat


def draw_section():
    """The canvas and its controls beside the live reading, how it sees below; returns the classifier.

    The canvas is sent to the browser before the model loads, so that a first visitor can start
    drawing while TensorFlow is still being imported.
    """
    canvas_column, reading_column = st.columns([1, 1], gap="large")
    with canvas_column:
        drawing = drawing_canvas("draw", pen_width_slider("draw"), CANVAS_SIZE, CANVAS_SIZE)
        clear_button("draw")
    with reading_column:
        classifier = selected_classifier()
        reading = live_reading(classifier, drawing, compared_classifier()) if classifier is not None else None
    if reading is not None:
        how_it_sees_section(classifier, drawing, *reading)
    return classifier


def read_upload(upload):
    """An uploaded file's pixels, or None and a line saying why the file cannot be read."""
    try:
        return open_image(upload), None
    except ImageReadError as error:
        return None, f"{upload.name}: {error}."


def thumbnail(pixels):
    """A small copy of an uploaded picture's pixels, for showing beside its reading."""
    small = Image.fromarray(to_bytes(pixels))
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    return small


def upload_section(classifier):
    """Pictures of digits uploaded from files, each read like a drawing."""
    st.subheader("Upload pictures")
    uploads = st.file_uploader(
        f"Photos or scans of single digits, up to {MAX_IMAGE_MB} MB each",
        type=UPLOAD_TYPES,
        accept_multiple_files=True,
        key="uploads",
        max_upload_size=MAX_IMAGE_MB,
    )
    if not uploads or classifier is None:
        return
    opened = [(upload, *read_upload(upload)) for upload in uploads]
    readable = [(upload, pixels) for upload, pixels, error in opened if error is None]
    for _, _, error in opened:
        if error is not None:
            st.error(error)
    predictions = classifier.predict_many([pixels for _, pixels in readable])
    for (upload, pixels), prediction in zip(readable, predictions):
        with st.container(border=True):
            picture_column, reading_column = st.columns([1, 4], vertical_alignment="center")
            picture_column.image(thumbnail(pixels), caption=upload.name, width=120)
            with reading_column:
                prediction_row(prediction, no_ink_message="No digit found in this picture.")


def render():
    """The Draw page."""
    st.title("Draw a digit")
    st.caption("Draw one digit with the mouse (or a finger); the model reads it each time you lift the pen.")
    join_section()
    classifier = draw_section()
    st.divider()
    upload_section(classifier)
