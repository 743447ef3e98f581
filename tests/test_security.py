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
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] <= 10
    assert config["server"].get("enableXsrfProtection", True) is True
    assert "address" not in config["server"]
