"""Pictures made from dataset digits, for checking the reader on drawings it never trained on."""

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CANVAS = 280
PEN_WIDTHS = (10.0, 22.0)  # Pixels, drawn uniformly: the range of the app's pen-width slider and then some.
DRAWING_SIZES = (0.35, 0.85)  # The drawing's longer side as a share of the canvas, drawn uniformly.
SUPERSAMPLING = 2  # Strokes are drawn at twice the size and shrunk, anti-aliased like a browser canvas.
SLANT, TURN, ASPECT, WOBBLE = 0.25, 0.15, 0.15, 0.02  # Limits of `distort_strokes` (shear, radians, log, share).
CURL_RADIUS, CURL_SWEEP = (0.1, 0.22), (0.5, 1.2)  # Limits of `curl_tail`: share of the height, half-turns.
OVERSHOOT = (0.08, 0.3)  # Limits of `overshoot_end`: the run-on as a share of the drawing's height.


def render_on_canvas(digit, rng, canvas=CANVAS):
    """Draw a 28×28 MNIST digit onto a white RGBA canvas at a random size, place and pen width."""
    side = int(rng.integers(canvas // 5, canvas - 20))
    ink = _change_pen_width(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), side, rng)
    page = Image.new("L", (canvas, canvas), 0)
    left, top = (int(v) for v in rng.integers(0, canvas - side + 1, size=2))
    page.paste(ink, (left, top))
    gray = 255 - np.asarray(page)
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)])


def _change_pen_width(ink, side, rng):
    """Thin or thicken the strokes of a digit drawn `side` pixels wide, at random, like another pen."""
    pen_change = int(rng.integers(-1, 3)) * max(1, side // 60)
    if not pen_change:
        return ink
    size = 2 * abs(pen_change) + 1
    return ink.filter(ImageFilter.MaxFilter(size) if pen_change > 0 else ImageFilter.MinFilter(size))


def render_number(digits, rng, width=3 * CANVAS, height=CANVAS, gap=(10, 60), cut=0):
    """Draw MNIST digits side by side on a white RGBA canvas, like a number written by hand.

    The digits share a random height (each ±10 %, shrunk until they fit), sit on a slightly wavy
    line, and `gap` (pixels, drawn at random; negative overlaps them) separates their ink.
    `cut` > 0 removes a band of that many rows through each digit at a random height, breaking
    its strokes. Returns the canvas and each digit's ink box (x0, y0, x1, y1), left to right.
    """
    digit_height = int(rng.integers(height * 2 // 5, height * 4 // 5))
    gaps = [int(g) for g in rng.integers(gap[0], gap[1] + 1, size=len(digits) - 1)]
    while True:
        inks = [_digit_ink(digit, digit_height, rng, cut) for digit in digits]
        spare = width - sum(ink.shape[1] for ink in inks) - sum(gaps)
        if spare >= 2 and max(ink.shape[0] for ink in inks) <= height - 2:
            break
        digit_height = int(digit_height * 0.85)
    page = np.zeros((height, width), np.uint8)
    left, boxes = int(rng.integers(1, spare)), []
    for ink, gap_after in zip(inks, [*gaps, 0]):
        ink_height, ink_width = ink.shape
        top = int(np.clip(rng.normal((height - ink_height) / 2, height / 40), 0, height - ink_height))
        area = page[top : top + ink_height, left : left + ink_width]
        np.maximum(area, ink, out=area)
        boxes.append((left, top, left + ink_width, top + ink_height))
        left += ink_width + gap_after
    gray = 255 - page
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)]), boxes


def _digit_ink(digit, digit_height, rng, cut):
    """An MNIST digit scaled so that its ink is about `digit_height` pixels tall, cropped to its ink."""
    side = round(28 * digit_height * rng.uniform(0.9, 1.1) / 20)  # MNIST ink is at most 20 of 28 pixels tall.
    ink = _change_pen_width(Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC), side, rng)
    mask = np.asarray(ink) > 32
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    ink = np.array(ink)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if cut:
        top = int(rng.integers(ink.shape[0] * 3 // 10, ink.shape[0] * 7 // 10))
        ink[top : top + cut] = 0
    return ink


def render_strokes(drawing, rng, canvas=CANVAS, distort=False):
    """Draw pen strokes (a list of (K, 2) x, y arrays) onto a white RGBA canvas as the app receives a drawing.

    Black ink, a random pen width, size and place, round caps and joins; `distort` first redraws
    the strokes by a slightly different hand (`distort_strokes`).
    """
    strokes = distort_strokes(drawing, rng) if distort else drawing
    placed, pen = place_drawing(strokes, rng, canvas)
    gray = np.asarray(draw_strokes(placed, pen, canvas))
    return np.dstack([gray, gray, gray, np.full_like(gray, 255)])


def place_drawing(strokes, rng, canvas=CANVAS):
    """Strokes scaled and moved into canvas pixels, and the pen width.

    The pen is 10–22 px wide; the drawing's longer side is 35–85 % of the canvas (less when the
    pen's margins would not fit), and it lies at least one pen width from every edge.
    """
    pen = rng.uniform(*PEN_WIDTHS)
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    side = min(rng.uniform(*DRAWING_SIZES) * canvas, canvas - 2 * pen)
    scale = side / max(float((high - low).max()), 1e-6)
    extent = (high - low) * scale
    origin = np.array([rng.uniform(pen, max(pen, canvas - pen - length)) for length in extent])
    return [(stroke - low) * scale + origin for stroke in strokes], pen


def draw_strokes(strokes, pen, canvas=CANVAS):
    """Black strokes `pen` pixels wide on a white `canvas`-square grey image, round at every end and joint."""
    page = Image.new("L", (canvas * SUPERSAMPLING, canvas * SUPERSAMPLING), 255)
    draw = ImageDraw.Draw(page)
    radius = pen * SUPERSAMPLING / 2
    for stroke in strokes:
        points = [tuple(point) for point in stroke * SUPERSAMPLING]
        if len(points) > 1:
            draw.line(points, fill=0, width=round(2 * radius))
        # A disc at every point makes the caps and the joins round, as the canvas's pen draws them.
        for x, y in points:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)
    return page.resize((canvas, canvas), Image.Resampling.BOX)


def join_strokes(strokes):
    """The drawing as one stroke, by a writer who never lifts the pen: each stroke runs on to the next one's start."""
    return [np.concatenate(strokes)]


def distort_strokes(strokes, rng):
    """The same drawing by a slightly different hand: a random slant, turn, aspect and a smooth wobble of the pen."""
    points = np.concatenate(strokes)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    size = float((points.max(axis=0) - points.min(axis=0)).max()) or 1.0
    angle, stretch = rng.uniform(-TURN, TURN), np.exp(rng.uniform(-ASPECT, ASPECT))
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = turn @ np.array([[stretch, rng.uniform(-SLANT, SLANT)], [0.0, 1.0 / stretch]])
    return [(stroke - centre) @ matrix.T + centre + _wobble(stroke, size, rng) for stroke in strokes]


def _wobble(stroke, size, rng):
    """A smooth random displacement along a stroke, up to WOBBLE of the drawing's size on each axis."""
    steps = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(steps)]) / size
    frequency = rng.uniform(0.5, 2.0, size=(1, 2))
    phase = rng.uniform(0, 2 * np.pi, size=(1, 2))
    return WOBBLE * size * np.sin(2 * np.pi * frequency * along[:, None] + phase)


def curl_tail(strokes, rng, radius_limits=CURL_RADIUS):
    """The drawing with its last stroke ending in a curl to the pen's right, like a 9 whose tail hooks back.

    The pen's last stretch is cut by about the curl's radius and replaced by an arc of a random
    radius (a share of the drawing's height within `radius_limits`) and sweep that turns from the
    pen's direction towards its right (left on the page for a tail drawn downwards), so the drawing
    keeps about its height. A drawing whose pen does not end going down (a 9 drawn from its foot up)
    or whose last stroke is too short is left as it was.
    """
    *others, last = strokes
    points = np.concatenate(strokes)
    radius = rng.uniform(*radius_limits) * float(np.ptp(points[:, 1]) or 1.0)
    kept = _cut_end(last, radius)
    if kept is None:
        return strokes
    heading = kept[-1] - kept[max(0, len(kept) - 4)]
    heading = heading / (np.linalg.norm(heading) or 1.0)
    if heading[1] < 0.5:
        return strokes
    right = np.array([-heading[1], heading[0]])  # On the page (y down) this turns a downward pen to the left.
    sweep = rng.uniform(*CURL_SWEEP) * np.pi
    angles = np.linspace(0.0, sweep, 16)[:, None]
    arc = kept[-1] + radius * (right + np.sin(angles) * heading - np.cos(angles) * right)
    return [*others, np.concatenate([kept, arc[1:]]).astype(np.float32)]


def overshoot_end(strokes, rng):
    """The drawing with its last stroke running on past its end, as a hurried pen overshoots where a loop closes.

    The pen keeps going for 8–30 % of the drawing's height, in the direction it was heading and
    turning at up to the rate it turned over that length before its end: the loop of a 6 or an 8
    runs on across the stem, a 0 overlaps itself, a stem or a bar comes out longer. A last stroke
    shorter than the run-on is left as it was.
    """
    *others, last = strokes
    points = np.concatenate(strokes)
    length = rng.uniform(*OVERSHOOT) * float(np.ptp(points[:, 1]) or 1.0)
    before, middle = _cut_end(last, length), _cut_end(last, length / 2)
    if before is None:
        return strokes
    first_half, second_half = middle[-1] - before[-1], last[-1] - middle[-1]
    heading = np.arctan2(second_half[1], second_half[0])
    turned = (heading - np.arctan2(first_half[1], first_half[0]) + np.pi) % (2 * np.pi) - np.pi
    angles = heading + rng.uniform(0.0, 1.0) * turned * np.linspace(0.0, 2.0, 9)[1:]
    steps = length / 8 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return [*others, np.concatenate([last, last[-1] + np.cumsum(steps, axis=0)]).astype(np.float32)]


def _cut_end(stroke, length):
    """The stroke without its last `length` of ink, cut between two points; None if it is not longer."""
    steps = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    after = np.concatenate([np.cumsum(steps[::-1])[::-1], [0.0]])  # The ink after each point.
    longer = np.flatnonzero(after > length)
    if len(longer) == 0:
        return None
    last = longer[-1]
    share = (after[last] - length) / steps[last]
    return np.vstack([stroke[: last + 1], stroke[last] + share * (stroke[last + 1] - stroke[last])])
