"""Cached loaders shared by every page: the model folder, the models, MNIST and whole-split predictions."""

import os
from pathlib import Path

import numpy as np
import streamlit as st

from digitlab import store
from digitlab.data import load_mnist
from digitlab.inference import load_classifier

MODEL_DIR_ENV = "DIGITLAB_MODEL_DIR"
SPLITS = ("test", "train")


def model_dir():
    """The folder the app reads models from: $DIGITLAB_MODEL_DIR, else the project's model/."""
    return Path(os.environ.get(MODEL_DIR_ENV) or store.MODEL_DIR)


def file_version(path):
    """A value that changes whenever the file is replaced, to key caches on."""
    return Path(path).stat().st_mtime_ns


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
    """A loaded Classifier, kept for the life of the server and warmed up; raises ModelError."""
    loaded = load_classifier(path)
    loaded.probabilities(np.zeros((1, 28, 28), np.float32))  # Compiles the one-drawing path before the first stroke.
    return loaded


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
