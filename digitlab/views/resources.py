"""Cached loaders shared by every page: the model folder, the models, MNIST and whole-split predictions.

Models are read by the model server (digitlab.model_server): this process never imports TensorFlow.
"""

import numpy as np
import streamlit as st

from digitlab import store
from digitlab.data import DatasetError, load_mnist, usps_test_digits
from digitlab.mnist_test import full_mnist_here, shipped_test_split
from digitlab.model_server import RemoteClassifier
from digitlab.store import file_version, model_dir

SPLITS = ("test", "train")


def model_paths():
    """Every model in the model folder that has a card, as strings (stable widget options)."""
    return [str(path) for path in store.list_models(model_dir())]


@st.cache_data(show_spinner=False)
def card(path, version):
    """A model's card; raises ModelError when it is unreadable."""
    return store.load_card(path)


def card_or_none(path):
    """A model's card, or None when it cannot be read."""
    try:
        return card(path, file_version(path))
    except (store.ModelError, OSError):
        return None


@st.cache_resource(show_spinner="Loading the model…")
def classifier(path, version):
    """A model, loaded and warmed up by the model server; raises ModelError when it cannot be used."""
    remote = RemoteClassifier(path)
    remote.probabilities(np.zeros((1, 28, 28), np.float32))  # The server loads it now, or says why it cannot.
    return remote


@st.cache_resource(show_spinner="Loading MNIST…")
def mnist():
    """`{"test": (images, labels), "train": (images, labels)}`, without "train" when only the shipped test split is.

    Raises DatasetError.
    """
    if not full_mnist_here():
        return {"test": shipped_test_split()}
    train, test = load_mnist()
    return {"test": test, "train": train}


@st.cache_resource(show_spinner="Loading USPS's test digits…")
def usps_test():
    """USPS's test digits in MNIST form `(images, labels)`, or None when they are not on this machine."""
    try:
        return usps_test_digits()
    except DatasetError:
        return None


def test_sets():
    """The test digits two models are compared on: MNIST's, and USPS's when they are here, by name."""
    sets = {"MNIST test": mnist()["test"]}
    if usps_test() is not None:
        sets["USPS test"] = usps_test()
    return sets


@st.cache_data(show_spinner="Reading the test digits with the model…", max_entries=8)
def test_set_probabilities(path, version, name):
    """The model's (N, 10) probabilities for one of `test_sets()`, computed once per model and set."""
    images, _ = test_sets()[name]
    return classifier(path, version).probabilities(images.astype(np.float32) / 255.0)


@st.cache_data(show_spinner="Reading every sample with the model…", max_entries=8)
def split_probabilities(path, version, split):
    """The model's (N, 10) probabilities for a whole MNIST split, computed once per model and split."""
    images, _ = mnist()[split]
    return classifier(path, version).probabilities(images.astype(np.float32) / 255.0)


def every_model_reads(inputs, paths=None):
    """`(path, predicted digits)` for each model (default: the model folder's) on 28×28 inputs; None if unusable."""
    readings = []
    for path in model_paths() if paths is None else paths:
        try:
            predicted = classifier(path, file_version(path)).probabilities(inputs).argmax(axis=1)
        except (store.ModelError, OSError):
            predicted = None
        readings.append((path, predicted))
    return readings
