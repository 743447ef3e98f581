"""The models in model/: each one loads safely, and its card never claims what it does not do."""

import pytest

from digitlab.evaluation import evaluate
from digitlab.store import MODEL_DIR, file_sha256, list_models, load_card, load_model
from digitlab.zoo import RECIPES

SHIPPED = [p.stem for p in list_models(MODEL_DIR)]


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
        assert card["test_accuracy"] >= 0.996
    else:
        assert card["test_accuracy"] >= seed - 0.005
