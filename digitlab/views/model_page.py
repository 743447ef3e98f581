"""The Model page: the selected model's card (architecture, recipe, curves, errors) and the zoo compared."""

from pathlib import Path

import pandas as pd
import streamlit as st

from digitlab.views import resources
from digitlab.views.charts import confusion_heatmap, training_curve
from digitlab.views.models import selected_model_path

ROW_HEIGHT = 35  # Pixels per row of st.dataframe, to size a table so that it needs no scrolling.


def optional_percent(value):
    """A card's figure as a percentage, or a dash when the card does not record it."""
    return "—" if value is None else f"{value:.2%}"


def headline(card):
    """MNIST test accuracy next to the seed tutorial's figure, USPS and drawn digits, the size and the training time."""
    accuracy, seed = card["test_accuracy"], card.get("seed_accuracy")
    columns = st.columns(6)
    columns[0].metric(
        "Test accuracy",
        f"{accuracy:.2%}",
        delta=None if seed is None else f"{(accuracy - seed) * 100:+.2f} points vs the seed",
        help="MNIST's 10,000 test digits.",
    )
    columns[1].metric(
        "USPS test", optional_percent(card.get("usps_test_accuracy")), help="USPS's 2,007 test digits (US mail)."
    )
    columns[2].metric(
        "Drawn digits",
        optional_percent(card.get("drawn_test_accuracy")),
        help="Pen strokes of UJI's held-out writers W41–W60, each digit drawn 5 times onto a canvas.",
    )
    columns[3].metric("Seed's figure", optional_percent(seed), help=card.get("seed_figure"))
    columns[4].metric("Parameters", f"{card['parameters']:,}")
    columns[5].metric("Training time", f"{card.get('training_seconds', 0):.0f} s")
    st.caption(
        f"Seed: {card.get('seed_source', 'unknown')} ({card.get('seed_figure', 'no figure')}). "
        f"Trained {card.get('date', 'on an unknown date')}."
    )


def layers_table(card):
    """Every layer with its type, output shape and parameter count."""
    st.subheader("Layers")
    layers = pd.DataFrame(card.get("layers", []))
    st.dataframe(
        layers,
        hide_index=True,
        height=min(ROW_HEIGHT * (len(layers) + 1) + 3, 640),
        column_config={"output_shape": "output shape", "parameters": st.column_config.NumberColumn(width="small")},
    )
    st.caption(f"{card['parameters']:,} parameters in all.")


def recipe_table(card):
    """How the model was trained, on which digits when the card says, and the recipe's notes."""
    st.subheader("Recipe")
    recipe = card.get("recipe", {})
    rows = [{"setting": key.replace("_", " "), "value": str(value)} for key, value in recipe.items() if key != "notes"]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    sources = card.get("training_data")
    if sources:
        parts = [f"{s['source']} ({s['digits']:,} digits)" for s in sources]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        st.caption(f"Trained on {listed}.")
    for note in recipe.get("notes", []):
        st.markdown(f"- {note}")


def training_curves(card):
    """Loss and accuracy per epoch, training against validation."""
    st.subheader("Training curves")
    history = card.get("history", {})
    if not history:
        st.info("This card records no training history.")
        return
    loss_column, accuracy_column = st.columns(2)
    loss_column.altair_chart(training_curve(history, "loss", "Loss"), width="stretch")
    accuracy_column.altair_chart(training_curve(history, "accuracy", "Accuracy"), width="stretch")


def errors_section(card):
    """The confusion matrix next to the per-class precision, recall and F1."""
    matrix_column, scores_column = st.columns([3, 2], gap="large")
    with matrix_column:
        st.subheader("Confusion matrix")
        st.altair_chart(confusion_heatmap(card["confusion_matrix"]), width="stretch")
    with scores_column:
        st.subheader("Per-class scores")
        scores = pd.DataFrame(card["per_class"]).set_index("digit")
        st.dataframe(scores.style.format({"precision": "{:.2%}", "recall": "{:.2%}", "f1": "{:.2%}"}))


def zoo_row(path):
    """One model of the folder as a row of the comparison table."""
    card = resources.card_or_none(path)
    if card is None:
        return {"model": Path(path).stem, "test accuracy": None, "seed figure": "card unreadable"}
    return {
        "model": card.get("name", Path(path).stem),
        "test accuracy": card["test_accuracy"] * 100,
        "seed figure": card.get("seed_figure"),
        "parameters": card.get("parameters"),
        "epochs": card.get("recipe", {}).get("epochs"),
        "optimizer": card.get("recipe", {}).get("optimizer"),
        "training time (s)": card.get("training_seconds"),
    }


def zoo_table():
    """Every model of the folder side by side, best first."""
    st.subheader("The model zoo")
    rows = pd.DataFrame([zoo_row(path) for path in resources.model_paths()])
    st.dataframe(
        rows.sort_values("test accuracy", ascending=False),
        hide_index=True,
        column_config={
            "test accuracy": st.column_config.NumberColumn(format="%.2f %%"),
            "seed figure": st.column_config.TextColumn(width="medium"),
        },
    )


def render():
    """The Model page."""
    path = selected_model_path()
    if path is None:
        st.title("Model")
        st.warning(f"No trained models in `{resources.model_dir()}`. Train them with `python train.py --all`.")
        return
    card = resources.card_or_none(path)
    st.title(f"Model: {Path(path).stem}")
    if card is None:
        st.error(f"The card `{Path(path).with_suffix('.json')}` cannot be read. Retrain with `python train.py`.")
    else:
        headline(card)
        layers_column, recipe_column = st.columns([2, 1], gap="large")
        with layers_column:
            layers_table(card)
        with recipe_column:
            recipe_table(card)
        training_curves(card)
        errors_section(card)
    zoo_table()
