"""The Dataset page: MNIST samples in a paged grid, each with the selected model's reading."""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from digitlab.data import ENV_VAR, DatasetError
from digitlab.views import resources
from digitlab.views.charts import probability_chart
from digitlab.views.models import compared_classifier, compared_model_path, selected_classifier, selected_model_path
from digitlab.views.prediction import upscaled

GRID_COLUMNS = 6
GRID_ROWS = 4
TILE_SIZE = 112
OPENED_SAMPLE_KEY = "opened_sample"
ALL_DIGITS = "All digits"


@dataclass
class Filters:
    """Which samples the grid shows."""

    split: str
    digit: int | None
    only_misclassified: bool


def dataset_or_explanation():
    """MNIST, or None after explaining how to make it available."""
    try:
        return resources.mnist()
    except DatasetError as error:
        st.error(f"MNIST could not be loaded: {error}")
        st.info(
            f"Point the `{ENV_VAR}` environment variable at a copy of `mnist.npz` before starting the app, "
            f"e.g. `{ENV_VAR}=../shared/data/mnist.npz streamlit run app.py`. The Draw page works without it."
        )
        return None


def filter_controls(splits, can_judge):
    """The split, digit and 'only misclassified' controls."""
    split_column, digit_column, wrong_column = st.columns([1, 1, 1], vertical_alignment="bottom")
    split = split_column.segmented_control("Split", splits, default="test", required=True, key="split")
    digit = digit_column.selectbox("Digit", [ALL_DIGITS, *range(10)], key="digit_filter")
    only_misclassified = wrong_column.toggle(
        "Only misclassified",
        key="only_misclassified",
        disabled=split != "test" or not can_judge,
        help="Test-set samples the selected model reads wrongly.",
    )
    return Filters(split, None if digit == ALL_DIGITS else digit, only_misclassified and split == "test")


def matching_samples(labels, predicted, filters):
    """Indices of the samples that pass the filters, in dataset order."""
    keep = np.ones(len(labels), dtype=bool)
    if filters.digit is not None:
        keep &= labels == filters.digit
    if filters.only_misclassified and predicted is not None:
        keep &= predicted != labels
    return np.flatnonzero(keep)


def page_of(indices, filters):
    """The page number control; returns the indices shown on the chosen page."""
    per_page = GRID_COLUMNS * GRID_ROWS
    pages = max(1, math.ceil(len(indices) / per_page))
    count_column, page_column = st.columns([3, 1], vertical_alignment="bottom")
    page = page_column.number_input(
        f"Page (of {pages})",
        min_value=1,
        max_value=pages,
        value=1,
        key=f"page-{filters.split}-{filters.digit}-{filters.only_misclassified}",
    )
    count_column.caption(f"{len(indices):,} samples of the {filters.split} split match.")
    return indices[(page - 1) * per_page : page * per_page]


def open_sample(split, index):
    """Remember which sample is shown large."""
    st.session_state[OPENED_SAMPLE_KEY] = (split, int(index))


def sample_tile(split, index, image, label, predicted):
    """One grid tile: the digit, its label and the model's reading (marked when wrong)."""
    with st.container(key=f"tile-{split}-{index}", gap=None):
        st.image(upscaled(image / 255.0, TILE_SIZE), width="stretch")
        if predicted is None:
            reading = f"Label {label}"
        elif predicted == label:
            reading = f"Label {label}  \nread {predicted} ✓"
        else:
            reading = f"Label {label}  \n:red[**read {predicted} ✗**]"
        st.caption(reading)
        st.button(
            f"#{index}",
            key=f"open-{split}-{index}",
            type="tertiary",
            icon=":material/open_in_full:",
            help="Show this sample large",
            on_click=open_sample,
            args=(split, index),
        )


def sample_grid(split, shown, images, labels, predicted):
    """The page's samples, GRID_COLUMNS to a row."""
    for start in range(0, len(shown), GRID_COLUMNS):
        for column, index in zip(st.columns(GRID_COLUMNS), shown[start : start + GRID_COLUMNS]):
            with column:
                reading = None if predicted is None else int(predicted[index])
                sample_tile(split, index, images[index], int(labels[index]), reading)


def opened_sample(split, indices, shown):
    """The sample to show large: the one last opened, while it matches the filters, else the first on the page."""
    opened = st.session_state.get(OPENED_SAMPLE_KEY)
    if opened is not None and opened[0] == split and np.any(indices == opened[1]):
        return opened[1]
    return int(shown[0]) if len(shown) else None


def sample_detail(split, index, images, labels, probabilities):
    """One sample large, with its label and the model's probabilities."""
    label = int(labels[index])
    st.subheader(f"Sample #{index}")
    st.image(upscaled(images[index] / 255.0, 196), caption=f"{split} split, label {label}")
    if probabilities is None:
        return
    row = probabilities[index]
    digit = int(np.argmax(row))
    outcome = "right" if digit == label else "wrong"
    st.markdown(f"The model reads **{digit}** ({row[digit]:.1%}): **{outcome}**.")
    st.altair_chart(probability_chart(row), width="stretch")


def render():
    """The Dataset page."""
    st.title("MNIST dataset")
    dataset = dataset_or_explanation()
    if dataset is None:
        return
    classifier = selected_classifier()
    path = selected_model_path()
    filters = filter_controls(list(dataset), classifier is not None)
    images, labels = dataset[filters.split]
    probabilities = None
    if classifier is not None:
        probabilities = resources.split_probabilities(path, resources.file_version(path), filters.split)
    predicted = None if probabilities is None else probabilities.argmax(axis=1)
    indices = matching_samples(labels, predicted, filters)
    grid_column, detail_column = st.columns([5, 2], gap="large")
    with grid_column:
        shown = page_of(indices, filters)
        if not len(shown):
            st.info("No sample matches these filters.")
        sample_grid(filters.split, shown, images, labels, predicted)
    with detail_column:
        index = opened_sample(filters.split, indices, shown)
        if index is not None:
            sample_detail(filters.split, index, images, labels, probabilities)
    if "train" not in dataset:
        st.caption(
            f"Only MNIST's test split ships with Digit Lab. For the training split, point `{ENV_VAR}` at `mnist.npz`."
        )
    if classifier is not None and compared_classifier() is not None:
        disagreements(classifier, path, compared_model_path())


@dataclass(frozen=True)
class Disagreement:
    """A test digit two models read differently, with how confident the wrong one (the surer, if both) was."""

    test_set: str
    index: int
    label: int
    readings: tuple
    wrong_confidence: float


def disagreeing(test_set, labels, first, second):
    """The Disagreements between two models' (N, 10) probabilities on one test set."""
    found = []
    for index in np.flatnonzero(first.argmax(axis=1) != second.argmax(axis=1)):
        readings = tuple((int(p[index].argmax()), float(p[index].max())) for p in (first, second))
        wrong = [confidence for digit, confidence in readings if digit != labels[index]]
        found.append(Disagreement(test_set, int(index), int(labels[index]), readings, max(wrong)))
    return found


def disagreement_tile(disagreement, images, names):
    """One digit both models read, each reading marked right or wrong."""
    st.image(upscaled(images[disagreement.index] / 255.0, TILE_SIZE), width="stretch")
    lines = [f"{disagreement.test_set} #{disagreement.index}, label {disagreement.label}"]
    for name, (digit, confidence) in zip(names, disagreement.readings):
        line = f"{name}: {digit} ({confidence:.0%})"
        lines.append(line + " ✓" if digit == disagreement.label else f":red[**{line} ✗**]")
    st.caption("  \n".join(lines))


def disagreements(classifier, path, other_path):
    """MNIST and USPS test digits the two selected models read differently, the most confidently wrong first."""
    other_name = Path(other_path).stem
    st.divider()
    st.subheader(f"Where {classifier.name} and {other_name} disagree")
    sets = resources.test_sets()
    found, counts = [], []
    for name, (_, labels) in sets.items():
        first = resources.test_set_probabilities(path, resources.file_version(path), name)
        second = resources.test_set_probabilities(other_path, resources.file_version(other_path), name)
        found += disagreeing(name, labels, first, second)
        counts.append(f"{sum(d.test_set == name for d in found):,} of {len(labels):,} {name} digits")
    found.sort(key=lambda d: d.wrong_confidence, reverse=True)
    st.caption(f"They disagree on {' and '.join(counts)}; the most confidently wrong reading first.")
    shown = found[: GRID_COLUMNS * GRID_ROWS]
    for start in range(0, len(shown), GRID_COLUMNS):
        for column, disagreement in zip(st.columns(GRID_COLUMNS), shown[start : start + GRID_COLUMNS]):
            with column:
                disagreement_tile(disagreement, sets[disagreement.test_set][0], (classifier.name, other_name))
