"""The Class page: a teacher starts a class, students join by code or QR code, and the wall shows what they drew.

The wall is meant for a projector: it refreshes itself every two seconds (a Streamlit fragment)
from a summary cached per class and per change, so thirty students drawing do not make it read
every drawing again; it shows the class's score, per-digit accuracy, confusion matrix, the
latest drawings and the model's mistakes, each of which opens large with how the model saw it.
"""

import io
import ipaddress
import os
from pathlib import Path
from urllib.parse import urlsplit

import altair as alt
import numpy as np
import pandas as pd
import segno
import streamlit as st
from PIL import Image

from digitlab.classes import ClassError
from digitlab.database import StoreError, database_url
from digitlab.preprocess import normalisation_steps
from digitlab.store import ModelError
from digitlab.views import resources
from digitlab.views.charts import small_counts_heatmap
from digitlab.views.class_join import JOIN_PARAMETER, class_store, open_class_store
from digitlab.views.draw import how_it_sees_section
from digitlab.views.models import selected_model_path
from digitlab.views.prediction import upscaled, verdict

PUBLIC_URL_ENV = "DIGITLAB_PUBLIC_URL"
TEACHER_PARAMETER = "teacher"
NEW_TOKEN_KEY = "class_new_teacher_token"
OPENED_MISTAKE_KEY = "class_opened_mistake"
SCORED_REVISION_KEY = "class_scored_revision"
CHOSEN_MODEL_KEY = "class_model_for_everyone"
WALL_REFRESH_SECONDS = 2
TILES_PER_ROW = 10
MISTAKES_SHOWN = 6
TILE_SIZE = 96
LARGE_TYPE = """
<style>
[data-testid="stMetricValue"] { font-size: 3.5rem; }
[data-testid="stImageCaption"] { font-size: 1rem; }
</style>
"""


def public_base_url():
    """The address students reach the app at: $DIGITLAB_PUBLIC_URL, else the one the teacher's browser used."""
    configured = os.environ.get(PUBLIC_URL_ENV)
    if configured:
        return configured.rstrip("/")
    parts = urlsplit(st.context.url or "http://localhost:8501")
    return f"{parts.scheme}://{parts.netloc}"


def is_loopback(url):
    """True when `url`'s host is this machine only (localhost, 127.0.0.0/8, ::1): no student device can open it."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def join_link(code):
    return f"{public_base_url()}/?{JOIN_PARAMETER}={code}"


def qr_code_png(link):
    """The link as a QR code, PNG bytes large enough to scan off a projector."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def start_class():
    """Start a class and put its teacher token into the page's address (shown once, with a warning)."""
    try:
        _, token = open_class_store().start_class()
    except StoreError as error:
        st.session_state[NEW_TOKEN_KEY] = None
        st.error(f"A class cannot be started: {error}")
        return
    st.session_state[NEW_TOKEN_KEY] = token
    st.query_params[TEACHER_PARAMETER] = token


def start_section():
    """What a teacher sees before a class: what a class is, and the button that starts one."""
    st.write(
        "Start a class, project this page, and let students join from their own devices with the code or the "
        "QR code. Each drawing a student confirms with **Right** or **Wrong** shows up on the wall, with the "
        "class's score and the model's mistakes."
    )
    st.button("Start a class", on_click=start_class, type="primary", icon=":material/co_present:")


def join_panel(info):
    """The join code in large type, the join link, its QR code, and a warning when students cannot reach it."""
    link = join_link(info.code)
    code_column, qr_column = st.columns([2, 1], vertical_alignment="center")
    with code_column:
        st.metric("Join code", info.code)
        st.markdown(f"Students open **{link}** or type the code under **Join a class** on the Draw page.")
        if is_loopback(link):
            st.warning(
                f"`{urlsplit(link).hostname}` is this computer only: no student device can open it. Open this page "
                f"at the address students use (e.g. `http://<this machine's address>:8501`) or set `{PUBLIC_URL_ENV}`."
            )
    qr_column.image(qr_code_png(link), caption="Scan to join", width=220)


def teacher_link_warning(token):
    """Shown once, right after the class starts: this page's address is the only key to control the class."""
    if st.session_state.get(NEW_TOKEN_KEY) != token:
        return
    st.warning(
        "This page's address is your **teacher link**: bookmark it now and keep it to yourself. With it you can "
        "reload, or open the wall on another computer; anyone who has it can end or clear the class.",
        icon=":material/key:",
    )


def controls(info, token):
    """Hide names, clear the wall, end the class."""
    store = open_class_store()
    hide_column, clear_column, end_column = st.columns(3)
    hide_column.toggle(
        "Hide names on the wall",
        value=info.hide_names,
        key="class_hide_names",
        on_change=lambda: store.hide_names(token, st.session_state["class_hide_names"]),
    )
    clear_column.button(
        "Clear the wall",
        on_click=store.clear,
        args=(token,),
        icon=":material/layers_clear:",
        help="Students keep their drawings under My handwriting.",
    )
    end_column.button(
        "End the class", on_click=store.end, args=(token,), icon=":material/stop_circle:", disabled=info.ended
    )


@st.cache_data(max_entries=64, show_spinner=False)
def cached_summary(url, class_id, revision):
    """The wall's summary of a class, computed once per change of its entries (the revision) for every viewer."""
    return class_store(url).summary(class_id)


def tile_caption(entry, hide_names):
    """ "✓ 7 · Ana" or "✗ 9 read 3 · Ben"; the name left out when names are hidden."""
    reading = f"✓ {entry.true_label}" if entry.right else f"✗ {entry.true_label} read {entry.predicted_label}"
    return reading if hide_names else f"{reading} · {entry.student}"


def mosaic(entries, hide_names):
    """The latest drawings as the model saw them, newest first, each marked right or wrong."""
    for start in range(0, len(entries), TILES_PER_ROW):
        for column, entry in zip(st.columns(TILES_PER_ROW), entries[start : start + TILES_PER_ROW]):
            column.image(upscaled(entry.model_input, TILE_SIZE), caption=tile_caption(entry, hide_names))


def per_digit_chart(per_digit):
    """Bars of the share of each digit read right (digits nobody drew are left out)."""
    data = pd.DataFrame(
        [{"digit": str(digit), "read right": share} for digit, share in per_digit.items() if share is not None]
    )
    return (
        alt.Chart(data, height=300, title="Read right, per digit")
        .mark_bar()
        .encode(
            x=alt.X("digit:N", title="Digit", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("read right:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title=None),
            tooltip=["digit", alt.Tooltip("read right:Q", format=".0%")],
        )
    )


def open_mistake(sample_id):
    st.session_state[OPENED_MISTAKE_KEY] = sample_id


def mistakes_section(mistakes, wrong, hide_names):
    """The drawings the model read wrong, surest first; each opens large below with how the model saw it."""
    st.subheader(f"The model's mistakes ({wrong})")
    if not mistakes:
        st.caption("None yet.")
        return
    shown = mistakes[:MISTAKES_SHOWN]
    for column, entry in zip(st.columns(MISTAKES_SHOWN), shown):
        with column:
            confidence = f" ({entry.confidence:.0%} sure)" if entry.confidence is not None else ""
            st.image(upscaled(entry.model_input, TILE_SIZE), caption=tile_caption(entry, hide_names) + confidence)
            st.button("Explain", key=f"explain-{entry.sample_id}", on_click=open_mistake, args=(entry.sample_id,))


def model_for(entry):
    """The model that made the reading (from the model folder), else the one selected in the sidebar."""
    path = resources.model_dir() / f"{entry.model}.keras"
    return str(path) if path.is_file() else selected_model_path()


def mistake_explained(class_id, mistakes):
    """The opened mistake large: the drawing, the model's reading and runner-up, and how it saw it."""
    opened = st.session_state.get(OPENED_MISTAKE_KEY)
    entry = next((mistake for mistake in mistakes if mistake.sample_id == opened), None)
    if entry is None:
        return
    path = model_for(entry)
    with st.container(border=True):
        st.subheader(f"Why the model read this {entry.true_label} as {entry.predicted_label}")
        drawing = np.asarray(Image.open(io.BytesIO(open_class_store().drawing_png(class_id, entry.sample_id))))
        steps = normalisation_steps(drawing)
        try:
            classifier = resources.classifier(path, resources.file_version(path)) if path else None
        except (ModelError, OSError):
            classifier = None
        if steps is None or classifier is None:
            st.info("This drawing can no longer be read.")
            return
        prediction = classifier.predict_model_input(steps.centred)
        verdict(prediction)
        how_it_sees_section(classifier, drawing, steps, prediction)


@st.cache_data(max_entries=16, show_spinner="Reading the class's drawings with every model…")
def zoo_scores(url, class_id, revision, model_paths):
    """Each model's accuracy on the class's drawings, best first."""
    entries = class_store(url).entries(class_id)
    inputs = np.stack([entry.model_input for entry in entries])
    labels = np.array([entry.true_label for entry in entries])
    rows = [
        {"model": Path(path).stem, "read right": float(np.mean(predicted == labels)), "file": Path(path).name}
        for path, predicted in resources.every_model_reads(inputs, model_paths)
        if predicted is not None  # A model that cannot be loaded is explained on the Model page; the wall omits it.
    ]
    return pd.DataFrame(rows, columns=["model", "read right", "file"]).sort_values("read right", ascending=False)


def switch_class(token):
    """Switch every student of the class to the model chosen in the menu."""
    open_class_store().switch_model(token, st.session_state[CHOSEN_MODEL_KEY])


def score_models_now(class_id):
    """Note the class's drawings as they are now (their revision), for the models to be scored on."""
    st.session_state[SCORED_REVISION_KEY] = open_class_store().revision(class_id)


def best_model_section(info, token):
    """ "Which model reads us best?": every model scored on the class's drawings, and one switch for everyone.

    Scoring reads every drawing of the class with every model, so it runs when the teacher asks,
    on the drawings there are then; it sits outside the self-refreshing wall, so that its menu
    stays open while the wall refreshes.
    """
    st.subheader("Which model reads us best?")
    st.button(
        "Score every model on our drawings",
        on_click=score_models_now,
        args=(info.id,),
        icon=":material/leaderboard:",
    )
    scored = st.session_state.get(SCORED_REVISION_KEY)
    if scored is None or not scored[0]:
        return
    scores = zoo_scores(database_url(), info.id, scored, tuple(resources.model_paths()))
    st.caption(f"Scored on the {scored[0]} drawings there were when you asked; press again to include new ones.")
    st.dataframe(
        scores[["model", "read right"]],
        column_config={"read right": st.column_config.ProgressColumn(format="percent", min_value=0, max_value=1)},
        hide_index=True,
    )
    st.pills("Model for everyone", list(scores["file"]), format_func=lambda name: Path(name).stem, key=CHOSEN_MODEL_KEY)
    st.button(
        "Switch every student to it",
        icon=":material/swap_horiz:",
        on_click=switch_class,
        args=(token,),
        disabled=not st.session_state.get(CHOSEN_MODEL_KEY),
    )
    if info.model:
        st.success(f"Every student reads with **{Path(info.model).stem}** from their next stroke.")


@st.fragment(run_every=WALL_REFRESH_SECONDS)
def wall(info, token):
    """The live wall: score, per-digit accuracy, confusion matrix, latest drawings and the model's mistakes."""
    store = open_class_store()
    revision = store.revision(info.id)
    summary = cached_summary(database_url(), info.id, revision)
    if not summary.total:
        st.info(
            f"No drawings yet. Students join with the code **{info.code}**, draw a digit, and answer **Right** or "
            "**Wrong** under the reading: each answer appears here."
        )
        return
    score_column, students_column, accuracy_column = st.columns(3)
    score_column.metric("Read right", f"{summary.right} / {summary.total}")
    students_column.metric("Students", summary.students)
    accuracy_column.metric("Accuracy", f"{summary.right / summary.total:.0%}")
    chart_column, matrix_column = st.columns(2)
    chart_column.altair_chart(per_digit_chart(summary.per_digit), width="stretch")
    matrix_column.altair_chart(small_counts_heatmap(summary.confusion, height=300), width="stretch")
    st.subheader("Latest drawings")
    mosaic(summary.latest, info.hide_names)
    mistakes_section(summary.mistakes, summary.wrong, info.hide_names)
    mistake_explained(info.id, summary.mistakes)


def render():
    """The Class page."""
    st.title("Class wall")
    token = st.query_params.get(TEACHER_PARAMETER)
    if not token:
        start_section()
        return
    try:
        info = open_class_store().teaching(token)
    except (ClassError, StoreError) as error:
        st.error(str(error))
        st.query_params.pop(TEACHER_PARAMETER, None)
        start_section()
        return
    st.html(LARGE_TYPE)
    teacher_link_warning(token)
    if info.ended:
        st.info("This class has ended: nobody can join or add drawings. The wall stays here for you.")
    else:
        join_panel(info)
    controls(info, token)
    wall(info, token)
    best_model_section(info, token)
