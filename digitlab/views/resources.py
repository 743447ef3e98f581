"""Cached loaders shared by every page: the model folder, the models, MNIST and whole-split predictions.

Models are read by the model server (digitlab.model_server): this process never imports TensorFlow.
"""

import numpy as np
import streamlit as st

from digitlab import store
from digitlab.data import load_mnist
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
    """`{"train": (images, labels), "test": (images, labels)}`; raises DatasetError."""
    train, test = load_mnist()
    return {"train": train, "test": test}


@st.cache_data(show_spinner="Reading every sample with the model…", max_entries=8)
def split_probabilities(path, version, split):
    """The model's (N, 10) probabilities for a whole MNIST split, computed once per model and split."""
    images, _ = mnist()[split]
    return classifier(path, version).probabilities(images.astype(np.float32) / 255.0)
