"""The My handwriting page: the drawings people labelled on the Draw page, how well each model reads them."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from digitlab.cards import name_part
from digitlab.evaluation import confusion_matrix
from digitlab.feedback import FeedbackError
from digitlab.views import resources
from digitlab.views.charts import small_counts_heatmap
from digitlab.views.feedback import open_store
from digitlab.views.models import selected_model_path

EVERYONE = "Everyone"
GRID_COLUMNS = 6
GRID_LIMIT = 48
THUMBNAIL_WIDTH = 96
NOTICE_KEY = "handwriting_notice"
EMPTY_STORE_MESSAGE = (
    "No drawings saved yet. On the **Draw** page, draw a digit and answer **Right?** under the prediction: "
    "**Right** if the model read it right, **Wrong** and the digit it was if not. Each answer saves the drawing here."
)


def user_filter(store):
    """Whose drawings to show: everyone's or one person's; returns the name or None for everyone."""
    choice = st.selectbox("Whose drawings", [EVERYONE, *store.users()], key="handwriting_user")
    return None if choice == EVERYONE else choice


def counts_section(samples):
    """How many drawings there are of each digit, stacked by person, and a row per person."""
    frame = pd.DataFrame(
        {
            "digit": [str(sample.true_label) for sample in samples],
            "user": [sample.user for sample in samples],
            "read_right": [sample.predicted_label == sample.true_label for sample in samples],
        }
    )
    per_digit = (
        frame.groupby(["digit", "user"]).size().unstack(fill_value=0).reindex([str(d) for d in range(10)], fill_value=0)
    )
    chart_column, table_column = st.columns([3, 2], gap="large")
    with chart_column:
        st.subheader("Drawings per digit")
        st.bar_chart(per_digit, x_label="Digit", y_label="Drawings", height=280)
    with table_column:
        st.subheader("Per person")
        per_user = frame.groupby("user").agg(drawings=("digit", "size"), read_right=("read_right", "mean"))
        st.dataframe(
            per_user,
            column_config={
                "user": "person",
                "read_right": st.column_config.NumberColumn("read right when saved", format="percent"),
            },
        )
        st.caption(f"{len(samples)} drawings in all.")


def model_readings(samples):
    """For every model in the model folder: its path and predictions on the samples (None if unusable)."""
    return resources.every_model_reads(np.stack([sample.model_input for sample in samples]))


def accuracy_table(samples, readings):
    """Each model's accuracy on these drawings next to its accuracy on the MNIST test set."""
    labels = np.array([sample.true_label for sample in samples])
    rows = []
    for path, predicted in readings:
        card = resources.card_or_none(path)
        rows.append(
            {
                "model": Path(path).stem + (" (cannot be loaded)" if predicted is None else ""),
                "on these drawings": None if predicted is None else float(np.mean(predicted == labels)),
                "right": None if predicted is None else int(np.sum(predicted == labels)),
                "on MNIST test": None if card is None else card.get("test_accuracy"),
            }
        )
    table = pd.DataFrame(rows).sort_values("on these drawings", ascending=False, na_position="last")
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "on these drawings": st.column_config.NumberColumn(format="percent"),
            "right": st.column_config.NumberColumn(f"right (of {len(samples)})"),
            "on MNIST test": st.column_config.NumberColumn(format="percent"),
        },
    )


def accuracy_section(samples):
    """A table of every model's accuracy on the drawings, and the selected model's confusion matrix."""
    st.subheader("How well each model reads them")
    readings = model_readings(samples)
    if not readings:
        st.warning(f"No models in `{resources.model_dir()}` to read the drawings with.")
        return
    table_column, matrix_column = st.columns(2, gap="large")
    with table_column:
        accuracy_table(samples, readings)
        st.caption("Each model reads the same 28×28 inputs it would get on the Draw page.")
    with matrix_column:
        selected = selected_model_path()
        predicted = dict(readings).get(selected)
        if predicted is None:
            st.info("Select a model that loads in the sidebar to see its confusion matrix.")
            return
        st.markdown(f"**Confusion matrix of {Path(selected).stem}** (the model selected in the sidebar)")
        labels = [sample.true_label for sample in samples]
        st.altair_chart(small_counts_heatmap(confusion_matrix(labels, predicted)), width="stretch")


def delete_sample(store, sample_id):
    """Delete a sample and leave a line saying so (or why not) for the next run."""
    try:
        store.delete(sample_id)
        st.session_state[NOTICE_KEY] = ("success", f"Drawing #{sample_id} deleted.")
    except FeedbackError as error:
        st.session_state[NOTICE_KEY] = ("error", str(error))


def show_notice():
    kind, text = st.session_state.pop(NOTICE_KEY, (None, None))
    if kind == "success":
        st.success(text)
    elif kind == "error":
        st.error(text)


def thumbnail(store, sample):
    """One drawing as it was drawn, its label and reading, and a two-step delete."""
    try:
        st.image(store.drawing_png(sample.id), width=THUMBNAIL_WIDTH)
    except FeedbackError as error:
        st.caption(str(error))
    if sample.predicted_label is None:
        reading = "no reading"
    else:
        reading = "read right" if sample.predicted_label == sample.true_label else f"read as {sample.predicted_label}"
    st.caption(f"**{sample.true_label}** · {sample.user} · {reading}")
    with st.popover("Delete", icon=":material/delete:"):
        st.caption(f"Drawing #{sample.id}, saved {sample.created[:16].replace('T', ' ')} UTC by {sample.user}.")
        st.button("Delete it for good", key=f"delete-{sample.id}", on_click=delete_sample, args=(store, sample.id))


def samples_grid(store, samples):
    """The most recent drawings, newest first, optionally of one digit."""
    st.subheader("The drawings")
    digit = st.pills("Digit", list(range(10)), key="handwriting_digit")
    chosen = [sample for sample in reversed(samples) if digit is None or sample.true_label == digit]
    if not chosen:
        st.info(f"No drawings of a {digit} yet.")
        return
    if len(chosen) > GRID_LIMIT:
        st.caption(f"The {GRID_LIMIT} most recent of {len(chosen)} drawings.")
    for start in range(0, min(len(chosen), GRID_LIMIT), GRID_COLUMNS):
        for column, sample in zip(st.columns(GRID_COLUMNS), chosen[start : start + GRID_COLUMNS]):
            with column:
                thumbnail(store, sample)


def export_section(store, user):
    """The drawings as an npz in MNIST's layout, to train on or share."""
    buffer = io.BytesIO()
    store.export_npz(buffer, user=user)
    name = "everyone" if user is None else name_part(user)
    st.download_button(
        "Download as .npz (MNIST layout)",
        data=buffer.getvalue(),
        file_name=f"digitlab-handwriting-{name}.npz",
        mime="application/octet-stream",
        icon=":material/download:",
    )
    st.caption(
        "`x_train`: uint8 (N, 28, 28), white ink on black like MNIST; `y_train`: uint8 (N,) digits. "
        "Read it with `numpy.load(path)`."
    )


def render():
    """The My handwriting page."""
    st.title("My handwriting")
    st.caption("Drawings saved with Right / Wrong on the Draw page, and how well each model reads them.")
    show_notice()
    store = open_store()
    if store is None:
        return
    try:
        if not store.users():
            st.info(EMPTY_STORE_MESSAGE)
            return
        user = user_filter(store)
        samples = store.samples(user)
        if not samples:  # Deleted from another session since the list of names was read.
            st.info(EMPTY_STORE_MESSAGE)
            return
        counts_section(samples)
        accuracy_section(samples)
        samples_grid(store, samples)
        export_section(store, user)
    except FeedbackError as error:
        st.error(f"The saved drawings cannot be read: {error}")
