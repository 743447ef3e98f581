"""The reference "bare app": the Draw page's canvas and Clear button, and a constant Prediction when there is ink.

Nothing else: no model, no page layout, Streamlit's default settings. The classroom benchmarks compare
Digit Lab's server cost against it. Run it from a folder without `.streamlit/config.toml` (the benchmarks
copy it into a temporary folder), so that none of the repository's settings apply:

    streamlit run bare_app.py
"""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

GENERATION_KEY = "draw_canvas_generation"


def clear_canvas():
    """Give the canvas a new key, so that the next run shows a fresh, empty one (as Digit Lab's Clear does)."""
    st.session_state[GENERATION_KEY] = st.session_state.get(GENERATION_KEY, 0) + 1


result = st_canvas(
    stroke_width=18,
    stroke_color="#000000",
    background_color="#FFFFFF",
    height=280,
    width=280,
    drawing_mode="freedraw",
    update_streamlit=True,
    return_image_data=True,
    key=f"draw-canvas-{st.session_state.get(GENERATION_KEY, 0)}",
)
st.button("Clear", on_click=clear_canvas, icon=":material/delete:", key="draw_clear")
# The background is white, so any pixel that is not pure white (RGB 255) is ink.
if result.image_data is not None and (result.image_data[:, :, :3] < 255).any():
    st.metric("Prediction", 0)
else:
    st.info("Draw a digit (0–9)")
