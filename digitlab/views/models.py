"""The sidebar's model selector, and getting the selected model or explaining why it cannot load."""

from pathlib import Path

import streamlit as st

from digitlab.model_server import ModelServerError
from digitlab.store import ModelError
from digitlab.views import resources
from digitlab.zoo import DEFAULT_ARCH, RECIPES

SELECTED_MODEL_KEY = "selected_model"


def model_label(path):
    """'cnn · 99.52 %': a model's name and its test accuracy from its card."""
    card = resources.card_or_none(path)
    if card is None:
        return f"{Path(path).stem} · card unreadable"
    return f"{Path(path).stem} · {card['test_accuracy']:.2%}"


def default_index(paths):
    """The position of the default model (cnn) among `paths`, else the first."""
    names = [Path(path).stem for path in paths]
    return names.index(DEFAULT_ARCH) if DEFAULT_ARCH in names else 0


def model_selector():
    """The sidebar selectbox of every model in the model folder; returns the chosen path or None."""
    paths = resources.model_paths()
    if not paths:
        st.sidebar.warning(
            f"No trained models in `{resources.model_dir()}`. Train the default one with `python train.py`, "
            "or all of them with `python train.py --all`."
        )
        return None
    if st.session_state.get(SELECTED_MODEL_KEY) not in paths:
        st.session_state[SELECTED_MODEL_KEY] = paths[default_index(paths)]
    selected = st.sidebar.selectbox("Model", paths, format_func=model_label, key=SELECTED_MODEL_KEY)
    st.sidebar.caption(f"Models from `{resources.model_dir()}`, with their test accuracy.")
    return selected


def selected_model_path():
    """The path chosen in the sidebar, or None when the folder holds no model."""
    return st.session_state.get(SELECTED_MODEL_KEY)


def selected_classifier():
    """The selected model, loaded; None (with the reason and the fix shown) when it cannot be used."""
    path = selected_model_path()
    if path is None:
        st.error(f"No model to read digits with. Train one with `python train.py` (into `{resources.model_dir()}`).")
        return None
    try:
        return resources.classifier(path, resources.file_version(path))
    except ModelServerError as error:
        st.error(f"Digits cannot be read right now: {error}. Reload the page to try again.")
        return None
    except (ModelError, OSError) as error:
        name = Path(path).stem
        retrain = f"python train.py --arch {name}" if name in RECIPES else "python train.py --all"
        st.error(f"The model **{name}** cannot be used: {error}")
        st.info(f"Fix it by retraining it with `{retrain}`, then reload this page. Other models still work.")
        return None
