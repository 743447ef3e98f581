"""Turning any picture of a digit into a 28×28 MNIST-style input, the way MNIST itself was made.

MNIST's digits were size-normalised to fit a 20×20 box preserving their aspect ratio (with
anti-aliasing) and centred by centre of mass in a 28×28 frame, white ink on black. Drawings
and photos are brought to the same form here: find the ink, crop to it, even out the pen
width, fit it into 20×20 and centre it. This module never imports Streamlit or the canvas.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

FRAME = 28
BOX = 20
WORK = 80  # The cropped digit is handled at 4× the 20-pixel box before the final downsampling.
MNIST_STROKE_AT_WORK = 11.0  # MNIST's median pen width (2.8 px at 20 px) measured at WORK size.
INK_LEVEL = 0.25  # An ink pixel is at least this dark, relative to the darkest ink.
MIN_INK_SIDE = 0.03  # Ink whose bounding box is under 3 % of the picture's longer side is a speck.


@dataclass
class Steps:
    """Each stage of the normalisation, as 2-D float arrays in [0, 1] with ink = 1."""

    ink: np.ndarray
    cropped: np.ndarray | None
    fitted: np.ndarray | None
    centred: np.ndarray | None


def to_mnist(image):
    """A (28, 28) float32 array in [0, 1], white ink on black, or None when there is no ink."""
    return normalisation_steps(image).centred


def normalisation_steps(image):
    """All the intermediate pictures of `to_mnist`, for showing how the model sees a drawing."""
    ink = ink_map(image)
    box = ink_bounding_box(ink)
    if box is None:
        return Steps(ink, None, None, None)
    top, bottom, left, right = box
    cropped = ink[top:bottom, left:right]
    fitted = fit_into_box(even_out_pen_width(cropped))
    return Steps(ink, cropped, fitted, centre_by_mass(fitted))


def as_picture(image):
    """A PIL image in mode L, RGB or RGBA from a PIL image of any mode or an 8-bit or float array."""
    if isinstance(image, Image.Image):
        if image.mode in ("L", "RGB", "RGBA"):
            return image
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)) or min(array.shape[:2]) < 1:
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {array.shape}")
    return Image.fromarray(to_bytes(array))


def to_bytes(array):
    """uint8 pixels from integers (read as 0-255), booleans, or floats (in [0, 1], or [0, 255] if larger)."""
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    scale = 255.0 if array.dtype.kind in "fb" and array.size and array.max() <= 1.0 else 1.0
    return np.clip(np.rint(array.astype(np.float32) * scale), 0, 255).astype(np.uint8)


def ink_map(image):
    """Ink strength per pixel in [0, 1]: polarity read from the border, uneven lighting removed."""
    picture = as_picture(image)
    if picture.mode == "RGBA":
        alpha = np.asarray(picture.getchannel("A"))
        if _border(alpha).mean() < 128:
            return _stretch(alpha.astype(np.float32) / 255.0)  # Transparent background: ink is in alpha.
        if alpha.min() < 255:
            picture = Image.alpha_composite(Image.new("RGBA", picture.size, "white"), picture)
    brightness = np.asarray(picture.convert("L"), dtype=np.float32) / 255.0
    return _stretch(_ink_from_brightness(brightness))


def _border(channel):
    """A sample of the outer ring of a 2-D array (a 5 % margin, at least one pixel)."""
    margin = max(1, round(0.05 * min(channel.shape)))
    return np.concatenate(
        [channel[:margin].ravel(), channel[-margin:].ravel(), channel[:, :margin].ravel(), channel[:, -margin:].ravel()]
    )


def _ink_from_brightness(brightness):
    """Ink from a grey picture: the border tells the polarity and whether the lighting is even.

    Under even lighting the background level is subtracted. Under uneven lighting (a photo of
    paper) the paper's brightness is estimated locally, and dark ink is read as the share of
    light it absorbs, which undoes a shadow or a gradient; light ink on a dark board is read
    above the local background level.
    """
    border = _border(brightness)
    dark_on_light = border.mean() > 0.5
    if border.std() < 0.05:
        ink = 1.0 - brightness if dark_on_light else brightness
        return ink - np.median((1.0 - border if dark_on_light else border)[::4])
    if dark_on_light:
        paper = _local_background(brightness, ImageFilter.MaxFilter(7))
        return 1.0 - brightness / np.maximum(paper, 1e-3)
    return brightness - _local_background(brightness, ImageFilter.MinFilter(7))


def _local_background(channel, rank_filter):
    """A smooth estimate of the background level: strokes removed by a rank filter at low resolution."""
    image = Image.fromarray((np.clip(channel, 0, 1) * 255).astype(np.uint8))
    small = image.resize((32, 32), Image.Resampling.BOX).filter(rank_filter)
    smooth = small.filter(ImageFilter.GaussianBlur(3)).resize(image.size, Image.Resampling.BILINEAR)
    return np.asarray(smooth, dtype=np.float32) / 255.0


def otsu_threshold(values, bins=64):
    """Otsu's threshold of values in [0, 1]: the cut that best separates two groups of levels."""
    counts = np.bincount((np.clip(values, 0.0, 1.0) * (bins - 1)).astype(np.intp).ravel(), minlength=bins)
    levels = np.arange(bins) / (bins - 1)
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    mass_low = np.cumsum(counts * levels)
    mean_low = mass_low / np.maximum(weight_low, 1)
    mean_high = (mass_low[-1] - mass_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float((np.argmax(between) + 1) / (bins - 1))


def _stretch(ink):
    """Scale so that solid ink reads 1, then clip faint noise below half of Otsu's threshold."""
    peak = float(ink.max()) if ink.size else 0.0
    if peak < 0.05:
        return np.zeros_like(ink)
    ink = np.clip(ink / (0.9 * peak), 0.0, 1.0)
    floor = 0.5 * otsu_threshold(ink[::2, ::2])
    return np.clip((ink - floor) / (1.0 - floor), 0.0, 1.0, out=ink)


def ink_bounding_box(ink):
    """(top, bottom, left, right) of the ink, or None when there is none worth reading."""
    mask = ink >= INK_LEVEL
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    if max(bottom - top, right - left) < MIN_INK_SIDE * max(ink.shape):
        return None
    return top, bottom, left, right


def _resize(array, size, resample=Image.Resampling.LANCZOS):
    image = Image.fromarray((np.clip(array, 0, 1) * 255).astype(np.uint8))
    return np.asarray(image.resize(size, resample), dtype=np.float32) / 255.0


def _scaled_size(shape, longer):
    height, width = shape
    scale = longer / max(height, width)
    return max(1, round(width * scale)), max(1, round(height * scale))


def pen_width(ink):
    """Typical stroke width in pixels: twice the ink's area over its outline's length."""
    mask = ink >= 0.5
    padded = np.pad(mask, 1)
    inner = mask & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    outline = np.count_nonzero(mask & ~inner)
    return 2.0 * np.count_nonzero(mask) / outline if outline else 0.0


def even_out_pen_width(cropped):
    """Resize the crop to WORK pixels and thin or thicken strokes towards MNIST's pen width."""
    work = _resize(cropped, _scaled_size(cropped.shape, WORK))
    width = pen_width(work)
    passes = int(np.clip(round((width - MNIST_STROKE_AT_WORK) / 2), -3, 4))
    if passes == 0 or min(work.shape) < 5:
        return work
    image = Image.fromarray((work * 255).astype(np.uint8))
    morph = ImageFilter.MinFilter(3) if passes > 0 else ImageFilter.MaxFilter(3)
    for _ in range(abs(passes)):
        image = image.filter(morph)
    return np.asarray(image, dtype=np.float32) / 255.0


def fit_into_box(ink):
    """Scale so that the longer side is BOX pixels, preserving the aspect ratio, anti-aliased."""
    return _resize(ink, _scaled_size(ink.shape, BOX))


def centre_by_mass(fitted):
    """Place `fitted` in a FRAME×FRAME field so that its centre of mass sits at the centre."""
    height, width = fitted.shape
    total = float(fitted.sum())
    rows, cols = np.arange(height), np.arange(width)
    com_y = float(fitted.sum(axis=1) @ rows) / total if total else (height - 1) / 2
    com_x = float(fitted.sum(axis=0) @ cols) / total if total else (width - 1) / 2
    top = int(np.clip(round(FRAME / 2 - com_y), 0, FRAME - height))
    left = int(np.clip(round(FRAME / 2 - com_x), 0, FRAME - width))
    frame = np.zeros((FRAME, FRAME), dtype=np.float32)
    frame[top : top + height, left : left + width] = fitted
    return frame
