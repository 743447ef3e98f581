"""Reading image files safely: every way a file can be unreadable becomes one clear message."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}
MAX_SIDE = 1024  # Larger pictures are shrunk first; a digit needs far fewer pixels than a photo has.


class ImageReadError(ValueError):
    """An input that is not a readable image; the message is meant for the user."""


def open_image(source):
    """Decode a path or file-like object into an RGB/RGBA/L array, shrinking huge photos.

    Pillow's own decompression-bomb limit guards against images that would exhaust memory.
    """
    try:
        with Image.open(source) as image:
            image.draft("L", (MAX_SIDE, MAX_SIDE))
            image.seek(0)
            image.load()
            image = ImageOps.exif_transpose(image)  # Phone photos are stored sideways with a rotation tag.
            if max(image.size) > MAX_SIDE:
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
            return _as_pixels(image)
    except FileNotFoundError:
        raise ImageReadError("no such file") from None
    except IsADirectoryError:
        raise ImageReadError("is a folder, not an image") from None
    except Image.DecompressionBombError as error:
        raise ImageReadError(f"too large to open safely ({error})") from None
    except UnidentifiedImageError:
        raise ImageReadError("not an image Pillow can read (PNG, JPEG, BMP, GIF, WebP)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(f"corrupt or truncated image ({error})") from None


def _as_pixels(image):
    if image.mode in ("L", "RGB", "RGBA"):
        return np.asarray(image)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if image.mode in ("I", "I;16", "F"):
        array = np.asarray(image, dtype=np.float32)
        return array / max(float(array.max()), 1.0)
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def find_images(paths):
    """Expand folders into the image files inside them (sorted); yields (path, error or None)."""
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            if not found:
                yield path, ImageReadError("folder holds no images (PNG, JPEG, BMP, GIF, WebP)")
            yield from ((p, None) for p in found)
        elif not path.exists():
            yield path, ImageReadError("no such file")
        else:
            yield path, None
