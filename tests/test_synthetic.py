"""digitlab.synthetic: pen strokes drawn onto a canvas as the app receives a drawing."""

import numpy as np
import pytest

from digitlab.synthetic import (
    CANVAS,
    curl_tail,
    distort_strokes,
    draw_strokes,
    join_strokes,
    overshoot_end,
    place_drawing,
    render_strokes,
)

# A "9": a loop drawn anticlockwise on the page from its right side, then the stem straight down (y down).
LOOP = np.linspace(0, 2 * np.pi, 30)[:, None]
NINE = [np.concatenate([np.hstack([200 + 100 * np.cos(LOOP), 150 - 100 * np.sin(LOOP)]), [[300.0, 600]]])]
# A "7": a bar and a stem in one stroke, and a short crossbar as a second stroke (tablet units, y down).
SEVEN = [np.array([[0.0, 0.0], [300, 0], [150, 500]]), np.array([[120.0, 250], [260, 250]])]


def ink_box(gray, level=128):
    """(top, bottom, left, right) of the pixels darker than `level`."""
    rows, cols = np.flatnonzero((gray < level).any(axis=1)), np.flatnonzero((gray < level).any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


@pytest.mark.parametrize("seed", range(40))
def test_pen_size_and_margins_stay_in_their_ranges(seed):
    placed, pen = place_drawing(SEVEN, np.random.default_rng(seed))
    points = np.concatenate(placed)
    low, high = points.min(axis=0), points.max(axis=0)
    assert 10 <= pen <= 22
    longer = (high - low).max()
    assert 0.35 * CANVAS - 1e-6 <= longer <= 0.85 * CANVAS + 1e-6 or longer == pytest.approx(CANVAS - 2 * pen)
    assert low.min() >= pen - 1e-6 and high.max() <= CANVAS - pen + 1e-6
    assert np.allclose((high - low)[0] / (high - low)[1], 300 / 500)


def test_a_render_is_black_ink_on_a_white_opaque_canvas_within_the_margins():
    canvas = render_strokes(SEVEN, np.random.default_rng(0))
    assert canvas.shape == (CANVAS, CANVAS, 4) and canvas.dtype == np.uint8
    assert (canvas[..., 3] == 255).all() and canvas[..., :3].min() == 0 and canvas[0, 0, 0] == 255
    top, bottom, left, right = ink_box(canvas[..., 0])
    assert min(top, left, CANVAS - bottom, CANVAS - right) >= 10 / 2


def test_the_same_seed_draws_the_same_canvas_and_another_seed_does_not():
    first = render_strokes(SEVEN, np.random.default_rng(3), distort=True)
    assert np.array_equal(first, render_strokes(SEVEN, np.random.default_rng(3), distort=True))
    assert not np.array_equal(first, render_strokes(SEVEN, np.random.default_rng(4), distort=True))


def test_caps_are_round_half_a_pen_beyond_the_ends():
    gray = np.asarray(draw_strokes([np.array([[100.0, 140], [180, 140]])], pen=20))
    assert gray[140, 100 - 8] < 64 and gray[140, 100 - 12] > 192  # The cap reaches 10 px beyond the end...
    assert gray[140 - 8, 100 - 8] > 192  # ...but not into the corner, where a square cap would be.
    assert gray[140 - 8, 140] < 64 and gray[140 - 12, 140] > 192  # The line itself is 20 px wide.


def test_joints_are_round_not_mitred():
    # A sharp V: a mitred joint would stick out far below the vertex, a round one 10 px.
    gray = np.asarray(draw_strokes([np.array([[120.0, 60], [140, 200], [160, 60]])], pen=20))
    assert gray[200 + 8, 140] < 64 and gray[200 + 12, 140] > 192


def test_distortion_changes_the_drawing_a_little_and_keeps_its_strokes():
    distorted = distort_strokes(SEVEN, np.random.default_rng(0))
    assert [len(s) for s in distorted] == [len(s) for s in SEVEN]
    moved = max(np.abs(d - s).max() for d, s in zip(distorted, SEVEN))
    assert 0 < moved < 0.25 * 500


def test_joined_strokes_run_on_from_one_end_to_the_next_start():
    joined = join_strokes(SEVEN)
    assert len(joined) == 1 and np.array_equal(joined[0], np.concatenate(SEVEN))
    plain, pen = place_drawing(SEVEN, np.random.default_rng(5))
    placed, _ = place_drawing(joined, np.random.default_rng(5))
    # Halfway from the stem's foot to the crossbar's start lies ink only when the pen stayed down.
    x, y = np.rint((plain[0][-1] + plain[1][0]) / 2).astype(int)
    assert np.asarray(draw_strokes(plain, pen))[y, x] == 255
    assert np.asarray(draw_strokes(placed, pen))[y, x] == 0


def test_a_curled_tail_turns_the_foot_of_a_nine_to_the_left_and_keeps_its_height():
    for seed in range(20):
        (curled,) = curl_tail(NINE, np.random.default_rng(seed))
        tail = curled[len(NINE[0]) - 1 :]
        assert np.allclose(curled[: len(NINE[0]) - 1], NINE[0][:-1])
        assert tail[:, 0].min() < 300 - 40  # It hooks at least 10 % of the height towards the left.
        assert tail[:, 1].max() <= 600 + 0.01 * 550  # Its foot stays within 1 % of the height.
        assert np.isclose(curled[:, 1].min(), NINE[0][:, 1].min())


def test_a_larger_curl_radius_sweeps_the_tail_further_to_the_left():
    height, stem = 550, 300

    def reach(nine):
        """How far left of the stem the pen goes below the loop (which ends at y = 250)."""
        return stem - nine[nine[:, 1] > 250, 0].min()

    for seed in range(20):
        (small,) = curl_tail(NINE, np.random.default_rng(seed))
        (large,) = curl_tail(NINE, np.random.default_rng(seed), radius_limits=(0.2, 0.4))
        assert reach(large) > max(reach(small), 0.19 * height)
        assert np.isclose(large[:, 1].min(), NINE[0][:, 1].min()) and large[:, 1].max() <= 600 + 0.02 * height


def test_an_overshot_loop_runs_on_from_its_end_across_where_it_closed():
    zero = [NINE[0][:30]]  # The nine's loop alone, drawn from its right side round to where it began.
    for seed in range(20):
        (overshot,) = overshoot_end(zero, np.random.default_rng(seed))
        run_on = overshot[len(zero[0]) :]
        assert np.allclose(overshot[: len(zero[0])], zero[0])
        steps = np.linalg.norm(np.diff(overshot[len(zero[0]) - 1 :], axis=0), axis=1)
        assert 0.08 * 200 - 1e-3 <= steps.sum() <= 0.3 * 200 + 1e-3  # 8–30 % of the loop's height.
        assert run_on[:, 1].min() < 150  # The pen, going up at the end, goes on up past where the loop closed...
        assert (run_on[:, 0] > 300 - 0.3 * 200).all()  # ...and turns no more than it was turning.


def test_an_overshoot_longer_than_the_last_stroke_leaves_the_drawing_as_it_was():
    dot = [np.array([[0.0, 0.0], [0.0, 500.0]]), np.array([[10.0, 10.0], [12.0, 12.0]])]
    assert overshoot_end(dot, np.random.default_rng(0)) is dot


def test_a_drawing_whose_pen_does_not_end_going_down_keeps_its_tail():
    drawn_upwards = [NINE[0][::-1]]
    assert curl_tail(drawn_upwards, np.random.default_rng(0)) is drawn_upwards
    assert curl_tail(SEVEN, np.random.default_rng(0)) is SEVEN  # The crossbar, last, runs sideways.
