"""Uploading a digit model in the sidebar: checked in the model server, this session's at once, kept on request.

An uploaded file is imported (digitlab.importing, run in the model server) into a folder of this
session's own, with a card measured on MNIST's test digits, and selected; it is gone when the
app's process ends. "Keep it" imports the same file into the model folder with every measurement,
for every visitor.
"""

import tempfile
from pathlib import Path

import streamlit as st

from digitlab.cards import name_part
from digitlab.imported import FORMATS, MAX_MODEL_MB
from digitlab.model_server import import_remotely
from digitlab.store import ModelError
from digitlab.views.models import SELECTED_MODEL_KEY, UPLOADED_MODELS_KEY, session_uploads
from digitlab.views.resources import model_dir

UPLOAD_KEY = "model_upload"
MESSAGE_KEY = "model_upload_message"
SOURCES_KEY = "uploaded_model_sources"  # Uploaded path → the file as uploaded, for "keep it".
FOLDER_KEY = "upload_folder"


@st.cache_resource
def uploads_root():
    """The folder of every session's uploaded models, removed when the app's process ends."""
    return tempfile.TemporaryDirectory(prefix="digitlab-uploads-")


def session_folder():
    """This session's own folder for uploaded models."""
    if FOLDER_KEY not in st.session_state:
        st.session_state[FOLDER_KEY] = tempfile.mkdtemp(dir=uploads_root().name)
    return Path(st.session_state[FOLDER_KEY])


def saved_upload(upload):
    """The uploaded file written under a safe name in this session's folder."""
    originals = session_folder() / "originals"
    originals.mkdir(exist_ok=True)
    path = originals / f"{name_part(Path(upload.name).stem, fallback='model', max_length=40)}{Path(upload.name).suffix}"
    path.write_bytes(upload.getvalue())
    return path


def on_upload():
    """Check, measure and select a newly uploaded model; a one-line refusal when it is no usable digit model."""
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is None:
        return
    source = saved_upload(upload)
    try:
        card = import_remotely(source, session_folder(), everything=False)
    except ModelError as error:
        st.session_state[MESSAGE_KEY] = ("error", f"**{upload.name}** cannot be used: {error}")
        return
    st.session_state[UPLOADED_MODELS_KEY] = [*session_uploads(), card["path"]]
    st.session_state.setdefault(SOURCES_KEY, {})[card["path"]] = str(source)
    st.session_state[SELECTED_MODEL_KEY] = card["path"]
    st.session_state[MESSAGE_KEY] = (
        "success",
        f"**{upload.name}** reads {card['test_accuracy']:.2%} of MNIST's test digits. "
        f"{card['recipe']['notes'][0]} Selected, for this session only.",
    )


def keep(path):
    """Import an uploaded model into the model folder, with every measurement, and select it there."""
    source = st.session_state[SOURCES_KEY][path]
    try:
        card = import_remotely(source, model_dir(), name=None, everything=True)
    except ModelError as error:
        st.session_state[MESSAGE_KEY] = ("error", f"It could not be kept: {error}")
        return
    st.session_state[UPLOADED_MODELS_KEY] = [p for p in session_uploads() if p != path]
    st.session_state[SELECTED_MODEL_KEY] = card["path"]
    st.session_state[MESSAGE_KEY] = ("success", f"Kept as **{card['name']}** in `{model_dir()}`, for every visitor.")


def upload_model_section():
    """The sidebar's "Upload a model": the uploader, what became of the last upload, and "keep it"."""
    with st.sidebar.expander("Upload a model", icon=":material/upload_file:", expanded=MESSAGE_KEY in st.session_state):
        st.file_uploader(
            f"A Keras or ONNX digit model, up to {MAX_MODEL_MB} MB",
            type=[suffix.lstrip(".") for suffix in FORMATS],
            key=UPLOAD_KEY,
            max_upload_size=MAX_MODEL_MB,
            on_change=on_upload,
            help="Keras 3 (.keras), legacy Keras (.h5) or ONNX (.onnx) taking one 28×28 digit and giving 10 scores. "
            "Its input convention is detected on MNIST test digits. Code in a model file (a Lambda layer) is refused.",
        )
        kind, message = st.session_state.get(MESSAGE_KEY) or (None, None)
        if kind == "error":
            st.error(message)
        elif kind == "success":
            st.success(message)
        selected = st.session_state.get(SELECTED_MODEL_KEY)
        if selected in session_uploads():
            st.button(
                "Keep it for everyone",
                on_click=keep,
                args=(selected,),
                help="Copy it into the model folder with its full measurements (about half a minute).",
            )
