"""The sidebar's model selectors (a model, one to compare with), and getting a model or saying why it cannot load."""

from pathlib import Path

import streamlit as st

from digitlab.model_server import ModelServerError
from digitlab.store import ModelError
from digitlab.views import resources
from digitlab.zoo import DEFAULT_ARCH, RECIPES

SELECTED_MODEL_KEY = "selected_model"
COMPARED_MODEL_KEY = "compared_model"
UPLOADED_MODELS_KEY = "uploaded_models"  # Models uploaded in this session: temporary, this session's only.
NO_COMPARISON = "—"


def model_label(path):
    """'cnn · 99.52 %': a model's name and its test accuracy from its card."""
    if path == NO_COMPARISON:
        return "no second model"
    card = resources.card_or_none(path)
    if card is None:
        return f"{Path(path).stem} · card unreadable"
    uploaded = " · uploaded" if path in session_uploads() else ""
    return f"{Path(path).stem} · {card['test_accuracy']:.2%}{uploaded}"


def session_uploads():
    """The paths of the models uploaded in this session that are still there."""
    return [path for path in st.session_state.get(UPLOADED_MODELS_KEY, []) if Path(path).is_file()]


def available_models():
    """The model folder's models, then this session's uploads."""
    return resources.model_paths() + session_uploads()


def default_index(paths):
    """The position of the default model (cnn) among `paths`, else the first."""
    names = [Path(path).stem for path in paths]
    return names.index(DEFAULT_ARCH) if DEFAULT_ARCH in names else 0


def model_selector():
    """The sidebar selectboxes: every model of the model folder and of this session's uploads, and one to compare with.

    Returns the chosen path or None.
    """
    paths = available_models()
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
    compare_selector(paths, selected)
    return selected


def compare_selector(paths, selected):
    """A second model, read beside the first on the Draw page and against it on the Dataset page."""
    others = [NO_COMPARISON, *(path for path in paths if path != selected)]
    if st.session_state.get(COMPARED_MODEL_KEY) not in others:
        st.session_state[COMPARED_MODEL_KEY] = NO_COMPARISON
    st.sidebar.selectbox(
        "Compare with",
        others,
        format_func=model_label,
        key=COMPARED_MODEL_KEY,
        help="Each drawing is read by both models side by side; the Dataset page shows where they disagree.",
    )


def compared_model_path():
    """The path of the model to compare with, or None."""
    path = st.session_state.get(COMPARED_MODEL_KEY)
    return None if path in (None, NO_COMPARISON) else path


def selected_model_path():
    """The path chosen in the sidebar, or None when the folder holds no model."""
    return st.session_state.get(SELECTED_MODEL_KEY)


def fix_for(name, path):
    """How to repair a model that cannot be used: retrain a zoo model, replace one brought from elsewhere."""
    if name in RECIPES:
        return f"Fix it by retraining it with `python train.py --arch {name}`, then reload this page."
    return (
        f"Replace `{Path(path).name}` with a working copy (`python -m digitlab import FILE --name {name}`) or "
        "remove it and its card from the model folder, then reload this page."
    )


def selected_classifier():
    """The selected model, loaded; None (with the reason and the fix shown) when it cannot be used."""
    path = selected_model_path()
    if path is None:
        st.error(f"No model to read digits with. Train one with `python train.py` (into `{resources.model_dir()}`).")
        return None
    return classifier_or_explanation(path)


def compared_classifier():
    """The model to compare with, loaded; None when there is none or (with the reason shown) when it cannot be used."""
    path = compared_model_path()
    return None if path is None else classifier_or_explanation(path)


def classifier_or_explanation(path):
    """The model at `path`, loaded; None (with the reason and the fix shown) when it cannot be used."""
    try:
        return resources.classifier(path, resources.file_version(path))
    except ModelServerError as error:
        st.error(f"Digits cannot be read right now: {error}. Reload the page to try again.")
        return None
    except (ModelError, OSError) as error:
        name = Path(path).stem
        st.error(f"The model **{name}** cannot be used: {error}")
        st.info(f"{fix_for(name, path)} Other models still work.")
        return None
