"""A student's side of a class: joining by code or link, and following the model the teacher picks for everyone."""

import streamlit as st

from digitlab.classes import ClassStore, student_name
from digitlab.database import StoreError, database_url
from digitlab.views.identity import CLASS_CODE_KEY, USER_KEY, joined_code, user
from digitlab.views.models import SELECTED_MODEL_KEY
from digitlab.views.resources import model_dir

CODE_INPUT_KEY = "class_code_input"
NAME_INPUT_KEY = "class_name_input"
JOIN_ERROR_KEY = "class_join_error"
APPLIED_MODEL_KEY = "class_model_applied"
JOIN_PARAMETER = "join"
CLASS_MODEL_SECONDS = 2
MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-.!|~:$")


@st.cache_resource(show_spinner=False)
def class_store(url):
    """One ClassStore per database for the whole server."""
    return ClassStore(url)


def open_class_store():
    """The class store of the app's database; StoreError when the database cannot be used."""
    return class_store(database_url())


def join():
    """Join the class whose code was typed, under the name typed (which also labels the saved drawings)."""
    try:
        info = open_class_store().joinable(st.session_state.get(CODE_INPUT_KEY))
        name = student_name(st.session_state.get(NAME_INPUT_KEY) or user())
    except StoreError as error:
        st.session_state[JOIN_ERROR_KEY] = str(error)
        return
    st.session_state[CLASS_CODE_KEY] = info.code
    st.session_state[USER_KEY] = name
    st.session_state[APPLIED_MODEL_KEY] = None  # A model the teacher picked before this student joined applies too.
    st.session_state[JOIN_ERROR_KEY] = None
    st.query_params.pop(JOIN_PARAMETER, None)


def escaped(text):
    """Text shown literally inside Markdown: every Markdown and HTML character escaped."""
    return "".join(f"\\{character}" if character in MARKDOWN_SPECIALS else character for character in str(text))


def leave():
    st.session_state[CLASS_CODE_KEY] = None


def join_section():
    """The "Join a class" form under the Draw page's title (open after a join link), or who you are once joined."""
    code = joined_code()
    if code is not None:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.info(f"In class **{code}** as **{escaped(user())}**: your confirmed drawings go to its wall.")
        right.button("Leave class", on_click=leave, icon=":material/logout:")
        return
    linked = st.query_params.get(JOIN_PARAMETER)
    if linked and not st.session_state.get(CODE_INPUT_KEY):
        st.session_state[CODE_INPUT_KEY] = linked.upper()
    with st.expander("Join a class", icon=":material/groups:", expanded=bool(linked)):
        with st.form("join_class", border=False):
            code_column, name_column = st.columns(2)
            code_column.text_input("Class code", key=CODE_INPUT_KEY, max_chars=12, placeholder="e.g. K7QF2M")
            name_column.text_input(
                "Your first name or a nickname", key=NAME_INPUT_KEY, max_chars=20, placeholder="e.g. Sam"
            )
            st.form_submit_button("Join", on_click=join, icon=":material/login:")
        if st.session_state.get(JOIN_ERROR_KEY):
            st.warning(st.session_state[JOIN_ERROR_KEY])


@st.cache_data(ttl=CLASS_MODEL_SECONDS, show_spinner=False)
def class_model(url, code):
    """The model the teacher picked for the class (file name) and how many times it was switched, or None."""
    try:
        info = class_store(url).joinable(code)
    except StoreError:
        return None
    return info.model, info.model_changed


def follow_class_model():
    """Select the model the teacher switched the class to, once per switch; runs before the sidebar's selector."""
    code = joined_code()
    if code is None:
        return
    picked = class_model(database_url(), code)
    if picked is None or picked[1] == st.session_state.get(APPLIED_MODEL_KEY) or picked[0] is None:
        return
    st.session_state[APPLIED_MODEL_KEY] = picked[1]
    path = model_dir() / picked[0]
    if path.is_file():
        st.session_state[SELECTED_MODEL_KEY] = str(path)
        st.toast(f"Your teacher switched everyone to **{path.stem}**.", icon=":material/swap_horiz:")


def save_to_class(drawing, prediction, model_name, true_label, user):
    """Save a confirmed reading to the joined class's wall and the student's handwriting; ClassError when it cannot."""
    return open_class_store().save_reading(
        joined_code(),
        student=user,
        drawing=drawing,
        model_input=prediction.model_input,
        true_label=true_label,
        predicted_label=prediction.digit,
        confidence=prediction.confidence,
        model=model_name,
    )
