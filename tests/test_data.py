"""digitlab.data: where MNIST comes from, and a clear error for every way it can be wrong."""

import numpy as np
import pytest

from digitlab import data
from digitlab.data import DatasetError, load_mnist
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
