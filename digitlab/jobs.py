"""Training in the background: a job runs in a child process, reports its progress and stops when cancelled.

A page starts a job and polls `Job.snapshot()`; the job never touches Streamlit. The work runs
in its own Python process rather than a thread of the server because Streamlit calls
`keras.backend.clear_session()` after every script run, which resets Keras's global state (layer
names, call contexts) under a model being built or traced in another thread. The child stops
between batches when cancelled, when the server goes away (its stdin closes) or on SIGINT/SIGTERM.
`JobSlot` lets one job run at a time per server, because a training takes all of the server's CPU.
"""

import atexit
import contextlib
import json
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path

from digitlab.cards import build_card, free_name, live_model_name
from digitlab.data import DatasetError, WriterDigits, array_hashes, training_set
from digitlab.store import save_model_and_card, without_optimizer
from digitlab.training_lock import TrainingBusy, training_lock
from digitlab.zoo import RECIPES

RUNNING, DONE, CANCELLED, FAILED = "running", "done", "cancelled", "failed"
SHUTDOWN_WAIT_SECONDS = 30
EVENT_PREFIX = "@job "
CANCEL_LINE = b"cancel\n"
ROOT = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)

_live_jobs = weakref.WeakSet()


class JobError(RuntimeError):
    """A job could not do its work for a reason the user can act on; the message is one readable line."""


class JobBusy(RuntimeError):
    """Another job is already running on this server."""


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of a job's progress, for display."""

    kind: str
    title: str
    status: str
    phase: str
    epoch: int
    epochs: int
    step: int
    steps: int
    history: dict
    epoch_seconds: list
    seconds: float
    result: dict | None
    error: str | None
    cancel_requested: bool

    @property
    def running(self):
        return self.status == RUNNING

    @property
    def fraction(self):
        """How much of the fit is done, from 0 to 1 (0 before it starts)."""
        if not self.epochs or not self.steps:
            return 0.0
        return min(1.0, (max(self.epoch - 1, 0) * self.steps + self.step) / (self.epochs * self.steps))


class Job:
    """`work(reporter)` run in a child process; `work` must pickle (e.g. a functools.partial of a module function).

    The work returns a JSON-able result dict, or None when it was cancelled; it raises JobError
    for problems the user can act on.
    """

    def __init__(self, kind, title, work, owner=None):
        self.id = uuid.uuid4().hex
        self.kind, self.title, self.owner = kind, title, owner
        self._payload = pickle.dumps(work, protocol=pickle.HIGHEST_PROTOCOL)
        self._lock = threading.Lock()
        self._cancel_requested = self._work_sent = False
        self._process = None
        self._reader = threading.Thread(target=self._follow, name=f"digitlab-{kind}-{self.id[:8]}", daemon=True)
        self._status, self._phase, self._result, self._error = RUNNING, "starting Python and TensorFlow", None, None
        self._epoch = self._epochs = self._step = self._steps = 0
        self._history, self._epoch_seconds = {}, []
        self._started = self._epoch_started = time.monotonic()
        self._finished = None

    def start(self):
        """Start a thread that runs the child process, hands it the work and follows its reports; returns the job."""
        _live_jobs.add(self)
        self._reader.start()
        return self

    def cancel(self):
        """Ask the job to stop after the current batch; a cancelled job saves nothing."""
        with self._lock:
            self._cancel_requested = True
            tell_child = self._work_sent
        if tell_child:
            self._write_to_child(CANCEL_LINE)

    @property
    def cancel_requested(self):
        return self._cancel_requested

    def wait(self, timeout=None):
        """Wait until the job has ended; True when it has."""
        self._reader.join(timeout)
        return not self._reader.is_alive()

    def snapshot(self):
        with self._lock:
            return Snapshot(
                kind=self.kind,
                title=self.title,
                status=self._status,
                phase=self._phase,
                epoch=self._epoch,
                epochs=self._epochs,
                step=self._step,
                steps=self._steps,
                history={key: list(values) for key, values in self._history.items()},
                epoch_seconds=list(self._epoch_seconds),
                seconds=(self._finished or time.monotonic()) - self._started,
                result=self._result,
                error=self._error,
                cancel_requested=self._cancel_requested,
            )

    def _follow(self):
        """Run the child and follow it; however that ends, record how the job ended, so the slot frees up."""
        exit_status = None
        with tempfile.TemporaryFile() as errors:
            try:
                exit_status = self._run_child(errors)
            finally:
                errors.seek(0)
                self._finish(exit_status, errors.read().decode("utf-8", "replace").strip())

    def _run_child(self, errors):
        """Start the child, hand it its work and apply its reports as they come; returns its exit status."""
        python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from digitlab.jobs import work_in_child; work_in_child()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={**os.environ, "PYTHONPATH": python_path},
        )
        try:
            self._send_work()
            for line in self._process.stdout:
                text = line.decode("utf-8", "replace")
                if text.startswith(EVENT_PREFIX):
                    self._apply(*json.loads(text.removeprefix(EVENT_PREFIX)))
        finally:
            with contextlib.suppress(OSError):  # Unsent work left in the buffer of a pipe the child closed.
                self._process.stdin.close()  # A child still working takes this as Cancel.
            self._process.stdout.close()
            exit_status = self._process.wait()
        return exit_status

    def _send_work(self):
        """Write the pickled work to the child's stdin, then a cancel line if Cancel came first."""
        self._write_to_child(struct.pack("<Q", len(self._payload)) + self._payload)
        self._payload = None
        with self._lock:
            self._work_sent = True
            tell_child = self._cancel_requested
        if tell_child:
            self._write_to_child(CANCEL_LINE)

    def _write_to_child(self, data):
        try:
            self._process.stdin.write(data)
            self._process.stdin.flush()
        except (OSError, ValueError):
            pass  # The child has ended; its exit status tells how.

    def _finish(self, exit_status, errors):
        """After the child has exited: a job that never reported its end failed, unless it was cancelled."""
        with self._lock:
            if self._status == RUNNING:
                last_line = errors.splitlines()[-1] if errors else "no message"
                unexpected = f"{self.title} stopped unexpectedly (exit status {exit_status}): {last_line}"
                self._end(None, None if self._cancel_requested else unexpected)
            failed_unexpectedly = self._error is not None and "unexpectedly" in self._error
        if failed_unexpectedly:
            log.warning("%s failed; its process said:\n%s", self.title, errors)

    def _apply(self, event, value):
        with self._lock:
            if event == "phase":
                self._phase = value
            elif event == "fit":
                self._epochs, self._steps = value
            elif event == "epoch":
                self._epoch, self._step, self._phase = value, 0, "training"
                self._epoch_started = time.monotonic()
            elif event == "step":
                self._step = value
            elif event == "epoch_end":
                for key, number in value.items():
                    self._history.setdefault(key, []).append(number)
                self._epoch_seconds.append(time.monotonic() - self._epoch_started)
            elif event == "end":
                self._end(value["result"], value["error"])

    def _end(self, result, error):
        self._result, self._error = result, error
        self._status = FAILED if error else DONE if result is not None else CANCELLED
        self._finished = time.monotonic()


class Reporter:
    """What the work gets in the child process: it reports progress to the parent and knows about cancelling."""

    def __init__(self, out, cancelled):
        self._out, self._cancelled = out, cancelled
        self._lock = threading.Lock()

    @property
    def cancel_requested(self):
        return self._cancelled.is_set()

    def report(self, event, value=None):
        with self._lock:
            self._out.write(EVENT_PREFIX + json.dumps([event, value], default=float) + "\n")
            self._out.flush()

    def set_phase(self, phase):
        """Say what the job is doing now, e.g. 'testing on MNIST'."""
        self.report("phase", phase)

    def progress_callback(self):
        """A Keras callback for `fit` that reports progress and ends the fit between batches when cancelled."""
        from digitlab.training import ReportProgress

        return ReportProgress(self.report, self._cancelled)


def work_in_child():
    """The child process's main: read the work from stdin, run it, report on stdout; stdin says when to stop."""
    stdin = sys.stdin.buffer
    (size,) = struct.unpack("<Q", stdin.read(8))
    work = pickle.loads(stdin.read(size))
    cancelled = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: cancelled.set())
    threading.Thread(target=_stop_when_told, args=(stdin, cancelled), daemon=True).start()
    reporter = Reporter(sys.stdout, cancelled)
    outcome = {"result": None, "error": None}
    try:
        with training_lock():
            outcome["result"] = work(reporter)
    except (JobError, TrainingBusy) as problem:
        outcome["error"] = str(problem)
    except Exception as problem:
        log.exception("the job failed")
        outcome["error"] = f"The job failed unexpectedly ({type(problem).__name__}: {problem})."
    reporter.report("end", outcome)
    sys.stderr.flush()
    os._exit(0)  # Skips TensorFlow's slow teardown: whatever was saved is already closed and in place.


def _stop_when_told(stdin, cancelled):
    """Stop the work at the parent's 'cancel' line, or when the parent is gone (stdin closed)."""
    stdin.readline()
    cancelled.set()


class JobSlot:
    """The server's one place for a running job: starting a second one while the first runs raises JobBusy."""

    def __init__(self):
        self._lock = threading.Lock()
        self._current = None

    @property
    def current(self):
        """The last job started here, running or not (None before the first)."""
        return self._current

    def running(self):
        """The job running now, or None."""
        job = self._current
        return job if job is not None and job.snapshot().running else None

    def start(self, kind, title, work, owner=None):
        """Start `work` as a new job, unless another one is running; returns the job."""
        with self._lock:
            busy = self.running()
            if busy is not None:
                raise JobBusy(f"{busy.title} is already running on this server; one training runs at a time.")
            self._current = Job(kind, title, work, owner).start()
            return self._current


def save_new_model(model, card, out_dir):
    """Save a model trained here with its card (no optimizer state); JobError when the folder is not writable."""
    try:
        return save_model_and_card(without_optimizer(model), card, out_dir)
    except OSError as error:
        raise JobError(f"Could not save {card['name']} into {out_dir}: {error.strerror or error}.") from None


def train_zoo_model(job, arch, mnist, out_dir, epochs, batch_size, limit=None, seed=0):
    """Fit a zoo recipe from scratch and save it as `ARCH-live-TIME` with its card, unless cancelled.

    `mnist` is `((x_train, y_train), (x_test, y_test))`; the recipe's training set adds USPS's
    training digits and the other writers' when it asks for them; `limit` keeps the first images of that set.
    """
    from digitlab.evaluation import evaluate
    from digitlab.training import fit_recipe

    recipe = RECIPES[arch]
    train, test = mnist
    job.set_phase("preparing the training digits")
    try:
        writers = WriterDigits() if recipe.writers_train else None
        fit_set, sources = training_set(train, recipe.usps_train, limit, writers=writers)
    except DatasetError as error:
        raise JobError(str(error)) from None
    run = fit_recipe(
        recipe,
        fit_set,
        test,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        callbacks=[job.progress_callback()],
        verbose=0,
        sources=sources,
    )
    if job.cancel_requested:
        return None
    job.set_phase(f"testing on the {len(test[0]):,} MNIST test digits")
    metrics = evaluate(run.model, *test)
    if job.cancel_requested:
        return None
    job.set_phase("saving")
    hashes = array_hashes({"x_train": mnist[0][0], "y_train": mnist[0][1], "x_test": test[0], "y_test": test[1]})
    name = free_name(out_dir, live_model_name(arch))
    card = {
        **build_card(recipe, run, metrics, run.model, hashes, seed, limit, sources),
        "name": name,
        "architecture": arch,
        "trained_on": "the Train page",
    }
    path = save_new_model(run.model, card, out_dir)
    return {"name": name, "path": str(path), "test_accuracy": metrics["test_accuracy"], "seconds": run.seconds}


@atexit.register
def _cancel_running_jobs():
    """When the server stops, end running fits between batches rather than killing TensorFlow mid-step."""
    jobs = [job for job in list(_live_jobs) if job.snapshot().running]
    for job in jobs:
        job.cancel()
    for job in jobs:
        job.wait(SHUTDOWN_WAIT_SECONDS)
