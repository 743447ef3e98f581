"""The model server: Keras and TensorFlow run in a process of their own, beside the Streamlit server.

Streamlit calls `keras.backend.clear_session()` after every script run whenever `keras` is
imported in its process: a full garbage collection over TensorFlow's 300,000 objects and a
cleared kernel cache, about a hundred milliseconds of CPU for every stroke of every student.
So the app's process never imports Keras or TensorFlow. Its pages read digits through a
`RemoteClassifier`, which sends model inputs over a local socket (the standard library's
`multiprocessing.connection`, authenticated with a random key) to this server, which keeps the
models loaded, compiled and warm, and answers each connection in a thread of its own.

`python -m digitlab serve` (what `make run` runs) starts the server before Streamlit, so that it
is warm when the first visitor arrives; `streamlit run app.py` and AppTest start it on first use.
The server is a child of the app's process: it ends when its standard input closes, that is when
the app's process ends, however that ends. A server that died is started again on the next call.
"""

import atexit
import collections
import logging
import os
import queue
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Client, Listener
from pathlib import Path

import numpy as np

from digitlab.data import DatasetError
from digitlab.inference import Reader
from digitlab.store import ModelError, file_version, load_matching_card, model_dir
from digitlab.zoo import DEFAULT_ARCH

KEY_ENV = "DIGITLAB_MODEL_SERVER_KEY"
METHODS = ("probabilities", "saliency", "feature_maps")
FILE_METHODS = ("import_model",)  # Run on a model file that is not loaded: digitlab.importing's functions.
MAX_MODELS = 8  # Models kept loaded; the least recently used one is dropped beyond this.
CHUNK = 2048  # Model inputs sent per request, so that a whole MNIST split does not hold up a student's stroke.
CONNECT_SECONDS = 30

log = logging.getLogger(__name__)


class ModelServerError(ModelError):
    """The model server could not be started or reached; the message says so in one line."""


# The server's side: runs in the child process.


class LoadedModels:
    """The models this server has loaded, by path and file version, the least recently used dropped first."""

    def __init__(self, limit=MAX_MODELS):
        self._limit = limit
        self._models = collections.OrderedDict()
        self._locks = collections.defaultdict(threading.Lock)
        self._lock = threading.Lock()

    def get(self, path, version):
        """The Classifier for a model file in the given version, loading it (once) when it is not loaded."""
        from digitlab.inference import load_classifier

        key = (str(path), version)
        with self._lock:
            key_lock = self._locks[key]
        with key_lock:
            with self._lock:
                if key in self._models:
                    self._models.move_to_end(key)
                    return self._models[key]
            classifier = load_classifier(path)
            with self._lock:
                self._models[key] = classifier
                while len(self._models) > self._limit:
                    dropped, _ = self._models.popitem(last=False)
                    self._locks.pop(dropped, None)
            return classifier


def answer(models, request):
    """The reply to one request `(method, path, version, args)`: `("ok", result)` or `("error", message)`."""
    method, path, version, args = request
    if method not in METHODS + FILE_METHODS:
        return "error", f"unknown request {method!r}"
    try:
        if method in FILE_METHODS:
            from digitlab import importing

            return "ok", getattr(importing, method)(path, *args)
        return "ok", getattr(models.get(path, version), method)(*args)
    except (ModelError, DatasetError) as error:
        return "error", str(error)
    except Exception as error:
        log.exception("the model server failed to answer %s for %s", method, path)
        return "error", f"the model server failed ({type(error).__name__}); see the server log"


def serve_connection(models, connection):
    """Answer one client's requests, one at a time, until it hangs up."""
    with connection:
        while True:
            try:
                request = connection.recv()
            except (EOFError, OSError):
                return
            connection.send(answer(models, request))


def warm_up(open_reader):
    """Load the default model and compile all a stroke uses (reading, saliency, feature maps) before a stroke comes.

    `open_reader` returns the Reader to warm: the model itself in the server, a RemoteClassifier
    in the app. A default model that cannot be loaded is left for the page to explain.
    """
    try:
        reader = open_reader()
        blank = np.zeros((28, 28), np.float32)
        reader.probabilities(blank[None])
        reader.saliency(blank, 0)
        reader.feature_maps(blank)
    except (ModelError, OSError):
        return


def default_model_path():
    """The model the Draw page reads with until a visitor picks another."""
    return model_dir() / f"{DEFAULT_ARCH}.keras"


def exit_when_parent_leaves():
    """End this process as soon as its standard input, held open by the app's process, closes."""
    sys.stdin.buffer.read()
    os._exit(0)


def serve(address):
    """Listen on the socket `address` with the key from the environment, and answer every client."""
    listener = Listener(address, family="AF_UNIX", authkey=bytes.fromhex(os.environ.pop(KEY_ENV)))
    threading.Thread(target=exit_when_parent_leaves, daemon=True).start()
    models = LoadedModels()
    path = default_model_path()
    threading.Thread(target=warm_up, args=(lambda: models.get(path, file_version(path)),), daemon=True).start()
    while True:
        try:
            connection = listener.accept()
        except (OSError, EOFError) as refused:  # A client with the wrong key, or one that gave up.
            log.warning("refused a connection: %s", refused)
            continue
        threading.Thread(target=serve_connection, args=(models, connection), daemon=True).start()


# The app's side: runs in the Streamlit process, without TensorFlow.


class ModelServer:
    """A model server process started by this process, and a pool of connections to it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process = None
        self._folder = None
        self._key = None
        self._idle = queue.LifoQueue()

    @property
    def address(self):
        return str(Path(self._folder.name) / "models.sock")

    @property
    def pid(self):
        return self._process.pid if self._process else None

    def start(self):
        """Start the server process unless it is running; returns at once, while it loads TensorFlow."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return self
            self._folder = tempfile.TemporaryDirectory(prefix="digitlab-models-")
            self._key = secrets.token_bytes(32)
            self._idle = queue.LifoQueue()
            self._process = subprocess.Popen(
                [sys.executable, "-m", "digitlab.model_server", self.address],
                stdin=subprocess.PIPE,
                env={**os.environ, KEY_ENV: self._key.hex()},
            )
            return self

    def stop(self):
        """Stop the server process and forget its connections."""
        with self._lock:
            if self._process is None:
                return
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
            self._folder.cleanup()

    def call(self, method, path, version, *args):
        """Run `method(*args)` on the model at `path` in the server; tried again once on a fresh connection."""
        for attempt in range(2):
            connection = self._connection()
            try:
                connection.send((method, str(path), version, args))
                status, result = connection.recv()
            except (EOFError, OSError):
                connection.close()
                if attempt:
                    raise ModelServerError("the model server stopped while reading this; try again") from None
                continue
            self._idle.put(connection)
            if status == "error":
                raise ModelError(result)
            return result

    def _connection(self):
        """An idle connection from the pool, or a new one (waiting while a new server binds its socket).

        A server that died is started again here, so that a student's next stroke is read by a fresh one.
        """
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        deadline = time.monotonic() + CONNECT_SECONDS
        while True:
            self.start()
            try:
                return Client(self.address, family="AF_UNIX", authkey=self._key)
            except (OSError, EOFError):
                if time.monotonic() > deadline:
                    raise ModelServerError(f"the model server did not answer within {CONNECT_SECONDS} s") from None
                time.sleep(0.05)


_server = ModelServer()
atexit.register(_server.stop)


def model_server():
    """This process's model server (started on first use)."""
    return _server.start()


class RemoteClassifier(Reader):
    """A model read by the model server; its card is read and checked here, without TensorFlow."""

    def __init__(self, path):
        super().__init__(load_matching_card(path), path)
        self.version = file_version(path)

    def _call(self, method, *args):
        return model_server().call(method, self.path, self.version, *args)

    def probabilities(self, model_inputs):
        batch = np.asarray(model_inputs, dtype=np.float32).reshape(-1, 28, 28)
        if len(batch) <= CHUNK:
            return self._call("probabilities", batch)
        return np.concatenate([self._call("probabilities", batch[i : i + CHUNK]) for i in range(0, len(batch), CHUNK)])

    def saliency(self, model_input, target):
        return self._call("saliency", np.asarray(model_input, dtype=np.float32), int(target))

    def feature_maps(self, model_input):
        return self._call("feature_maps", np.asarray(model_input, dtype=np.float32))


def import_remotely(source, out_dir, name=None, everything=True):
    """Check, measure and copy a model file into `out_dir` in the model server (digitlab.importing.import_model).

    Returns its card with its new `path`; ModelError with one line when the file is no usable digit model.
    """
    return model_server().call("import_model", source, 0, str(out_dir), name, None, None, everything)


if __name__ == "__main__":
    serve(sys.argv[1])
