"""Nothing lost: an interrupted train.py leaves the previous model and its card as they were."""

import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from digitlab.store import save_model_and_card
from tests.conftest import ROOT, run_script


def hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture
def previous_model(tmp_path, mnist_file):
    process = run_script("train.py", "--arch", "mlp-small", "--epochs", "1", "--limit", "2000", "--out", tmp_path)
    assert process.returncode == 0, process.stderr
    return tmp_path


def start_long_training(out):
    return subprocess.Popen(
        [sys.executable, "train.py", "--arch", "mlp-small", "--epochs", "200", "--limit", "20000", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_epoch(process, epoch, timeout=120):
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        if line.startswith(f"Epoch {epoch}/"):
            return
        assert time.monotonic() < deadline, "training did not reach the epoch in time"
    pytest.fail("training ended before it could be interrupted")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"])
def test_killing_training_keeps_the_previous_model(previous_model, sig):
    before = hashes(previous_model)
    process = start_long_training(previous_model)
    wait_for_epoch(process, 3)
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    if sig == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 130, stderr
        assert "unchanged" in stderr and "Traceback" not in stderr
    assert hashes(previous_model) == before


class ExplodingModel:
    """Stands in for a Keras model whose save is interrupted halfway through writing."""

    def save(self, path):
        with open(path, "wb") as file:
            file.write(b"half a model")
        raise KeyboardInterrupt


def test_an_interrupted_save_leaves_no_half_file(previous_model):
    before = hashes(previous_model)
    with pytest.raises(KeyboardInterrupt):
        save_model_and_card(ExplodingModel(), {"name": "mlp-small", "test_accuracy": 0.5}, previous_model)
    assert hashes(previous_model) == before
    assert not [p for p in os.listdir(previous_model) if p.startswith(".")]


def test_saved_files_are_readable_by_others(previous_model):
    modes = [path.stat().st_mode for path in previous_model.iterdir()]
    assert len(modes) == 2 and all(mode & 0o044 == 0o044 for mode in modes)
