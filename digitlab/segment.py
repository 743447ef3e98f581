"""Splitting a picture of a handwritten number into pictures of its digits, left to right.

The ink is found as for a single digit (`preprocess.ink_map`) and cut into connected
components. Specks are dropped and the pieces of one digit are joined: pieces lying above one
another (a broken stroke, a 4 drawn in two strokes) and short fragments next to a digit (a 5's
separate top bar, the dots of a shaky line). Ink wider than one digit may hold touching digits:
candidate cuts wind through the gaps between strokes, as in seam carving, and every piece
between two cuts is a candidate digit. The reader (`inference.Classifier.read_number`) reads
them all in one model call and keeps the chain of pieces it is surest of. Each piece is a
small ink picture that `preprocess.to_mnist` reads like any drawing. This module never
imports Streamlit or the model.
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
ONE_DIGIT_ASPECT = 0.9  # Ink wider than this over its height may hold touching digits: cuts are looked for.
DIGIT_ASPECT = 0.8  # A handwritten digit's typical width over height (MNIST's median)…
CUTS_PER_DIGIT = 2  # …and how many candidate cuts are tried per digit that the ink's width could hold…
MAX_CUTS = 20  # …up to this many, which bounds the work on a long flat scribble.
CUT_SPACING = 0.15  # Candidate cuts lie at least this share of the ink's height apart…
MIN_INK_SHARE = 0.12  # …and leave at least this share of the ink on either side.
DIGIT_HEIGHT_SHARE = 0.65  # A digit cut from touching ink spans at least this share of the ink's height…
MAX_SPAN = 3  # …and spans at most this many of the gaps between candidate cuts.
WIDE_ASPECT = 1.5  # Only one MNIST digit in 200 is wider than 1.5 times its height…
WIDE_FALL = 0.15  # …so ink wider than that is less and less likely one digit: e-fold per 0.15 of aspect.
MARGIN = 0.15  # Each digit's picture has this share of its longer side as a blank margin.


@dataclass(frozen=True, eq=False)
class Piece:
    """A candidate digit: its ink box (x0, y0, x1, y1) in the picture, and its ink with a margin.

    Pieces compare and hash by identity, so that they can key the model's readings of them.
    """

    box: tuple[int, int, int, int]
    picture: np.ndarray

    @property
    def height(self):
        return self.box[3] - self.box[1]

    @property
    def shape_prior(self):
        """How plausible the piece's shape is for a single digit: 1, falling for ink much wider than tall."""
        aspect = (self.box[2] - self.box[0]) / self.height
        return float(np.exp(-max(0.0, aspect - WIDE_ASPECT) / WIDE_FALL))


@dataclass(frozen=True, eq=False)
class Blob:
    """Ink holding one digit or several touching ones, and the candidate digits between its possible cuts.

    Cut 0 is the ink's left edge and cut `edges - 1` its right edge; `pieces[(i, j)]` is the ink
    between cuts i and j. Every way to read the blob is a chain of pieces from the left edge to
    the right one; `pieces[(0, edges - 1)]`, the whole ink, is always there.
    """

    edges: int
    pieces: dict[tuple[int, int], Piece]

    def best_chain(self, score):
        """The chain of pieces, left to right, with the highest product of `score(piece)` × shape prior.

        `score` is the model's confidence in a piece, in [0, 1].
        """
        best = {0: (1.0, [])}
        for end in range(1, self.edges):
            chains = [
                (best[start][0] * score(piece) * piece.shape_prior, [*best[start][1], piece])
                for (start, stop), piece in self.pieces.items()
                if stop == end and start in best
            ]
            if chains:
                best[end] = max(chains, key=lambda chain: chain[0])
        return best[self.edges - 1][1]


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
    return [
        cut_into_pieces(ink, np.isin(labels[y0:y1, x0:x1], group.labels), group.box)
        for group in sorted(groups, key=lambda group: group.box[0] + group.box[2])
        for x0, y0, x1, y1 in [group.box]
    ]


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


def cut_into_pieces(ink, mask, box):
    """The Blob of one group: its `mask` at `box` cut along every candidate seam, each piece a candidate digit."""
    height, width = mask.shape
    edges = [np.zeros(height, np.intp), *candidate_seams(mask), np.full(height, width, np.intp)]
    whole = (0, len(edges) - 1)
    spans = [
        (start, stop) for start in range(whole[1]) for stop in range(start + 1, min(start + MAX_SPAN, whole[1]) + 1)
    ]
    pieces = {
        span: cut_piece(ink, mask, box, edges[span[0]], edges[span[1]]) for span in dict.fromkeys([whole, *spans])
    }
    kept = {
        span: piece
        for span, piece in pieces.items()
        if span == whole or (piece is not None and piece.height >= DIGIT_HEIGHT_SHARE * height)
    }
    return Blob(len(edges), kept)


def candidate_seams(mask):
    """Top-to-bottom paths that may part touching digits, left to right; none for ink as narrow as one digit.

    As in seam carving, dynamic programming finds, for every column, the path through it at
    mid-height that crosses the least ink while moving at most one column per row, so that a
    cut winds through the gap between two digits' strokes rather than straight through them.
    The cheapest paths, spread apart, are the candidates; each is a column per row.
    """
    height, width = mask.shape
    if width <= ONE_DIGIT_ASPECT * height:
        return []
    cost = mask.astype(np.float32)
    from_top, from_bottom = _accumulated(cost), _accumulated(cost[::-1])[::-1]
    middle = height // 2
    through = from_top[middle] + from_bottom[middle] - cost[middle]
    spacing = max(1, round(CUT_SPACING * height))
    wanted = min(MAX_CUTS, CUTS_PER_DIGIT * round(width / (DIGIT_ASPECT * height)))
    share_left = np.cumsum(mask.sum(axis=0)) / mask.sum()
    inner = np.flatnonzero((share_left >= MIN_INK_SHARE) & (share_left <= 1 - MIN_INK_SHARE))
    chosen = []
    for column in inner[np.argsort(through[inner], kind="stable")]:
        if all(abs(column - other) >= spacing for other in chosen):
            chosen.append(int(column))
            if len(chosen) == wanted:
                break
    chosen.sort()
    paths = np.empty((len(chosen), height), np.intp)
    paths[:, middle] = chosen
    for row in range(middle - 1, -1, -1):
        paths[:, row] = _cheapest_neighbour(from_top[row], paths[:, row + 1])
    for row in range(middle + 1, height):
        paths[:, row] = _cheapest_neighbour(from_bottom[row], paths[:, row - 1])
    return list(paths)


def _accumulated(cost):
    """The least cost of a path from the first row down to each pixel, moving at most one column per row."""
    total = cost.copy()
    for row in range(1, len(total)):
        above = total[row - 1]
        total[row] += np.minimum(above, np.minimum(np.r_[np.inf, above[:-1]], np.r_[above[1:], np.inf]))
    return total


def _cheapest_neighbour(costs, columns):
    """For each column, the one among it and its two neighbours where `costs` is least (straight on ties)."""
    near = np.clip(columns[:, None] + np.array([0, -1, 1]), 0, len(costs) - 1)
    return near[np.arange(len(columns)), np.argmin(costs[near], axis=1)]


def cut_piece(ink, mask, box, left, right):
    """The Piece of `ink` between the seams `left` and `right` (a column per row) of a group's `mask` at `box`.

    None when no ink lies between them.
    """
    x0, y0, _, _ = box
    columns = np.arange(mask.shape[1])
    between = (columns >= left[:, None]) & (columns < right[:, None])
    own = mask & between
    rows, cols = np.flatnonzero(own.any(axis=1)), np.flatnonzero(own.any(axis=0))
    if rows.size == 0:
        return None
    top, bottom, first, last = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    fringe = np.asarray(Image.fromarray(own.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
    crop = np.where(fringe & between, ink[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]], 0)[top:bottom, first:last]
    margin = max(2, round(MARGIN * max(crop.shape)))
    return Piece(
        (int(x0 + first), int(y0 + top), int(x0 + last), int(y0 + bottom)),
        np.pad(crop.astype(np.float32), margin),
    )
