"""Test-set metrics for a trained model: loss, accuracy, confusion matrix, per-class scores."""

import numpy as np

from digitlab.tf import keras, tf
from digitlab.training import make_dataset
from digitlab.zoo import NUM_CLASSES


def evaluate(model, images, labels, batch_size=1000):
    """Keras's loss and accuracy plus the confusion matrix and per-class precision, recall and F1.

    Works on uncompiled models (as shipped, without optimizer state): one prediction pass.
    """
    probabilities = model.predict(make_dataset(images, labels, batch_size), verbose=0)
    predicted = np.argmax(probabilities, axis=1)
    loss = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    accuracy.update_state(labels, probabilities)
    confusion = tf.math.confusion_matrix(labels, predicted, num_classes=NUM_CLASSES).numpy()
    return {
        "test_loss": float(loss),
        "test_accuracy": float(accuracy.result()),
        "confusion_matrix": confusion.tolist(),
        "per_class": per_class_scores(confusion),
    }


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
