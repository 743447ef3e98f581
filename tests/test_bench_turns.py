"""bench/train.py's `--interleave`: fits in threads take turns, and one that ends or fails never holds up another."""

import importlib.util
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def bench_train():
    """bench/train.py as a module (its sibling `common` importable), turns passed on after every batch."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        spec = importlib.util.spec_from_file_location("bench_train", ROOT / "bench" / "train.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    module.TURN_SECONDS = 0.0
    return module


def fake_fit(name, batches, log, fail_after=None):
    """A fit of one epoch of `batches` batches that notes each batch in `log`, as Keras calls its callbacks."""

    def fit(timer):
        timer.on_train_begin()
        timer.on_epoch_begin(0)
        for batch in range(batches):
            if batch == fail_after:
                raise RuntimeError(f"{name} broke")
            log.append(name)
            timer.on_train_batch_end(batch)
        timer.on_epoch_end(0)
        return timer

    return fit


def test_two_fits_alternate_batch_by_batch_and_the_longer_one_finishes_alone(bench_train):
    log = []
    fits = {"reference": fake_fit("reference", 2, log), "default": fake_fit("default", 4, log)}
    timers = bench_train.fit_in_turns(fits, ["default", "reference"])
    assert log == ["default", "reference", "default", "reference", "default", "default"]
    assert [len(timers[name].seconds) for name in fits] == [1, 1]
    assert all(seconds >= 0 for timer in timers.values() for seconds in timer.seconds)


def test_a_fit_that_fails_leaves_the_rota_and_the_other_fit_still_ends(bench_train):
    log = []
    fits = {"reference": fake_fit("reference", 3, log, fail_after=1), "default": fake_fit("default", 3, log)}
    with pytest.raises(RuntimeError, match="reference broke"):
        bench_train.fit_in_turns(fits, ["reference", "default"])
    assert log == ["reference", "default", "default", "default"]
