"""Altair charts: digit probabilities, training curves and the confusion matrix."""

import altair as alt
import pandas as pd

WINNER_COLOUR = "#E4572E"
OTHER_COLOUR = "#9AA5B1"
SERIES_COLOURS = alt.Scale(domain=["training", "validation"], range=["#1F77B4", "#E4572E"])


def probability_chart(probabilities, height=180):
    """Bars for the ten digits, 0 to 9, the most likely one highlighted."""
    winner = max(range(10), key=lambda digit: probabilities[digit])
    data = pd.DataFrame(
        {"digit": [str(d) for d in range(10)], "probability": [float(p) for p in probabilities], "winner": False}
    )
    data.loc[winner, "winner"] = True
    return (
        alt.Chart(data, height=height)
        .mark_bar()
        .encode(
            x=alt.X("digit:N", title="Digit", sort=None, axis=alt.Axis(labelAngle=0, labelOverlap=False)),
            y=alt.Y("probability:Q", title="Probability", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            color=alt.condition("datum.winner", alt.value(WINNER_COLOUR), alt.value(OTHER_COLOUR)),
            tooltip=["digit", alt.Tooltip("probability:Q", format=".2%")],
        )
    )


def history_frame(history, metric):
    """Long-form training and validation values of one metric per epoch."""
    rows = [
        {"epoch": epoch, "series": series, "value": value}
        for series, key in (("training", metric), ("validation", f"val_{metric}"))
        for epoch, value in enumerate(history.get(key, []), start=1)
    ]
    return pd.DataFrame(rows, columns=["epoch", "series", "value"])


def training_curve(history, metric, title, height=260):
    """One metric over the epochs, training against validation."""
    value_axis = alt.Axis(format="%") if metric == "accuracy" else alt.Axis()
    return (
        alt.Chart(history_frame(history, metric), title=title, height=height)
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", title="Epoch", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=False), axis=value_axis),
            color=alt.Color("series:N", title=None, scale=SERIES_COLOURS, legend=alt.Legend(orient="bottom")),
            tooltip=["epoch", "series", alt.Tooltip("value:Q", format=".4f")],
        )
    )


def confusion_heatmap(matrix, height=380):
    """The confusion matrix as coloured cells with their counts, true digit down, prediction across."""
    data = pd.DataFrame(
        [
            {"true": str(true), "predicted": str(predicted), "count": int(count)}
            for true, row in enumerate(matrix)
            for predicted, count in enumerate(row)
        ]
    )
    data["shade"] = data["count"].clip(lower=1)  # A log scale needs no zeros.
    base = alt.Chart(data, height=height).encode(
        x=alt.X("predicted:O", title="Predicted digit", axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("true:O", title="True digit"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("shade:Q", scale=alt.Scale(type="log", scheme="blues"), legend=None),
        tooltip=["true", "predicted", "count"],
    )
    counts = base.mark_text(fontSize=11).encode(
        text="count:Q",
        color=alt.condition("datum.count > 100", alt.value("white"), alt.value("#333333")),
    )
    return cells + counts


def small_counts_heatmap(matrix, height=320):
    """The confusion matrix shaded on a linear scale from white at 0, to suit a few dozen drawings."""
    heatmap = confusion_heatmap(matrix, height=height)
    darkest = max(1, int(matrix.max()))
    shades = alt.Scale(domain=[0, darkest], range=["#FFFFFF", "#08519C"])
    cells, counts = heatmap.layer
    heatmap.layer = [
        cells.encode(color=alt.Color("count:Q", scale=shades, legend=None)),
        counts.encode(color=alt.condition(f"datum.count > {darkest / 2}", alt.value("white"), alt.value("#333333"))),
    ]
    return heatmap
