"""Two models reading one drawing side by side: each one's digit, confidence and probabilities; disagreement marked."""

import streamlit as st

from digitlab.views.prediction import probabilities, verdict


def agreement(first, first_reading, second, second_reading):
    """A line saying whether the two models read the same digit, marked when they do not."""
    if first_reading.digit == second_reading.digit:
        st.success(f"Both read **{first_reading.digit}**.", icon=":material/check:")
    else:
        st.warning(
            f"They disagree: **{first.name}** reads **{first_reading.digit}**, "
            f"**{second.name}** reads **{second_reading.digit}**.",
            icon=":material/compare_arrows:",
        )


def side_by_side(first, first_reading, second, second_reading):
    """Both readings in two columns, their probability charts on the same 0–100 % scale."""
    agreement(first, first_reading, second, second_reading)
    for column, model, reading in zip(st.columns(2), (first, second), (first_reading, second_reading)):
        with column, st.container(key=f"reading-{'first' if model is first else 'second'}"):
            st.markdown(f"**{model.name}**")
            verdict(reading)
            probabilities(reading)
