"""The Python API: load_classifier, predict and predict_many on drawings and dataset digits."""

import numpy as np
import pytest
from PIL import Image

from digitlab import load_classifier
from digitlab.inference import default_model_path
from digitlab.store import MODEL_DIR, ModelError
from digitlab.synthetic import render_on_canvas


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def test_the_default_is_the_shipped_cnn_found_from_any_working_directory(classifier, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_model_path() == MODEL_DIR / "cnn.keras"
    assert classifier.name == "cnn" and classifier.path == MODEL_DIR / "cnn.keras"


def test_prediction_fields(classifier, mnist):
    (_, _), (x_test, y_test) = mnist
    result = classifier.predict(255 - x_test[0])
    assert result.digit == int(y_test[0])
    assert len(result.probabilities) == 10 and sum(result.probabilities) == pytest.approx(1, abs=1e-5)
    assert result.confidence == max(result.probabilities)
    assert result.model_input.shape == (28, 28)
    assert result.ranked[0] == (result.digit, result.confidence)


def test_blank_canvas_gives_no_digit(classifier):
    result = classifier.predict(np.full((280, 280, 4), 255, np.uint8))
    assert result.digit is None and result.probabilities is None and result.model_input is None


def test_predict_many_equals_predict_one_by_one(classifier, mnist):
    (_, _), (x_test, _) = mnist
    rng = np.random.default_rng(1)
    images = [render_on_canvas(x_test[i], rng) for i in range(20)]
    images += [np.full((100, 100), 255, np.uint8), Image.fromarray(x_test[20]), x_test[21].astype(np.float32) / 255]
    together = classifier.predict_many(images)
    one_by_one = [classifier.predict(image) for image in images]
    assert [r.digit for r in together] == [r.digit for r in one_by_one]
    for a, b in zip(together, one_by_one):
        if a.digit is not None:
            np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-5)


def test_rendered_canvases_are_read_as_well_as_the_raw_digits(classifier, mnist):
    """2000 MNIST test digits drawn onto 280×280 canvases at random size, place and pen width."""
    (_, _), (x_test, y_test) = mnist
    digits, labels = x_test[:2000], y_test[:2000]
    raw_accuracy = np.mean(np.argmax(classifier.probabilities(digits / 255.0), axis=1) == labels)
    rng = np.random.default_rng(0)
    canvases = [render_on_canvas(digit, rng) for digit in digits]
    canvas_accuracy = np.mean([r.digit for r in classifier.predict_many(canvases)] == labels)
    assert canvas_accuracy >= raw_accuracy - 0.005, (canvas_accuracy, raw_accuracy)


def test_a_missing_model_raises_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="python train.py"):
        load_classifier(tmp_path / "none.keras")


def test_fifty_strokes_of_scribble_still_give_an_answer(classifier):
    from PIL import ImageDraw

    rng = np.random.default_rng(7)
    canvas = Image.new("RGBA", (280, 280), "white")
    pen = ImageDraw.Draw(canvas)
    for _ in range(50):
        pen.line([tuple(int(v) for v in rng.integers(0, 280, 2)) for _ in range(4)], fill="black", width=12)
    result = classifier.predict(np.asarray(canvas))
    assert result.digit in range(10) and result.model_input.shape == (28, 28)


def test_a_normalised_input_reads_the_same_as_its_picture(classifier, mnist):
    from digitlab.preprocess import to_mnist

    (_, _), (x_test, _) = mnist
    picture = render_on_canvas(x_test[5], np.random.default_rng(2))
    direct, from_input = classifier.predict(picture), classifier.predict_model_input(to_mnist(picture))
    assert direct.digit == from_input.digit
    np.testing.assert_allclose(direct.probabilities, from_input.probabilities, atol=1e-6)
    assert classifier.predict_model_input(None).digit is None
