"""digitlab.architectures' own layers: `Deskew` straightens a slant, keeps the ink, and travels in a `.keras` file;
`FusedBatchNormalization` trains as Keras's batch normalisation does and is saved as it."""

import numpy as np
import pytest

from digitlab.architectures import Deskew, FusedBatchNormalization, build_cnn, model_to_save
from digitlab.store import load_model
from digitlab.tf import keras, tf
from digitlab.training import dtype_policy, fit_recipe, scale_pixels
from digitlab.zoo import RECIPES
from tests.conftest import run_script


def leaning_bar(slant):
    """A one-pixel bar over rows 4–23 whose column moves by `slant` per row (negative: top to the right)."""
    image = np.zeros((1, 28, 28, 1), np.float32)
    for row in range(4, 24):
        image[0, row, round(14 + slant * (row - 13.5)), 0] = 1.0
    return image


def ink_columns(images):
    """Each image's ink-weighted centre column of every row that has ink, and their spread."""
    ink = np.asarray(images)[..., 0]
    columns = (ink * np.arange(28)).sum(axis=2) / np.maximum(ink.sum(axis=2), 1e-9)
    return [c[i.sum(axis=1) > 0].std() for c, i in zip(columns, ink)]


def slants(images):
    """Each image's slant by its ink's moments, computed here in NumPy: columns moved per row."""
    ink = np.asarray(images)[..., 0]
    rows, columns = np.arange(28)[:, None], np.arange(28)[None, :]
    mass = ink.sum(axis=(1, 2))
    row_offsets = rows - ((ink * rows).sum(axis=(1, 2)) / mass)[:, None, None]
    column_offsets = columns - ((ink * columns).sum(axis=(1, 2)) / mass)[:, None, None]
    return (ink * row_offsets * column_offsets).sum(axis=(1, 2)) / (ink * row_offsets**2).sum(axis=(1, 2))


@pytest.mark.parametrize("slant", [-0.6, -0.3, 0.3, 0.6])
def test_a_leaning_bar_comes_out_upright_with_all_its_ink(slant):
    bar = leaning_bar(slant)
    upright = np.asarray(Deskew()(bar))
    assert ink_columns(bar)[0] > 5 * abs(slant)
    assert ink_columns(upright)[0] < 0.5
    assert upright.sum() == pytest.approx(bar.sum(), rel=1e-4)


def test_upright_digits_stay_as_they_were_and_slanted_ones_straighten(mnist):
    digits = scale_pixels(mnist[1][0][:500])
    deskewed = np.asarray(Deskew()(digits))
    assert deskewed.sum(axis=(1, 2, 3)) == pytest.approx(digits.sum(axis=(1, 2, 3)), rel=0.02)
    before, after = np.abs(slants(digits)), np.abs(slants(deskewed))
    assert np.median(before) > 0.1 and np.median(after) < 0.05
    # An upright digit (slant under 0.02: rows at most 0.2 px apart) moves by a fraction of a pixel.
    assert np.abs(deskewed - digits)[before < 0.02].max() < 0.25


def test_a_blank_input_stays_blank():
    assert not np.asarray(Deskew()(np.zeros((2, 28, 28, 1), np.float32))).any()


def test_a_model_with_it_loads_safely_and_reads_as_it_was_saved(tmp_path):
    model = build_cnn(conv_at_7x7=8, filters_at_14x14=(8,), deskew=True)
    path = tmp_path / "deskew.keras"
    model.save(path)
    loaded = load_model(path)
    digits = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    assert [type(layer).__name__ for layer in loaded.layers][:2] == ["InputLayer", "Deskew"]
    np.testing.assert_allclose(loaded(digits), model(digits), atol=1e-6)


def train_step(layer, images):
    """One training-mode call of `layer`: its output and the gradients of a lopsided loss by input, scale and offset."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        outputs = layer(images, training=True)
        loss = tf.reduce_sum(outputs * tf.sin(images) * tf.range(1.0, 6.0) ** 2)
    return outputs.numpy(), [g.numpy() for g in tape.gradient(loss, [images, layer.gamma, layer.beta])]


def test_fused_batch_norm_trains_as_keras_batch_norm_does():
    images = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, (16, 7, 7, 5)).astype(np.float32))
    keras_layer, fused = keras.layers.BatchNormalization(), FusedBatchNormalization()
    scale = np.random.default_rng(1).normal(1.0, 0.2, 5).astype(np.float32)
    for layer in (keras_layer, fused):
        layer.build(images.shape)
        layer.gamma.assign(scale)
        layer.beta.assign(scale - 1)
    (expected, expected_gradients), (outputs, gradients) = train_step(keras_layer, images), train_step(fused, images)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    for gradient, expected_gradient in zip(gradients, expected_gradients):
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-4, atol=1e-3)
    # The moving statistics take the batch's plain variance, as Keras's do (the kernel's has Bessel's correction).
    np.testing.assert_allclose(fused.moving_mean, keras_layer.moving_mean, rtol=1e-5)
    np.testing.assert_allclose(fused.moving_variance, keras_layer.moving_variance, rtol=1e-5)
    assert not np.allclose(fused.moving_variance, 1.0)


def test_a_trained_cnn_is_handed_back_with_keras_own_layers_and_the_same_readings(mnist):
    (x, y), _ = mnist
    recipe = RECIPES["cnn"]
    trained = build_cnn(conv_at_7x7=recipe.conv_at_7x7)
    assert sum(isinstance(layer, FusedBatchNormalization) for layer in trained.layers) == 4
    trained.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    trained.fit(scale_pixels(x[:256]), y[:256], epochs=1, verbose=0)
    copy = model_to_save(trained)
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in copy.layers)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in trained.layers]
    digits = scale_pixels(x[256:300])
    np.testing.assert_allclose(copy(digits), trained(digits), atol=1e-6)


def test_a_cnn_trained_in_bfloat16_is_handed_back_in_float32_reading_alike(mnist):
    (x, y), _ = mnist
    with dtype_policy("bfloat16"):
        trained = build_cnn(conv_at_7x7=8)
    assert keras.config.dtype_policy().name == "float32"
    assert {layer.compute_dtype for layer in trained.layers if isinstance(layer, keras.layers.Conv2D)} == {"bfloat16"}
    assert trained.layers[-1].compute_dtype == "float32"
    trained.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    trained.fit(scale_pixels(x[:256]), y[:256], epochs=1, verbose=0)
    copy = model_to_save(trained)
    assert {layer.compute_dtype for layer in copy.layers} == {"float32"}
    digits = scale_pixels(x[256:300])
    # bfloat16 keeps 8 bits of mantissa, so the two read each digit alike but not to the last digit.
    np.testing.assert_allclose(copy(digits), trained(digits), atol=0.05)
    assert (np.argmax(copy(digits), axis=1) == np.argmax(trained(digits), axis=1)).mean() >= 0.95


def test_fit_recipe_hands_back_a_model_that_loads_in_keras_without_digit_lab(mnist, tmp_path):
    (x, y), test = mnist
    run = fit_recipe(RECIPES["cnn"], (x[:256], y[:256]), (test[0][:10], test[1][:10]), epochs=1, verbose=0)
    path = tmp_path / "cnn.keras"
    run.model.save(path)
    digits = scale_pixels(test[0][:20])
    np.save(tmp_path / "digits.npy", digits)
    np.save(tmp_path / "expected.npy", run.model.predict(digits, verbose=0))
    # A fresh interpreter that never imports digitlab reads the file with Keras's safe loader.
    check = (
        "import sys, numpy as np, keras; folder = sys.argv[1]; "
        "model = keras.saving.load_model(folder + '/cnn.keras', safe_mode=True); "
        "got = model.predict(np.load(folder + '/digits.npy'), verbose=0); "
        "np.testing.assert_allclose(got, np.load(folder + '/expected.npy'), atol=1e-6); print('read alike')"
    )
    process = run_script("-c", check, tmp_path, cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    assert "read alike" in process.stdout
