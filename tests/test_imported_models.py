"""Bringing your own model: Keras 3, .h5 and ONNX files, detected, refused, read, imported and shown in the app."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitlab.conventions import InputConvention
from digitlab.importing import inspect
from digitlab.store import ModelError, file_sha256, list_models
from tests import foreign_models
from tests.conftest import ROOT, assert_no_traceback, copy_shipped_models, run_script

MLP_SMALL_ACCURACY = 0.9695  # The shipped mlp-small's card: every model below is its weights, dressed differently.


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Every kind of model file a person may bring, by what it is."""
    folder = tmp_path_factory.mktemp("foreign")
    flat = foreign_models.flat_bytes_keras(folder / "flat-bytes.keras")
    onnx = foreign_models.pytorch_style_onnx(folder / "pytorch.onnx")
    return {
        "flat-bytes": flat,
        "logits": foreign_models.logits_keras(folder / "logits.h5"),
        "onnx": onnx,
        "cifar": foreign_models.cifar_keras(folder / "cifar.keras"),
        "lambda-keras": foreign_models.lambda_keras(folder / "lambda.keras"),
        "lambda-h5": foreign_models.lambda_keras(folder / "lambda.h5"),
        "truncated": foreign_models.truncated(flat, folder / "truncated.keras"),
        "truncated-onnx": foreign_models.truncated(onnx, folder / "truncated.onnx"),
    }


GOOD = {
    "flat-bytes": InputConvention("784", "0-255", "probabilities"),
    "logits": InputConvention("28x28", "0-1", "logits"),
    "onnx": InputConvention("1x28x28", "mnist-std", "logits"),
}
BAD = {
    "cifar": "takes (None, 32, 32, 3)",
    "lambda-keras": "Lambda layer",
    "lambda-h5": "Lambda layer",
    "truncated": "truncated or corrupt",
    "truncated-onnx": "truncated or corrupt",
}


@pytest.mark.parametrize("kind", GOOD)
def test_the_input_convention_is_detected(models, kind):
    _, detection = inspect(models[kind])
    assert detection.convention == GOOD[kind]
    assert detection.scores[GOOD[kind].pixels] > 0.95


@pytest.mark.parametrize("kind", BAD)
def test_a_model_that_cannot_be_used_is_refused_in_one_line(models, kind):
    with pytest.raises(ModelError, match=re.escape(BAD[kind])) as refused:
        inspect(models[kind])
    assert "\n" not in str(refused.value) and models[kind].name in str(refused.value)


def test_a_model_with_100_outputs_or_that_reads_no_digits_is_no_mnist_classifier(tmp_path):
    from digitlab.tf import keras

    hundred = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(100)])
    hundred.save(tmp_path / "hundred.keras")
    with pytest.raises(ModelError, match=r"gives \(None, 100\)"):
        inspect(tmp_path / "hundred.keras")
    untrained = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, kernel_initializer="zeros")])
    untrained.save(tmp_path / "untrained.keras")
    with pytest.raises(ModelError, match="not an MNIST digit classifier: .* reads only"):
        inspect(tmp_path / "untrained.keras")


def test_a_file_over_the_size_limit_is_refused_before_loading(models, monkeypatch):
    monkeypatch.setattr("digitlab.imported.MAX_MODEL_MB", 0.01)
    with pytest.raises(ModelError, match="MB limit"):
        inspect(models["onnx"])


def test_the_convention_can_be_set_by_hand(models):
    _, detection = inspect(models["flat-bytes"], pixels="0-1")
    assert detection.convention.pixels == "0-1" and detection.overridden
    with pytest.raises(ModelError, match=r"takes \(None, 784\)"):
        inspect(models["flat-bytes"], layout="1x28x28")


@pytest.fixture(scope="module")
def seven(mnist, tmp_path_factory):
    """An MNIST test 7, dark on white as a scan, saved as a PNG."""
    (_, _), (x_test, y_test) = mnist
    index = int(np.flatnonzero(y_test == 7)[0])
    path = tmp_path_factory.mktemp("pictures") / "seven.png"
    Image.fromarray(255 - x_test[index]).resize((140, 140)).save(path)
    return path


@pytest.mark.parametrize("kind", GOOD)
def test_predict_reads_with_any_model(models, seven, kind):
    process = run_script("predict.py", "--model", models[kind], "--json", seven)
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["digit"] == 7
    assert "detected" in process.stderr and GOOD[kind].output in process.stderr


@pytest.mark.parametrize("kind", BAD)
def test_predict_refuses_a_bad_model_in_one_line(models, seven, kind):
    process = run_script("predict.py", "--model", models[kind], seven)
    assert process.returncode == 1 and BAD[kind] in process.stderr
    assert process.stderr.count("\n") == 1
    assert_no_traceback(process)


def run_import(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "digitlab", "import", *map(str, args)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_import_measures_the_model_and_the_app_lists_it(models, tmp_path, usps_folder, writers_folder):
    folder = copy_shipped_models(tmp_path / "models", ["mlp-small"])
    process = run_import(
        models["onnx"],
        "--name",
        "torch-mlp",
        "--out",
        folder,
        env={"USPS_DIR": usps_folder, "WRITERS_DIR": writers_folder},
    )
    assert process.returncode == 0, process.stderr
    assert_no_traceback(process)
    card = json.loads((folder / "torch-mlp.json").read_text())
    assert card["test_accuracy"] == pytest.approx(MLP_SMALL_ACCURACY, abs=1e-4)
    for figure in ("canvas_mnist_accuracy", "usps_test_accuracy", "drawn_test_accuracy"):
        assert 0.5 < card[figure] <= 1.0
    assert card["input_convention"]["layout"] == "1x28x28" and card["input_convention"]["pixels"] == "mnist-std"
    assert card["model_sha256"] == file_sha256(folder / "torch-mlp.onnx") == card["source_sha256"]
    assert folder / "torch-mlp.onnx" in list_models(folder)
    assert "MNIST test 96.95 %" in process.stdout


@pytest.mark.parametrize("kind", BAD)
def test_import_refuses_a_bad_model_in_one_line(models, tmp_path, kind):
    process = run_import(models[kind], "--out", tmp_path)
    assert process.returncode == 1 and BAD[kind] in process.stderr
    assert process.stderr.strip().count("\n") == 0
    assert_no_traceback(process)
    assert not list(tmp_path.iterdir())


def test_import_with_bad_flags_exits_2():
    for args in ([], ["x.onnx", "--input-scale", "0-9"], ["x.onnx", "--bogus"]):
        process = run_import(*args)
        assert process.returncode == 2 and "usage:" in process.stderr
        assert_no_traceback(process)


def test_an_imported_model_is_read_through_the_model_server_like_a_zoo_model(models, tmp_path, mnist):
    from digitlab.model_server import RemoteClassifier, import_remotely

    card = import_remotely(models["logits"], tmp_path, everything=False)
    remote = RemoteClassifier(card["path"])
    digits = mnist[1][0][:500].astype(np.float32) / 255.0
    probabilities = remote.probabilities(digits)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert np.mean(probabilities.argmax(axis=1) == mnist[1][1][:500]) > 0.95
    with pytest.raises(ModelError, match="Lambda layer"):
        import_remotely(models["lambda-h5"], tmp_path, everything=False)


def test_the_shipped_test_split_is_mnist_s_own(mnist, monkeypatch, tmp_path):
    from digitlab import mnist_test

    monkeypatch.delenv("MNIST_NPZ", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert not mnist_test.full_mnist_here()
    images, labels = mnist_test.load_test_split()
    assert np.array_equal(images, mnist[1][0]) and np.array_equal(labels, mnist[1][1])
