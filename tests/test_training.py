"""digitlab.training: the moves its augmentation promises, in one sharp resampling, and its loss."""

import dataclasses

import numpy as np
import pytest

from digitlab import training
from digitlab.tf import keras
from digitlab.training import (
    RandomAffine,
    RandomPenWidth,
    augmentation,
    choose_precision,
    fit_recipe,
    has_native_bfloat16,
    mixing,
    recipe_dataset,
    recipe_loss,
    scale_pixels,
    source_weights,
)
from digitlab.zoo import RECIPES


@pytest.fixture(scope="module")
def digits(mnist):
    return scale_pixels(mnist[0][0][:1000])


def ink_heights(images):
    rows = np.asarray(images)[..., 0].max(axis=2) > 0.3
    return rows.shape[1] - rows[:, ::-1].argmax(axis=1) - rows.argmax(axis=1)


def ink_centres(images):
    """Each image's ink-weighted centre, (column, row)."""
    ink = np.asarray(images)[..., 0]
    mass = ink.sum(axis=(1, 2))
    return (
        np.stack([(ink.sum(axis=1) * np.arange(28)).sum(axis=1), (ink.sum(axis=2) * np.arange(28)).sum(axis=1)]) / mass
    )


def ink_area(images):
    return (np.asarray(images)[..., 0] > 0.5).sum(axis=(1, 2))


def test_no_move_and_inference_leave_images_as_they_are(digits):
    assert np.array_equal(np.asarray(RandomAffine(0, 0, 0)(digits)), digits)
    assert np.array_equal(np.asarray(augmentation()(digits, training=False)), digits)


def test_zoom_changes_the_height_of_digits_by_up_to_its_fraction(digits):
    zoomed = RandomAffine(rotation=0, zoom=0.1, shift=0, seed=1)(digits)
    before, after = ink_heights(digits), ink_heights(zoomed)
    # Sampling the input at 0.9–1.1 times the distance from the centre scales digits by 1/1.1 to 1/0.9,
    # give or take one pixel row of rounding.
    assert (np.abs(after - before) <= before * (1 / 0.9 - 1) + 1).all()
    assert (after / before).std() > 0.03


def test_shift_moves_the_ink_by_up_to_its_fraction_and_keeps_it(digits):
    shifted = RandomAffine(rotation=0, zoom=0, shift=0.08, seed=1)(digits)
    centre, moved = ink_centres(digits)[0], ink_centres(shifted)[0]
    assert np.abs(moved - centre).max() <= 0.08 * 28 + 0.5
    assert np.abs(moved - centre).mean() > 0.5


def test_shear_slants_a_vertical_bar_about_the_centre_by_up_to_its_share():
    bar = np.zeros((200, 28, 28, 1), np.float32)
    bar[:, 4:24, 13:15] = 1.0
    slanted = np.asarray(RandomAffine(rotation=0, zoom=0, shift=0, shear=0.3, seed=1)(bar))[..., 0]
    columns = np.arange(28)

    def ink_column(row):
        return (slanted[:, row] * columns).sum(axis=1) / slanted[:, row].sum(axis=1)

    # Row 5 lies 8.5 rows above the centre (13.5), so its ink moves by up to 0.3 · 8.5 columns; the middle rows stay.
    assert np.abs(ink_column(13) - 13.5).max() < 0.6
    sideways = ink_column(5) - 13.5
    assert np.abs(sideways).max() <= 0.3 * 8.5 + 0.1
    assert (sideways > 1).any() and (sideways < -1).any()


def test_stretch_makes_a_square_narrower_or_wider_by_up_to_its_share_and_keeps_its_height():
    square = np.zeros((200, 28, 28, 1), np.float32)
    square[:, 9:19, 9:19] = 1.0
    stretched = np.asarray(RandomAffine(rotation=0, zoom=0, shift=0, stretch=0.2, seed=1)(square))[..., 0]
    width = (stretched.max(axis=1) > 0.5).sum(axis=1)
    height = (stretched.max(axis=2) > 0.5).sum(axis=1)
    assert (height == 10).all()
    assert width.min() >= 8 and width.max() <= 13
    assert (width < 10).any() and (width > 10).any()


def test_elastic_wobbles_each_digit_in_one_sharp_resampling_by_about_its_pixels(digits):
    wobbled = np.asarray(RandomAffine(rotation=0, zoom=0, shift=0, elastic=2.0, seed=1)(digits))
    moved = np.abs(ink_centres(wobbled) - ink_centres(digits))
    # Bicubic interpolation between the grid's points may overshoot their largest move a little.
    assert moved.max() <= 2.0 * 1.25 and moved.mean() > 0.2
    assert np.abs(wobbled - digits).mean() > 0.02
    assert ink_area(wobbled).mean() == pytest.approx(ink_area(digits).mean(), rel=0.15)
    assert wobbled.max(axis=(1, 2, 3)).mean() > 0.99
    assert np.allclose(RandomAffine(0, 0, 0, elastic=1e-9)(digits), digits, atol=1e-6)


def test_elastic_takes_the_moves_along_in_the_same_resampling(digits):
    moves = RandomAffine(rotation=0, zoom=0, shift=0.08, elastic=1.0, seed=1)
    assert np.abs(ink_centres(moves(digits)) - ink_centres(digits)).max() <= 0.08 * 28 + 1.0 * 1.25 + 0.5


def test_mixing_blends_each_digit_with_another_and_their_labels_by_the_same_share():
    # Each "digit" is a flat image whose grey level says its class, so a blend's grey level tells its labels' shares.
    classes = np.arange(200) % 10
    images = np.broadcast_to((classes / 10.0)[:, None, None, None], (200, 28, 28, 1)).astype(np.float32)
    labels = np.eye(10, dtype=np.float32)[classes]
    mixed_images, mixed_labels = (np.asarray(part) for part in mixing(0.4, seed=1)(images, labels))
    assert np.allclose(mixed_labels.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(mixed_images[:, 0, 0, 0], mixed_labels @ (np.arange(10) / 10.0), atol=1e-4)
    assert (mixed_labels.max(axis=1) < 0.9).sum() > 20


def test_one_resampling_keeps_strokes_sharper_than_three_keras_layers(digits):
    layers = keras.layers
    three = keras.Sequential(
        [
            layers.RandomRotation(0.03, fill_mode="constant", seed=1),
            layers.RandomZoom(0.1, fill_mode="constant", seed=1),
            layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=1),
        ]
    )
    peak = {
        name: np.asarray(layer(digits, training=True)).max(axis=(1, 2, 3)).mean()
        for name, layer in [("one", augmentation()), ("three", three)]
    }
    assert peak["one"] > 0.99 > peak["three"]


def test_pen_width_makes_strokes_thicker_and_thinner_within_its_bounds(digits):
    changed = RandomPenWidth(0.8, seed=1)(digits)
    ops = keras.ops
    thickest = np.asarray(digits + 0.8 * (ops.max_pool(digits, 3, 1, "same") - digits))
    thinnest = np.asarray(digits + 0.4 * (-ops.max_pool(-digits, 3, 1, "same") - digits))
    assert np.all(thinnest - 1e-6 <= changed) and np.all(changed <= thickest + 1e-6)
    growth = ink_area(changed) / ink_area(digits)
    assert growth.max() > 1.3 and growth.min() < 0.9


def test_pen_width_comes_before_the_moves_and_sleeps_at_inference(digits):
    pipeline = augmentation(pen_width=0.8)
    assert [layer.name for layer in pipeline.layers] == ["pen_width", "augmentation"]
    assert np.array_equal(np.asarray(pipeline(digits, training=False)), digits)
    assert isinstance(augmentation(), RandomAffine)


def test_label_smoothing_trains_against_one_hot_targets_that_give_each_class_its_share():
    smoothed = RECIPES["cnn"]
    images, labels = np.zeros((3, 28, 28), np.uint8), np.array([0, 7, 9])
    _, targets = next(iter(recipe_dataset(smoothed, images, labels, 3)))
    np.testing.assert_array_equal(np.argmax(targets, axis=1), labels)
    loss = recipe_loss(smoothed)
    sure = np.eye(10, dtype=np.float32)[labels]
    assert float(loss(targets, sure)) > float(loss(targets, 0.91 * sure + 0.01))
    assert recipe_loss(dataclasses.replace(smoothed, label_smoothing=0.0)) == "sparse_categorical_crossentropy"


SOURCES = [
    {"source": "MNIST train", "digits": 3},
    {"source": "USPS train (the last 1000 held out)", "digits": 2},
    {"source": "UJI pen digits W01–W20 (8 renders each)", "digits": 1},
    {"source": "optdigits (.tra and .cv; .windep held out)", "digits": 1},
    {"source": "Semeion", "digits": 2},
]


def test_usps_weight_gives_each_usps_digit_its_weight_and_leaves_the_rest_at_one():
    heavier = dataclasses.replace(RECIPES["cnn"], usps_weight=2.0)
    np.testing.assert_array_equal(source_weights(heavier, SOURCES), [1, 1, 1, 2, 2, 1, 1, 1, 1])
    assert source_weights(RECIPES["cnn"], SOURCES) is None
    assert source_weights(heavier, None) is None


def test_bitmap_weight_gives_optdigits_and_semeion_digits_their_weight():
    heavier = dataclasses.replace(RECIPES["cnn"], usps_weight=2.0, bitmap_weight=3.0)
    np.testing.assert_array_equal(source_weights(heavier, SOURCES), [1, 1, 1, 2, 2, 1, 3, 3, 3])


def test_weights_ride_through_the_augmented_pipeline_with_their_digits():
    weights = np.array([1, 1, 1, 2, 2, 1], np.float32)
    images, labels = np.zeros((6, 28, 28), np.uint8), np.arange(6)
    batch = next(iter(recipe_dataset(RECIPES["cnn"], images, labels, 6, shuffle_seed=0, augment=True, weights=weights)))
    moved, targets, batch_weights = batch
    assert moved.shape == (6, 28, 28, 1)
    np.testing.assert_array_equal(np.asarray(batch_weights), weights[np.argmax(targets, axis=1)])


def test_a_heavier_source_changes_what_the_model_learns(mnist):
    (x, y), _ = mnist
    recipe = dataclasses.replace(RECIPES["mlp-small"], epochs=1)
    sources = [{"source": "MNIST train", "digits": 200}, {"source": "USPS train", "digits": 56}]
    train = (x[:256], y[:256])
    fits = [
        fit_recipe(dataclasses.replace(recipe, usps_weight=weight), train, (x[:10], y[:10]), verbose=0, sources=sources)
        for weight in (1.0, 1.0, 5.0)
    ]
    same, heavier = fits[0].model.get_weights()[0], fits[2].model.get_weights()[0]
    np.testing.assert_array_equal(same, fits[1].model.get_weights()[0])
    assert not np.allclose(same, heavier)


def test_native_bfloat16_is_read_from_the_cpu_flags():
    assert has_native_bfloat16("processor : 0\nflags : fpu avx512f avx512_bf16 amx_bf16 amx_tile\n")
    assert not has_native_bfloat16("processor : 0\nflags : fpu avx2 avx512f avx512_bf16\n")


@pytest.mark.parametrize("native, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_precision_is_bfloat16_only_where_the_cpu_has_it(monkeypatch, native, expected):
    monkeypatch.setattr(training, "has_native_bfloat16", lambda: native)
    assert choose_precision("auto") == expected
    assert choose_precision("float32") == "float32" and choose_precision("bfloat16") == "bfloat16"
