"""digitlab.preprocess: any picture of a digit becomes an MNIST-style 28×28 input."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitlab.preprocess import normalisation_steps, otsu_threshold, pen_width, to_mnist

SEVEN = [(0.1, 0.1), (0.9, 0.1), (0.45, 0.95)]


def drawing(points, box, pen=18, size=280, ink="black", paper="white", mode="RGBA"):
    """A polyline through `points` (fractions of `box` = (left, top, side)) on a canvas."""
    left, top, side = box
    image = Image.new(mode, (size, size), paper)
    xy = [(left + x * side, top + y * side) for x, y in points]
    ImageDraw.Draw(image).line(xy, fill=ink, width=pen, joint="curve")
    return image


def test_output_is_28x28_in_unit_range_with_mass_at_the_centre():
    result = to_mnist(np.asarray(drawing(SEVEN, (60, 40, 180))))
    assert result.shape == (28, 28) and result.dtype == np.float32
    assert result.min() >= 0.0 and result.max() <= 1.0 and result.max() > 0.9
    rows, cols = np.indices(result.shape)
    assert abs((result * rows).sum() / result.sum() - 14) < 0.75
    assert abs((result * cols).sum() / result.sum() - 14) < 0.75


def test_longer_side_is_fitted_to_20_pixels():
    steps = normalisation_steps(np.asarray(drawing(SEVEN, (60, 40, 180))))
    assert max(steps.fitted.shape) == 20


def plain_resize(image):
    return np.asarray(Image.fromarray(255 - np.asarray(image.convert("L"))).resize((28, 28)), np.float32) / 255


def test_small_in_a_corner_matches_large_in_the_middle():
    small_drawing, large_drawing = drawing(SEVEN, (8, 190, 70), pen=18), drawing(SEVEN, (40, 30, 210), pen=18)
    small, large = to_mnist(np.asarray(small_drawing)), to_mnist(np.asarray(large_drawing))
    assert np.abs(small - large).mean() < 0.06
    assert np.corrcoef(small.ravel(), large.ravel())[0, 1] > 0.75
    # A plain resize of the whole canvas, for contrast, gives two unrelated pictures.
    assert np.corrcoef(plain_resize(small_drawing).ravel(), plain_resize(large_drawing).ravel())[0, 1] < 0.3


@pytest.mark.parametrize(
    "variant",
    ["L", "RGB", "float", "light-on-dark", "transparent", "pil"],
)
def test_modes_and_polarities_give_the_same_input(variant):
    reference = to_mnist(np.asarray(drawing(SEVEN, (60, 40, 180))))
    if variant == "transparent":
        image = np.asarray(drawing(SEVEN, (60, 40, 180), ink=(0, 0, 0, 255), paper=(0, 0, 0, 0)))
    elif variant == "light-on-dark":
        image = np.asarray(drawing(SEVEN, (60, 40, 180), ink="white", paper="black", mode="L"))
    elif variant == "float":
        image = np.asarray(drawing(SEVEN, (60, 40, 180), mode="L")).astype(np.float64) / 255
    elif variant == "pil":
        image = drawing(SEVEN, (60, 40, 180), mode="P")
    else:
        image = np.asarray(drawing(SEVEN, (60, 40, 180), mode=variant))
    assert np.abs(to_mnist(image) - reference).mean() < 0.02


def test_uneven_lighting_is_flattened():
    clean = drawing(SEVEN, (60, 40, 180), mode="L")
    gradient = np.linspace(90, 255, 280, dtype=np.float32)[np.newaxis, :]
    lit = (np.asarray(clean, dtype=np.float32) / 255.0) * gradient
    assert np.abs(to_mnist(lit.astype(np.uint8)) - to_mnist(np.asarray(clean))).mean() < 0.04


@pytest.mark.parametrize(
    "canvas",
    [
        np.full((280, 280, 4), 255, np.uint8),
        np.zeros((280, 280, 4), np.uint8),
        np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]),
        np.asarray(drawing([(0.5, 0.5), (0.5, 0.5)], (100, 100, 80), pen=4)),
    ],
    ids=["blank", "transparent-blank", "fully-painted", "one-dot"],
)
def test_canvases_with_nothing_to_read_give_none(canvas):
    assert to_mnist(canvas) is None


def test_a_tiny_image_and_a_single_pixel_wide_one_do_not_crash():
    assert to_mnist(np.zeros((1, 1), np.uint8)) is None
    line = np.full((30, 5), 255, np.uint8)
    line[2:28, 2] = 0
    assert to_mnist(line).shape == (28, 28)


def test_bad_shapes_are_refused_clearly():
    with pytest.raises(ValueError, match="expected an image of shape"):
        to_mnist(np.zeros((5, 5, 7)))


def test_pen_width_is_measured_in_pixels():
    ink = np.zeros((80, 80), np.float32)
    ink[10:70, 30:40] = 1.0
    assert pen_width(ink) == pytest.approx(10, rel=0.2)


def test_otsu_separates_two_levels():
    values = np.concatenate([np.full(500, 0.1), np.full(100, 0.8)])
    assert 0.1 <= otsu_threshold(values) < 0.8
