"""The app's pages through Streamlit's AppTest (no browser), and the views' helpers on their own."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digitlab.architectures import build_mlp_small
from digitlab.evaluation import per_class_scores
from digitlab.store import save_model_and_card
from digitlab.views import charts
from digitlab.views.draw import read_upload, thumbnail
from digitlab.views.prediction import upscaled
from tests.conftest import ROOT

TIMEOUT = 120
APP = ROOT / "app.py"


def untrained_card(name, model):
    """A card with every field the pages read, for a model that was never trained."""
    confusion = np.diag([100] * 10) + 1
    return {
        "name": name,
        "seed_source": "a test",
        "seed_figure": "> 96 % test accuracy",
        "seed_accuracy": 0.96,
        "parameters": model.count_params(),
        "layers": [{"name": "dense", "type": "Dense", "output_shape": "(None, 10)", "parameters": 10}],
        "recipe": {"optimizer": "adam", "learning_rate": 0.001, "epochs": 2, "batch_size": 100, "notes": ["A note."]},
        "history": {"loss": [1.0, 0.5], "accuracy": [0.8, 0.9], "val_loss": [0.9, 0.6], "val_accuracy": [0.8, 0.85]},
        "test_loss": 0.5,
        "test_accuracy": 0.917,
        "per_class": per_class_scores(confusion),
        "confusion_matrix": confusion.tolist(),
        "training_seconds": 1.0,
        "date": "2026-01-01T00:00:00+00:00",
    }


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """Two small untrained models, one called cnn, and a broken one whose card looks fine."""
    folder = tmp_path_factory.mktemp("models")
    for name in ("cnn", "mlp-small"):
        model = build_mlp_small()
        card = untrained_card(name, model)
        if name == "cnn":
            card["training_data"] = [
                {"source": "MNIST train", "digits": 60000, "sha256": "0" * 64},
                {"source": "USPS train", "digits": 7291, "sha256": "1" * 64},
            ]
        save_model_and_card(model, card, folder)
    (folder / "broken.keras").write_bytes(b"not a Keras file")
    card = json.loads((folder / "cnn.json").read_text())
    (folder / "broken.json").write_text(json.dumps({**card, "name": "broken"}))
    return folder


@pytest.fixture
def app_env(monkeypatch, model_folder, mnist_file):
    monkeypatch.setenv("DIGITLAB_MODEL_DIR", str(model_folder))
    monkeypatch.setenv("MNIST_NPZ", str(mnist_file))
    return model_folder


def dataset_page():
    from digitlab.views import dataset
    from digitlab.views.models import model_selector

    model_selector()
    dataset.render()


def model_page():
    from digitlab.views import model_page
    from digitlab.views.models import model_selector

    model_selector()
    model_page.render()


def verdict_of(probabilities):
    import numpy as np

    from digitlab.inference import Prediction
    from digitlab.views.prediction import verdict

    verdict(Prediction(int(np.argmax(probabilities)), max(probabilities), probabilities, None))


def test_draw_page_starts_with_a_prompt_and_the_default_model(app_env):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [info.value for info in at.info] == ["Draw a digit (0–9)"]
    assert not at.metric
    assert at.sidebar.selectbox[0].value == str(app_env / "cnn.keras")
    assert at.sidebar.selectbox[0].options == ["broken · 91.70%", "cnn · 91.70%", "mlp-small · 91.70%"]


def test_a_model_that_cannot_load_is_explained_and_the_page_still_works(app_env):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.sidebar.selectbox[0].set_value(str(app_env / "broken.keras")).run()
    assert not at.exception
    errors = " ".join(error.value for error in at.error)
    assert "broken" in errors and "python train.py" in errors
    assert any("python -m digitlab import FILE --name broken" in info.value for info in at.info), "not a zoo model"
    assert at.button(key="draw_clear").label == "Clear" and at.slider[0].label == "Pen width"


def test_an_empty_model_folder_says_how_to_train(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITLAB_MODEL_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "python train.py" in at.sidebar.warning[0].value
    assert "python train.py" in at.error[0].value


@pytest.mark.parametrize(
    ("probabilities", "warning"),
    [
        ([0.0, 0.0, 0.0, 0.0, 0.45, 0.0, 0.0, 0.0, 0.0, 0.55], "Not sure: 9 or 4?"),
        ([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.98, 0.02, 0.0], None),
    ],
)
def test_low_confidence_names_the_runner_up(probabilities, warning):
    at = AppTest.from_function(verdict_of, args=(probabilities,), default_timeout=TIMEOUT).run()
    assert at.metric[0].label == "Prediction"
    assert at.metric[0].value == str(int(np.argmax(probabilities)))
    assert [w.value.split(" (")[0] for w in at.warning] == ([warning] if warning else [])


def test_dataset_page_filters_by_digit_and_misclassified(app_env):
    at = AppTest.from_function(dataset_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.selectbox(key="digit_filter").set_value(3).run()
    labels = {text.split()[1] for text in (c.value for c in at.caption) if text.startswith("Label")}
    assert labels == {"3"}
    at.toggle(key="only_misclassified").set_value(True).run()
    tiles = [c.value for c in at.caption if c.value.startswith("Label")]
    assert tiles and all("✗" in tile for tile in tiles)


def test_dataset_page_explains_a_missing_dataset(app_env, monkeypatch, tmp_path):
    from digitlab.views import resources

    resources.mnist.clear()
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "nowhere.npz"))
    at = AppTest.from_function(dataset_page, default_timeout=TIMEOUT).run()
    resources.mnist.clear()
    assert not at.exception
    assert "nowhere.npz" in at.error[0].value
    assert "MNIST_NPZ" in at.info[0].value


def test_model_page_shows_the_card_and_the_zoo(app_env):
    at = AppTest.from_function(model_page, default_timeout=TIMEOUT).run()
    assert not at.exception
    headings = [element.value for element in at.subheader]
    for heading in ["Layers", "Recipe", "Training curves", "Confusion matrix", "Per-class scores", "The model zoo"]:
        assert heading in headings
    assert at.metric[0].value == "91.70%"
    assert [metric.label for metric in at.metric[:3]] == ["Test accuracy", "USPS test", "Drawn digits"]
    assert len(at.dataframe) == 4
    assert "Trained on MNIST train (60,000 digits) and USPS train (7,291 digits)." in [c.value for c in at.caption]


def uploaded(name, data):
    """A file-like object as st.file_uploader hands it over."""
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def test_read_upload_reads_pictures_and_names_broken_files():
    picture = io.BytesIO()
    Image.new("L", (40, 30), 255).save(picture, format="PNG")
    pixels, error = read_upload(uploaded("white.png", picture.getvalue()))
    assert error is None and pixels.shape == (30, 40)
    assert read_upload(uploaded("cut.png", picture.getvalue()[:60]))[1].startswith("cut.png: corrupt or truncated")
    assert read_upload(uploaded("notes.png", b"not a picture"))[1].startswith("notes.png: not an image")


def test_probability_chart_highlights_the_winner():
    spec = charts.probability_chart([0.1, 0.0, 0.7, 0.2, 0, 0, 0, 0, 0, 0]).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [row["digit"] for row in rows] == [str(d) for d in range(10)]
    assert [row["digit"] for row in rows if row["winner"]] == ["2"]


def test_confusion_heatmap_has_a_cell_per_pair():
    spec = charts.confusion_heatmap(np.eye(10, dtype=int).tolist()).to_dict()
    assert len(next(iter(spec["datasets"].values()))) == 100


def test_history_frame_pairs_training_and_validation():
    frame = charts.history_frame({"loss": [2.0, 1.0], "val_loss": [2.5, 1.5]}, "loss")
    assert frame.to_dict("records") == [
        {"epoch": 1, "series": "training", "value": 2.0},
        {"epoch": 2, "series": "training", "value": 1.0},
        {"epoch": 1, "series": "validation", "value": 2.5},
        {"epoch": 2, "series": "validation", "value": 1.5},
    ]


def test_upscaled_keeps_pixels_sharp():
    picture = np.zeros((28, 28), np.float32)
    picture[0, 0] = 1.0
    big = np.asarray(upscaled(picture, 168))
    assert big.shape == (168, 168)
    assert set(np.unique(big)) == {0, 255}
    assert big[:6, :6].min() == 255 and big[6, 6] == 0


@pytest.mark.parametrize("mode", ["1", "P", "LA", "CMYK", "I;16", "F"])
def test_thumbnail_shows_any_picture_mode_small(mode):
    picture = io.BytesIO()
    image = Image.new("L", (900, 600), 200).convert(mode)
    image.save(picture, format="TIFF")
    pixels, error = read_upload(uploaded(f"{mode}.tiff", picture.getvalue()))
    small = thumbnail(pixels)
    assert error is None and small.mode in ("L", "RGB", "RGBA") and max(small.size) == 240
