"""Saliency and feature maps (digitlab.explain) on the shipped models and real MNIST digits, and their page region."""

import numpy as np
import pytest

from digitlab.explain import Explainer, feature_grid, overlay
from digitlab.store import load_model
from tests.conftest import ROOT

CNNS = ["cnn", "cnn-functional", "cnn-sgd"]
MLPS = ["mlp-small", "mlp-wide", "mlp-deep"]
DIGITS = 20
BLANK = np.zeros((28, 28), np.float32)


@pytest.fixture(scope="module", params=CNNS + MLPS)
def explainer(request):
    return Explainer(load_model(ROOT / "model" / f"{request.param}.keras"))


@pytest.fixture(scope="module")
def digits(mnist):
    """The first MNIST test digits as model inputs in [0, 1], with their labels."""
    (_, _), (x_test, y_test) = mnist
    return x_test[:DIGITS].astype(np.float32) / 255.0, y_test[:DIGITS]


def probabilities(model, images):
    return model(np.asarray(images, np.float32).reshape(-1, 28, 28, 1), training=False).numpy()


def predicted(explainer, image):
    return int(np.argmax(probabilities(explainer.model, image)[0]))


def test_saliency_is_a_28_by_28_map_in_unit_range(explainer, digits):
    image = digits[0][0]
    saliency = explainer.saliency(image, predicted(explainer, image))
    assert saliency.shape == (28, 28)
    assert saliency.dtype == np.float32
    assert saliency.min() >= 0.0
    assert saliency.max() == pytest.approx(1.0)


def test_attributions_add_up_to_the_rise_in_probability_from_a_blank_input(explainer, digits):
    images, _ = digits
    scores, blank_scores = probabilities(explainer.model, images), probabilities(explainer.model, BLANK)[0]
    errors = []
    for image, row in zip(images, scores):
        target = int(np.argmax(row))
        errors.append(abs(explainer.attributions(image, target).sum() - (row[target] - blank_scores[target])))
    assert np.median(errors) < 0.03, errors


def test_saliency_of_a_real_digit_sits_on_its_ink(explainer, digits):
    for image in digits[0]:
        saliency = explainer.saliency(image, predicted(explainer, image))
        ink = image >= 0.25
        assert saliency[ink].sum() > 0.9 * saliency.sum()
        assert saliency[ink].mean() > 20 * max(saliency[~ink].mean(), 1e-6)


def test_blanking_the_most_salient_pixels_hurts_more_than_blanking_random_ink(explainer, digits):
    rng = np.random.default_rng(0)
    salient_drops, random_drops = [], []
    for image in digits[0]:
        scores = probabilities(explainer.model, image)[0]
        target = int(np.argmax(scores))
        salient = np.argsort(explainer.saliency(image, target).ravel())[::-1][:30]
        random_ink = rng.choice(np.flatnonzero(image.ravel() >= 0.25), 30, replace=False)
        for chosen, drops in ((salient, salient_drops), (random_ink, random_drops)):
            blanked = image.ravel().copy()
            blanked[chosen] = 0.0
            drops.append(scores[target] - probabilities(explainer.model, blanked)[0, target])
    wins = np.mean(np.array(salient_drops) > np.array(random_drops))
    assert wins >= 0.9, (salient_drops, random_drops)
    assert np.mean(salient_drops) > 3 * np.mean(random_drops)


def test_saliency_differs_between_classes(explainer, digits):
    overlaps = []
    for image in digits[0]:
        target = predicted(explainer, image)
        top = [set(np.argsort(explainer.saliency(image, c).ravel())[::-1][:20]) for c in (target, (target + 1) % 10)]
        overlaps.append(len(top[0] & top[1]) / 20)
    assert np.mean(overlaps) < 0.4, overlaps


def test_a_blank_input_has_no_saliency(explainer):
    for target in range(10):
        saliency = explainer.saliency(BLANK, target)
        assert saliency.shape == (28, 28)
        assert not saliency.any()


@pytest.mark.parametrize(
    ("name", "shapes"),
    [
        ("cnn", [(28, 28, 32), (14, 14, 64)]),  # conv → batch norm → ReLU
        ("cnn-functional", [(26, 26, 32), (24, 24, 64)]),  # conv with its own ReLU
        ("cnn-sgd", [(13, 13, 64), (5, 5, 32)]),  # conv → max pooling → ReLU
    ]
    + [(name, []) for name in MLPS],
)
def test_feature_maps_are_the_first_convolutions_after_their_activation(name, shapes, digits):
    model = load_model(ROOT / "model" / f"{name}.keras")
    image = digits[0][0]
    layers = Explainer(model).feature_maps(image)
    assert [layer.maps.shape for layer in layers] == shapes
    for layer, expected in zip(layers, outputs_up_to_each_activation(model, image, len(shapes))):
        assert layer.maps.min() >= 0.0
        assert layer.maps.max() > 0.0
        np.testing.assert_allclose(layer.maps, expected, atol=1e-4)


def outputs_up_to_each_activation(model, image, count):
    """The model's layers called one by one; the output after each of the first `count` ReLUs."""
    x = image.reshape(1, 28, 28, 1)
    outputs = []
    for layer in model.layers:
        if layer.__class__.__name__ == "InputLayer":
            continue
        x = layer(x, training=False)
        if "relu" in (layer.__class__.__name__.lower(), getattr(getattr(layer, "activation", None), "__name__", "")):
            outputs.append(np.asarray(x)[0])
    return outputs[:count]


def test_feature_maps_of_a_blank_input_keep_their_shapes(explainer):
    for layer in explainer.feature_maps(BLANK):
        assert layer.maps.ndim == 3
        assert np.isfinite(layer.maps).all()


def test_feature_grid_tiles_every_filter_in_rows():
    maps = np.zeros((5, 4, 10), np.float32)
    maps[..., 9] = 2.0
    maps[0, 0, 0] = 1.0
    grid = feature_grid(maps, rows=3)
    assert grid.shape == (3 * 6 - 1, 4 * 5 - 1)  # 10 maps in 3 rows of 4
    assert grid[0, 0] == pytest.approx(0.5)  # scaled by the layer's level, not per map
    assert (grid[12:17, 5:9] == 1.0).all()  # the tenth map: third row, second column
    assert (grid[5, :] == grid[5, 0]).all()  # a gap line between rows


def test_overlay_paints_salient_pixels_and_leaves_the_rest_grey():
    image = np.zeros((28, 28), np.float32)
    image[10:18, 13:15] = 1.0
    saliency = np.zeros((28, 28), np.float32)
    saliency[10, 13] = 1.0
    picture = overlay(image, saliency, size=56)
    assert picture.shape == (56, 56, 3)
    assert picture.dtype == np.uint8
    red, green, blue = picture[20, 26].astype(int)
    assert red > 200 and red > blue + 50  # the strongest pixel is hot
    grey = picture[30, 26]
    assert grey[0] == grey[1] == grey[2] > 50  # ink that did not push stays grey
    assert not picture[0, 0].any()  # the background stays black


def saliency_region(name, image, probabilities):
    import numpy as np

    from digitlab.explain import Explainer
    from digitlab.inference import Prediction
    from digitlab.store import load_model
    from digitlab.views.insight import saliency_view
    from tests.conftest import ROOT

    explainer = Explainer(load_model(ROOT / "model" / f"{name}.keras"))
    saliency_view(explainer, Prediction(int(np.argmax(probabilities)), max(probabilities), probabilities, image))


@pytest.mark.parametrize(
    ("probabilities", "captions"),
    [
        ([0.0] * 7 + [0.97, 0.0, 0.03], ["towards 7"]),
        ([0.0] * 7 + [0.55, 0.0, 0.45], ["towards 7", "towards 9"]),
    ],
    ids=["sure", "unsure"],
)
def test_the_saliency_region_shows_the_runner_up_only_when_unsure(digits, probabilities, captions):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(saliency_region, args=("mlp-small", digits[0][0], probabilities), default_timeout=60)
    at.run()
    assert not at.exception
    shown = [caption for image in at.get("image") for caption in image.captions]
    assert [caption.split("; ")[0].split(" the answer ")[1] for caption in shown] == captions
