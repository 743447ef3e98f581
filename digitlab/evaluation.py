"""Test-set metrics for a trained model: loss, accuracy, confusion matrix, per-class scores; other writers' digits."""

import numpy as np

from digitlab.zoo import NUM_CLASSES


def evaluate(model, images, labels, batch_size=1000):
    """Keras's loss and accuracy plus the confusion matrix and per-class precision, recall and F1.

    Works on uncompiled models (as shipped, without optimizer state): one prediction pass.
    """
    # TensorFlow loads only when a model is evaluated, so that the app's pages can use this module at start-up.
    from digitlab.tf import keras
    from digitlab.training import make_dataset

    probabilities = model.predict(make_dataset(images, labels, batch_size), verbose=0)
    loss = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    accuracy.update_state(labels, probabilities)
    confusion = confusion_matrix(labels, np.argmax(probabilities, axis=1))
    return {
        "test_loss": float(loss),
        "test_accuracy": float(accuracy.result()),
        "confusion_matrix": confusion.tolist(),
        "per_class": per_class_scores(confusion),
    }


def confusion_matrix(true_labels, predicted_labels):
    """(10, 10) counts of each (true digit, predicted digit) pair; rows are the true digit."""
    pairs = np.asarray(true_labels, dtype=np.intp) * NUM_CLASSES + np.asarray(predicted_labels, dtype=np.intp)
    return np.bincount(pairs, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, NUM_CLASSES)


def per_class_scores(confusion):
    """Precision, recall and F1 of each digit from a confusion matrix (rows = true digit)."""
    confusion = np.asarray(confusion, dtype=np.float64)
    hits = np.diag(confusion)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(hits / confusion.sum(axis=0))
        recall = np.nan_to_num(hits / confusion.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return [
        {"digit": digit, "precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for digit, (p, r, f, s) in enumerate(zip(precision, recall, f1, confusion.sum(axis=1)))
    ]


def accuracy(model, images, labels, batch_size=1000):
    """The share of uint8 (N, 28, 28) `images` that `model` reads as their `labels`."""
    from digitlab.training import make_dataset

    probabilities = model.predict(make_dataset(images, labels, batch_size), verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def usps_test_accuracy(model, usps_folder=None):
    """Accuracy on USPS's 2,007 test digits, each read the way the app reads a scan."""
    from digitlab.data import usps_test_digits

    return accuracy(model, *usps_test_digits(usps_folder))


def usps_validation_accuracy(model, usps_folder, held_out):
    """Accuracy on the last `held_out` of USPS's training digits, left out of a screening run's training."""
    from digitlab.data import usps_validation_digits

    return accuracy(model, *usps_validation_digits(usps_folder, held_out))


def drawn_accuracy(model, writers_folder, writers):
    """Accuracy on the drawn digits of UJI's `writers` (the test of drawn digits for W41–W60)."""
    from digitlab.data import drawn_test_set

    images, labels, _ = drawn_test_set(writers_folder, writers)
    return accuracy(model, images, labels)
