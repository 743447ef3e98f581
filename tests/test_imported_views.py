"""Imported models in the app's pages (AppTest, no browser): selected, compared, and their disagreements listed."""

import pytest
from streamlit.testing.v1 import AppTest

from tests import foreign_models
from tests.conftest import copy_shipped_models

TIMEOUT = 300


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """mlp-small and cnn from the zoo, and mlp-small exported as PyTorch would, imported."""
    from digitlab.model_server import import_remotely

    models = copy_shipped_models(tmp_path_factory.mktemp("models"), ["mlp-small", "cnn"])
    onnx = foreign_models.pytorch_style_onnx(tmp_path_factory.mktemp("onnx") / "torch-mlp.onnx")
    import_remotely(onnx, models, everything=False)
    return models


def page(name):
    import importlib

    from digitlab.views.models import model_selector

    model_selector()
    importlib.import_module(f"digitlab.views.{name}").render()


def run_page(name, folder, monkeypatch, compared=None):
    monkeypatch.setenv("DIGITLAB_MODEL_DIR", str(folder))
    at = AppTest.from_function(page, args=(name,), default_timeout=TIMEOUT)
    at.session_state["selected_model"] = str(folder / "torch-mlp.onnx")
    if compared:
        at.session_state["compared_model"] = str(folder / compared)
    return at.run()


def test_an_imported_onnx_model_is_selectable_with_its_card(folder, monkeypatch):
    at = run_page("model_page", folder, monkeypatch)
    assert not at.exception
    assert at.title[0].value == "Model: torch-mlp"
    assert "96.95%" in [metric.value for metric in at.metric]
    assert any("torch-mlp" in str(option) for option in at.sidebar.selectbox[0].options)


def test_the_dataset_page_lists_where_two_models_disagree(folder, monkeypatch):
    at = run_page("dataset", folder, monkeypatch, compared="cnn.keras")
    assert not at.exception
    assert any(header.value == "Where torch-mlp and cnn disagree" for header in at.subheader)
    counts = next(caption.value for caption in at.caption if caption.value.startswith("They disagree on"))
    assert "of 10,000 MNIST test digits" in counts and "of 2,007 USPS test digits" in counts
