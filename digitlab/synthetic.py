"""Pictures made from dataset digits, for checking the reader on drawings it never trained on."""

import gzip
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

CANVAS = 280


def render_on_canvas(digit, rng, canvas=CANVAS):
    """Draw a 28×28 MNIST digit onto a white RGBA canvas at a random size, place and pen width."""
    side = int(rng.integers(canvas // 5, canvas - 20))
    ink = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    pen_change = int(rng.integers(-1, 3)) * max(1, side // 60)
    if pen_change:
        size = 2 * abs(pen_change) + 1
        ink = ink.filter(ImageFilter.MaxFilter(size) if pen_change > 0 else ImageFilter.MinFilter(size))
    page = Image.new("L", (canvas, canvas), 0)
    left, top = (int(v) for v in rng.integers(0, canvas - side + 1, size=2))
    page.paste(ink, (left, top))
    gray = 255 - np.asarray(page)
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)])


def load_usps(path):
    """USPS digits from a `zip.train.gz`/`zip.test.gz` file: (N, 16, 16) ink in [0, 1] and labels."""
    with gzip.open(Path(path), "rt") as file:
        rows = np.loadtxt(file, dtype=np.float32)
    labels = rows[:, 0].astype(np.int64)
    ink = (rows[:, 1:].reshape(-1, 16, 16) + 1.0) / 2.0
    return ink, labels


def usps_as_scan(ink, side=160):
    """A USPS digit upscaled to `side`×`side` pixels, dark ink on white, as an 8-bit grey image."""
    image = Image.fromarray((255 * (1.0 - ink)).astype(np.uint8))
    return image.resize((side, side), Image.Resampling.BICUBIC)
