"""The model server: Keras runs beside the app's process, never in it, and answers like a model in-process would."""

import os
import signal
import subprocess
import sys
import textwrap
from multiprocessing.connection import Client
from pathlib import Path

import numpy as np
import pytest

from digitlab import load_classifier
from digitlab.model_server import ModelServer, RemoteClassifier
from digitlab.store import ModelError
from tests.conftest import ROOT, copy_shipped_models

MODEL = ROOT / "model" / "cnn.keras"


@pytest.fixture(scope="module")
def server():
    started = ModelServer().start()
    yield started
    started.stop()


@pytest.fixture
def remote(server, monkeypatch):
    """The shipped cnn read through a model server of this module's own."""
    monkeypatch.setattr("digitlab.model_server.model_server", lambda: server)
    return RemoteClassifier(MODEL)


@pytest.fixture(scope="module")
def local():
    return load_classifier(MODEL)


def test_the_server_reads_as_the_model_does_in_process(remote, local, mnist):
    digits = mnist[1][0][:300].astype(np.float32) / 255.0
    assert np.allclose(remote.probabilities(digits), local.probabilities(digits), atol=1e-5)
    assert remote.predict_model_input(digits[0]).digit == local.predict_model_input(digits[0]).digit


def test_the_server_explains_as_the_model_does_in_process(remote, local, mnist):
    digit = mnist[1][0][0].astype(np.float32) / 255.0
    assert np.allclose(remote.saliency(digit, 7), local.saliency(digit, 7), atol=1e-4)
    remote_maps, local_maps = remote.feature_maps(digit), local.feature_maps(digit)
    assert [layer.layer for layer in remote_maps] == [layer.layer for layer in local_maps]
    assert all(np.allclose(a.maps, b.maps, atol=1e-4) for a, b in zip(remote_maps, local_maps))


def test_a_whole_split_goes_in_chunks_and_comes_back_in_order(remote, local, mnist):
    digits = mnist[1][0][:5000].astype(np.float32) / 255.0
    assert np.array_equal(remote.probabilities(digits).argmax(axis=1), local.probabilities(digits).argmax(axis=1))


def test_a_model_the_server_cannot_load_says_why_in_the_app(server, monkeypatch, tmp_path):
    folder = copy_shipped_models(tmp_path, ["mlp-small"])
    monkeypatch.setattr("digitlab.model_server.model_server", lambda: server)
    broken = RemoteClassifier(folder / "mlp-small.keras")
    (folder / "mlp-small.keras").write_bytes(b"not a Keras file")
    with pytest.raises(ModelError, match="not a loadable Keras model"):
        broken.probabilities(np.zeros((1, 28, 28), np.float32))


def test_a_server_that_died_is_started_again_on_the_next_call(remote, server):
    os.kill(server.pid, signal.SIGKILL)
    assert remote.predict_model_input(np.zeros((28, 28), np.float32)).digit is not None
    assert server.pid is not None


def test_a_client_without_the_key_is_refused(server):
    with pytest.raises(Exception, match="digest|authentication|AuthenticationError"):
        Client(server.address, family="AF_UNIX", authkey=b"wrong key")
    assert server.call("probabilities", MODEL, 0, np.zeros((1, 28, 28), np.float32)).shape == (1, 10)


def test_the_server_ends_when_the_app_process_is_killed(tmp_path):
    script = textwrap.dedent(
        """
        import time
        from digitlab.model_server import model_server
        print(model_server().pid, flush=True)
        time.sleep(600)
        """
    )
    app = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    server_pid = int(app.stdout.readline())
    app.kill()
    app.wait()
    for _ in range(100):
        if not Path(f"/proc/{server_pid}").exists() or "Z" in Path(f"/proc/{server_pid}/stat").read_text().split()[2]:
            break
        subprocess.run(["sleep", "0.1"])
    else:
        pytest.fail(f"the model server {server_pid} outlived the app's process")


# Every page, run by AppTest in a fresh interpreter, must leave Keras and TensorFlow out of the app's process:
# Streamlit clears the Keras session (a full garbage collection) after every run when keras is imported.
PAGES_SCRIPT = """
import sys
from streamlit.testing.v1 import AppTest


def page(name):
    import importlib
    from digitlab.views.models import model_selector

    model_selector()
    importlib.import_module(f"digitlab.views.{name}").render()


for name in sys.argv[1:]:
    at = AppTest.from_function(page, args=(name,), default_timeout=300).run()
    assert not at.exception, (name, at.exception)
print(sorted(module for module in ("keras", "tensorflow") if module in sys.modules))
"""


def page_modules():
    """The modules of the pages app.py navigates to, read from app.py itself."""
    import re

    return re.findall(r"st\.Page\((\w+)\.render", (ROOT / "app.py").read_text())


def test_no_page_imports_keras_or_tensorflow_into_the_app_process(mnist_file, tmp_path):
    pages = page_modules()
    assert {"draw", "dataset", "model_page", "handwriting"} <= set(pages)
    script = tmp_path / "every_page.py"
    script.write_text(PAGES_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), *pages],
        cwd=ROOT,
        env={**os.environ, "MNIST_NPZ": str(mnist_file), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_app_runs_with_no_garbage_collection_after_each_run(monkeypatch):
    from streamlit import config

    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)
    try:
        assert config.get_option("runner.postScriptGC") is False
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)


def processes_serving(port):
    """Pids of the process started with `--server.port PORT` and of its descendants, with their command lines."""
    parents, commands = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            commands[int(stat.parent.name)] = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
    roots = [pid for pid, command in commands.items() if b"--server.port" in command and str(port).encode() in command]
    family, grown = set(roots), True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        grown = bool(children)
    return {pid: b" ".join(commands[pid]).decode() for pid in family}


def maps_tensorflow(pid):
    return "libtensorflow" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.browser
def test_a_served_app_reads_strokes_in_the_model_server_not_in_streamlit(browser, tmp_path):
    from tests.browser import DIGITS, draw_digit, open_page, served_app

    with served_app(tmp_path / "server.log") as url:
        page = open_page(browser, url, ready_text="Draw a digit (0–9)")
        assert draw_digit(page, DIGITS["7"]) == "7"
        page.close()
        serving = processes_serving(url.rsplit(":", 1)[1])
        streamlit = [pid for pid, command in serving.items() if "digitlab serve" in command]
        models = [pid for pid, command in serving.items() if "digitlab.model_server" in command]
        assert len(streamlit) == 1 and len(models) == 1, serving
        assert not maps_tensorflow(streamlit[0])
        assert maps_tensorflow(models[0])
