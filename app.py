"""Digit Lab: draw a digit and a Keras CNN trained on MNIST reads it live. Run: streamlit run app.py"""

import streamlit as st

from digitlab.views import class_page, dataset, draw, handwriting, model_page, number, training_page
from digitlab.views.class_join import follow_class_model
from digitlab.views.models import model_selector
from digitlab.views.upload_model import upload_model_section


def main():
    """Set up the page, the model selector and the navigation, then run the chosen page."""
    st.set_page_config(page_title="Digit Lab", page_icon=":material/draw:", layout="wide")
    page = st.navigation(
        [
            st.Page(draw.render, title="Draw", icon=":material/draw:", url_path="draw", default=True),
            st.Page(number.render, title="Number", icon=":material/pin:", url_path="number"),
            st.Page(dataset.render, title="Dataset", icon=":material/grid_view:", url_path="dataset"),
            st.Page(model_page.render, title="Model", icon=":material/model_training:", url_path="model"),
            st.Page(training_page.render, title="Train", icon=":material/fitness_center:", url_path="train"),
            st.Page(handwriting.render, title="My handwriting", icon=":material/person_edit:", url_path="handwriting"),
            st.Page(class_page.render, title="Class", icon=":material/co_present:", url_path="class"),
        ]
    )
    follow_class_model()
    model_selector()
    upload_model_section()
    page.run()


if __name__ == "__main__":
    main()
