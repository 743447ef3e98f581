"""Security settings: safe model loading, no unpickling, bounded uploads, XSRF protection on."""

import tomllib

import keras
import pytest

from digitlab.store import ModelError, load_model
from tests.conftest import ROOT


def test_a_model_carrying_python_code_is_refused(tmp_path):
    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10)(keras.layers.Lambda(lambda x: keras.ops.reshape(x, (-1, 784)))(inputs))
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ModelError, match="not a loadable Keras model"):
        load_model(path)


def test_streamlit_config_limits_uploads_and_keeps_xsrf_protection():
    from digitlab.imported import MAX_MODEL_MB
    from digitlab.views.draw import MAX_IMAGE_MB

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    # The server's limit fits a model upload; each picture has its own, smaller limit on its uploader.
    assert config["server"]["maxUploadSize"] == MAX_MODEL_MB and MAX_IMAGE_MB <= 10
    assert config["server"].get("enableXsrfProtection", True) is True
    assert "address" not in config["server"]
