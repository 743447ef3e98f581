"""The models in model/: each one loads safely, and its card never claims what it does not do."""

import numpy as np
import pytest

from digitlab.data import drawn_test_set, load_usps, usps_as_scan
from digitlab.evaluation import evaluate
from digitlab.inference import load_classifier
from digitlab.preprocess import to_mnist
from digitlab.store import MODEL_DIR, file_sha256, list_models, load_card, load_model
from digitlab.zoo import RECIPES

SHIPPED = [p.stem for p in list_models(MODEL_DIR)]

# The project's own model has a goal instead of a seed figure.
MNIST_GOALS = {"cnn": 0.996}


def test_every_zoo_model_is_shipped_and_the_folder_is_small():
    assert sorted(SHIPPED) == sorted(RECIPES)
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir() if p.is_file())
    assert size < 15 * 1024 * 1024


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_card_matches_a_fresh_evaluation(name, mnist):
    path = MODEL_DIR / f"{name}.keras"
    card = load_card(path)
    assert card["model_sha256"] == file_sha256(path)
    assert card["limit"] is None and card["recipe"]["epochs"] == RECIPES[name].epochs
    metrics = evaluate(load_model(path), *mnist[1])
    assert metrics["test_accuracy"] == pytest.approx(card["test_accuracy"], abs=0.001)
    assert metrics["confusion_matrix"] == card["confusion_matrix"]


@pytest.mark.parametrize("name", SHIPPED)
def test_card_reaches_its_seed_figure(name):
    card = load_card(MODEL_DIR / f"{name}.keras")
    seed = RECIPES[name].seed_accuracy
    if seed is None:
        assert card["test_accuracy"] >= MNIST_GOALS[name]
    else:
        assert card["test_accuracy"] >= seed - 0.005


@pytest.fixture(scope="module")
def usps_test(usps_folder):
    """USPS's 2,007 test digits as model inputs, read the way the app reads a scan, and their labels."""
    ink, labels = load_usps(usps_folder / "zip.test.gz")
    return np.stack([to_mnist(usps_as_scan(digit)) for digit in ink]), labels


def usps_accuracy(name, usps_test):
    inputs, labels = usps_test
    probabilities = load_classifier(MODEL_DIR / f"{name}.keras").probabilities(inputs)
    return float(np.mean(probabilities.argmax(axis=1) == labels))


@pytest.mark.slow
def test_cnn_reads_98_percent_of_usps_test_digits_and_more_than_the_seeds(usps_test):
    readings = {name: usps_accuracy(name, usps_test) for name in SHIPPED}
    assert readings["cnn"] >= 0.98
    assert readings["cnn"] == max(readings.values()), readings


@pytest.mark.slow
def test_cnn_reads_the_drawn_digits_as_its_card_says_and_more_than_the_seeds(writers_folder):
    inputs, labels, _ = drawn_test_set(writers_folder)
    readings = {
        name: float(
            np.mean(load_classifier(MODEL_DIR / f"{name}.keras").probabilities(inputs / 255.0).argmax(1) == labels)
        )
        for name in SHIPPED
    }
    assert readings["cnn"] == pytest.approx(load_card(MODEL_DIR / "cnn.keras")["drawn_test_accuracy"], abs=0.001)
    assert readings["cnn"] >= 0.99  # Issue #16's goal; the shipped run reads 99.10 %.
    assert readings["cnn"] == max(readings.values()), readings
