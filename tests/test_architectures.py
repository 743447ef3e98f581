"""digitlab.architectures' own layer: `Deskew` straightens a slant, keeps the ink, and travels in a `.keras` file."""

import numpy as np
import pytest

from digitlab.architectures import Deskew, build_cnn
from digitlab.store import load_model
from digitlab.training import scale_pixels


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
