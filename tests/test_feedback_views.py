"""The "Right?" ✓ / ✗ widget and the My handwriting page, through Streamlit's AppTest on real shipped models."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from digitlab import load_classifier
from digitlab.evaluation import confusion_matrix
from digitlab.feedback import FEEDBACK_DB_ENV, FeedbackStore
from digitlab.preprocess import to_mnist
from digitlab.store import MODEL_DIR_ENV
from digitlab.synthetic import render_on_canvas
from tests.conftest import copy_shipped_models

TIMEOUT = 120
MODELS = ("cnn", "mlp-small")
FILLED_SAMPLES = 30


def right_or_wrong_script():
    """A Draw-page reading of a drawing of a 1 (moved right by session_state["shift"] pixels) with the widget."""
    import numpy as np
    import streamlit as st
    from PIL import Image, ImageDraw

    from digitlab.inference import Prediction
    from digitlab.preprocess import to_mnist
    from digitlab.views.feedback import right_or_wrong

    picture = Image.new("RGBA", (280, 280), "white")
    shift = st.session_state.get("shift", 0)
    ImageDraw.Draw(picture).line([(140 + shift, 40), (140 + shift, 240)], fill="black", width=18)
    drawing = np.asarray(picture)
    probabilities = [0.01] * 10
    probabilities[1] = 0.91
    right_or_wrong(drawing, Prediction(1, 0.91, probabilities, to_mnist(drawing)), "cnn")


def handwriting_page():
    from digitlab.views import handwriting
    from digitlab.views.models import model_selector

    model_selector()
    handwriting.render()


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """Copies of two shipped models (real weights and cards) in a folder of their own."""
    return copy_shipped_models(tmp_path_factory.mktemp("models"), MODELS)


@pytest.fixture
def db_path(tmp_path, monkeypatch, model_folder):
    path = tmp_path / "feedback.sqlite3"
    monkeypatch.setenv(FEEDBACK_DB_ENV, str(path))
    monkeypatch.setenv(MODEL_DIR_ENV, str(model_folder))
    return path


@pytest.fixture
def filled_store(db_path, mnist):
    """MNIST test digits drawn onto canvases, saved by two people, labelled with their true digits."""
    _, (images, labels) = mnist
    store = FeedbackStore(db_path)
    rng = np.random.default_rng(7)
    drawings = [render_on_canvas(images[index], rng) for index in range(FILLED_SAMPLES)]
    for index, drawing in enumerate(drawings):
        store.save(
            user="Ann" if index % 3 else "Ben",
            drawing=drawing,
            model_input=to_mnist(drawing),
            true_label=int(labels[index]),
            predicted_label=int(labels[index]) if index % 5 else (int(labels[index]) + 1) % 10,
            model="cnn",
        )
    return store, drawings, labels[:FILLED_SAMPLES].astype(int)


def answer_buttons(at):
    return [button.label for button in at.button if button.key in ("feedback_right", "feedback_wrong_button")]


def name_and_run(at, name="Ann"):
    at.text_input[0].set_value(name).run()
    return at


def test_the_name_is_asked_once_then_kept_and_changeable(db_path):
    at = AppTest.from_function(right_or_wrong_script, default_timeout=TIMEOUT).run()
    assert not answer_buttons(at), "no Right / Wrong before a name is known"
    name_and_run(at, "   ")
    assert "Type your name" in at.warning[0].value and not answer_buttons(at)
    name_and_run(at, "  Ann  ")
    assert at.session_state["feedback_user"] == "Ann"
    assert not at.text_input and "Saving as **Ann**" in at.caption[0].value
    [change] = [button for button in at.button if button.label == "Change name"]
    change.click().run()
    assert at.text_input[0].value == "Ann"
    name_and_run(at, "Bea")
    assert "Saving as **Bea**" in at.caption[0].value


def test_right_saves_the_drawing_once_with_the_predicted_digit(db_path):
    at = name_and_run(AppTest.from_function(right_or_wrong_script, default_timeout=TIMEOUT).run())
    at.button(key="feedback_right").click().run()
    assert "Saved as a 1" in at.success[0].value and "Saved your 1" in at.toast[0].value
    at.run()  # The canvas reruns the script all the time: the same drawing is not saved again.
    at.run()
    [sample] = FeedbackStore(db_path).samples()
    assert (sample.user, sample.true_label, sample.predicted_label, sample.model) == ("Ann", 1, 1, "cnn")
    assert sample.model_input.shape == (28, 28) and sample.model_input.max() > 0.9
    assert "Saved as a 1" in at.success[0].value and not answer_buttons(at)

    at.session_state["shift"] = 30  # A new drawing gets the question again.
    at.run()
    assert answer_buttons(at) == ["Right", "Wrong"]


def test_wrong_asks_which_digit_it_was_then_saves_it(db_path):
    at = name_and_run(AppTest.from_function(right_or_wrong_script, default_timeout=TIMEOUT).run())
    assert not at.pills
    at.button(key="feedback_wrong_button").click().run()
    assert at.pills[0].label == "It was…" and FeedbackStore(db_path).samples() == []
    at.pills[0].set_value(7).run()
    at.run()
    [sample] = FeedbackStore(db_path).samples()
    assert (sample.true_label, sample.predicted_label) == (7, 1)
    assert "Saved as a 7" in at.success[0].value


def test_a_store_that_cannot_be_opened_is_an_error_line_not_a_traceback(db_path):
    db_path.mkdir()  # A folder where the database file should be.
    at = name_and_run(AppTest.from_function(right_or_wrong_script, default_timeout=TIMEOUT).run())
    at.button(key="feedback_right").click().run()
    assert not at.exception
    assert "Drawings cannot be saved or read" in at.error[0].value and str(db_path) in at.error[0].value
    assert answer_buttons(at) == ["Right", "Wrong"], "the drawing can still be saved later"


def test_an_empty_store_explains_how_to_fill_it(db_path):
    at = AppTest.from_function(handwriting_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "No drawings saved yet" in at.info[0].value and "Right?" in at.info[0].value
    assert not at.download_button


def test_a_filled_store_shows_counts_each_models_accuracy_and_a_download(filled_store, model_folder):
    store, drawings, labels = filled_store
    at = AppTest.from_function(handwriting_page, default_timeout=TIMEOUT).run()
    assert not at.exception

    per_user = at.dataframe[0].value
    assert per_user["drawings"].to_dict() == {"Ann": 20, "Ben": 10}
    accuracy = at.dataframe[1].value.set_index("model")
    for name in MODELS:
        predicted = [p.digit for p in load_classifier(model_folder / f"{name}.keras").predict_many(drawings)]
        right = int(np.sum(np.array(predicted) == labels))
        assert accuracy.loc[name, "right"] == right
        assert accuracy.loc[name, "on these drawings"] == pytest.approx(right / FILLED_SAMPLES)
    assert accuracy.loc["cnn", "right"] >= 27, "the default model reads clean MNIST digits drawn on a canvas"
    assert "Confusion matrix of cnn" in " ".join(markdown.value for markdown in at.markdown)

    assert at.download_button[0].label == "Download as .npz (MNIST layout)"

    at.selectbox(key="handwriting_user").set_value("Ben").run()
    assert at.dataframe[0].value["drawings"].to_dict() == {"Ben": 10}


def test_deleting_a_drawing_from_the_page(filled_store):
    store, _, _ = filled_store
    newest = store.samples()[-1]
    at = AppTest.from_function(handwriting_page, default_timeout=TIMEOUT).run()
    at.button(key=f"delete-{newest.id}").click().run()
    assert not at.exception
    assert f"Drawing #{newest.id} deleted" in at.success[0].value
    assert len(store.samples()) == FILLED_SAMPLES - 1 and newest.id not in {s.id for s in store.samples()}


def test_confusion_matrix_counts_true_against_predicted():
    matrix = confusion_matrix([1, 1, 7, 3], [1, 7, 7, 3])
    assert matrix.shape == (10, 10) and matrix.sum() == 4
    assert (matrix[1, 1], matrix[1, 7], matrix[7, 7], matrix[3, 3]) == (1, 1, 1, 1)
