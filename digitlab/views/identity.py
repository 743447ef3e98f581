"""Who is drawing in this session: the name their drawings are saved under, and the class they joined."""

import streamlit as st

USER_KEY = "feedback_user"
CLASS_CODE_KEY = "class_code"


def user():
    """The name this session saves drawings under, or None before it was given."""
    return st.session_state.get(USER_KEY)


def joined_code():
    """The code of the class this session has joined, or None."""
    return st.session_state.get(CLASS_CODE_KEY)
