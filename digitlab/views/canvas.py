"""The drawing surface shared by the Draw and Number pages: black ink on white, and its Clear button."""

import streamlit as st

DEFAULT_STROKE_WIDTH = 18


def _generation_key(name):
    return f"{name}_canvas_generation"


def clear_canvas(name):
    """Give canvas `name` a new key, so that the next run shows a fresh, empty one."""
    key = _generation_key(name)
    st.session_state[key] = st.session_state.get(key, 0) + 1


def pen_width_slider(name):
    """The pen width for canvas `name`, in canvas pixels."""
    return st.slider("Pen width", min_value=6, max_value=40, value=DEFAULT_STROKE_WIDTH, key=f"{name}_pen")


def drawing_canvas(name, stroke_width, width, height):
    """A freehand canvas that reruns the page at every stroke; returns the drawing as an RGBA array or None."""
    # The component can only be imported inside a running app, so the import waits until it is drawn.
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(
        stroke_width=stroke_width,
        stroke_color="#000000",
        background_color="#FFFFFF",
        height=height,
        width=width,
        drawing_mode="freedraw",
        update_streamlit=True,
        return_image_data=True,
        key=f"{name}-canvas-{st.session_state.get(_generation_key(name), 0)}",
    )
    return result.image_data


def clear_button(name):
    """The Clear button under canvas `name`."""
    st.button("Clear", on_click=clear_canvas, args=(name,), icon=":material/delete:", key=f"{name}_clear")
