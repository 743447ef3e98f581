"""digitlab.data: where MNIST and USPS come from, what a recipe trains on, and a clear error for each bad file."""

import dataclasses

import numpy as np
import pytest

from digitlab import data
from digitlab.data import DatasetError, load_mnist, load_usps, training_set
from digitlab.preprocess import to_mnist
from digitlab.training import source_weight
from digitlab.zoo import RECIPES
from tests.conftest import small_npz


def test_loads_the_real_mnist_with_keras_layout(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(x_train.mean() / 255 - 0.1307) < 1e-3


def test_explicit_path_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "nowhere.npz"))
    (x_train, _), _ = load_mnist(small_npz(tmp_path / "small.npz"))
    assert x_train.shape == (50, 28, 28)


def test_environment_variable_is_used_when_no_path_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_NPZ", str(small_npz(tmp_path / "small.npz")))
    (_, _), (x_test, _) = load_mnist()
    assert x_test.shape == (20, 28, 28)


def test_offline_without_a_file_tells_the_user_to_set_mnist_npz(monkeypatch):
    monkeypatch.delenv("MNIST_NPZ", raising=False)

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr("keras.utils.get_file", no_network)
    with pytest.raises(DatasetError, match="MNIST_NPZ"):
        load_mnist()


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.write_text("not a zip"), p)[1], "not a readable .npz"),
        (lambda p: small_npz(p, y_test=None), "missing arrays y_test"),
        (lambda p: small_npz(p, x_train=np.zeros((50, 28, 28), np.float32)), "expected uint8"),
        (lambda p: small_npz(p, x_train=np.zeros((50, 32, 32), np.uint8)), "expected uint8"),
        (lambda p: small_npz(p, y_train=np.full(50, 12, np.uint8)), "labels outside 0-9"),
        (lambda p: small_npz(p, y_train=np.zeros(49, np.uint8)), "counts differ"),
    ],
    ids=["missing", "not-npz", "missing-array", "float-pixels", "wrong-size", "bad-labels", "count-mismatch"],
)
def test_bad_files_give_one_clear_line_naming_the_file(tmp_path, make_file, message):
    path = make_file(tmp_path / "mnist.npz")
    with pytest.raises(DatasetError, match=message) as caught:
        load_mnist(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_modified_copy_of_mnist_fails_the_hash_check(mnist, tmp_path):
    (x_train, y_train), (x_test, y_test) = mnist
    tampered = x_test.copy()
    tampered[0, 0, 0] ^= 1
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=tampered, y_test=y_test)
    with pytest.raises(DatasetError, match="x_test differ from the official MNIST"):
        load_mnist(path)


def test_pickled_arrays_are_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.array([object()]), y_train=np.zeros(1), x_test=np.zeros(1), y_test=np.zeros(1))
    with pytest.raises(DatasetError, match="not a readable .npz"):
        load_mnist(path)


def test_array_hashes_match_the_published_ones(mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    hashes = data.array_hashes({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test})
    assert hashes == data.MNIST_SHA256


def test_usps_training_file_has_its_published_counts_and_ink_in_range(usps_folder):
    ink, labels = load_usps(usps_folder / "zip.train.gz")
    assert ink.shape == (7291, 16, 16) and labels.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]
    assert ink.min() == 0.0 and ink.max() == 1.0


def write_gz(path, text):
    import gzip

    with gzip.open(path, "wt") as file:
        file.write(text)
    return path


@pytest.mark.parametrize(
    ("make_file", "message"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.write_text("plain text"), p)[1], "not a readable USPS file"),
        (lambda p: write_gz(p, "3 " + " ".join(["-1"] * 100) + "\n"), "256 pixel values"),
        (lambda p: write_gz(p, "12 " + " ".join(["-1"] * 256) + "\n"), "label 0-9"),
        (lambda p: write_gz(p, "3 " + " ".join(["ink"] * 256) + "\n"), "not a readable USPS file"),
    ],
    ids=["missing", "not-gzip", "short-line", "bad-label", "not-numbers"],
)
def test_bad_usps_files_give_one_clear_line_naming_the_file(tmp_path, make_file, message):
    path = make_file(tmp_path / "zip.train.gz")
    with pytest.raises(DatasetError, match=message) as caught:
        load_usps(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


@pytest.fixture(scope="module")
def with_usps(mnist, usps_folder):
    return training_set(mnist[0], True, usps_folder=usps_folder)


def difference_up_to_a_pixel(image, reference):
    """Mean absolute difference of two inputs of one digit at the best of nine one-pixel shifts.

    Centring by mass may round the same digit a pixel either way.
    """
    image, reference = np.asarray(image, np.float64), np.asarray(reference, np.float64)
    shifts = [(down, right) for down in (-1, 0, 1) for right in (-1, 0, 1)]
    return min(np.abs(np.roll(image, shift, axis=(0, 1)) - reference).mean() for shift in shifts)


def test_a_bitmap_filling_its_frame_reads_as_if_it_had_paper_around_it():
    # A 5 whose strokes run along all four edges of its 16×16 frame, as Semeion's and USPS's often do.
    five = np.zeros((16, 16), np.float32)
    five[:2, :], five[7:9, :], five[14:, :] = 1, 1, 1
    five[:8, :2], five[8:, 14:] = 1, 1
    (cropped,) = data.bitmaps_in_mnist_form(five[np.newaxis])
    (padded,) = data.bitmaps_in_mnist_form(np.pad(five, 8)[np.newaxis])
    assert difference_up_to_a_pixel(cropped, padded) < 5
    assert (cropped > 128).mean() > 0.15 and ((cropped > 40) & (cropped < 200)).mean() < 0.15


def test_a_tight_crop_of_a_scanned_digit_reads_like_the_scan_with_paper_around_it(usps_folder):
    # A user's crop often cuts the paper off at the ink. Each of USPS's digits touches its frame, so
    # its tight crop is read as a photo under uneven light; it must still give the same input.
    ink, _ = load_usps(data.usps_test_file(usps_folder))
    margin = round(data.SCAN_MARGIN * 160)
    differences = []
    for digit in ink[:600]:
        scan = data.usps_as_scan(digit, side=160)
        padded, tight = to_mnist(scan), to_mnist(scan.crop((margin, margin, margin + 160, margin + 160)))
        differences.append(difference_up_to_a_pixel(tight, padded))
    assert np.mean(differences) < 4 / 255 and np.max(differences) < 20 / 255


def test_the_training_set_is_mnist_then_usps_in_mnist_form(mnist, with_usps):
    (x, y), sources = with_usps
    (x_mnist, y_mnist), _ = mnist
    assert x.shape == (67291, 28, 28) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert np.array_equal(x[:60000], x_mnist) and np.array_equal(y[:60000], y_mnist)
    assert [(s["source"], s["digits"]) for s in sources] == [("MNIST train", 60000), ("USPS train", 7291)]
    assert sources[0]["sha256"] == data.MNIST_SHA256["x_train"]
    usps = x[60000:].astype(np.float64)
    longer_side = np.maximum(ink_extent(usps, axis=2), ink_extent(usps, axis=1))
    assert longer_side.min() >= 18 and longer_side.max() <= 20
    mass = usps.sum(axis=(1, 2))
    assert np.all(np.abs(usps.sum(axis=2) @ np.arange(28) / mass - 14) <= 1)
    assert np.all(np.abs(usps.sum(axis=1) @ np.arange(28) / mass - 14) <= 1)


def ink_extent(images, axis):
    """Rows (axis=2) or columns (axis=1) from the first to the last that hold ink, per image."""
    lines = images.any(axis=axis)
    return lines.shape[1] - lines[:, ::-1].argmax(axis=1) - lines.argmax(axis=1)


def test_a_limit_keeps_mnist_first_and_reads_usps_only_when_needed(mnist, usps_folder, tmp_path):
    (x, _), sources = training_set(mnist[0], True, limit=500, usps_folder=tmp_path / "nowhere")
    assert len(x) == 500 and [s["source"] for s in sources] == ["MNIST train"]
    (x, y), sources = training_set(mnist[0], True, limit=60100, usps_folder=usps_folder)
    assert len(x) == 60100 and [s["digits"] for s in sources] == [60000, 100]


def test_a_usps_hold_out_leaves_the_last_training_digits_for_validation(mnist, usps_folder, with_usps):
    (x, y), sources = training_set(mnist[0], True, usps_folder=usps_folder, usps_held_out=1000)
    assert len(x) == 66291 and sources[1] == {
        **sources[1],
        "source": "USPS train (the last 1000 held out)",
        "digits": 6291,
    }
    held_x, held_y = data.usps_validation_digits(usps_folder, 1000)
    (all_x, all_y), _ = with_usps
    assert np.array_equal(x, all_x[:66291]) and np.array_equal(held_x, all_x[66291:])
    assert np.array_equal(held_y, all_y[66291:])


def test_an_mnist_hold_out_leaves_the_last_training_digits_for_validation(mnist, usps_folder):
    (x, y), sources = training_set(mnist[0], True, usps_folder=usps_folder, mnist_held_out=5000)
    assert sources[0] == {**sources[0], "source": "MNIST train (the last 5000 held out)", "digits": 55000}
    held_x, held_y = data.mnist_validation_digits(mnist[0], 5000)
    assert np.array_equal(np.concatenate([x[:55000], held_x]), mnist[0][0])
    assert np.array_equal(np.concatenate([y[:55000], held_y]), mnist[0][1])
    assert len(x) == 55000 + 7291


def test_mnist_only_recipes_never_read_usps(mnist, tmp_path):
    (x, _), sources = training_set(mnist[0], False, usps_folder=tmp_path / "nowhere")
    assert len(x) == 60000 and len(sources) == 1


def test_usps_offline_without_a_folder_tells_the_user_to_set_usps_dir(mnist, monkeypatch):
    monkeypatch.delenv("USPS_DIR", raising=False)

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr("keras.utils.get_file", no_network)
    with pytest.raises(DatasetError, match="USPS_DIR=../shared/data/usps"):
        training_set(mnist[0], True)


def test_uji_has_1200_drawings_two_per_digit_from_each_of_60_writers(writers_folder):
    drawings, labels, writers = data.load_uji(writers_folder / data.UJI_FILE)
    assert len(drawings) == 1200 and np.bincount(labels).tolist() == [120] * 10
    assert np.bincount(writers)[1:].tolist() == [20] * 60
    assert all(stroke.ndim == 2 and stroke.shape[1] == 2 for drawing in drawings for stroke in drawing)


def test_optdigits_and_semeion_have_their_published_counts(writers_folder):
    counts = [len(data.load_optdigits(writers_folder / name)[1]) for name in data.OPTDIGITS_FILES]
    assert counts == [1934, 946, 1797]
    ink, labels = data.load_semeion(writers_folder / data.SEMEION_FILE)
    assert ink.shape == (1593, 16, 16) and set(np.unique(ink)) == {0.0, 1.0}
    assert np.bincount(labels).tolist() == [161, 162, 159, 159, 161, 159, 161, 158, 155, 158]


def test_the_held_out_writers_are_never_training_writers(writers_folder):
    _, _, writers, _ = data.uji_training_digits(writers_folder)
    assert len(writers) == 800 and writers.max() == 40
    assert not set(data.UJI_TRAINING_WRITERS) & set(data.UJI_TEST_WRITERS)
    with pytest.raises(ValueError, match="held out"):
        data.uji_training_digits(writers_folder, range(35, 45))


@pytest.fixture(scope="module")
def with_writers(mnist, writers_folder):
    x_mnist, y_mnist = mnist[0]
    spec = data.WriterDigits(writers_folder, uji_renders=2)
    return training_set((x_mnist[:100], y_mnist[:100]), False, writers=spec)


def test_the_training_set_adds_the_training_writers_and_the_bitmaps(with_writers, writers_folder):
    (x, y), sources = with_writers
    names = [(s["source"], s["digits"]) for s in sources]
    assert names == [
        ("MNIST train", 100),
        ("UJI pen digits W01–W40 (2 renders each)", 1600),
        ("optdigits", 4677),
        ("Semeion", 1593),
    ]
    assert x.shape == (100 + 1600 + 4677 + 1593, 28, 28) and x.dtype == np.uint8
    assert all(len(s["sha256"]) == 64 for s in sources)
    weighed = dataclasses.replace(RECIPES["cnn"], bitmap_weight=3.0)
    assert [source_weight(weighed, s["source"]) for s in sources] == [1, 1, 3, 3]
    _, uji_labels, uji_writers, _ = data.uji_training_digits(writers_folder)
    assert np.array_equal(y[100:1700], np.repeat(uji_labels, 2)) and uji_writers.max() == 40
    longer_side = np.maximum(ink_extent(x[100:], axis=2), ink_extent(x[100:], axis=1))
    assert longer_side.min() >= 18 and longer_side.max() <= 20


def test_held_out_bitmaps_are_the_writers_that_training_then_leaves_out(mnist, writers_folder):
    x_mnist, y_mnist = mnist[0]
    spec = data.WriterDigits(writers_folder, uji_renders=1, bitmaps_held_out=True)
    (x, _), sources = training_set((x_mnist[:100], y_mnist[:100]), False, writers=spec)
    held_out, labels = data.held_out_bitmaps(writers_folder)
    assert held_out.shape == (1797 + 1593, 28, 28) and held_out.dtype == np.uint8
    assert np.bincount(labels, minlength=10).min() > 300
    assert [s["digits"] for s in sources] == [100, 800, 1934 + 946]
    weighed = dataclasses.replace(RECIPES["cnn"], bitmap_weight=3.0)
    assert [source_weight(weighed, s["source"]) for s in sources] == [1, 1, 3]
    trained = {image.tobytes() for image in x}
    assert sum(image.tobytes() in trained for image in held_out) < 10


def test_a_share_of_the_copies_is_drawn_without_lifting_the_pen(writers_folder):
    drawings, _, _, ids = data.uji_training_digits(writers_folder, range(1, 6))
    plain = data.drawn_digits(drawings, ids, 4, seed=1)
    joined = data.drawn_digits(drawings, ids, 4, seed=1, joined=0.5)
    changed = (plain != joined).any(axis=(1, 2)).reshape(len(drawings), 4)
    several_strokes = np.array([len(drawing) > 1 for drawing in drawings])
    assert not changed[~several_strokes].any()
    assert 0.3 < changed[several_strokes].mean() < 0.7
    assert np.array_equal(data.drawn_digits(drawings, ids, 4, seed=1, joined=0.0), plain)


def test_a_share_of_the_copies_of_nines_ends_in_a_curled_tail(writers_folder):
    drawings, labels, _, ids = data.uji_training_digits(writers_folder, range(1, 11))
    plain = data.drawn_digits(drawings, ids, 4, seed=1, labels=labels)
    curled = data.drawn_digits(drawings, ids, 4, seed=1, curled=0.5, labels=labels)
    changed = (plain != curled).any(axis=(1, 2)).reshape(len(drawings), 4)
    assert not changed[labels != 9].any()
    assert 0.3 < changed[labels == 9].mean() < 0.7


def test_a_share_of_the_copies_runs_its_last_stroke_on(writers_folder):
    drawings, labels, _, ids = data.uji_training_digits(writers_folder, range(1, 6))
    plain = data.drawn_digits(drawings, ids, 4, seed=1, labels=labels)
    overshot = data.drawn_digits(drawings, ids, 4, seed=1, labels=labels, overshot=0.5)
    changed = (plain != overshot).any(axis=(1, 2))
    assert 0.3 < changed.mean() < 0.7
    assert np.array_equal(data.drawn_digits(drawings, ids, 4, seed=1, labels=labels, overshot=0.0), plain)


def test_the_curled_nines_check_reads_only_nines_all_curled(writers_folder):
    images, labels, writers = data.drawn_test_set(writers_folder, range(21, 41), curled_nines=True)
    assert images.shape == (200, 28, 28) and set(labels) == {9} and writers.min() == 21
    plain, plain_labels, _ = data.drawn_test_set(writers_folder, range(21, 41))
    assert (images != plain[plain_labels == 9]).any(axis=(1, 2)).mean() > 0.8


def test_the_drawn_test_is_w41_to_w60_five_times_and_repeatable(writers_folder):
    images, labels, writers = data.drawn_test_set(writers_folder)
    assert images.shape == (2000, 28, 28) and np.bincount(labels).tolist() == [200] * 10
    assert writers.min() == 41 and writers.max() == 60
    again, _, _ = data.drawn_test_set(writers_folder, writers=range(41, 42))
    assert np.array_equal(again, images[writers == 41])


def test_writers_folder_comes_from_the_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("WRITERS_DIR", str(tmp_path / "env"))
    assert data.writers_folder(tmp_path / "arg") == tmp_path / "arg"
    assert data.writers_folder() == tmp_path / "env"
    monkeypatch.delenv("WRITERS_DIR")
    with pytest.raises(DatasetError, match="WRITERS_DIR=../shared/data/writers"):
        data.writers_folder()


BITMAP = "\n".join(["0" * 32] * 32)


@pytest.mark.parametrize(
    ("loader", "make_file", "message"),
    [
        (data.load_uji, lambda p: p, "no such file"),
        (data.load_uji, lambda p: (p.write_text("{not json"), p)[1], "not UJI pen digits"),
        (data.load_uji, lambda p: (p.write_text('{"rawData": {"0": []}}'), p)[1], "not UJI pen digits"),
        (data.load_uji, lambda p: (p.write_text('{"rawData": {"0": [[[]]]}}'), p)[1], "not UJI pen digits"),
        (data.load_optdigits, lambda p: write_gz(p, BITMAP + "\n 7\n" + BITMAP[:40]), "32 rows of 0/1"),
        (data.load_optdigits, lambda p: write_gz(p, BITMAP + "\n x\n"), "32 rows of 0/1"),
        (data.load_optdigits, lambda p: (p.write_bytes(b"\x1f\x8b broken"), p)[1], "not readable"),
        (data.load_semeion, lambda p: write_gz(p, " ".join(["1"] * 250) + "\n"), "one-hot label"),
        (data.load_semeion, lambda p: write_gz(p, " ".join(["0"] * 266) + "\n"), "one-hot label"),
        (data.load_semeion, lambda p: write_gz(p, "ink " * 266 + "\n"), "not a readable Semeion file"),
    ],
    ids=[
        "missing",
        "not-json",
        "missing-digits",
        "empty-stroke",
        "cut-bitmap",
        "bad-label",
        "bad-gzip",
        "short-line",
        "no-label",
        "not-numbers",
    ],
)
def test_bad_writers_files_give_one_clear_line_naming_the_file(tmp_path, loader, make_file, message):
    path = make_file(tmp_path / ("digits.json" if loader is data.load_uji else "digits.gz"))
    with pytest.raises(DatasetError, match=message) as caught:
        loader(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
