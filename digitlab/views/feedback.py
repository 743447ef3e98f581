""" "Right?" ✓ / ✗ under a prediction: the person says what they drew, and the drawing is kept to learn from."""

import hashlib

import streamlit as st

from digitlab.database import database_url
from digitlab.feedback import MAX_USER_LENGTH, FeedbackError, FeedbackStore, clean_user_name
from digitlab.views.class_join import save_to_class
from digitlab.views.identity import USER_KEY, joined_code

NAME_INPUT_KEY = "feedback_name_input"
NAME_ERROR_KEY = "feedback_name_error"
EDITING_NAME_KEY = "feedback_editing_name"
SAVED_KEY = "feedback_saved"
WRONG_KEY = "feedback_wrong"
DIGIT_OPTIONS = list(range(10))


@st.cache_resource(show_spinner=False)
def cached_store(url):
    """One FeedbackStore per database for the whole server (it keeps a pool of connections)."""
    return FeedbackStore(url)


def open_store():
    """The feedback store of the app's database (`database_url()`), or None with the reason shown."""
    try:
        return cached_store(database_url())
    except FeedbackError as error:
        st.error(f"Drawings cannot be saved or read right now. {error}")
        return None


def fingerprint(drawing):
    """A short digest of the canvas's pixels: a save is tied to the exact drawing it was made for."""
    return hashlib.blake2b(drawing.tobytes(), digest_size=16).hexdigest()


def remember_name():
    """Keep the typed name for the session, or note why it cannot be used."""
    try:
        st.session_state[USER_KEY] = clean_user_name(st.session_state.get(NAME_INPUT_KEY))
        st.session_state[EDITING_NAME_KEY] = False
        st.session_state[NAME_ERROR_KEY] = None
    except FeedbackError as error:
        st.session_state[NAME_ERROR_KEY] = str(error)


def edit_name():
    st.session_state[EDITING_NAME_KEY] = True
    st.session_state[NAME_INPUT_KEY] = st.session_state.get(USER_KEY, "")


def user_name():
    """The name drawings are saved under: asked the first time, then shown with a way to change it."""
    user = st.session_state.get(USER_KEY)
    if user and not st.session_state.get(EDITING_NAME_KEY):
        st.caption(f"Saving as **{user}**")
        st.button("Change name", on_click=edit_name, type="tertiary", icon=":material/edit:")
        return user
    st.text_input(
        "Your name, to save your drawings under (press Enter)",
        key=NAME_INPUT_KEY,
        max_chars=MAX_USER_LENGTH,
        on_change=remember_name,
        placeholder="e.g. Sam",
    )
    if st.session_state.get(NAME_ERROR_KEY):
        st.warning(st.session_state[NAME_ERROR_KEY])
    return None


def save_sample(store, drawing, prediction, model_name, true_label, user):
    """Save the drawing with its true digit; returns True when it was saved (errors are shown, never raised)."""
    try:
        if joined_code() is not None:
            save_to_class(drawing, prediction, model_name, true_label, user)
        else:
            store.save(
                user=user,
                drawing=drawing,
                model_input=prediction.model_input,
                true_label=true_label,
                predicted_label=prediction.digit,
                model=model_name,
            )
    except FeedbackError as error:
        st.error(f"Not saved: {error}")
        return False
    st.session_state[SAVED_KEY] = (fingerprint(drawing), true_label)
    st.toast(f"Saved your {true_label}. Thank you, {user}!", icon=":material/check_circle:")
    return True


def right_or_wrong(drawing, prediction, model_name):
    """Ask whether the reading is right; ✓ saves the drawing as read, ✗ asks which digit it was, then saves it."""
    st.markdown("**Right?**")
    user = user_name()
    if user is None:
        return
    this_drawing = fingerprint(drawing)
    saved = st.session_state.get(SAVED_KEY)
    if saved is not None and saved[0] == this_drawing:
        st.success(f"Saved as a {saved[1]}. Draw another one, or see it under **My handwriting**.")
        return
    slot = st.empty()
    with slot.container():
        right_column, wrong_column = st.columns(2)
        right = right_column.button("Right", key="feedback_right", icon=":material/check:", width="stretch")
        if wrong_column.button("Wrong", key="feedback_wrong_button", icon=":material/close:", width="stretch"):
            st.session_state[WRONG_KEY] = this_drawing
        true_label = prediction.digit if right else None
        if st.session_state.get(WRONG_KEY) == this_drawing:
            true_label = st.pills("It was…", DIGIT_OPTIONS, key=f"feedback_it_was_{this_drawing}")
    store = open_store() if true_label is not None else None
    if store is not None and save_sample(store, drawing, prediction, model_name, true_label, user):
        slot.success(f"Saved as a {true_label}. Draw another one, or see it under **My handwriting**.")
