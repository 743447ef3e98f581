"""Fine-tuning a shipped model on one person's saved drawings: slanted USPS handwriting in a real FeedbackStore."""

import functools
import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from digitlab import finetune, jobs
from digitlab.data import load_usps, usps_as_scan
from digitlab.feedback import FeedbackStore
from digitlab.inference import load_classifier
from digitlab.preprocess import to_mnist
from digitlab.store import list_models
from tests.conftest import ROOT, copy_shipped_models

PER_DIGIT = 25
USER = "Zoë B."
JOB_TIMEOUT = 300
SLANT = 0.8


def slanted(scan):
    """A scanned digit sheared to the right, as written by someone with a strong slant."""
    width, height = scan.size
    return scan.transform(
        (width + int(SLANT * height), height),
        Image.Transform.AFFINE,
        (1, SLANT, -SLANT * height, 0, 1, 0),
        fillcolor=255,
        resample=Image.Resampling.BICUBIC,
    )


def file_hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def store(tmp_path_factory, usps_folder):
    """A feedback store holding PER_DIGIT slanted USPS digits of each kind as Zoë's drawings, and 7 of Sam's."""
    ink, labels = load_usps(usps_folder / "zip.train.gz")
    store = FeedbackStore(tmp_path_factory.mktemp("feedback") / "feedback.sqlite3")
    chosen = [(USER, i) for digit in range(10) for i in np.flatnonzero(labels == digit)[:PER_DIGIT]]
    chosen += [("Sam", i) for i in range(7)]
    for user, index in chosen:
        scan = slanted(usps_as_scan(ink[index]))
        store.save(
            user=user,
            drawing=scan,
            model_input=to_mnist(scan),
            true_label=int(labels[index]),
            predicted_label=None,
            model="mlp-small",
        )
    return store


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    """A copy of the shipped mlp-small, as the app's model folder."""
    return copy_shipped_models(tmp_path_factory.mktemp("models"), ["mlp-small"])


@pytest.fixture(scope="module")
def tuned(store, model_folder, mnist):
    """Fine-tune mlp-small on Zoë's drawings for 2 epochs with 3,000 MNIST images, as the Train page does."""
    shipped = file_hashes(model_folder)
    work = functools.partial(
        finetune.fine_tune,
        base_path=model_folder / "mlp-small.keras",
        user=USER,
        samples=store.arrays(USER),
        mnist=mnist,
        out_dir=model_folder,
        epochs=2,
        mnist_images=3000,
    )
    job = jobs.Job("fine-tune", "Fine-tuning mlp-small", work).start()
    assert job.wait(JOB_TIMEOUT), "fine-tuning did not finish in time"
    return job.snapshot(), shipped


def test_the_held_out_drawings_are_a_stratified_fifth_never_trained_on(store):
    _, labels = store.arrays(USER)
    train, held_out = finetune.split_held_out(labels)
    assert len(held_out) == len(labels) // 5 and not set(train) & set(held_out)
    assert sorted([*train, *held_out]) == list(range(len(labels)))
    assert np.bincount(labels[held_out], minlength=10).tolist() == [PER_DIGIT // 5] * 10
    assert np.array_equal(finetune.split_held_out(labels)[1], held_out)


def test_the_drawings_make_a_fifth_of_the_training_mix(mnist):
    x_user, y_user = np.zeros((40, 28, 28), np.uint8), np.arange(40, dtype=np.uint8) % 10
    images, labels, copies = finetune.training_mix(mnist[0], x_user, y_user, 6000)
    assert copies == 38 and len(images) == len(labels) == 6000 + 40 * 38
    assert (images.reshape(len(images), -1).max(axis=1) == 0).sum() == 40 * copies


def test_fine_tuning_reports_held_out_accuracy_before_and_after(tuned, store):
    snapshot, _ = tuned
    assert snapshot.status == jobs.DONE, snapshot.error
    result = snapshot.result
    assert result["held_out_samples"] == 10 * PER_DIGIT // 5 and result["trained_on_samples"] == 8 * PER_DIGIT
    x, y = store.arrays(USER)
    _, held_out = finetune.split_held_out(y)
    tuned_reads = load_classifier(result["path"]).probabilities(x[held_out] / 255.0).argmax(axis=1)
    assert np.mean(tuned_reads == y[held_out]) == pytest.approx(result["held_out_accuracy_after"])
    assert result["held_out_accuracy_after"] > result["held_out_accuracy_before"]
    assert len(snapshot.history["val_accuracy"]) == 2
    assert snapshot.history["val_accuracy"][-1] == pytest.approx(result["held_out_accuracy_after"])


def test_the_tuned_model_still_reads_mnist_and_its_card_says_so(tuned, mnist):
    snapshot, _ = tuned
    result = snapshot.result
    classifier = load_classifier(result["path"])
    x_test, y_test = mnist[1]
    measured = np.mean(classifier.probabilities(x_test / 255.0).argmax(axis=1) == y_test)
    card = classifier.card
    assert card["test_accuracy"] == pytest.approx(measured, abs=1e-3) == result["mnist_test_accuracy_after"]
    assert measured > 0.95
    assert card["fine_tuning"]["base_model"] == "mlp-small" and card["fine_tuning"]["user"] == USER
    shipped_card = json.loads((ROOT / "model" / "mlp-small.json").read_text())
    assert card["fine_tuning"]["mnist_test_accuracy_before"] == shipped_card["test_accuracy"]
    assert card["architecture"] == "mlp-small" and card["recipe"]["learning_rate"] == pytest.approx(0.0001)
    mnist_part, drawings_part = card["training_data"]
    assert mnist_part["digits"] == card["fine_tuning"]["mnist_images"]
    assert drawings_part["digits"] == card["fine_tuning"]["trained_on_samples"] and USER in drawings_part["source"]


def test_the_shipped_model_is_untouched_and_the_new_one_is_listed(tuned, model_folder):
    snapshot, shipped = tuned
    name = snapshot.result["name"]
    assert name.startswith("mlp-small-tuned-zoe-b-")
    assert {n: h for n, h in file_hashes(model_folder).items() if n in shipped} == shipped
    assert sorted(p.stem for p in list_models(model_folder)) == ["mlp-small", name]


def test_too_few_drawings_are_refused_saying_how_many_are_needed(store, model_folder, mnist):
    before = file_hashes(model_folder)
    with pytest.raises(jobs.JobError, match=r"at least 20 saved drawings .*Sam has 7, so save 13 more"):
        finetune.fine_tune(None, model_folder / "mlp-small.keras", "Sam", store.arrays("Sam"), mnist, model_folder)
    assert finetune.samples_problem("Zoë", np.zeros(20)) is None
    assert file_hashes(model_folder) == before
