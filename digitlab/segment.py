"""Splitting a picture of a handwritten number into pictures of its digits, left to right.

The ink is found as for a single digit (`preprocess.ink_map`) and cut into connected
components. Specks are dropped; the pieces of one digit (a broken stroke, a 5's separate top
bar, the dots of a shaky line) are joined when they lie above one another; a component much
wider than a digit (digits that touch) is cut at the columns with the least ink near the
expected boundaries. Each digit comes back as a small ink picture that `preprocess.to_mnist`
reads like any drawing. Ink that may hold touching digits comes with several ways to cut it,
so that the reader can keep the one whose digits the model is surest of
(`inference.Classifier.read_number`). This module never imports Streamlit or the model.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from digitlab.preprocess import INK_LEVEL, MIN_INK_SIDE, ink_map

MERGE_OVERLAP = 0.5  # Pieces sharing half the narrower one's columns belong to one digit…
SIDE_BY_SIDE = 0.7  # …unless both are this tall, relative to the two together: then they are two digits.
FRAGMENT_SHARE = 0.5  # Ink less tall than this share of the tallest digit is part of the nearest digit…
NEAR_SHARE = 0.35  # …when it lies within this share of the tallest digit's height of it.
SPECK_SHARE = 0.15  # What is left under this share of the tallest digit's height is a speck.
DIGIT_ASPECT = 0.8  # A handwritten digit's typical width over height (MNIST's median).
SPLIT_ASPECT = 1.25  # Ink wider than this over its height likely holds touching digits…
ONE_DIGIT_ASPECT = 0.9  # …and ink wider than this may: other ways to cut it are offered too.
CUT_HEIGHT_SHARE = 0.65  # A cut must leave pieces at least this share of the ink's height (whole digits).
CUT_WINDOW = 0.3  # A cut is looked for within this share of a digit's width around the expected boundary.
MARGIN = 0.15  # Each digit's picture has this share of its longer side as a blank margin.


@dataclass(frozen=True)
class Piece:
    """One digit of the number: its ink box (x0, y0, x1, y1) in the picture, and its ink with a margin."""

    box: tuple[int, int, int, int]
    picture: np.ndarray

    @property
    def height(self):
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Blob:
    """Ink holding one digit or several touching ones, with the ways to cut it into digits, likeliest first."""

    splits: tuple[tuple[Piece, ...], ...]


@dataclass(frozen=True)
class _Group:
    """Connected components taken for one digit (or touching digits): their box and labels."""

    box: tuple[int, int, int, int]
    labels: tuple[int, ...]

    @property
    def height(self):
        return self.box[3] - self.box[1]

    @property
    def width(self):
        return self.box[2] - self.box[0]

    def joined(self, other):
        (a0, b0, a1, b1), (c0, d0, c1, d1) = self.box, other.box
        return _Group((min(a0, c0), min(b0, d0), max(a1, c1), max(b1, d1)), self.labels + other.labels)

    def distance(self, other):
        """The gap between the two boxes in pixels (0 when they overlap)."""
        dx = max(other.box[0] - self.box[2], self.box[0] - other.box[2], 0)
        dy = max(other.box[1] - self.box[3], self.box[1] - other.box[3], 0)
        return float(np.hypot(dx, dy))


def blobs(image):
    """The ink of a handwritten number as Blobs, left to right; an empty list when there is no ink."""
    ink = ink_map(image)
    labels, boxes = connected_components(ink >= INK_LEVEL)
    large_enough = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= MIN_INK_SIDE * min(ink.shape)
    groups = [_Group(tuple(int(v) for v in box[:4]), (int(box[4]),)) for box in boxes[large_enough]]
    groups = drop_specks(attach_fragments(merge_stacked(groups)))
    found = []
    for group in sorted(groups, key=lambda group: group.box[0] + group.box[2]):
        x0, y0, x1, y1 = group.box
        mask = np.isin(labels[y0:y1, x0:x1], group.labels)
        splits = [_cut(ink, mask, group.box, columns) for columns in column_splits(mask)]
        found.append(Blob(tuple(split for split in splits if split is not None)))
    return found


def connected_components(mask):
    """Label 8-connected ink: (labels, boxes) where labels is 0 off the ink and k + 1 on component k.

    `boxes` holds one row (x0, y0, x1, y1, label) per component. Runs of ink along each row are
    found with NumPy and joined with the runs they touch in the next row.
    """
    height, width = mask.shape
    steps = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(steps == 1)
    ends = np.nonzero(steps == -1)[1]
    stride = width + 2
    first = np.searchsorted(rows * stride + ends, (rows + 1) * stride + starts, side="left")
    last = np.searchsorted(rows * stride + starts, (rows + 1) * stride + ends, side="right")
    touching = np.maximum(last - first, 0)
    parent = list(range(len(rows)))

    def root(run):
        while parent[run] != run:
            parent[run] = parent[parent[run]]
            run = parent[run]
        return run

    for run, below in zip(np.repeat(np.arange(len(rows)), touching), _ranges(first, touching)):
        parent[root(below)] = root(run)
    roots = np.array([root(run) for run in range(len(rows))], dtype=np.intp)
    found, component = np.unique(roots, return_inverse=True)
    count = len(found)
    boxes = np.zeros((count, 5), np.intp)
    boxes[:, 0], boxes[:, 1] = width, height
    np.minimum.at(boxes[:, 0], component, starts)
    np.minimum.at(boxes[:, 1], component, rows)
    np.maximum.at(boxes[:, 2], component, ends)
    np.maximum.at(boxes[:, 3], component, rows + 1)
    boxes[:, 4] = np.arange(1, count + 1)
    lengths = ends - starts
    labels = np.zeros(mask.shape, np.int32)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    labels[np.repeat(rows, lengths), np.repeat(starts, lengths) + offsets] = np.repeat(component + 1, lengths)
    return labels, boxes


def _ranges(first, counts):
    """All integers in [first[i], first[i] + counts[i]) for every i, concatenated."""
    return np.repeat(first, counts) + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)


def merge_stacked(groups):
    """Join groups lying above one another (sharing most columns) that are not two digits side by side."""
    while len(groups) > 1:
        pair = _best_pair_to_merge(np.array([group.box for group in groups]))
        if pair is None:
            break
        first, second = groups[pair[0]], groups[pair[1]]
        groups = [group for i, group in enumerate(groups) if i not in pair] + [first.joined(second)]
    return groups


def _best_pair_to_merge(boxes):
    """The indices of the two boxes sharing the most columns that make one digit, or None."""
    x0, y0, x1, y1 = (boxes[:, i] for i in range(4))
    widths, heights = np.maximum(x1 - x0, 1), y1 - y0
    overlap = (np.minimum.outer(x1, x1) - np.maximum.outer(x0, x0)) / np.minimum.outer(widths, widths)
    together = np.maximum.outer(y1, y1) - np.minimum.outer(y0, y0)
    overlap[(np.minimum.outer(heights, heights) >= SIDE_BY_SIDE * together) | (overlap < MERGE_OVERLAP)] = 0
    np.fill_diagonal(overlap, 0)
    best = np.unravel_index(np.argmax(overlap), overlap.shape)
    return (int(best[0]), int(best[1])) if overlap[best] > 0 else None


def attach_fragments(groups):
    """Join each short fragment (a broken-off bar, the dots of a shaky stroke) to the digit nearest to it."""
    if not groups:
        return groups
    tallest = max(group.height for group in groups)
    settled = []
    while groups:
        fragments = [group for group in groups if group.height < FRAGMENT_SHARE * tallest]
        if not fragments:
            break
        fragment = min(fragments, key=lambda group: group.width * group.height)
        others = [group for group in groups if group is not fragment]
        nearest = min(others + settled, key=fragment.distance, default=None)
        if nearest is None or fragment.distance(nearest) > NEAR_SHARE * tallest:
            settled.append(fragment)
            groups = others
        elif nearest in settled:
            settled = [group for group in settled if group is not nearest]
            groups = [*others, fragment.joined(nearest)]
        else:
            groups = [group for group in others if group is not nearest] + [fragment.joined(nearest)]
    return groups + settled


def drop_specks(groups):
    """The groups whose longer side reaches SPECK_SHARE of the tallest group's height."""
    tallest = max((group.height for group in groups), default=0)
    return [group for group in groups if max(group.width, group.height) >= SPECK_SHARE * tallest]


def likeliest_count(width, height):
    """How many digits ink this wide and tall holds, judged by its shape alone."""
    return max(1, round(width / (DIGIT_ASPECT * height))) if width > SPLIT_ASPECT * height else 1


def column_splits(mask):
    """Ways to cut `mask` (a group's ink) into digits, as lists of column ranges, the likeliest by shape first.

    Leaving it whole is always among them, so that a blob never runs out of ways.
    """
    height, width = mask.shape
    likeliest = likeliest_count(width, height)
    counts = [likeliest, likeliest - 1, likeliest + 1] if width > ONE_DIGIT_ASPECT * height else [likeliest]
    counts = list(dict.fromkeys(count for count in [*counts, 1] if count >= 1))  # Whole, as a last resort.
    profile = mask.sum(axis=0)
    return [_columns(profile, count) for count in counts]


def _columns(profile, count):
    """`count` column ranges, cut at the columns with the least ink near the evenly spaced boundaries."""
    width = len(profile)
    step, window = width / count, max(1, round(CUT_WINDOW * width / count))
    edges = [0]
    for k in range(1, count):
        expected = round(k * step)
        low, high = max(edges[-1] + 1, expected - window), min(width - 1, expected + window + 1)
        if low >= high:
            continue
        columns = np.arange(low, high)
        edges.append(int(columns[np.lexsort((np.abs(columns - expected), profile[low:high]))[0]]))
    return list(zip(edges, [*edges[1:], width]))


def _cut(ink, mask, box, columns):
    """The Pieces of one way to cut a group, or None when a cut leaves a piece that is no whole digit."""
    pieces = [cut_piece(ink, mask, box, left, right) for left, right in columns]
    if len(pieces) > 1 and any(piece is None or piece.height < CUT_HEIGHT_SHARE * mask.shape[0] for piece in pieces):
        return None
    return tuple(pieces)


def cut_piece(ink, mask, box, left, right):
    """The Piece of `ink` under columns [left, right) of a group's `mask` at `box`, or None if it holds no ink."""
    x0, y0, _, _ = box
    own = np.zeros_like(mask)
    own[:, left:right] = mask[:, left:right]
    rows, cols = np.flatnonzero(own.any(axis=1)), np.flatnonzero(own.any(axis=0))
    if rows.size == 0:
        return None
    top, bottom, first, last = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    fringe = np.asarray(Image.fromarray(own.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
    fringe[:, :left] = fringe[:, right:] = False
    crop = np.where(fringe, ink[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]], 0)[top:bottom, first:last]
    margin = max(2, round(MARGIN * max(crop.shape)))
    return Piece(
        (int(x0 + first), int(y0 + top), int(x0 + last), int(y0 + bottom)),
        np.pad(crop.astype(np.float32), margin),
    )
