"""Background training jobs: a live training run in its child process, its progress, Cancel, and new models' names."""

import datetime
import functools
import time

import numpy as np
import pytest

from digitlab import jobs
from digitlab.cards import free_name, live_model_name, name_part, tuned_model_name
from digitlab.inference import load_classifier
from digitlab.store import list_models
from digitlab.zoo import RECIPES
from tests.conftest import run_script

JOB_TIMEOUT = 240


def training(mnist, out_dir, **settings):
    """The work of a live mlp-small training; `settings` override the small defaults."""
    return functools.partial(
        jobs.train_zoo_model,
        **{"arch": "mlp-small", "mnist": mnist, "out_dir": out_dir, "epochs": 2, "batch_size": 100, "limit": 2000}
        | settings,
    )


def wait_for_step(job, step, timeout=JOB_TIMEOUT):
    """Wait until the job's fit has finished `step` batches of its first epoch."""
    deadline = time.monotonic() + timeout
    while job.snapshot().step < step:
        assert job.snapshot().running, job.snapshot().error
        assert time.monotonic() < deadline, "the job did not start fitting in time"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def finished_job(tmp_path_factory, mnist):
    out = tmp_path_factory.mktemp("models")
    job = jobs.Job("train", "Training mlp-small", training(mnist, out)).start()
    assert job.wait(JOB_TIMEOUT), "the job did not finish in time"
    return job, out


def test_a_short_job_records_every_epoch_and_finishes(finished_job):
    job, _ = finished_job
    snapshot = job.snapshot()
    assert snapshot.status == jobs.DONE, snapshot.error
    assert (snapshot.epoch, snapshot.epochs, snapshot.step, snapshot.steps) == (2, 2, 20, 20)
    assert snapshot.fraction == 1.0
    assert sorted(snapshot.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 2 for values in snapshot.history.values())
    assert snapshot.history["loss"][1] < snapshot.history["loss"][0]
    assert len(snapshot.epoch_seconds) == 2


def test_the_saved_model_loads_is_listed_and_its_card_tells_the_truth(finished_job, mnist):
    job, out = finished_job
    result = job.snapshot().result
    path = out / f"{result['name']}.keras"
    assert result["name"].startswith("mlp-small-live-") and result["path"] == str(path)
    assert list_models(out) == [path]
    classifier = load_classifier(path)
    card = classifier.card
    assert card["name"] == result["name"] and card["architecture"] == "mlp-small"
    assert card["recipe"]["epochs"] == 2 and card["train_images"] == 2000 and card["limit"] == 2000
    assert card["history"]["val_accuracy"] == job.snapshot().history["val_accuracy"]
    x_test, y_test = mnist[1]
    measured = np.mean(classifier.probabilities(x_test / 255.0).argmax(axis=1) == y_test)
    assert card["test_accuracy"] == pytest.approx(measured, abs=1e-3) == result["test_accuracy"]
    assert 0.6 < card["test_accuracy"] < 1.0


def test_cancel_stops_the_fit_between_batches_and_saves_nothing(tmp_path, mnist):
    slot = jobs.JobSlot()
    job = slot.start("train", "Training mlp-small", training(mnist, tmp_path, epochs=50, batch_size=10, limit=3000))
    with pytest.raises(jobs.JobBusy, match="one training runs at a time"):
        slot.start("train", "Another", training(mnist, tmp_path))
    wait_for_step(job, 3)
    job.cancel()
    assert job.wait(60), "the job did not stop after Cancel"
    snapshot = job.snapshot()
    assert snapshot.status == jobs.CANCELLED and snapshot.cancel_requested and snapshot.error is None
    assert snapshot.steps == 300 and 1 <= snapshot.epoch < snapshot.epochs == 50
    assert [len(values) for values in snapshot.history.values()] == [snapshot.epoch - 1] * len(snapshot.history)
    assert list(tmp_path.iterdir()) == []
    assert slot.running() is None


def test_cancel_before_the_fit_starts_saves_nothing(tmp_path, mnist):
    job = jobs.Job("train", "Training mlp-small", training(mnist, tmp_path)).start()
    job.cancel()
    assert job.wait(JOB_TIMEOUT)
    assert job.snapshot().status == jobs.CANCELLED
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_written_fails_with_one_line(tmp_path, mnist):
    not_a_folder = tmp_path / "models"
    not_a_folder.write_text("a file where the model folder should be")
    job = jobs.Job("train", "Training mlp-small", training(mnist, not_a_folder, epochs=1, limit=200)).start()
    assert job.wait(JOB_TIMEOUT)
    snapshot = job.snapshot()
    assert snapshot.status == jobs.FAILED
    assert snapshot.error.startswith("Could not save mlp-small-live-") and str(not_a_folder) in snapshot.error
    assert "\n" not in snapshot.error and "Traceback" not in snapshot.error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]


def test_cnn_without_its_usps_digits_fails_with_one_line(tmp_path, mnist, monkeypatch):
    monkeypatch.setenv("USPS_DIR", str(tmp_path / "nowhere"))
    job = jobs.Job("train", "Training cnn", training(mnist, tmp_path, arch="cnn", limit=None)).start()
    assert job.wait(JOB_TIMEOUT)
    snapshot = job.snapshot()
    assert snapshot.status == jobs.FAILED, snapshot.error
    assert "zip.train.gz: no such file" in snapshot.error and "USPS_DIR" in snapshot.error
    assert "\n" not in snapshot.error and "Traceback" not in snapshot.error
    assert list(tmp_path.iterdir()) == []


def test_new_model_names_never_collide_with_the_zoo_or_each_other(tmp_path):
    for arch in RECIPES:
        for user in ["cnn", "Zoë B.", "../../etc", "", "   ", "mlp-small"]:
            for name in (live_model_name(arch), tuned_model_name(arch, user)):
                assert name not in RECIPES and "/" not in name and ".." not in name
    assert name_part("Zoë B.") == "zoe-b" and name_part("../../etc") == "etc" and name_part("  ") == "someone"
    assert free_name(tmp_path, "cnn") == "cnn-2"
    (tmp_path / "cnn-live-x.keras").write_bytes(b"")
    assert free_name(tmp_path, "cnn-live-x") == "cnn-live-x-2"


def test_a_new_name_carries_the_utc_time():
    moment = datetime.datetime(2026, 11, 21, 2, 46, 31, tzinfo=datetime.UTC)
    assert live_model_name("cnn", moment) == "cnn-live-20261121-024631"
    assert tuned_model_name("cnn", "Sam", moment) == "cnn-tuned-sam-20261121-024631"


def test_the_train_page_imports_without_tensorflow():
    """The app draws its canvas before TensorFlow loads: the jobs and the Train page load it only to train."""
    code = "import sys, app, digitlab.finetune; print(sorted(name for name in sys.modules if 'tensorflow' in name))"
    process = run_script("-c", code)
    assert process.returncode == 0 and process.stdout.strip() == "[]", process.stdout + process.stderr
