"""The Train page: train a zoo model live, or fine-tune one on someone's saved drawings.

The work runs in a child process (`digitlab.jobs`), one job at a time per server; the page
polls it once a second in a fragment, so the page stays responsive, Cancel works at any time
and the job carries on across reruns and page changes.
"""

import functools
import math
import os
import uuid
from pathlib import Path

import streamlit as st

from digitlab import finetune, jobs
from digitlab.database import StoreError
from digitlab.feedback import FeedbackError
from digitlab.training_lock import BUSY_MESSAGE, running_elsewhere
from digitlab.views import resources
from digitlab.views.charts import training_curve
from digitlab.views.dataset import dataset_or_explanation
from digitlab.views.feedback import open_store
from digitlab.views.identity import USER_KEY
from digitlab.views.models import SELECTED_MODEL_KEY, model_label, selected_model_path
from digitlab.zoo import RECIPES

POLL_SECONDS = 1.0
TRAIN, FINE_TUNE = "train", "fine-tune"
OWNER_KEY = "training_owner"
IMAGE_CHOICES = [1_000, 3_000, 6_000, 10_000, 30_000, 60_000]
DEFAULT_IMAGES = 6_000
BATCH_NORM_MIN_BATCHES = 400
DEFAULT_EPOCHS = 3
DEFAULT_ARCH = "mlp-small"
VALIDATION_SETS = {TRAIN: "the MNIST test digits", FINE_TUNE: "the held-out drawings"}


@st.cache_resource
def job_slot():
    """The server's one training slot, shared by every session."""
    return jobs.JobSlot()


def owner():
    """An id for this browser session, to tell its own jobs from other people's."""
    return st.session_state.setdefault(OWNER_KEY, uuid.uuid4().hex)


def my_job(kind):
    return st.session_state.get(f"job-{kind}")


def others_running_job():
    """The job someone else started that is running now, or None."""
    job = job_slot().running()
    return job if job is not None and job.owner != owner() else None


def training_elsewhere():
    """True when another replica of the app is training (the shared database's lock is held, not by this server)."""
    if job_slot().running() is not None:
        return False
    try:
        return running_elsewhere()
    except StoreError:
        return False  # Without the database nobody can tell; the training process itself will say.


def start_job(kind, title, work):
    """Start `work` in the server's slot for this session (a button callback), or note why it cannot start."""
    if training_elsewhere():
        st.session_state[f"refused-{kind}"] = BUSY_MESSAGE
        return
    try:
        st.session_state[f"job-{kind}"] = job_slot().start(kind, title, work, owner=owner())
    except jobs.JobBusy as busy:
        st.session_state[f"refused-{kind}"] = str(busy)


def start_button(label, kind, title, work, disabled):
    """Start runs the job in its callback, so the run that follows already shows it running."""
    st.button(
        label,
        type="primary",
        icon=":material/play_arrow:",
        disabled=disabled,
        on_click=start_job,
        args=(kind, title, work),
    )
    refused = st.session_state.pop(f"refused-{kind}", None)
    if refused:
        st.warning(refused)


def select_model(path):
    st.session_state[SELECTED_MODEL_KEY] = path


def seconds_text(seconds):
    """'0.4 s', '12 s', '3 min'."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def cpu_note():
    """Where training runs, and what that means for everyone else."""
    st.info(
        f"Training runs on the server's CPU ({os.cpu_count()} cores), not on your device: while it runs, "
        "the app reads everyone's drawings more slowly. One training at a time per server.",
        icon=":material/memory:",
    )


def busy_note():
    """Say when someone else's training holds the server."""
    job = others_running_job()
    if job is None:
        if training_elsewhere():
            st.warning(f"{BUSY_MESSAGE} You can start yours when it ends.", icon=":material/hourglass_top:")
        return
    snapshot = job.snapshot()
    st.warning(
        f"The server is busy with someone else's training ({job.title}, epoch {snapshot.epoch} of "
        f"{snapshot.epochs or '…'}). You can start yours when it ends.",
        icon=":material/hourglass_top:",
    )


def shipped_card(arch):
    """The card of the model named `arch` in the model folder, or None."""
    return resources.card_or_none(resources.model_dir() / f"{arch}.keras")


def uses_batch_norm(arch):
    """Whether the architecture has BatchNormalization layers, as its shipped card lists them."""
    card = shipped_card(arch)
    return card is not None and any(layer.get("type") == "BatchNormalization" for layer in card.get("layers", []))


def epoch_estimate(arch, images):
    """Roughly how long an epoch of `images` takes here, scaled from the shipped model's card; None if unknown."""
    card = shipped_card(arch)
    if not card or not card.get("train_images") or not card.get("training_seconds"):
        return None
    per_image = card["training_seconds"] / (card["recipe"]["epochs"] * card["train_images"])
    return per_image * images


def progress(snapshot):
    """The progress bar (epochs and batches) and the time left."""
    if snapshot.cancel_requested:
        text = "Stopping after the current batch…"
    elif not snapshot.epochs:
        text = f"{snapshot.title}: {snapshot.phase}…"
    else:
        text = f"Epoch {snapshot.epoch}/{snapshot.epochs} · batch {snapshot.step}/{snapshot.steps} · {snapshot.phase}"
    st.progress(snapshot.fraction, text=text)
    caption = f"Running for {seconds_text(snapshot.seconds)}."
    if snapshot.epoch_seconds:
        left = (1 - snapshot.fraction) * snapshot.epochs * snapshot.epoch_seconds[-1]
        caption += f" The last epoch took {seconds_text(snapshot.epoch_seconds[-1])}; about {seconds_text(left)} left."
    st.caption(caption)


def curves(snapshot):
    """Loss and accuracy per epoch so far, training against validation."""
    if not snapshot.history:
        st.caption("The loss and accuracy curves gain a point at the end of every epoch.")
        return
    loss_column, accuracy_column = st.columns(2)
    loss_column.altair_chart(training_curve(snapshot.history, "loss", "Loss"), width="stretch")
    accuracy_column.altair_chart(training_curve(snapshot.history, "accuracy", "Accuracy"), width="stretch")
    st.caption(f"Validation is measured on {VALIDATION_SETS[snapshot.kind]}, never trained on.")


def running_job(job):
    """A running job's progress, curves and Cancel button, polled once a second."""
    snapshot = job.snapshot()
    if not snapshot.running:
        st.rerun()  # A full rerun: the sidebar's model menu lists the new model, and the polling stops.
    progress(snapshot)
    if job.owner == owner():
        st.button("Cancel", on_click=job.cancel, icon=":material/stop:", disabled=snapshot.cancel_requested)
    else:
        st.caption("Someone else started this training; only they can cancel it.")
    curves(snapshot)


def finished_job(job, show_result):
    """How a job of this session ended: its result, or why it stopped."""
    snapshot = job.snapshot()
    if snapshot.status == jobs.DONE:
        show_result(snapshot.result)
        st.button(
            "Use it now",
            on_click=select_model,
            args=(snapshot.result["path"],),
            icon=":material/check:",
            key=f"use-{job.id}",
            disabled=selected_model_path() == snapshot.result["path"],
        )
    elif snapshot.status == jobs.CANCELLED:
        when = f"during epoch {snapshot.epoch} of {snapshot.epochs}" if snapshot.epochs else "before it began"
        st.warning(f"{snapshot.title} was cancelled {when}: nothing was saved.")
    else:
        st.error(snapshot.error)
    curves(snapshot)


def job_panel(kind, show_result):
    """The job this tab shows: someone else's running one of this kind, else this session's last one."""
    others = others_running_job()
    job = others if others is not None and others.kind == kind else my_job(kind)
    if job is None:
        return
    if job.snapshot().running:
        st.fragment(running_job, run_every=POLL_SECONDS)(job)
    else:
        finished_job(job, show_result)


def trained_result(result):
    st.success(
        f"**{result['name']}** reads {result['test_accuracy']:.2%} of the 10,000 MNIST test digits. "
        "It is saved and now selectable in the model menu.",
        icon=":material/check_circle:",
    )


def tuned_result(result):
    before, after = result["held_out_accuracy_before"], result["held_out_accuracy_after"]
    mnist_before, mnist_after = result["mnist_test_accuracy_before"], result["mnist_test_accuracy_after"]
    st.success(f"**{result['name']}** is saved and now selectable in the model menu.", icon=":material/check_circle:")
    held_column, mnist_column = st.columns(2)
    held_column.metric(
        f"{result['user']}'s {result['held_out_samples']} held-out drawings",
        f"{after:.0%}",
        delta=f"{(after - before) * 100:+.0f} points (before: {before:.0%})",
    )
    mnist_column.metric(
        "MNIST test digits",
        f"{mnist_after:.2%}",
        delta=None if mnist_before is None else f"{(mnist_after - mnist_before) * 100:+.2f} points",
    )
    st.caption(
        f"Learned from {result['trained_on_samples']} drawings ({result['copies_of_each_sample']} copies each) "
        f"mixed with {result['mnist_images']:,} MNIST images. The {result['held_out_samples']} held-out drawings "
        f"were never trained on; before fine-tuning, {result['base_model']} read {before:.0%} of them."
    )


def zoo_controls():
    """Architecture, epochs, batch size and number of images; returns them."""
    names = list(RECIPES)
    arch = st.selectbox("Architecture", names, index=names.index(DEFAULT_ARCH), key="train_arch")
    recipe = RECIPES[arch]
    st.caption(f"{recipe.seed_source}. Seed figure: {recipe.seed_figure}. " + " ".join(recipe.notes))
    batch_norm = uses_batch_norm(arch)
    epochs_column, batch_column, images_column = st.columns([1, 1, 2])
    epochs = epochs_column.number_input(
        "Epochs",
        min_value=1,
        max_value=50,
        value=1 if batch_norm else min(recipe.epochs, DEFAULT_EPOCHS),
        key=f"train_epochs_{arch}",
        help=f"The recipe trains {recipe.epochs}.",
    )
    batch_size = batch_column.number_input(
        "Batch size", min_value=8, max_value=2048, value=recipe.batch_size, key=f"train_batch_{arch}"
    )
    images = images_column.select_slider(
        "MNIST training images",
        IMAGE_CHOICES,
        value=IMAGE_CHOICES[-1] if batch_norm else DEFAULT_IMAGES,
        format_func="{:,}".format,
        key=f"train_images_{arch}",
        help=(
            "The first images of MNIST's 60,000. Fewer train faster but read less well. "
            "With all 60,000, cnn also trains on USPS's 7,291 training digits, as its recipe says."
        ),
    )
    estimate = epoch_estimate(arch, images)
    if estimate is not None:
        st.caption(
            f"An epoch of {images:,} images takes roughly {seconds_text(max(estimate, 1))} on this server "
            f"(scaled from the shipped {arch}'s card), plus checking the test digits after each epoch."
        )
    batches = epochs * math.ceil(images / batch_size)
    if batch_norm and batches < BATCH_NORM_MIN_BATCHES:
        st.warning(
            f"{arch} uses batch normalisation, whose running averages need about {BATCH_NORM_MIN_BATCHES} batches "
            f"before the model reads new digits well; these settings make {batches}. Measured here: 3 epochs of "
            "6,000 images read 10 % of the test digits, 1 epoch of 60,000 read 98 %."
        )
    return arch, epochs, batch_size, images


def zoo_tab(mnist):
    """Train a zoo architecture from scratch, watching its curves grow."""
    arch, epochs, batch_size, images = zoo_controls()
    work = functools.partial(
        jobs.train_zoo_model,
        arch=arch,
        mnist=(mnist["train"], mnist["test"]),
        out_dir=resources.model_dir(),
        epochs=epochs,
        batch_size=batch_size,
        limit=None if images == IMAGE_CHOICES[-1] else images,
    )
    start_button("Start training", TRAIN, f"Training {arch}", work, disabled=job_slot().running() is not None)
    job_panel(TRAIN, trained_result)


def feedback_users(store):
    """Everyone who saved drawings, or None after explaining why the store cannot be read."""
    try:
        return store.users()
    except FeedbackError as error:
        st.error(str(error))
        return None


def digit_counts(counts):
    return ", ".join(f"{digit}: {count}" for digit, count in counts.items())


def fine_tune_controls(store, users):
    """Base model, whose drawings, epochs and MNIST images; returns them, the drawings and any reason not to start."""
    paths = resources.model_paths()
    selected = selected_model_path()
    base = st.selectbox(
        "Start from",
        paths,
        index=paths.index(selected) if selected in paths else 0,
        format_func=model_label,
        key="tune_base",
    )
    own = st.session_state.get(USER_KEY)
    user = st.selectbox("Whose drawings", users, index=users.index(own) if own in users else 0, key="tune_user")
    samples = store.arrays(user)
    st.caption(f"{len(samples[1])} drawings by {user} (per digit: {digit_counts(store.counts(user))}).")
    problem = finetune.samples_problem(user, samples[1])
    if problem:
        st.warning(problem)
    epochs_column, images_column = st.columns([1, 2])
    epochs = epochs_column.number_input(
        "Epochs", min_value=1, max_value=10, value=finetune.DEFAULT_EPOCHS, key="tune_epochs"
    )
    images = images_column.select_slider(
        "MNIST images mixed in",
        IMAGE_CHOICES,
        value=finetune.DEFAULT_MNIST_IMAGES,
        format_func="{:,}".format,
        key="tune_images",
        help="Random MNIST training images, so that the model keeps reading everyone else's digits.",
    )
    st.caption(
        f"One drawing in {finetune.HELD_OUT_EVERY} is held out to measure the result; the others make "
        f"{finetune.USER_SHARE:.0%} of every epoch. The shipped models are never changed: the result is saved "
        "as a new model."
    )
    return base, user, samples, epochs, images, problem


def fine_tune_tab(mnist):
    """Fine-tune a model on one person's saved drawings and compare before and after."""
    store = open_store()
    users = None if store is None else feedback_users(store)
    if users is None:
        return
    if not users:
        st.info(
            f"Nobody has saved drawings yet. Fine-tuning needs at least {finetune.MIN_SAMPLES} drawings by one "
            "person, saved with **Right?** ✓ / ✗ under each reading on the Draw page."
        )
    elif not resources.model_paths():
        st.warning(f"No models in `{resources.model_dir()}` to start from: train one in the first tab.")
    else:
        try:
            base, user, samples, epochs, images, problem = fine_tune_controls(store, users)
        except FeedbackError as error:
            st.error(f"The saved drawings cannot be read: {error}")
            return
        work = functools.partial(
            finetune.fine_tune,
            base_path=base,
            user=user,
            samples=samples,
            mnist=(mnist["train"], mnist["test"]),
            out_dir=resources.model_dir(),
            epochs=epochs,
            mnist_images=images,
        )
        title = f"Fine-tuning {Path(base).stem} on {user}'s drawings"
        busy = job_slot().running() is not None
        start_button("Start fine-tuning", FINE_TUNE, title, work, disabled=busy or problem is not None)
    job_panel(FINE_TUNE, tuned_result)


def render():
    """The Train page."""
    st.title("Train")
    cpu_note()
    mnist = dataset_or_explanation()
    if mnist is None:
        return
    busy_note()
    zoo, tune = st.tabs(["Train a zoo model", "Fine-tune on my drawings"])
    with zoo:
        zoo_tab(mnist)
    with tune:
        fine_tune_tab(mnist)
